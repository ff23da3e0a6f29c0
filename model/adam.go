package model

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// adam is Adam (Kingma & Ba) over the model's parameters with its moment
// estimates held as tensors we own, so they can be checkpointed and restored
// (gotch's optimizer keeps its state inside LibTorch, out of reach).
type adam struct {
	params       []*ts.Tensor
	m, v         []*ts.Tensor
	step         int64
	lr           float64
	beta1, beta2 float64
	eps          float64
}

func newAdam(params []*ts.Tensor, shapes [][]int64, lr float64, device gotch.Device) (*adam, error) {
	a := &adam{params: params, lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8}
	for _, s := range shapes {
		m, err := ts.Zeros(s, gotch.Float, device)
		if err != nil {
			a.free()
			return nil, fmt.Errorf("adam state: %w", err)
		}
		v, err := ts.Zeros(s, gotch.Float, device)
		if err != nil {
			free(m)
			a.free()
			return nil, fmt.Errorf("adam state: %w", err)
		}
		a.m, a.v = append(a.m, m), append(a.v, v)
	}
	return a, nil
}

func (a *adam) free() {
	free(a.m...)
	free(a.v...)
	a.m, a.v = nil, nil
}

// zeroGrad clears the gradients left by the previous step.
func (a *adam) zeroGrad() error {
	for _, p := range a.params {
		g, err := p.Grad(false)
		if err != nil {
			return fmt.Errorf("grad: %w", err)
		}
		ok, err := g.Defined()
		if err == nil && ok {
			err = g.Zero_()
		}
		free(g)
		if err != nil {
			return fmt.Errorf("zero grad: %w", err)
		}
	}
	return nil
}

// clipGradNorm scales all gradients so that their global L2 norm is at
// most maxNorm (no-op when maxNorm ≤ 0) and returns the norm before clipping.
func (a *adam) clipGradNorm(maxNorm float64) (float64, error) {
	if maxNorm <= 0 {
		return 0, nil
	}
	grads := make([]*ts.Tensor, 0, len(a.params))
	defer func() { free(grads...) }()
	total := 0.0
	for _, p := range a.params {
		g, err := p.Grad(false)
		if err != nil {
			return 0, fmt.Errorf("grad: %w", err)
		}
		grads = append(grads, g)
		n, err := g.Norm(false)
		if err != nil {
			return 0, fmt.Errorf("grad norm: %w", err)
		}
		v, err := n.Float64Value([]int64{})
		free(n)
		if err != nil {
			return 0, fmt.Errorf("read grad norm: %w", err)
		}
		total += v * v
	}
	total = math.Sqrt(total)
	if total > maxNorm {
		s := ts.FloatScalar(maxNorm / (total + 1e-6))
		defer s.Drop()
		for _, g := range grads {
			if err := g.MulScalar_(s); err != nil {
				return 0, fmt.Errorf("clip grad: %w", err)
			}
		}
	}
	return total, nil
}

// update applies one Adam step to every parameter (autograd off).
func (a *adam) update() error {
	a.step++
	bc1 := 1 - math.Pow(a.beta1, float64(a.step))
	bc2 := 1 - math.Pow(a.beta2, float64(a.step))
	w1, w2 := ts.FloatScalar(1-a.beta1), ts.FloatScalar(1-a.beta2)
	defer w1.Drop()
	defer w2.Drop()
	root, eps := ts.FloatScalar(1/math.Sqrt(bc2)), ts.FloatScalar(a.eps)
	defer root.Drop()
	defer eps.Drop()
	stepSize := ts.FloatScalar(-a.lr / bc1)
	defer stepSize.Drop()
	return withoutGrad(func() error {
		for i, p := range a.params {
			if err := a.updateOne(p, a.m[i], a.v[i], w1, w2, root, eps, stepSize); err != nil {
				return fmt.Errorf("adam step %d param %d: %w", a.step, i, err)
			}
		}
		return nil
	})
}

// updateOne: m ← m + (1−β1)(g − m); v ← v + (1−β2)(g² − v);
// p ← p − lr/bc1 · m / (sqrt(v)/sqrt(bc2) + ε).
func (a *adam) updateOne(p, m, v *ts.Tensor, w1, w2, root, eps, stepSize *ts.Scalar) error {
	g, err := p.Grad(false)
	if err != nil {
		return err
	}
	defer free(g)
	if err := m.Lerp_(g, w1); err != nil {
		return err
	}
	g2, err := g.Mul(g, false)
	if err != nil {
		return err
	}
	err = v.Lerp_(g2, w2)
	free(g2)
	if err != nil {
		return err
	}
	d, err := v.Sqrt(false)
	if err != nil {
		return err
	}
	defer free(d)
	if err := d.MulScalar_(root); err != nil {
		return err
	}
	if err := d.AddScalar_(eps); err != nil {
		return err
	}
	u, err := m.Div(d, false)
	if err != nil {
		return err
	}
	defer free(u)
	if err := u.MulScalar_(stepSize); err != nil {
		return err
	}
	return p.Add_(u)
}
