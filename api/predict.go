package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
)

const maxPredictBody = 1 << 20

type predictRequest struct {
	Ticker   string    `json:"ticker"`
	Open     []float64 `json:"open"`
	High     []float64 `json:"high,omitempty"` // only for models that use them
	Low      []float64 `json:"low,omitempty"`
	Close    []float64 `json:"close,omitempty"`
	AdjClose []float64 `json:"adj_close,omitempty"`
	Volume   []float64 `json:"volume,omitempty"`
}

// series maps feature names to the values the request gave.
func (r predictRequest) series() map[string][]float64 {
	m := map[string][]float64{"open": r.Open}
	for name, vs := range map[string][]float64{"high": r.High, "low": r.Low, "close": r.Close, "adj_close": r.AdjClose, "volume": r.Volume} {
		if vs != nil {
			m[name] = vs
		}
	}
	return m
}

type predictResponse struct {
	Ticker       string  `json:"ticker"`
	ModelVersion int     `json:"model_version"`
	Selection    string  `json:"selection"` // which registry entry answered: champion, or latest when there is none
	HorizonDays  int     `json:"horizon_days"`
	Prediction   float64 `json:"prediction"`
	// RegistryUnavailable is set when the store could not be read and the
	// model loaded before answered, as the registry last named it.
	RegistryUnavailable bool `json:"registry_unavailable,omitempty"`
}

// predict answers the next Open (price units) for the last lookback Opens
// of a JSON body, or for every window of a price file (predictUpload).
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
	req, err := decodePredict(c.Request.Body)
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	ticker, err := pipeline.NormalizeTicker(req.Ticker)
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	c.Set(logTicker, ticker)
	for name, vs := range req.series() {
		if err := checkValues(name, vs); err != nil {
			jsonError(c, http.StatusBadRequest, err.Error())
			return
		}
	}
	m, selection, fromCache, ok := s.servedModel(c, ticker)
	if !ok {
		return
	}
	window, lastOpen, err := prep.RecentWindow(m.transform, req.series(), m.cfg.Lookback)
	if err != nil {
		jsonError(c, http.StatusBadRequest, fmt.Sprintf("model v%d (lookback %d days, features %v): %v",
			m.version, m.cfg.Lookback, m.transform.Spec.Features, err))
		return
	}
	start := time.Now()
	y, err := m.predict(window)
	s.metrics.Forecast(time.Since(start))
	if err != nil {
		jsonError(c, http.StatusInternalServerError, err.Error())
		return
	}
	s.metrics.Served(ticker, m.version)
	c.JSON(http.StatusOK, predictResponse{Ticker: ticker, ModelVersion: m.version, Selection: selection,
		HorizonDays: m.cfg.Horizon, Prediction: m.transform.Price(lastOpen, float64(y)), RegistryUnavailable: fromCache})
}

// servedModel returns the model answering ticker's /predict and as what
// (see serving), or answers the error itself and returns ok false.
func (s *Server) servedModel(c *gin.Context, ticker string) (m *loadedModel, selection string, fromCache, ok bool) {
	m, selection, fromCache, err := s.serving(c.Request.Context(), ticker)
	if errors.Is(err, registry.ErrNoModel) {
		jsonError(c, http.StatusNotFound, fmt.Sprintf("no model registered for ticker %s", ticker))
		return nil, "", false, false
	}
	if errors.Is(err, blob.ErrUnavailable) { // serving has recorded it
		s.unavailable(c, err)
		return nil, "", false, false
	}
	if err != nil {
		jsonError(c, http.StatusInternalServerError, err.Error())
		return nil, "", false, false
	}
	c.Set(logModelVersion, m.version)
	if fromCache {
		s.metrics.CacheHit(ticker) // the loaded model answers while the store is out
	}
	return m, selection, fromCache, true
}

func decodePredict(body io.Reader) (predictRequest, error) {
	var req predictRequest
	dec := json.NewDecoder(io.LimitReader(body, maxPredictBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("malformed JSON body: %v", err)
	}
	if dec.More() {
		return req, errors.New("malformed JSON body: more than one value")
	}
	return req, nil
}

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
