package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
)

const maxPredictBody = 1 << 20

type predictRequest struct {
	Ticker string    `json:"ticker"`
	Open   []float64 `json:"open"`
}

type predictResponse struct {
	Ticker       string  `json:"ticker"`
	ModelVersion int     `json:"model_version"`
	Selection    string  `json:"selection"` // which registry entry answered: "latest"
	HorizonDays  int     `json:"horizon_days"`
	Prediction   float64 `json:"prediction"`
}

// predict answers the next Open (price units) for the last lookback Opens.
func (s *Server) predict(c *gin.Context) {
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
	if err := checkPrices(req.Open); err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	m, err := s.models.get(c.Request.Context(), ticker)
	if errors.Is(err, registry.ErrNoModel) {
		jsonError(c, http.StatusNotFound, fmt.Sprintf("no model registered for ticker %s", ticker))
		return
	}
	if err != nil {
		jsonError(c, http.StatusInternalServerError, err.Error())
		return
	}
	lookback := m.cfg.Model.Lookback
	if len(req.Open) < lookback {
		jsonError(c, http.StatusBadRequest, fmt.Sprintf("open needs at least %d values (the model's lookback), got %d", lookback, len(req.Open)))
		return
	}
	window, err := prep.LastWindow(m.scaler, req.Open, lookback)
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	y, err := m.predict(window)
	if err != nil {
		jsonError(c, http.StatusInternalServerError, err.Error())
		return
	}
	c.JSON(http.StatusOK, predictResponse{Ticker: ticker, ModelVersion: m.version, Selection: "latest",
		HorizonDays: m.cfg.Horizon, Prediction: m.scaler.Inverse(float64(y))})
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

func checkPrices(vs []float64) error {
	if len(vs) == 0 {
		return errors.New("open must be a non-empty list of prices, oldest first")
	}
	for i, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			return fmt.Errorf("open[%d] = %v: prices must be finite and positive", i, v)
		}
	}
	return nil
}
