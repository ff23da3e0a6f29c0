"""Flask + PyTorch reference server for `make bench-serve`.

The same model shape as FinSight's served LSTM (2 x LSTM(64), a linear head,
windows of 50 steps x 1 feature), random weights, loaded once, one torch
thread. JSON in and out like FinSight's /predict:

  {"ticker": "NFLX", "open": [50+ floats]}          -> {"ticker", "prediction"}
  {"ticker": "NFLX", "windows": [[50+ floats], ...]} -> {"ticker", "predictions"}

A comparison point for the benchmark only, never part of the product.
"""
import argparse
import logging

import torch
from flask import Flask, jsonify, request

LOOKBACK = 50


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(1, 64, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(64, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :]).squeeze(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(1)
    model = Net().eval()
    app = Flask(__name__)
    # No line per request: the comparison is of serving, not of logging.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    def scaled(opens):
        # Min-max scaling over the window, as a stand-in for a fitted scaler.
        w = [float(v) for v in opens[-LOOKBACK:]]
        lo, hi = min(w), max(w)
        span = (hi - lo) or 1.0
        return [(v - lo) / span for v in w], lo, span

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/predict")
    def predict():
        body = request.get_json(force=True)
        if "windows" in body:
            wins = body["windows"]
            if not wins or any(len(w) < LOOKBACK for w in wins):
                return jsonify(error=f"each window needs {LOOKBACK} values"), 400
            xs, scales = zip(*[(s, (lo, span)) for s, lo, span in map(scaled, wins)])
            with torch.no_grad():
                y = model(torch.tensor(xs, dtype=torch.float32).unsqueeze(2)).tolist()
            preds = [v * span + lo for v, (lo, span) in zip(y, scales)]
            return jsonify(ticker=body.get("ticker"), predictions=preds)
        opens = body.get("open") or []
        if len(opens) < LOOKBACK:
            return jsonify(error=f"open needs {LOOKBACK} values"), 400
        x, lo, span = scaled(opens)
        with torch.no_grad():
            y = model(torch.tensor(x, dtype=torch.float32).view(1, LOOKBACK, 1)).item()
        return jsonify(ticker=body.get("ticker"), prediction=y * span + lo)

    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
