package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/prep"
)

// batchResponse answers a JSON batch: one prediction per window, in the
// request's order.
type batchResponse struct {
	Ticker       string    `json:"ticker"`
	ModelVersion int       `json:"model_version"`
	Selection    string    `json:"selection"`
	Reason       string    `json:"reason,omitempty"`
	HorizonDays  int       `json:"horizon_days"`
	Predictions  []float64 `json:"predictions"`
	// Interval and Intervals: as in predictResponse, each level's bounds
	// in the order of Predictions.
	Interval            *batchInterval  `json:"interval,omitempty"`
	Intervals           []batchInterval `json:"intervals,omitempty"`
	RegistryUnavailable bool            `json:"registry_unavailable,omitempty"`
}

// batchWindow is one window of a batch and the form it came in.
type batchWindow struct {
	windowValues
	opensOnly bool // a bare list of Opens, not an object
}

// predictWindows answers {"ticker": T, "windows": [...]}: each window is a
// list of Opens, oldest first, or an object of value lists like the
// single-window body ({"open": [...], "volume": [...]}, for models that use
// more than the Open); each is checked as a single window is, and the model
// runs on them in batches.
func (s *Server) predictWindows(c *gin.Context, ticker string, raw []json.RawMessage) {
	if len(raw) == 0 {
		jsonError(c, http.StatusBadRequest, "windows is empty: send at least one window of values")
		return
	}
	windows := make([]batchWindow, len(raw))
	for i, r := range raw {
		w, err := decodeWindow(r)
		if err == nil && len(w.Open) == 0 {
			err = fmt.Errorf("open must be a non-empty list of values, oldest first")
		}
		if err == nil {
			for name, vs := range w.series() {
				if err = checkValues(name, vs); err != nil {
					break
				}
			}
		}
		if err != nil {
			jsonError(c, http.StatusBadRequest, fmt.Sprintf("windows[%d]: %v", i, err))
			return
		}
		windows[i] = w
	}
	ch, ask, ok := s.choose(c, ticker)
	if !ok {
		return
	}
	answer := batchResponse{Ticker: ticker, ModelVersion: ch.version(), Selection: ch.selection, Reason: ch.reason,
		HorizonDays: ch.horizon, Predictions: make([]float64, 0, len(windows)), RegistryUnavailable: ch.stale}
	m := ch.model
	if m == nil {
		for i, w := range windows {
			if len(w.Open) < ch.lookback {
				jsonError(c, http.StatusBadRequest, fmt.Sprintf("windows[%d]: %s", i, naiveTooShort(len(w.Open), ch)))
				return
			}
			answer.Predictions = append(answer.Predictions, w.Open[len(w.Open)-1])
		}
		answer.Interval, answer.Intervals = ch.bands.batch(answer.Predictions, answer.Predictions) // each the window's last Open
		s.served(ticker, ch, ask)
		c.JSON(http.StatusOK, answer)
		return
	}
	var spent time.Duration
	opens := make([]float64, 0, len(windows)) // each window's last Open, which scales its interval
	for first := 0; first < len(windows); first += uploadBatch {
		chunk := windows[first:min(first+uploadBatch, len(windows))]
		x := make([][]float32, 0, len(chunk))
		lastOpen := make([]float64, 0, len(chunk))
		for i, w := range chunk {
			win, open, err := prep.RecentWindow(m.transform, w.series(), m.cfg.Lookback)
			if err != nil {
				hint := ""
				if w.opensOnly && slices.ContainsFunc(m.transform.Spec.Features, func(f string) bool { return f != "open" }) {
					hint = `; this model reads more than the Open: send each window as an object, {"open":[...],"volume":[...]}`
				}
				jsonError(c, http.StatusBadRequest, fmt.Sprintf("windows[%d]: model v%d (lookback %d days, features %v): %v%s",
					first+i, m.version, m.cfg.Lookback, m.transform.Spec.Features, err, hint))
				return
			}
			x = append(x, win)
			lastOpen = append(lastOpen, open)
		}
		prices, took, err := m.forecast(x, lastOpen)
		spent += took
		if err != nil {
			jsonError(c, http.StatusInternalServerError, err.Error())
			return
		}
		answer.Predictions = append(answer.Predictions, prices...)
		opens = append(opens, lastOpen...)
	}
	s.metrics.Forecast(spent)
	answer.Interval, answer.Intervals = ch.bands.batch(answer.Predictions, opens)
	s.served(ticker, ch, ask)
	c.JSON(http.StatusOK, answer)
}

// decodeWindow reads one window of a batch: a list of Opens or an object
// of value lists (unknown fields refused).
func decodeWindow(raw json.RawMessage) (batchWindow, error) {
	var w batchWindow
	switch t := bytes.TrimSpace(raw); {
	case len(t) > 0 && t[0] == '[':
		w.opensOnly = true
		if err := json.Unmarshal(t, &w.Open); err != nil {
			return w, fmt.Errorf("a list of Opens: %v", err)
		}
	case len(t) > 0 && t[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w.windowValues); err != nil {
			return w, fmt.Errorf("malformed window: %v", err)
		}
	default:
		return w, fmt.Errorf("want a list of Opens, oldest first, or an object like {\"open\":[...]}, not %s", truncate(string(t), 40))
	}
	return w, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// forecast runs windows through m in batched passes and turns the outputs
// into prices (lastOpen[i] is window i's last Open); it also says how long
// the passes took.
func (m *loadedModel) forecast(x [][]float32, lastOpen []float64) ([]float64, time.Duration, error) {
	start := time.Now()
	y, err := m.predictBatch(x)
	took := time.Since(start)
	if err != nil {
		return nil, took, err
	}
	prices := make([]float64, len(y))
	for i, v := range y {
		prices[i] = m.transform.Price(lastOpen[i], float64(v))
	}
	return prices, took, nil
}
