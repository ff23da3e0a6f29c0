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

}  // namespace

extern "C" char* cpulstm_layer(void** out, void* x, void* w_ih, void* w_hh, void* b_ih, void* b_hh) {
  try {
    at::Tensor y = LSTMLayer::apply(*static_cast<at::Tensor*>(x), *static_cast<at::Tensor*>(w_ih),
                                    *static_cast<at::Tensor*>(w_hh), *static_cast<at::Tensor*>(b_ih),
                                    *static_cast<at::Tensor*>(b_hh));
    *out = new at::Tensor(std::move(y));
    return nullptr;
  } catch (const c10::Error& e) {
    return strdup(e.what_without_backtrace());
  } catch (const std::exception& e) {
    return strdup(e.what());
  }
}
