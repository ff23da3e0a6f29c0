package model

// ArtifactConfig is config.json of a registered model: what a server needs
// to turn raw prices into the model's input and its output back into prices.
type ArtifactConfig struct {
	Model   Config `json:"model"`
	Feature string `json:"feature"` // the price column windows are made of, e.g. "open"
	Horizon int    `json:"horizon"` // how many days ahead the label is
	Scaler  string `json:"scaler"`  // kind of scaler.json, e.g. "minmax"
}
