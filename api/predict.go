package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
)

// maxPredictBody bounds a JSON /predict body; past it the answer is 413.
const maxPredictBody = 1 << 20

// windowValues are one window of prices, oldest first: the Opens, and the
// other columns for models that use them.
type windowValues struct {
	Open     []float64 `json:"open"`
	High     []float64 `json:"high,omitempty"` // only for models that use them
	Low      []float64 `json:"low,omitempty"`
	Close    []float64 `json:"close,omitempty"`
	AdjClose []float64 `json:"adj_close,omitempty"`
	Volume   []float64 `json:"volume,omitempty"`
}

// series maps feature names to the values given.
func (w windowValues) series() map[string][]float64 {
	m := map[string][]float64{"open": w.Open}
	for name, vs := range map[string][]float64{"high": w.High, "low": w.Low, "close": w.Close, "adj_close": w.AdjClose, "volume": w.Volume} {
		if vs != nil {
			m[name] = vs
		}
	}
	return m
}

// given reports whether any values were given.
func (w windowValues) given() bool {
	return w.Open != nil || w.High != nil || w.Low != nil || w.Close != nil || w.AdjClose != nil || w.Volume != nil
}

// predictRequest is a JSON /predict body: one window of values, or a batch
// of windows (predictWindows).
type predictRequest struct {
	Ticker string `json:"ticker"`
	windowValues
	Windows []json.RawMessage `json:"windows,omitempty"`
}

type predictResponse struct {
	Ticker       string `json:"ticker"`
	ModelVersion int    `json:"model_version"` // 0 for the naive forecast
	Selection    string `json:"selection"`     // what answered: champion, naive, version, or the alias asked for
	// Reason says why the naive forecast answered.
	Reason      string  `json:"reason,omitempty"`
	HorizonDays int     `json:"horizon_days"`
	Prediction  float64 `json:"prediction"`
	// Interval is the prediction interval at the version's first level
	// (80% by default), Intervals at every level it was calibrated at;
	// both absent for versions registered before intervals.
	Interval  *predictInterval  `json:"interval,omitempty"`
	Intervals []predictInterval `json:"intervals,omitempty"`
	// RegistryUnavailable is set when the store could not be read and what
	// was read before answered: the registry as it last named the model, and
	// the model loaded before.
	RegistryUnavailable bool `json:"registry_unavailable,omitempty"`
}

// predict answers the next Open (price units) for the last lookback Opens
// of a JSON body, for each window of a JSON batch (predictWindows), or for
// every window of a price file (predictUpload).
func (s *Server) predict(c *gin.Context) {
	switch kind, params, err := predictBodyKind(c.GetHeader("Content-Type")); {
	case err != nil:
		jsonError(c, http.StatusUnsupportedMediaType, err.Error())
		return
	case kind == bodyMultipart:
		s.predictUpload(c, params["boundary"])
		return
	case kind == bodyCSV:
		s.predictCSVBody(c)
		return
	}
	req, status, err := decodePredict(c)
	if err != nil {
		jsonError(c, status, err.Error())
		return
	}
	ticker, err := pipeline.NormalizeTicker(req.Ticker)
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	c.Set(logTicker, ticker)
	if req.Windows != nil {
		if req.given() {
			jsonError(c, http.StatusBadRequest, "give open (one window of values) or windows (a batch of them), not both")
			return
		}
		s.predictWindows(c, ticker, req.Windows)
		return
	}
	if len(req.Open) == 0 {
		jsonError(c, http.StatusBadRequest, "open must be a non-empty list of values, oldest first (or send windows: a list of windows, for a batch)")
		return
	}
	for name, vs := range req.series() {
		if err := checkValues(name, vs); err != nil {
			jsonError(c, http.StatusBadRequest, err.Error())
			return
		}
	}
	ch, ask, ok := s.choose(c, ticker)
	if !ok {
		return
	}
	answer := predictResponse{Ticker: ticker, ModelVersion: ch.version(), Selection: ch.selection, Reason: ch.reason,
		HorizonDays: ch.horizon, RegistryUnavailable: ch.stale}
	m := ch.model
	if m == nil {
		if len(req.Open) < ch.lookback {
			jsonError(c, http.StatusBadRequest, naiveTooShort(len(req.Open), ch))
			return
		}
		answer.Prediction = req.Open[len(req.Open)-1]
		answer.Interval, answer.Intervals = ch.bands.around(answer.Prediction, answer.Prediction)
		s.served(ticker, ch, ask)
		c.JSON(http.StatusOK, answer)
		return
	}
	window, lastOpen, err := prep.RecentWindow(m.transform, req.series(), m.cfg.Lookback)
	if err != nil {
		jsonError(c, http.StatusBadRequest, fmt.Sprintf("model v%d (lookback %d days, features %v): %v",
			m.version, m.cfg.Lookback, m.transform.Spec.Features, err))
		return
	}
	start := time.Now()
	y, err := m.predictContext(c.Request.Context(), window)
	s.metrics.Forecast(time.Since(start))
	if err != nil && c.Request.Context().Err() != nil {
		jsonError(c, http.StatusServiceUnavailable, fmt.Sprintf("the request ended before its window was predicted: %v", err))
		return
	}
	if err != nil {
		jsonError(c, http.StatusInternalServerError, err.Error())
		return
	}
	s.served(ticker, ch, ask)
	answer.Prediction = m.transform.Price(lastOpen, float64(y))
	answer.Interval, answer.Intervals = ch.bands.around(answer.Prediction, lastOpen)
	c.JSON(http.StatusOK, answer)
}

// naiveTooShort is the 400 of a naive answer to a window shorter than the
// ticker's models need: the request would fail once a champion answers.
func naiveTooShort(n int, ch choice) string {
	return fmt.Sprintf("need at least %d values (the lookback of this ticker's models), got %d; the naive forecast answers for now (%s)",
		ch.lookback, n, ch.reason)
}

// decodePredict reads a JSON /predict body of at most maxPredictBody bytes;
// on error it returns the status to answer (413 for a larger body, else 400).
func decodePredict(c *gin.Context) (predictRequest, int, error) {
	var req predictRequest
	if c.Request.ContentLength > maxPredictBody {
		return req, http.StatusRequestEntityTooLarge, errBodyTooLarge
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxPredictBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		var rest []byte // after the value: only white space may follow
		rest, err = io.ReadAll(io.MultiReader(dec.Buffered(), body))
		if err == nil && strings.TrimSpace(string(rest)) != "" {
			return req, http.StatusBadRequest, errors.New("malformed JSON body: more than one value")
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return req, http.StatusRequestEntityTooLarge, errBodyTooLarge
	}
	if err != nil {
		return req, http.StatusBadRequest, fmt.Errorf("malformed JSON body: %v", err)
	}
	return req, 0, nil
}

var errBodyTooLarge = fmt.Errorf("the JSON body is over the %d MiB limit: send fewer windows per request, or the prices as a file "+
	"(multipart/form-data or text/csv, up to %d MiB)", maxPredictBody>>20, maxUploadBody>>20)

func checkValues(name string, vs []float64) error {
	if len(vs) == 0 {
		return fmt.Errorf("%s must be a non-empty list of values, oldest first", name)
	}
	for i, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (v == 0 && name != "volume") {
			return fmt.Errorf("%s[%d] = %v: prices must be finite and positive (volumes finite and non-negative)", name, i, v)
		}
	}
	return nil
}
