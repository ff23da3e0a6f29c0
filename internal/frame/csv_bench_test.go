package frame

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/finsight/finsight/internal/sharedtest"
)

// BenchmarkParseSP500 parses the 505 Kaggle files of ../shared/data
// (`go test -bench ParseSP500 ./internal/frame`).
func BenchmarkParseSP500(b *testing.B) {
	files, err := filepath.Glob(filepath.Join(sharedtest.Path(b, "sp500_5yr"), "*.csv"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no files: %v", err)
	}
	var data [][]byte
	n := 0
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		data, n = append(data, d), n+len(d)
	}
	b.SetBytes(int64(n))
	b.ResetTimer()
	for range b.N {
		for _, d := range data {
			if _, err := ParseCSV(bytes.NewReader(d), ""); err != nil {
				b.Fatal(err)
			}
		}
	}
}
