// C interface of the fused CPU LSTM layer (lstm.cpp) for cgo. Tensors are
// at::Tensor pointers, as gotch's Ctensor handles are.
#ifndef FINSIGHT_CPULSTM_H
#define FINSIGHT_CPULSTM_H
#ifdef __cplusplus
extern "C" {
#endif
// cpulstm_layer runs x [steps, batch, features] through one LSTM layer and
// stores the hidden states of every step [steps, batch, H] in *out. It
// returns NULL, or an error message the caller frees.
char* cpulstm_layer(void** out, void* x, void* w_ih, void* w_hh, void* b_ih, void* b_hh);
#ifdef __cplusplus
}
#endif
#endif
