package blob

// Ref points at one immutable object in a store: what pipelines pass
// between steps instead of the data.
type Ref struct {
	Key    string `json:"key"`
	SHA256 string `json:"sha256"` // of the object's bytes
	Rows   int    `json:"rows,omitempty"`
}
