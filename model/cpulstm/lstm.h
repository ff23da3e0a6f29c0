// C interface of the fused CPU LSTM layer (lstm.cpp) for cgo. Tensors are
// at::Tensor pointers, as gotch's Ctensor handles are.
#ifndef FINSIGHT_CPULSTM_H
#define FINSIGHT_CPULSTM_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// cpulstm_layer runs x [steps, batch, features] through one LSTM layer and
// stores the hidden states of every step [steps, batch, H] in *out. It
// returns NULL, or an error message the caller frees.
char* cpulstm_layer(void** out, void* x, void* w_ih, void* w_hh, void* b_ih, void* b_hh);
// cpulstm_predict runs n windows x [n, steps, features] (row-major floats)
// through `layers` LSTM layers (layer_weights: w_ih, w_hh, b_ih, b_hh per
// layer) and a dense head (head_w [1, H], head_b [1]) without autograd,
// and writes one output per window to out. It returns NULL, or an error
// message the caller frees.
char* cpulstm_predict(float* out, const float* x, int64_t n, int64_t steps, int64_t features, void** layer_weights,
                      int64_t layers, void* head_w, void* head_b);
#ifdef __cplusplus
}
#endif
#endif
