package metrics

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
}

// Efficacy is the model's report card on the test split: model beside
// naive overall (MASE, directional accuracy, Diebold–Mariano) and by slice.
type Efficacy struct {
	Overall      Comparison `json:"overall"`
	ByYear       []Slice    `json:"by_year"`
	ByVolatility []Slice    `json:"by_volatility"` // terciles of 20-day realized volatility
}
