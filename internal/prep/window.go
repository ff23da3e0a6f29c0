package prep

import (
	"fmt"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

// Window builds lookback-step windows of one feature inside one split (so no
// window crosses a split boundary). The label is the value horizon steps
// after the window's last step. raw is the column in price units, scaled the
// same column after the scaler.
func Window(raw, scaled []float64, b *frame.Bars, lookback, horizon int) (*frame.Windows, error) {
	if lookback < 1 || horizon < 1 {
		return nil, fmt.Errorf("lookback and horizon must be at least 1, got %d and %d", lookback, horizon)
	}
	if len(raw) != len(scaled) || len(raw) != b.Len() {
		return nil, fmt.Errorf("window: %d raw, %d scaled values for %d rows", len(raw), len(scaled), b.Len())
	}
	n := len(raw) - lookback - horizon + 1
	if n < 1 {
		return nil, fmt.Errorf("%d rows are too few for %d-step windows with horizon %d", len(raw), lookback, horizon)
	}
	w := &frame.Windows{
		Lookback:   lookback,
		Features:   1,
		X:          make([]float32, 0, n*lookback),
		Y:          make([]float32, n),
		TargetDate: make([]time.Time, n),
		Last:       make([]float64, n),
		Target:     make([]float64, n),
	}
	for i := 0; i < n; i++ {
		for _, v := range scaled[i : i+lookback] {
			w.X = append(w.X, float32(v))
		}
		t := i + lookback + horizon - 1
		w.Y[i] = float32(scaled[t])
		w.TargetDate[i] = b.Date[t]
		w.Last[i] = raw[i+lookback-1]
		w.Target[i] = raw[t]
	}
	return w, nil
}

// LastWindow scales the most recent lookback values for a forecast.
func LastWindow(s MinMax, values []float64, lookback int) ([]float32, error) {
	if len(values) < lookback {
		return nil, fmt.Errorf("need at least %d values, got %d", lookback, len(values))
	}
	out := make([]float32, lookback)
	for i, v := range values[len(values)-lookback:] {
		out[i] = float32(s.Transform(v))
	}
	return out, nil
}
