package model

// #include <stdint.h>
// void at_manual_seed(int64_t);
// void at_set_num_threads(int);
// int at_get_num_threads();
import "C"

// seedTorch seeds LibTorch's global generator (dropout masks). The symbols
// come from gotch's libtch, linked into the same binary.
func seedTorch(seed int64) { C.at_manual_seed(C.int64_t(seed)) }

// SetThreads sets LibTorch's intra-op thread count (0 keeps the default).
func SetThreads(n int) {
	if n > 0 {
		C.at_set_num_threads(C.int(n))
	}
}

// Threads is LibTorch's intra-op thread count.
func Threads() int { return int(C.at_get_num_threads()) }
