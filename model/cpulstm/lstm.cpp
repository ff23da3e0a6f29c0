// One LSTM layer for float32 CPU tensors, with the gate arithmetic fused
// into one pass per time step and a hand-written backward pass.
//
// at::lstm on CPU runs every time step as a dozen separate ATen operators
// and lets autograd record each of them, so a 50-step, 2-layer batch is
// ~1,500 graph nodes, ~3 small matrix products per step backward, and as
// many temporary tensors. Here the forward pass is one matrix product for
// the input projection of every step, then per step one product with the
// recurrent weights and one fused loop; the backward pass is per step one
// fused loop and one product, then three large products for the weight and
// input gradients of all steps at once. It is one autograd node.
//
// Without a gradient to compute (prediction), the layer runs infer_layer
// instead: no autograd node, no saved activations, no tensor per step, and
// its own vectorised matrix product (matmul_acc) rather than BLAS; and
// cpulstm_predict runs a whole stack and its dense head in one call.
//
// Gate order and parameter shapes are PyTorch's (i, f, g, o; w_ih [4H, I],
// w_hh [4H, H], b_ih and b_hh [4H]), so weights move freely between this
// kernel and at::lstm.
#include "lstm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The gate loops below vectorise only if GCC may turn the clamp in
// exp_approx into min/max instructions, which trapping math forbids. cgo
// does not accept -fno-trapping-math as a flag, so it is set here for the
// kernels only (FP exceptions are never enabled in LibTorch's process).
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")

// exp for the activations: Cephes' polynomial on the reduced argument,
// written without library calls so the loops vectorise. Relative error is
// about 2e-7 over the clamped range.
__attribute__((always_inline)) inline float exp_approx(float x) {
  x = x < -88.0f ? -88.0f : (x > 88.0f ? 88.0f : x);
  // Round to nearest by adding and subtracting 1.5 * 2^23 (no floor call,
  // which baseline x86-64 cannot vectorise).
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  float scale = __builtin_bit_cast(float, (static_cast<int32_t>(n) + 127) << 23);
  return p * scale;
}

__attribute__((always_inline)) inline float sigmoid_approx(float x) {
  return 1.0f / (1.0f + exp_approx(-x));
}

__attribute__((always_inline)) inline float tanh_approx(float x) {
  return 2.0f / (1.0f + exp_approx(-2.0f * x)) - 1.0f;
}

// gates_forward turns rows [b0, b1) of one step's pre-activations g [B, 4H] into
// activations a [B, 4H], and writes c, tanh(c) and h [B, H]. c_prev is the
// previous step's cell state (zeros before the first step).
__attribute__((target_clones("avx512f", "avx2", "default")))
void gates_forward(const float* __restrict g, float* __restrict a, const float* __restrict c_prev,
                   float* __restrict c, float* __restrict tc, float* __restrict h, int64_t b0, int64_t b1,
                   int64_t H) {
  for (int64_t b = b0; b < b1; b++) {
    const float* __restrict r = g + b * 4 * H;
    float* __restrict w = a + b * 4 * H;
    const float* __restrict cp = c_prev + b * H;
    float* __restrict cb = c + b * H;
    float* __restrict tb = tc + b * H;
    float* __restrict hb = h + b * H;
    for (int64_t j = 0; j < H; j++) {
      float i = sigmoid_approx(r[j]);
      float f = sigmoid_approx(r[H + j]);
      float z = tanh_approx(r[2 * H + j]);
      float o = sigmoid_approx(r[3 * H + j]);
      float cv = i * z + f * cp[j];
      float t = tanh_approx(cv);
      w[j] = i;
      w[H + j] = f;
      w[2 * H + j] = z;
      w[3 * H + j] = o;
      cb[j] = cv;
      tb[j] = t;
      hb[j] = o * t;
    }
  }
}

// gates_backward computes rows [b0, b1) of one step's pre-activation gradients dg [B, 4H]
// from the gradient reaching h (dh_out + dh_next) and the cell gradient dc
// carried from the next step, which it replaces with this step's. c_prev
// and dh_next are zeros where there is no previous or next step.
__attribute__((target_clones("avx512f", "avx2", "default")))
void gates_backward(const float* __restrict a, const float* __restrict c_prev,
                    const float* __restrict tc, const float* __restrict dh_out,
                    const float* __restrict dh_next, float* __restrict dc,
                    float* __restrict dg, int64_t b0, int64_t b1, int64_t H) {
  for (int64_t b = b0; b < b1; b++) {
    const float* __restrict ai = a + b * 4 * H;
    const float* __restrict af = ai + H;
    const float* __restrict az = af + H;
    const float* __restrict ao = az + H;
    float* __restrict di = dg + b * 4 * H;
    float* __restrict df = di + H;
    float* __restrict dz = df + H;
    float* __restrict dout = dz + H;
    const float* __restrict cp = c_prev + b * H;
    const float* __restrict tb = tc + b * H;
    const float* __restrict dho = dh_out + b * H;
    const float* __restrict dhn = dh_next + b * H;
    float* __restrict dcb = dc + b * H;
    for (int64_t j = 0; j < H; j++) {
      float dh = dho[j] + dhn[j];
      float i = ai[j], f = af[j], z = az[j], o = ao[j], t = tb[j];
      float dcv = dcb[j] + dh * o * (1.0f - t * t);
      di[j] = dcv * z * i * (1.0f - i);
      df[j] = dcv * cp[j] * f * (1.0f - f);
      dz[j] = dcv * i * (1.0f - z * z);
      dout[j] = dh * t * o * (1.0f - o);
      dcb[j] = dcv * f;
    }
  }
}

// gates_infer is gates_forward without the saved activations (inference):
// it turns rows [b0, b1) of one step's pre-activations g [B, 4H] into the
// next cell state c (updated in place, zeros before the first step) and
// hidden state h [B, H].
__attribute__((target_clones("avx512f", "avx2", "default")))
void gates_infer(const float* __restrict g, float* __restrict c, float* __restrict h, int64_t b0, int64_t b1,
                 int64_t H) {
  for (int64_t b = b0; b < b1; b++) {
    const float* __restrict r = g + b * 4 * H;
    float* __restrict cb = c + b * H;
    float* __restrict hb = h + b * H;
    for (int64_t j = 0; j < H; j++) {
      float i = sigmoid_approx(r[j]);
      float f = sigmoid_approx(r[H + j]);
      float z = tanh_approx(r[2 * H + j]);
      float o = sigmoid_approx(r[3 * H + j]);
      float cv = i * z + f * cb[j];
      cb[j] = cv;
      hb[j] = o * tanh_approx(cv);
    }
  }
}

// matmul_acc adds a·wt to out for rows [b0, b1): out[b, n] += Σ_k a[b·lda + k]
// · wt[k·N + n], with out [B, N] and wt [K, N] row-major. It is the one
// matrix product of inference, written out so that serving does not depend
// on the BLAS LibTorch was linked with (Debian's LibTorch takes the
// reference BLAS unless an optimised one is installed: ~15× slower on these
// shapes) and costs no dispatch per step. Up to six rows and 16 columns at
// a time stay in vector registers (12 accumulators), so each weight loaded
// serves six rows.
typedef float v8f __attribute__((vector_size(32)));

template <int R>
__attribute__((always_inline)) inline void matmul_rows(float* __restrict out, const float* __restrict a, int64_t lda,
                                                       const float* __restrict wt, int64_t b, int64_t K, int64_t N) {
  const int64_t nv = N / 16 * 16;
  for (int64_t n = 0; n < nv; n += 16) {
    v8f lo[R], hi[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      std::memcpy(&lo[r], out + (b + r) * N + n, 32);
      std::memcpy(&hi[r], out + (b + r) * N + n + 8, 32);
    }
    for (int64_t k = 0; k < K; k++) {
      v8f w0, w1;
      std::memcpy(&w0, wt + k * N + n, 32);
      std::memcpy(&w1, wt + k * N + n + 8, 32);
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) {
        const float s = a[(b + r) * lda + k];
        lo[r] += s * w0;
        hi[r] += s * w1;
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      std::memcpy(out + (b + r) * N + n, &lo[r], 32);
      std::memcpy(out + (b + r) * N + n + 8, &hi[r], 32);
    }
  }
  if (nv == N) return;
  for (int r = 0; r < R; r++) {
    float* __restrict o = out + (b + r) * N;
    for (int64_t k = 0; k < K; k++) {
      const float s = a[(b + r) * lda + k];
      const float* __restrict w = wt + k * N;
      for (int64_t n = nv; n < N; n++) o[n] += s * w[n];
    }
  }
}

__attribute__((always_inline)) inline void matmul_body(float* __restrict out, const float* __restrict a, int64_t lda,
                                                       const float* __restrict wt, int64_t b0, int64_t b1, int64_t K,
                                                       int64_t N) {
  int64_t b = b0;
  for (; b + 6 <= b1; b += 6) matmul_rows<6>(out, a, lda, wt, b, K, N);
  for (; b + 2 <= b1; b += 2) matmul_rows<2>(out, a, lda, wt, b, K, N);
  for (; b < b1; b++) matmul_rows<1>(out, a, lda, wt, b, K, N);
}

// Two builds of the product, chosen once by what the CPU has: fused
// multiply-add doubles its speed (a target_clones "avx2" build has no FMA).
__attribute__((target("avx2,fma"))) void matmul_acc_fma(float* out, const float* a, int64_t lda, const float* wt,
                                                         int64_t b0, int64_t b1, int64_t K, int64_t N) {
  matmul_body(out, a, lda, wt, b0, b1, K, N);
}

void matmul_acc_base(float* out, const float* a, int64_t lda, const float* wt, int64_t b0, int64_t b1, int64_t K,
                     int64_t N) {
  matmul_body(out, a, lda, wt, b0, b1, K, N);
}

void matmul_acc(float* out, const float* a, int64_t lda, const float* wt, int64_t b0, int64_t b1, int64_t K,
                int64_t N) {
  static const bool fma = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  (fma ? matmul_acc_fma : matmul_acc_base)(out, a, lda, wt, b0, b1, K, N);
}

#pragma GCC pop_options

// rows_per_task splits a step's gate loop over LibTorch's intra-op threads
// only when each task gets at least 16k gate values: below that a fork
// costs more than the loop (the default 2×64-unit, batch-64 shape stays on
// one thread).
int64_t rows_per_task(int64_t H) {
  return std::max<int64_t>(1, 16384 / (4 * H));
}

void check_inputs(const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh,
                  const at::Tensor& b_ih, const at::Tensor& b_hh) {
  TORCH_CHECK(x.dim() == 3, "cpulstm: input must be [steps, batch, features], got ", x.sizes());
  TORCH_CHECK(x.device().is_cpu(), "cpulstm: input is on ", x.device(), ", the fused layer runs on CPU");
  for (const at::Tensor* t : {&x, &w_ih, &w_hh, &b_ih, &b_hh}) {
    TORCH_CHECK(t->scalar_type() == at::kFloat, "cpulstm: tensors must be float32, got ", t->scalar_type());
    TORCH_CHECK(t->device().is_cpu(), "cpulstm: tensors must be on CPU");
  }
  int64_t h = w_hh.size(1);
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) == 4 * h, "cpulstm: w_hh must be [4H, H], got ", w_hh.sizes());
  TORCH_CHECK(w_ih.dim() == 2 && w_ih.size(0) == 4 * h && w_ih.size(1) == x.size(2),
              "cpulstm: w_ih must be [4H, features] = [", 4 * h, ", ", x.size(2), "], got ", w_ih.sizes());
  TORCH_CHECK(b_ih.numel() == 4 * h && b_hh.numel() == 4 * h, "cpulstm: biases must have 4H = ", 4 * h, " values");
}

struct LSTMLayer : public torch::autograd::Function<LSTMLayer> {
  static at::Tensor forward(AutogradContext* ctx, at::Tensor x, at::Tensor w_ih, at::Tensor w_hh,
                            at::Tensor b_ih, at::Tensor b_hh) {
    check_inputs(x, w_ih, w_hh, b_ih, b_hh);
    x = x.contiguous();
    w_hh = w_hh.contiguous();
    const int64_t T = x.size(0), B = x.size(1), I = x.size(2), H = w_hh.size(1);
    at::Tensor pre = at::addmm(b_ih + b_hh, x.view({T * B, I}), w_ih.t()).view({T, B, 4 * H});
    at::Tensor gates = at::empty({T, B, 4 * H}, x.options());
    at::Tensor c = at::empty({T, B, H}, x.options());
    at::Tensor tc = at::empty({T, B, H}, x.options());
    at::Tensor h = at::empty({T, B, H}, x.options());
    at::Tensor w_hh_t = w_hh.t();
    at::Tensor zeros = at::zeros({B, H}, x.options());
    // Per step only the matrix product needs tensors; the gate loop takes
    // pointers (a select per buffer and step costs as much as the loop
    // itself for a single window).
    const int64_t gs = B * 4 * H, hs = B * H;
    float *pre_p = pre.data_ptr<float>(), *gates_p = gates.data_ptr<float>();
    float *c_p = c.data_ptr<float>(), *tc_p = tc.data_ptr<float>(), *h_p = h.data_ptr<float>();
    for (int64_t t = 0; t < T; t++) {
      if (t > 0) pre[t].addmm_(h[t - 1], w_hh_t);
      const float* c_prev = t > 0 ? c_p + (t - 1) * hs : zeros.data_ptr<float>();
      at::parallel_for(0, B, rows_per_task(H), [&](int64_t b0, int64_t b1) {
        gates_forward(pre_p + t * gs, gates_p + t * gs, c_prev, c_p + t * hs, tc_p + t * hs, h_p + t * hs,
                      b0, b1, H);
      });
    }
    ctx->save_for_backward({x, w_ih, w_hh, h});
    ctx->saved_data["gates"] = gates;
    ctx->saved_data["c"] = c;
    ctx->saved_data["tc"] = tc;
    return h;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &w_ih = saved[1], &w_hh = saved[2], &h = saved[3];
    at::Tensor gates = ctx->saved_data["gates"].toTensor();
    at::Tensor c = ctx->saved_data["c"].toTensor();
    at::Tensor tc = ctx->saved_data["tc"].toTensor();
    const int64_t T = x.size(0), B = x.size(1), I = x.size(2), H = w_hh.size(1);
    at::Tensor dh_out = grad_out[0].defined() ? grad_out[0].contiguous() : at::zeros_like(h);
    at::Tensor dgates = at::empty({T, B, 4 * H}, x.options());
    at::Tensor dc = at::zeros({B, H}, x.options());
    at::Tensor dh_next = at::zeros({B, H}, x.options());
    at::Tensor zeros = at::zeros({B, H}, x.options());
    const int64_t gs = B * 4 * H, hs = B * H;
    const float *gates_p = gates.data_ptr<float>(), *c_p = c.data_ptr<float>(), *tc_p = tc.data_ptr<float>();
    const float* dh_out_p = dh_out.data_ptr<float>();
    float *dgates_p = dgates.data_ptr<float>(), *dc_p = dc.data_ptr<float>(), *dh_next_p = dh_next.data_ptr<float>();
    for (int64_t t = T - 1; t >= 0; t--) {
      const float* c_prev = t > 0 ? c_p + (t - 1) * hs : zeros.data_ptr<float>();
      at::parallel_for(0, B, rows_per_task(H), [&](int64_t b0, int64_t b1) {
        gates_backward(gates_p + t * gs, c_prev, tc_p + t * hs, dh_out_p + t * hs, dh_next_p, dc_p,
                       dgates_p + t * gs, b0, b1, H);
      });
      if (t > 0) at::mm_out(dh_next, dgates[t], w_hh);
    }
    at::Tensor dg2 = dgates.view({T * B, 4 * H});
    at::Tensor dx, dw_ih, dw_hh, db;
    if (ctx->needs_input_grad(0)) dx = dg2.mm(w_ih).view({T, B, I});
    if (ctx->needs_input_grad(1)) dw_ih = dg2.t().mm(x.view({T * B, I}));
    if (ctx->needs_input_grad(2)) {
      if (T > 1) {
        dw_hh = dgates.narrow(0, 1, T - 1).reshape({(T - 1) * B, 4 * H}).t().mm(
            h.narrow(0, 0, T - 1).reshape({(T - 1) * B, H}));
      } else {
        dw_hh = at::zeros_like(w_hh);
      }
    }
    if (ctx->needs_input_grad(3) || ctx->needs_input_grad(4)) db = dg2.sum(0);
    return {dx, dw_ih, dw_hh, ctx->needs_input_grad(3) ? db : at::Tensor(),
            ctx->needs_input_grad(4) ? db.clone() : at::Tensor()};
  }
};

// infer_layer is the forward pass of LSTMLayer without autograd, for
// inference: no graph, no saved activations, and no tensor per step. Rows
// of the batch are independent, so each task of the parallel loop runs the
// whole sequence for its rows (one fork per layer); a batch of up to 64
// rows is one task.
at::Tensor infer_layer(const at::Tensor& x_in, const at::Tensor& w_ih, const at::Tensor& w_hh,
                       const at::Tensor& b_ih, const at::Tensor& b_hh) {
  check_inputs(x_in, w_ih, w_hh, b_ih, b_hh);
  at::NoGradGuard no_grad;
  const at::Tensor x = x_in.contiguous();
  const int64_t T = x.size(0), B = x.size(1), I = x.size(2), H = w_hh.size(1), N = 4 * H;
  const at::Tensor wih_t = w_ih.t().contiguous();  // [I, 4H]
  const at::Tensor whh_t = w_hh.t().contiguous();  // [H, 4H]
  const at::Tensor bias = (b_ih.reshape({N}) + b_hh.reshape({N})).contiguous();
  at::Tensor h = at::empty({T, B, H}, x.options());
  at::Tensor pre = at::empty({B, N}, x.options());
  at::Tensor c = at::zeros({B, H}, x.options());
  const float *x_p = x.data_ptr<float>(), *wih_p = wih_t.data_ptr<float>(), *whh_p = whh_t.data_ptr<float>();
  const float* bias_p = bias.data_ptr<float>();
  float *h_p = h.data_ptr<float>(), *pre_p = pre.data_ptr<float>(), *c_p = c.data_ptr<float>();
  at::parallel_for(0, B, 64, [&](int64_t b0, int64_t b1) {
    for (int64_t t = 0; t < T; t++) {
      for (int64_t b = b0; b < b1; b++) std::memcpy(pre_p + b * N, bias_p, N * sizeof(float));
      matmul_acc(pre_p, x_p + t * B * I, I, wih_p, b0, b1, I, N);
      if (t > 0) matmul_acc(pre_p, h_p + (t - 1) * B * H, H, whh_p, b0, b1, H, N);
      gates_infer(pre_p, c_p, h_p + t * B * H, b0, b1, H);
    }
  });
  return h;
}

}  // namespace

extern "C" char* cpulstm_predict(float* out, const float* x, int64_t n, int64_t steps, int64_t features,
                                 void** layer_weights, int64_t layers, void* head_w, void* head_b) {
  try {
    TORCH_CHECK(n > 0 && steps > 0 && features > 0 && layers > 0, "cpulstm: predict needs windows, steps, features and layers");
    at::NoGradGuard no_grad;
    // The windows stay in the caller's memory: [n, steps, features] seen
    // time-major (infer_layer makes its own contiguous copy).
    at::Tensor seq = at::from_blob(const_cast<float*>(x), {n, steps, features}, at::kFloat).transpose(0, 1);
    for (int64_t l = 0; l < layers; l++) {
      at::Tensor* w = reinterpret_cast<at::Tensor*>(layer_weights[4 * l]);
      seq = infer_layer(seq, *w, *reinterpret_cast<at::Tensor*>(layer_weights[4 * l + 1]),
                        *reinterpret_cast<at::Tensor*>(layer_weights[4 * l + 2]),
                        *reinterpret_cast<at::Tensor*>(layer_weights[4 * l + 3]));
    }
    const at::Tensor last = seq[steps - 1].contiguous();  // [n, H]
    const at::Tensor hw = static_cast<at::Tensor*>(head_w)->contiguous();
    const at::Tensor hb = static_cast<at::Tensor*>(head_b)->contiguous();
    const int64_t H = last.size(1);
    TORCH_CHECK(hw.scalar_type() == at::kFloat && hw.numel() == H && hb.scalar_type() == at::kFloat && hb.numel() == 1,
                "cpulstm: the head must be float32 [1, ", H, "] and [1], got ", hw.sizes(), " and ", hb.sizes());
    const float *h_p = last.data_ptr<float>(), *w_p = hw.data_ptr<float>();
    const float bias = hb.data_ptr<float>()[0];
    for (int64_t b = 0; b < n; b++) {
      float y = 0;
      for (int64_t j = 0; j < H; j++) y += h_p[b * H + j] * w_p[j];
      out[b] = y + bias;
    }
    return nullptr;
  } catch (const c10::Error& e) {
    return strdup(e.what_without_backtrace());
  } catch (const std::exception& e) {
    return strdup(e.what());
  }
}

extern "C" char* cpulstm_layer(void** out, void* x, void* w_ih, void* w_hh, void* b_ih, void* b_hh) {
  try {
    const at::Tensor& xt = *static_cast<at::Tensor*>(x);
    const at::Tensor& wi = *static_cast<at::Tensor*>(w_ih);
    const at::Tensor& wh = *static_cast<at::Tensor*>(w_hh);
    const at::Tensor& bi = *static_cast<at::Tensor*>(b_ih);
    const at::Tensor& bh = *static_cast<at::Tensor*>(b_hh);
    // Without a gradient to compute (grad mode off, as for prediction, or
    // no input requiring one), the inference pass runs instead.
    const bool grad = at::GradMode::is_enabled() &&
                      (xt.requires_grad() || wi.requires_grad() || wh.requires_grad() || bi.requires_grad() ||
                       bh.requires_grad());
    at::Tensor y = grad ? LSTMLayer::apply(xt, wi, wh, bi, bh) : infer_layer(xt, wi, wh, bi, bh);
    *out = new at::Tensor(std::move(y));
    return nullptr;
  } catch (const c10::Error& e) {
    return strdup(e.what_without_backtrace());
  } catch (const std::exception& e) {
    return strdup(e.what());
  }
}
