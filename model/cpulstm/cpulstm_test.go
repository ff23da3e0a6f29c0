package cpulstm_test

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/finsight/finsight/model/cpulstm"
)

// layerCase is one set of shapes and random inputs for a single layer.
type layerCase struct {
	steps, batch, features, units int
	scale                         float64 // of weights and inputs; 3 saturates most gates
}

func (c layerCase) String() string {
	return fmt.Sprintf("T%d_B%d_I%d_H%d_s%g", c.steps, c.batch, c.features, c.units, c.scale)
}

// inputs are x [T, B, I], w_ih, w_hh, b_ih, b_hh, all requiring a gradient,
// and r [T, B, H], the weights of the scalar loss sum(r * h) that sends a
// gradient into every step's output.
func (c layerCase) inputs(t testing.TB, rng *rand.Rand) (params []*ts.Tensor, r *ts.Tensor) {
	t.Helper()
	h4 := int64(4 * c.units)
	shapes := [][]int64{
		{int64(c.steps), int64(c.batch), int64(c.features)},
		{h4, int64(c.features)}, {h4, int64(c.units)}, {h4}, {h4},
	}
	for _, s := range shapes {
		params = append(params, randomTensor(t, rng, s, c.scale, true))
	}
	r = randomTensor(t, rng, []int64{int64(c.steps), int64(c.batch), int64(c.units)}, 1, false)
	return params, r
}

func randomTensor(t testing.TB, rng *rand.Rand, shape []int64, scale float64, grad bool) *ts.Tensor {
	t.Helper()
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32((rng.Float64()*2 - 1) * scale)
	}
	x, err := ts.NewTensorFromData(vals, shape)
	if err != nil {
		t.Fatal(err)
	}
	if !grad {
		return x
	}
	y, err := x.SetRequiresGrad(true, true)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

func values(t testing.TB, x *ts.Tensor) []float32 {
	t.Helper()
	c, err := x.Contiguous(false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Drop()
	n := 1
	size, err := c.Size()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range size {
		n *= int(d)
	}
	out := make([]float32, n)
	if err := c.CopyData(out, uint(n)); err != nil {
		t.Fatal(err)
	}
	return out
}

// weightedSum is the scalar loss sum(r * out).
func weightedSum(t testing.TB, out, r *ts.Tensor) *ts.Tensor {
	t.Helper()
	prod, err := out.Mul(r, false)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := prod.Sum(gotch.Float, true)
	if err != nil {
		t.Fatal(err)
	}
	return loss
}

// lossAndGrads returns the outputs of a layer and the gradients of
// sum(r * out) with respect to every parameter.
func lossAndGrads(t testing.TB, out, r *ts.Tensor, params []*ts.Tensor) ([]float32, [][]float32) {
	t.Helper()
	loss := weightedSum(t, out, r)
	defer loss.Drop()
	// One backward pass per parameter: gotch's RunBackward reads its
	// inputs and writes its outputs as arrays but is handed a pointer to
	// one element, so it only works with a single input.
	var gv [][]float32
	for i, p := range params {
		grads, err := ts.RunBackward([]*ts.Tensor{loss}, []*ts.Tensor{p}, i < len(params)-1, false)
		if err != nil {
			t.Fatal(err)
		}
		gv = append(gv, values(t, grads[0]))
		grads[0].Drop()
	}
	return values(t, out), gv
}

func maxAbsDiff(a, b []float32) (diff, scale float64) {
	for i := range a {
		diff = math.Max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = math.Max(scale, math.Abs(float64(b[i])))
	}
	return diff, scale
}

// The fused layer computes the same outputs and the same gradients, for
// the input and every weight, as LibTorch's own at::lstm.
func TestLayerMatchesATenLSTM(t *testing.T) {
	cases := []layerCase{
		{steps: 1, batch: 1, features: 1, units: 3, scale: 0.5},
		{steps: 7, batch: 4, features: 3, units: 5, scale: 0.5},
		{steps: 7, batch: 4, features: 3, units: 5, scale: 3},
		{steps: 50, batch: 8, features: 1, units: 64, scale: 0.125},
		{steps: 20, batch: 3, features: 64, units: 17, scale: 0.3},
		// 600 rows of 16 units: the gate loops split over LibTorch's threads
		// (256 rows a task) when there is more than one.
		{steps: 5, batch: 600, features: 2, units: 16, scale: 0.5},
	}
	rng := rand.New(rand.NewSource(7))
	names := []string{"x", "w_ih", "w_hh", "b_ih", "b_hh"}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			params, r := c.inputs(t, rng)
			fused, err := cpulstm.Layer(params[0], params[1], params[2], params[3], params[4])
			if err != nil {
				t.Fatal(err)
			}
			gotOut, gotGrads := lossAndGrads(t, fused, r, params)
			ref := atenLayer(t, params, c)
			wantOut, wantGrads := lossAndGrads(t, ref, r, params)
			if d, s := maxAbsDiff(gotOut, wantOut); d > 1e-5*math.Max(1, s) {
				t.Errorf("outputs differ by %g (largest output %g)", d, s)
			}
			for i, name := range names {
				if d, s := maxAbsDiff(gotGrads[i], wantGrads[i]); d > 2e-5*math.Max(1, s) {
					t.Errorf("gradient of %s differs by %g (largest %g)", name, d, s)
				}
			}
		})
	}
}

// Without a gradient to compute, the layer runs its inference pass (own
// matrix product, no autograd node); it computes what at::lstm does.
func TestInferenceMatchesATenLSTM(t *testing.T) {
	cases := []layerCase{
		{steps: 1, batch: 1, features: 1, units: 3, scale: 0.5},
		{steps: 7, batch: 4, features: 3, units: 5, scale: 3},
		{steps: 50, batch: 1, features: 1, units: 64, scale: 0.125},
		{steps: 50, batch: 17, features: 64, units: 64, scale: 0.125}, // odd batch: a row alone
		{steps: 20, batch: 3, features: 64, units: 17, scale: 0.3},    // 68 columns: two blocks of 32 and a tail
		{steps: 9, batch: 6, features: 2, units: 8, scale: 0.5},       // 32 columns: one block exactly
		{steps: 5, batch: 600, features: 2, units: 16, scale: 0.5},    // tasks of 64 rows on more than one thread
	}
	rng := rand.New(rand.NewSource(11))
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			params := make([]*ts.Tensor, 5)
			for i, s := range [][]int64{
				{int64(c.steps), int64(c.batch), int64(c.features)},
				{int64(4 * c.units), int64(c.features)}, {int64(4 * c.units), int64(c.units)},
				{int64(4 * c.units)}, {int64(4 * c.units)},
			} {
				params[i] = randomTensor(t, rng, s, c.scale, false)
			}
			out, err := cpulstm.Layer(params[0], params[1], params[2], params[3], params[4])
			if err != nil {
				t.Fatal(err)
			}
			got := values(t, out)
			want := values(t, atenLayer(t, params, c))
			if d, s := maxAbsDiff(got, want); d > 1e-5*math.Max(1, s) {
				t.Errorf("outputs differ by %g (largest output %g)", d, s)
			}
		})
	}
}

// atenLayer runs the same single layer through at::lstm (time-major).
func atenLayer(t testing.TB, params []*ts.Tensor, c layerCase) *ts.Tensor {
	t.Helper()
	shape := []int64{1, int64(c.batch), int64(c.units)}
	h0, err := ts.Zeros(shape, gotch.Float, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	c0, err := ts.Zeros(shape, gotch.Float, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	out, hn, cn, err := ts.Lstm(params[0], []*ts.Tensor{h0, c0}, params[1:], true, 1, 0, true, false, false)
	if err != nil {
		t.Fatal(err)
	}
	hn.Drop()
	cn.Drop()
	return out
}

// Wrong shapes and types come back as errors, not crashes.
func TestLayerRejectsBadInputs(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	c := layerCase{steps: 4, batch: 2, features: 3, units: 5, scale: 0.5}
	p, _ := c.inputs(t, rng)
	wrongWIH := randomTensor(t, rng, []int64{20, 2}, 1, false)
	flat := randomTensor(t, rng, []int64{4, 6}, 1, false)
	double, err := p[0].Totype(gotch.Double, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   []*ts.Tensor
		want string
	}{
		{"w_ih for another input width", []*ts.Tensor{p[0], wrongWIH, p[2], p[3], p[4]}, "w_ih must be"},
		{"input without a batch dimension", []*ts.Tensor{flat, p[1], p[2], p[3], p[4]}, "input must be [steps, batch, features]"},
		{"float64 input", []*ts.Tensor{double, p[1], p[2], p[3], p[4]}, "float32"},
		{"bias of the wrong length", []*ts.Tensor{p[0], p[1], p[2], wrongWIH, p[4]}, "biases must have"},
	} {
		out, err := cpulstm.Layer(tc.in[0], tc.in[1], tc.in[2], tc.in[3], tc.in[4])
		if err == nil {
			out.Drop()
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not say %q", tc.name, err, tc.want)
		}
	}
}

// Predict refuses what does not fit, with an error rather than a crash.
func TestPredictRejectsBadInputs(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	c := layerCase{steps: 4, batch: 2, features: 3, units: 5, scale: 0.5}
	p, _ := c.inputs(t, rng)
	layer := p[1:]
	headW := randomTensor(t, rng, []int64{1, 5}, 1, false)
	headB := randomTensor(t, rng, []int64{1}, 1, false)
	wrongHead := randomTensor(t, rng, []int64{1, 4}, 1, false)
	x := make([]float32, 2*4*3)
	if err := cpulstm.Predict(make([]float32, 2), x, 4, 3, layer, headW, headB); err != nil {
		t.Fatalf("valid inputs: %v", err)
	}
	for _, tc := range []struct {
		name     string
		out, x   []float32
		features int
		layers   []*ts.Tensor
		headW    *ts.Tensor
		want     string
	}{
		{"no windows", nil, x, 3, layer, headW, "predict of 0 windows"},
		{"inputs for another count", make([]float32, 3), x, 3, layer, headW, "24 inputs for 3 windows"},
		{"three weights", make([]float32, 2), x, 3, layer[:3], headW, "4 per layer"},
		{"head of another width", make([]float32, 2), x, 3, layer, wrongHead, "the head must be"},
		{"features the layer does not take", make([]float32, 4), x[:16], 1, layer, headW, "w_ih must be"},
	} {
		err := cpulstm.Predict(tc.out, tc.x, 4, tc.features, tc.layers, tc.headW, headB)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

// BenchmarkLayer times forward + one backward pass (every input requires
// a gradient) of a 50-step, batch-64, 64-unit layer, fused against
// at::lstm (go test -run - -bench Layer ./model/cpulstm; set
// OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 to compare single-threaded).
func BenchmarkLayer(b *testing.B) {
	c := layerCase{steps: 50, batch: 64, features: 64, units: 64, scale: 0.125}
	params, r := c.inputs(b, rand.New(rand.NewSource(1)))
	run := map[string]func() *ts.Tensor{
		"fused": func() *ts.Tensor {
			out, err := cpulstm.Layer(params[0], params[1], params[2], params[3], params[4])
			if err != nil {
				b.Fatal(err)
			}
			return out
		},
		"aten": func() *ts.Tensor { return atenLayer(b, params, c) },
	}
	for _, name := range []string{"fused", "aten"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				out := run[name]()
				loss := weightedSum(b, out, r)
				out.Drop()
				g, err := ts.RunBackward([]*ts.Tensor{loss}, params[2:3], false, false)
				if err != nil {
					b.Fatal(err)
				}
				g[0].Drop()
				loss.Drop()
			}
		})
	}
}

// The inference pass carries a NaN too (see TestLayerPropagatesNaN).
func TestInferencePropagatesNaN(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	c := layerCase{steps: 3, batch: 2, features: 1, units: 19, scale: 0.5}
	p := []*ts.Tensor{nil}
	for _, s := range [][]int64{{76, 1}, {76, 19}, {76}, {76}} {
		p = append(p, randomTensor(t, rng, s, c.scale, false))
	}
	x, err := ts.NewTensorFromData([]float32{0.1, float32(math.NaN()), 0.2, 0.3, 0.4, 0.5}, []int64{3, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cpulstm.Layer(x, p[1], p[2], p[3], p[4])
	if err != nil {
		t.Fatal(err)
	}
	v := values(t, out)
	for step := 0; step < c.steps; step++ {
		for b := 0; b < c.batch; b++ {
			for j, o := range v[(step*c.batch+b)*c.units : (step*c.batch+b+1)*c.units] {
				if math.IsNaN(float64(o)) != (b == 1) {
					t.Errorf("step %d batch %d unit %d: output %v, want NaN = %v", step, b, j, o, b == 1)
				}
			}
		}
	}
}

// A NaN in the input must reach the output: the activations clamp their
// argument before exp, and a clamp built from min/max can turn NaN into a
// finite number, which would hide a diverged model or a data bug.
func TestLayerPropagatesNaN(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	c := layerCase{steps: 3, batch: 2, features: 1, units: 19, scale: 0.5} // vector lanes and a scalar tail
	p, _ := c.inputs(t, rng)
	x, err := ts.NewTensorFromData([]float32{0.1, float32(math.NaN()), 0.2, 0.3, 0.4, 0.5}, []int64{3, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cpulstm.Layer(x, p[1], p[2], p[3], p[4])
	if err != nil {
		t.Fatal(err)
	}
	v := values(t, out)
	h := c.units
	for step := 0; step < c.steps; step++ {
		for b := 0; b < c.batch; b++ {
			row := v[(step*c.batch+b)*h : (step*c.batch+b+1)*h]
			// batch row 1 sees the NaN at step 0 and carries it on; row 0 never does.
			want := b == 1
			for j, o := range row {
				if math.IsNaN(float64(o)) != want {
					t.Errorf("step %d batch %d unit %d: output %v, want NaN = %v", step, b, j, o, want)
				}
			}
		}
	}
}
