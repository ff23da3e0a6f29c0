package plots

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/sharedtest"
)

func readNFLX(t *testing.T) *frame.Bars {
	t.Helper()
	f, err := os.Open(sharedtest.Path(t, "single", "NFLX.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := frame.ParseCSV(f, "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestRawSetOnNFLX(t *testing.T) {
	b := readNFLX(t)
	set, err := RawSet(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sortedKeys(set), []string{"raw_prices.png", "raw_volume.png"}; !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	dir := t.TempDir()
	for name, data := range set {
		decodePNG(t, data)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// bars returns n synthetic rows starting at day offset from.
func bars(from, n int) *frame.Bars {
	all := days(from + n)[from:]
	b := &frame.Bars{Ticker: "SYN", Date: all, Open: wave(n), Close: wave(n), Volume: wave(n)}
	b.High, b.Low, b.AdjClose = b.Open, b.Open, b.Close
	return b
}

func TestRefinedSet(t *testing.T) {
	splits := map[string]*frame.Bars{"test": bars(80, 20), "train": bars(0, 70), "val": bars(70, 10)}
	splits["val"].Open[3] = math.NaN()
	set, err := RefinedSet(splits)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"refined_box.png"}
	for _, s := range []string{"train", "val", "test"} {
		want = append(want, "refined_"+s+"_hist.png", "refined_"+s+"_line.png")
	}
	slices.Sort(want)
	if got := sortedKeys(set); !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	for _, data := range set {
		decodePNG(t, data)
	}
}

func TestRefinedSetOrderAndErrors(t *testing.T) {
	names, err := orderedSplits(map[string]*frame.Bars{"test": bars(0, 3), "train": bars(0, 3)})
	if err != nil || !slices.Equal(names, []string{"train", "test"}) {
		t.Fatalf("order %v (%v), want [train test]", names, err)
	}
	for name, splits := range map[string]map[string]*frame.Bars{
		"empty":   {},
		"unknown": {"train": bars(0, 3), "holdout": bars(3, 3)},
		"nil":     {"train": nil},
		"no rows": {"train": {Ticker: "SYN"}},
	} {
		if _, err := RefinedSet(splits); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err = RefinedSet(map[string]*frame.Bars{"train": bars(0, 3), "holdout": bars(3, 3)})
	if err == nil || !strings.Contains(err.Error(), `"holdout"`) {
		t.Errorf("err = %v, want one naming the unknown split", err)
	}
}

func TestAnomalySet(t *testing.T) {
	b := bars(0, 50)
	set, err := AnomalySet(b, []Mark{{Date: b.Date[10], Value: 130, Label: "z=4.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(set); !slices.Equal(got, []string{"anomalies.png"}) {
		t.Fatalf("files %v, want [anomalies.png]", got)
	}
	if redPixels(decodePNG(t, set["anomalies.png"])) == 0 {
		t.Error("anomaly not drawn in red")
	}
	empty, err := AnomalySet(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if redPixels(decodePNG(t, empty["anomalies.png"])) != 0 {
		t.Error("red pixels without anomalies")
	}
	if _, err := AnomalySet(nil, nil); err == nil {
		t.Error("nil bars accepted")
	}
	ragged := bars(0, 5)
	ragged.Open = ragged.Open[:4]
	if _, err := AnomalySet(ragged, nil); err == nil {
		t.Error("ragged bars accepted")
	}
}
