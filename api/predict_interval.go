package api

import (
	"github.com/finsight/finsight/internal/conformal"
	"github.com/finsight/finsight/internal/metrics"
	"github.com/finsight/finsight/internal/registry"
)

// predictInterval is one forecast's prediction interval: the range that
// holds the actual value with probability level, by split-conformal
// calibration on the version's validation residuals.
type predictInterval struct {
	Level float64 `json:"level"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// batchInterval is one level's intervals of a batch, low[i] and high[i]
// around predictions[i].
type batchInterval struct {
	Level float64   `json:"level"`
	Low   []float64 `json:"low"`
	High  []float64 `json:"high"`
}

// intervalBands are the bands an answer's intervals come from.
type intervalBands struct {
	bands []conformal.Band
	// byLastOpen: the half-widths are shares of the window's last Open
	// (metrics.ScaleLastOpen); else price units.
	byLastOpen bool
}

// around is the interval of every band around point, the forecast of a
// window whose last Open is lastOpen; the first is the default level (the
// first the version was calibrated at).
func (ib intervalBands) around(point, lastOpen float64) (first *predictInterval, all []predictInterval) {
	if len(ib.bands) == 0 {
		return nil, nil
	}
	all = make([]predictInterval, len(ib.bands))
	for i, b := range ib.bands {
		hw := ib.halfWidth(b, lastOpen)
		all[i] = predictInterval{Level: b.Level, Low: point - hw, High: point + hw}
	}
	return &all[0], all
}

func (ib intervalBands) halfWidth(b conformal.Band, lastOpen float64) float64 {
	if ib.byLastOpen {
		return b.HalfWidth * lastOpen
	}
	return b.HalfWidth
}

// batch is around for every forecast of a batch, by level.
func (ib intervalBands) batch(points, lastOpens []float64) (first *batchInterval, all []batchInterval) {
	if len(ib.bands) == 0 {
		return nil, nil
	}
	all = make([]batchInterval, len(ib.bands))
	for i, b := range ib.bands {
		bi := batchInterval{Level: b.Level, Low: make([]float64, len(points)), High: make([]float64, len(points))}
		for j, p := range points {
			hw := ib.halfWidth(b, lastOpens[j])
			bi.Low[j], bi.High[j] = p-hw, p+hw
		}
		all[i] = bi
	}
	return &all[0], all
}

// bandsFor are the prediction-interval bands of what answers: a model's
// own, or, for the naive forecast, the naive bands stored with the
// version that sizes its windows (the best, else the latest; naiveChoice),
// calibrated on the naive forecast's own residuals. Versions registered
// before intervals have none.
func bandsFor(m registry.Manifest, ch choice) intervalBands {
	if ch.model != nil {
		v, ok := m.Version(ch.model.version)
		if !ok || v.Metrics.Intervals == nil {
			return intervalBands{}
		}
		return intervalBands{bands: v.Metrics.Intervals.Model, byLastOpen: v.Metrics.Intervals.Scale == metrics.ScaleLastOpen}
	}
	basis, ok := m.Best()
	if !ok {
		basis, ok = m.Latest()
	}
	if !ok || basis.Metrics.Intervals == nil {
		return intervalBands{}
	}
	return intervalBands{bands: basis.Metrics.Intervals.Naive, byLastOpen: basis.Metrics.Intervals.Scale == metrics.ScaleLastOpen}
}
