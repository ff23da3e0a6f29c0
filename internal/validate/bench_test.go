package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/sharedtest"
)

// readSP500 reads the 505 sp500_5yr files into memory.
func readSP500(b *testing.B) [][]byte {
	b.Helper()
	paths, err := filepath.Glob(filepath.Join(sharedtest.Path(b, "sp500_5yr"), "*.csv"))
	if err != nil || len(paths) == 0 {
		b.Fatalf("no sp500_5yr files: %v", err)
	}
	files := make([][]byte, len(paths))
	for i, p := range paths {
		if files[i], err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
	return files
}

// validateSplits runs the per-ticker chain: schema and statistics of the
// first 70%, then Detect on the training split and on the rest.
func validateSplits(bars *frame.Bars, cfg Config) int {
	cut := bars.Len() * 7 / 10
	train, tail := bars.Slice(0, cut), bars.Slice(cut, bars.Len())
	schema, stats := InferSchema(train), Describe(train, cfg.Bins)
	return len(Detect(train, schema, stats, cfg)) + len(Detect(tail, schema, stats, cfg))
}

// BenchmarkValidateSP500 validates the 619,040 parsed rows (one core).
func BenchmarkValidateSP500(b *testing.B) {
	var all []*frame.Bars
	rows := 0
	for _, data := range readSP500(b) {
		bars, err := frame.ParseCSV(bytes.NewReader(data), "")
		if err != nil {
			b.Fatal(err)
		}
		all, rows = append(all, bars), rows+bars.Len()
	}
	cfg := DefaultConfig()
	for b.Loop() {
		for _, bars := range all {
			validateSplits(bars, cfg)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkParseAndValidateSP500 parses from memory and validates (one
// core), for comparison with the pipeline's rows/s budget.
func BenchmarkParseAndValidateSP500(b *testing.B) {
	files := readSP500(b)
	cfg := DefaultConfig()
	rows := 0
	for b.Loop() {
		rows = 0
		for _, data := range files {
			bars, err := frame.ParseCSV(bytes.NewReader(data), "")
			if err != nil {
				b.Fatal(err)
			}
			rows += bars.Len()
			validateSplits(bars, cfg)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
