"""PyTorch reference for `make bench-train`: the same shape as benchtrain
(2×LSTM(64) + dense head, sequence 50, batch 64, Adam, MSE), CPU, the same
thread count. A comparison point only, never part of the product."""
import argparse
import math
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--units", type=int, default=64)
    ap.add_argument("--seq", type=int, default=50)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", type=int, default=30)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(1, a.units, a.layers, batch_first=True)
            self.head = torch.nn.Linear(a.units, 1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1, :]).squeeze(-1)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    n = a.batch * a.batches
    x = torch.tensor([math.sin(i * 0.01) for i in range(n * a.seq)], dtype=torch.float32).view(n, a.seq, 1)
    y = torch.tensor([math.cos(i * 0.01) for i in range(n)], dtype=torch.float32)

    def epoch(xs, ys):
        perm = torch.randperm(len(ys))
        for b in range(0, len(ys), a.batch):
            idx = perm[b:b + a.batch]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
            loss.item()

    epoch(x[: 2 * a.batch], y[: 2 * a.batch])
    t = time.perf_counter()
    epoch(x, y)
    secs = time.perf_counter() - t

    net.eval()
    lat = []
    with torch.no_grad():
        w = x[:1]
        for i in range(210):
            t0 = time.perf_counter()
            net(w).item()
            if i >= 10:
                lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    print(f"torch_version={torch.__version__}")
    print(f"torch_threads={torch.get_num_threads()}")
    print(f"torch_samples_per_s={n / secs:.1f}")
    print(f"torch_infer_p50_ms={lat[len(lat) // 2]:.3f}")
    print(f"torch_infer_p99_ms={lat[len(lat) * 99 // 100]:.3f}")


if __name__ == "__main__":
    main()
