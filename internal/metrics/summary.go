package metrics

import "github.com/finsight/finsight/internal/conformal"

// TestSummary compares the model with the naive forecast (tomorrow = today) on
// exactly the same test targets, in price units.
type TestSummary struct {
	TestRMSE  float64 `json:"test_rmse"`
	TestMAE   float64 `json:"test_mae"`
	TestMAPE  Maybe   `json:"test_mape"`
	NaiveRMSE float64 `json:"naive_rmse"`
	NaiveMAE  float64 `json:"naive_mae"`
	NaiveMAPE Maybe   `json:"naive_mape"`
	N         int     `json:"n"`
	FirstDate string  `json:"first_date"`
	LastDate  string  `json:"last_date"`
	// Intervals are the version's prediction intervals (nil for versions
	// registered before they were calibrated).
	Intervals *Intervals `json:"intervals,omitempty"`
}

// Intervals are split-conformal prediction intervals of the model and of
// the naive forecast, calibrated on their residuals on the validation
// split (data neither was fitted on), and how they did on the test split.
// The naive forecast gets its own bands, from its own residuals, so the
// widths compare the two forecasts' uncertainty.
//
// With Scale ScaleLastOpen (normalised conformal) a band's half-width is a
// share of the window's last Open: residuals are divided by it before
// calibrating, and an interval is forecast ± half_width × last Open. A
// price that doubles from validation to test has errors about twice as
// large in price units, which bands in price units would not cover.
type Intervals struct {
	Scale string           `json:"scale"`
	Model []conformal.Band `json:"model"`
	Naive []conformal.Band `json:"naive"`
	Test  []IntervalTest   `json:"test"` // the bands above on the test split
	// AbsoluteTest is plain split conformal (half-widths in price units),
	// calibrated on the same validation residuals, on the test split: the
	// comparison that says why the bands are scaled.
	AbsoluteTest []IntervalTest `json:"absolute_test,omitempty"`
	// Notes say which levels were left out and why (too few validation
	// residuals for the level's guarantee).
	Notes []string `json:"notes,omitempty"`
}

// ScaleLastOpen: half-widths are shares of the window's last Open.
const ScaleLastOpen = "last_open"

// IntervalTest is one level's intervals on the test split: the share of
// days whose actual value fell inside, and the mean width in price units,
// model beside naive.
type IntervalTest struct {
	Level         float64 `json:"level"`
	ModelCoverage float64 `json:"model_coverage"`
	NaiveCoverage float64 `json:"naive_coverage"`
	ModelWidth    float64 `json:"model_width"`
	NaiveWidth    float64 `json:"naive_width"`
	N             int     `json:"n"` // test days
}

// Efficacy is the model's report card on the test split: model beside
// naive overall (MASE, directional accuracy, Diebold–Mariano) and by slice.
type Efficacy struct {
	Overall      Comparison `json:"overall"`
	ByYear       []Slice    `json:"by_year"`
	ByVolatility []Slice    `json:"by_volatility"` // terciles of 20-day realized volatility
}
