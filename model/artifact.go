package model

import "github.com/finsight/finsight/model/arch"

// ArtifactConfig is config.json of a registered model: its architecture and
// how far ahead it forecasts. scaler.json beside it holds the fitted input
// and output transform.
type ArtifactConfig struct {
	Model    arch.Config `json:"model"`
	Lookback int         `json:"lookback"` // days of prices per input window (≥ Model.Lookback steps)
	Horizon  int         `json:"horizon"`  // how many days ahead the label is
}
