package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/sharedtest"
	"github.com/finsight/finsight/model"
	"github.com/finsight/finsight/model/arch"
)

// nflxRows are the lines of the real Yahoo NFLX file (Date,Open,High,Low,
// Close,Adj Close,Volume) dated from..to, as written there. 2010-01-04 to
// 2010-07-02 keeps the Opens near the test scaler's [10, 20] and holds Good
// Friday, Memorial Day and an Independence Day observed on a Monday.
func nflxRows(t *testing.T, from, to string) []string {
	t.Helper()
	f, err := os.Open(sharedtest.Path(t, "single", "NFLX.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if d, _, _ := strings.Cut(l, ","); d >= from && d <= to {
			rows = append(rows, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("no NFLX rows from %s to %s", from, to)
	}
	return rows
}

const (
	spanFrom = "2010-01-04"
	spanTo   = "2010-07-02"
)

func yahooCSV(rows []string) string {
	return "Date,Open,High,Low,Close,Adj Close,Volume\n" + strings.Join(rows, "\n") + "\n"
}

// nasdaqCSV writes Yahoo rows the way Nasdaq's historical-data download
// does: Date,Close/Last,Volume,Open,High,Low, MM/DD/YYYY, $ prices,
// newest first. The numbers are the original text.
func nasdaqCSV(t *testing.T, rows []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("Date,Close/Last,Volume,Open,High,Low\n")
	for i := len(rows) - 1; i >= 0; i-- {
		f := strings.Split(rows[i], ",")
		d, err := time.Parse(time.DateOnly, f[0])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s,$%s,%s,$%s,$%s,$%s\r\n", d.Format("01/02/2006"), f[4], f[6], f[1], f[2], f[3])
	}
	return b.String()
}

// rowOpens parses the Opens of Yahoo rows.
func rowOpens(t *testing.T, rows []string) []float64 {
	t.Helper()
	out := make([]float64, len(rows))
	for i, r := range rows {
		v, err := strconv.ParseFloat(strings.Split(r, ",")[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = v
	}
	return out
}

func rowDate(r string) string { d, _, _ := strings.Cut(r, ","); return d }

// formPart is one part of a multipart form, in order.
type formPart struct{ name, value string }

// multipartForm writes the parts (a part named file as a file upload) and
// returns the body and its Content-Type.
func multipartForm(t *testing.T, parts ...formPart) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, p := range parts {
		var pw io.Writer
		var err error
		if p.name == "file" {
			pw, err = w.CreateFormFile("file", "prices.csv")
		} else {
			pw, err = w.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(pw, p.value); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &body, w.FormDataContentType()
}

func doBody(h http.Handler, path, contentType string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func uploadForm(t *testing.T, h http.Handler, parts ...formPart) *httptest.ResponseRecorder {
	t.Helper()
	body, ct := multipartForm(t, parts...)
	return doBody(h, "/predict", ct, body)
}

type uploadAnswer struct {
	Ticker       string `json:"ticker"`
	ModelVersion int    `json:"model_version"`
	Selection    string `json:"selection"`
	Lookback     int    `json:"lookback"`
	HorizonDays  int    `json:"horizon_days"`
	RowsRead     int    `json:"rows_read"`
	Read         string `json:"read"`
	File         struct {
		Source      string `json:"source"`
		DateFormat  string `json:"date_format"`
		NewestFirst bool   `json:"newest_first"`
		Rows        int    `json:"rows"`
	} `json:"file"`
	Predictions []uploadPoint `json:"predictions"`
}

type uploadPoint struct {
	Date       string  `json:"date"`
	WindowEnd  string  `json:"window_end"`
	Prediction float64 `json:"prediction"`
}

func decodeUpload(t *testing.T, rec *httptest.ResponseRecorder) uploadAnswer {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	var a uploadAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return a
}

// samePredictions checks two answers predict the same days the same.
func samePredictions(t *testing.T, what string, got, want uploadAnswer) {
	t.Helper()
	if len(got.Predictions) != len(want.Predictions) {
		t.Fatalf("%s: %d predictions, want %d", what, len(got.Predictions), len(want.Predictions))
	}
	for i, p := range got.Predictions {
		if p != want.Predictions[i] {
			t.Fatalf("%s: prediction %d is %+v, want %+v", what, i, p, want.Predictions[i])
		}
	}
}

func TestPredictUploadNasdaqFileMatchesYahooAndJSON(t *testing.T) {
	h, _, weights := newServer(t)
	rows := nflxRows(t, spanFrom, spanTo)
	yahoo := decodeUpload(t, uploadForm(t, h, formPart{"ticker", "NFLX"}, formPart{"file", yahooCSV(rows)}))
	nasdaq := decodeUpload(t, uploadForm(t, h, formPart{"ticker", "nflx"}, formPart{"file", nasdaqCSV(t, rows)}))

	if nasdaq.Ticker != "NFLX" || nasdaq.ModelVersion != 1 || nasdaq.Selection != "champion" ||
		nasdaq.Lookback != lookback || nasdaq.HorizonDays != 1 || nasdaq.RowsRead != len(rows) {
		t.Fatalf("answer %+v, want NFLX v1 champion, lookback %d, horizon 1, %d rows", nasdaq, lookback, len(rows))
	}
	if nasdaq.File.Source != "nasdaq" || !nasdaq.File.NewestFirst || nasdaq.File.DateFormat != "MM/DD/YYYY" ||
		!strings.Contains(nasdaq.Read, "nasdaq") || !strings.Contains(nasdaq.Read, "newest-first") {
		t.Errorf("nasdaq file read as %+v / %q", nasdaq.File, nasdaq.Read)
	}
	if yahoo.File.Source != "yahoo" {
		t.Errorf("yahoo file read as %+v", yahoo.File)
	}
	if want := len(rows) - lookback + 1; len(yahoo.Predictions) != want {
		t.Fatalf("%d predictions for %d rows, want %d (one per window of %d days)", len(yahoo.Predictions), len(rows), want, lookback)
	}
	samePredictions(t, "nasdaq file against the yahoo file", nasdaq, yahoo)

	// Each window is the lookback days ending at window_end, predicted as
	// the JSON single-window request predicts it.
	opens := rowOpens(t, rows)
	distinct := map[float64]bool{}
	for i, p := range yahoo.Predictions {
		if p.WindowEnd != rowDate(rows[i+lookback-1]) {
			t.Fatalf("prediction %d: window ends %s, want %s", i, p.WindowEnd, rowDate(rows[i+lookback-1]))
		}
		if want := expectedPrediction(t, weights, opens[i:i+lookback]); math.Abs(p.Prediction-want) > 1e-9 {
			t.Fatalf("prediction %d (window ending %s): %v, want %v", i, p.WindowEnd, p.Prediction, want)
		}
		distinct[p.Prediction] = true
	}
	if len(distinct) < len(yahoo.Predictions)/2 {
		t.Fatalf("only %d distinct predictions of %d: the check cannot tell windows apart", len(distinct), len(yahoo.Predictions))
	}
	last := yahoo.Predictions[len(yahoo.Predictions)-1]
	single := predictOK(t, h, "NFLX", opens[len(opens)-lookback:])
	if math.Abs(single.Prediction-last.Prediction) > 1e-9 {
		t.Fatalf("last window predicts %v, the JSON request with the last %d Opens %v", last.Prediction, lookback, single.Prediction)
	}
}

func TestPredictUploadRawCSVBody(t *testing.T) {
	h, _, _ := newServer(t)
	rows := nflxRows(t, spanFrom, spanTo)
	want := decodeUpload(t, uploadForm(t, h, formPart{"ticker", "NFLX"}, formPart{"file", yahooCSV(rows)}))

	t.Run("nasdaq body", func(t *testing.T) {
		got := decodeUpload(t, doBody(h, "/predict?ticker=nflx", "text/csv; charset=utf-8", strings.NewReader(nasdaqCSV(t, rows))))
		if got.Ticker != "NFLX" || got.File.Source != "nasdaq" {
			t.Fatalf("answer %+v", got)
		}
		samePredictions(t, "text/csv body", got, want)
	})
	t.Run("columns and date format in the query", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Day;Opening;Top;Bottom;Final;Shares\n")
		for _, r := range rows {
			f := strings.Split(r, ",")
			d, _ := time.Parse(time.DateOnly, f[0])
			comma := func(s string) string { return strings.Replace(s, ".", ",", 1) }
			fmt.Fprintf(&b, "%s;%s;%s;%s;%s;%s\n", d.Format("02/01/2006"), comma(f[1]), comma(f[2]), comma(f[3]), comma(f[4]), f[6])
		}
		path := "/predict?ticker=NFLX&columns=" + urlQuery("date=Day,open=Opening,high=Top,low=Bottom,close=Final,volume=Shares") +
			"&date_format=" + urlQuery("DD/MM/YYYY")
		got := decodeUpload(t, doBody(h, path, "text/csv", strings.NewReader(b.String())))
		if got.File.Source != "mapped" {
			t.Errorf("read as %+v", got.File)
		}
		samePredictions(t, "mapped semicolon file", got, want)
	})
	t.Run("the file's own ticker column, fields after the file", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("date,open,high,low,close,volume,Name\n")
		for _, r := range rows {
			f := strings.Split(r, ",")
			fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,NFLX\n", f[0], f[1], f[2], f[3], f[4], f[6])
		}
		got := decodeUpload(t, uploadForm(t, h, formPart{"file", b.String()}))
		if got.Ticker != "NFLX" || got.File.Source != "kaggle" {
			t.Fatalf("answer %+v", got)
		}
		samePredictions(t, "kaggle file", got, want)
		// curl -F file=@x.csv -F ticker=NFLX sends the ticker after the file.
		samePredictions(t, "ticker after the file", decodeUpload(t, uploadForm(t, h, formPart{"file", b.String()}, formPart{"ticker", "NFLX"})), want)
	})
}

func urlQuery(s string) string {
	r := strings.NewReplacer("=", "%3D", ",", "%2C", "/", "%2F")
	return r.Replace(s)
}

func TestPredictUploadDatesAreNextNYSETradingDays(t *testing.T) {
	h, _, _ := newServer(t)
	rows := nflxRows(t, spanFrom, spanTo)
	a := decodeUpload(t, uploadForm(t, h, formPart{"ticker", "NFLX"}, formPart{"file", yahooCSV(rows)}))
	// The real file lists every trading day: each prediction is for the
	// file's next row.
	for i, p := range a.Predictions[:len(a.Predictions)-1] {
		if next := rowDate(rows[i+lookback]); p.Date != next {
			t.Errorf("window ending %s predicts %s, the next trading day is %s", p.WindowEnd, p.Date, next)
		}
	}
	for end, want := range map[string]string{
		"2010-04-01": "2010-04-05", // Thursday → Monday: Good Friday
		"2010-05-28": "2010-06-01", // Friday → Tuesday: Memorial Day
		"2010-06-25": "2010-06-28", // Friday → Monday: the weekend
		"2010-07-02": "2010-07-06", // the file's last day, Friday → Tuesday: Independence Day observed on Monday 5th
	} {
		i := slices.IndexFunc(a.Predictions, func(p uploadPoint) bool { return p.WindowEnd == end })
		if i < 0 {
			t.Fatalf("no window ends %s", end)
		}
		if got := a.Predictions[i].Date; got != want {
			t.Errorf("window ending %s predicts %s, want %s", end, got, want)
		}
	}
	if last := a.Predictions[len(a.Predictions)-1]; last.WindowEnd != spanTo || last.Date != "2010-07-06" {
		t.Errorf("last prediction %+v, want the window ending %s, for 2010-07-06", last, spanTo)
	}
}

func TestPredictUploadErrors(t *testing.T) {
	h, _, _ := newServer(t)
	rows := nflxRows(t, spanFrom, spanTo)
	good := yahooCSV(rows)
	// withOpen replaces the Open of row i (line i+2 of the file).
	withOpen := func(i int, v string) string {
		rs := slices.Clone(rows)
		f := strings.Split(rs[i], ",")
		f[1] = v
		rs[i] = strings.Join(f, ",")
		return yahooCSV(rs)
	}
	form := func(parts ...formPart) func(t *testing.T) *httptest.ResponseRecorder {
		return func(t *testing.T) *httptest.ResponseRecorder { return uploadForm(t, h, parts...) }
	}
	raw := func(path, ct, body string) func(t *testing.T) *httptest.ResponseRecorder {
		return func(t *testing.T) *httptest.ResponseRecorder { return doBody(h, path, ct, strings.NewReader(body)) }
	}
	tests := []struct {
		name     string
		do       func(t *testing.T) *httptest.ResponseRecorder
		status   int
		mentions []string
	}{
		{"no file field", form(formPart{"ticker", "NFLX"}), 400, []string{"file"}},
		{"empty form", form(), 400, []string{"file"}},
		{"two files", form(formPart{"ticker", "NFLX"}, formPart{"file", good}, formPart{"file", good}), 400, []string{"file"}},
		{"unknown form field", form(formPart{"tickr", "NFLX"}, formPart{"file", good}), 400, []string{"tickr"}},
		{"columns after the file", form(formPart{"ticker", "NFLX"}, formPart{"file", good}, formPart{"columns", "open=Open"}), 400, []string{"columns", "before the file"}},
		{"no boundary", raw("/predict", "multipart/form-data", good), 400, []string{"boundary"}},
		{"unsupported content type", raw("/predict?ticker=NFLX", "application/xml", good), 415, []string{"application/xml", "text/csv"}},
		{"malformed content type", raw("/predict", "text/csv; =x", good), 415, []string{"Content-Type"}},
		{"value the reader refuses", form(formPart{"ticker", "NFLX"}, formPart{"file", withOpen(7, "12.3abc")}), 400, []string{"line 9", `"Open"`, "12.3abc"}},
		{"value the reader refuses, raw body", raw("/predict?ticker=NFLX", "text/csv", withOpen(7, "12.3abc")), 400, []string{"line 9", `"Open"`}},
		{"rows out of order", raw("/predict?ticker=NFLX", "text/csv", yahooCSV([]string{rows[1], rows[0], rows[2]})), 400, []string{"line 4", "sort"}},
		{"empty file", form(formPart{"ticker", "NFLX"}, formPart{"file", ""}), 400, []string{"line 1", "empty"}},
		{"binary file", form(formPart{"ticker", "NFLX"}, formPart{"file", "PK\x03\x04\x00\x00binary"}), 400, []string{"line 1", "binary"}},
		{"too few rows", form(formPart{"ticker", "NFLX"}, formPart{"file", yahooCSV(rows[:lookback-1])}), 400, []string{"49 rows", "at least 50"}},
		{"unknown ticker", form(formPart{"ticker", "AAPL"}, formPart{"file", good}), 404, []string{"AAPL"}},
		{"unknown ticker, raw body", raw("/predict?ticker=aapl", "text/csv", good), 404, []string{"AAPL"}},
		{"zero price", form(formPart{"ticker", "NFLX"}, formPart{"file", withOpen(10, "0")}), 400, []string{"open", rowDate(rows[10]), "positive"}},
		{"negative price", raw("/predict?ticker=NFLX", "text/csv", withOpen(60, "-3.5")), 400, []string{"open", rowDate(rows[60])}},
		{"missing price", form(formPart{"ticker", "NFLX"}, formPart{"file", withOpen(20, "null")}), 400, []string{"open", rowDate(rows[20]), "no open value"}},
		{"no ticker anywhere", form(formPart{"file", good}), 400, []string{"ticker"}},
		{"invalid ticker", raw("/predict?ticker=../x", "text/csv", good), 400, []string{"ticker"}},
		{"two tickers", raw("/predict?ticker=NFLX", "multipart/form-data; boundary=b",
			"--b\r\nContent-Disposition: form-data; name=\"ticker\"\r\n\r\nAAPL\r\n--b--\r\n"), 400, []string{"NFLX", "AAPL"}},
		{"bad column mapping", form(formPart{"ticker", "NFLX"}, formPart{"columns", "opening"}, formPart{"file", good}), 400, []string{"columns", "opening"}},
		{"mapped column not in the file", raw("/predict?ticker=NFLX&columns=open%3DOpening", "text/csv", good), 400, []string{"Opening"}},
		{"bad date format", form(formPart{"ticker", "NFLX"}, formPart{"date_format", "QQ/ZZ"}, formPart{"file", good}), 400, []string{"QQ/ZZ"}},
		{"file of another ticker", form(formPart{"ticker", "NFLX"}, formPart{"file", "date,open,high,low,close,volume,Name\n2013-02-08,1,2,1,2,10,AAPL\n"}), 400, []string{"AAPL"}},
		{"malformed multipart", raw("/predict?ticker=NFLX", "multipart/form-data; boundary=b", "--b\r\nno headers end"), 400, []string{"multipart"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := errorMessage(t, tc.do(t), tc.status)
			for _, m := range tc.mentions {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not mention %q", msg, m)
				}
			}
		})
	}
}

func TestPredictUploadTooLarge(t *testing.T) {
	h, _, _ := newServer(t)
	rows := nflxRows(t, spanFrom, spanTo)
	// A valid file followed by blank lines (which the reader passes over)
	// past 32 MiB: only the size limit stops it.
	filler := strings.Repeat(strings.Repeat(" ", 1023)+"\n", 33<<10)
	big := yahooCSV(rows) + filler
	hide := func(r io.Reader) io.Reader { return io.MultiReader(r) } // no Content-Length

	t.Run("multipart, streamed", func(t *testing.T) {
		body, ct := multipartForm(t, formPart{"ticker", "NFLX"}, formPart{"file", big})
		msg := errorMessage(t, doBody(h, "/predict", ct, hide(body)), http.StatusRequestEntityTooLarge)
		if !strings.Contains(msg, "32 MiB") {
			t.Errorf("error %q does not name the limit", msg)
		}
	})
	t.Run("raw body, streamed", func(t *testing.T) {
		errorMessage(t, doBody(h, "/predict?ticker=NFLX", "text/csv", hide(strings.NewReader(big))), http.StatusRequestEntityTooLarge)
	})
	t.Run("declared length", func(t *testing.T) {
		errorMessage(t, doBody(h, "/predict?ticker=NFLX", "text/csv", strings.NewReader(big)), http.StatusRequestEntityTooLarge)
	})
	t.Run("just under the limit", func(t *testing.T) {
		ok := yahooCSV(rows) + filler[:30<<20]
		if a := decodeUpload(t, doBody(h, "/predict?ticker=NFLX", "text/csv", hide(strings.NewReader(ok)))); len(a.Predictions) != len(rows)-lookback+1 {
			t.Fatalf("%d predictions", len(a.Predictions))
		}
	})
}

// A model of log-returns of Open and Volume: each window of a file is cut
// as the JSON request with those two series cuts it.
func TestPredictUploadWindowsOfAMultiFeatureModel(t *testing.T) {
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr := prep.Transform{
		Spec:     prep.TransformSpec{Target: prep.TargetLogReturn, Scaler: prep.ScalerStandard, Features: []string{"open", "volume"}},
		Features: []prep.Affine{{Name: "open", Shift: 0, Scale: 0.03}, {Name: "volume", Shift: 0, Scale: 0.4}},
		Label:    prep.Affine{Name: "label", Shift: 0, Scale: 0.03},
		Horizon:  1,
	}
	cfg := arch.Config{Features: 2, Lookback: lookback - 1, Layers: 1, Units: 8, Seed: 3}
	m, err := model.New(cfg, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	weights, err := m.MarshalWeights()
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		registry.FileWeights: weights,
		registry.FileScaler:  mustJSON(t, tr),
		registry.FileConfig:  mustJSON(t, model.ArtifactConfig{Model: cfg, Lookback: lookback, Horizon: 1}),
		registry.FileMetrics: []byte(`{"test_rmse":1}`),
		registry.FileLineage: []byte(`{"run_id":"r1"}`),
	}
	if _, err := (registry.Registry{Store: store}).Register(context.Background(), "NFLX", registry.Version{RunID: "r1"}, files); err != nil {
		t.Fatal(err)
	}
	promote(t, store, "NFLX", 1)
	srv := api.New(store, gotch.CPU)
	t.Cleanup(srv.Close)
	h := srv.Handler()

	rows := nflxRows(t, spanFrom, spanTo)
	a := decodeUpload(t, doBody(h, "/predict?ticker=NFLX", "text/csv", strings.NewReader(nasdaqCSV(t, rows))))
	if len(a.Predictions) != len(rows)-lookback+1 {
		t.Fatalf("%d predictions for %d rows", len(a.Predictions), len(rows))
	}
	opens := rowOpens(t, rows)
	volumes := make([]float64, len(rows))
	for i, r := range rows {
		if volumes[i], err = strconv.ParseFloat(strings.Split(r, ",")[6], 64); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, len(a.Predictions) / 2, len(a.Predictions) - 1} {
		body := mustJSON(t, map[string]any{"ticker": "NFLX", "open": opens[i : i+lookback], "volume": volumes[i : i+lookback]})
		p := decodePrediction(t, do(h, http.MethodPost, "/predict", string(body)))
		if math.Abs(p.Prediction-a.Predictions[i].Prediction) > 1e-9 {
			t.Errorf("window %d (ending %s): upload predicts %v, the JSON request %v", i, a.Predictions[i].WindowEnd, a.Predictions[i].Prediction, p.Prediction)
		}
	}
	if a.Predictions[0].Prediction == a.Predictions[len(a.Predictions)-1].Prediction {
		t.Fatal("first and last windows predict the same: the check cannot tell them apart")
	}
}

// The reference project's client, as curl sends it: `curl -F
// file=@NFLX.csv 'localhost:8080/predict?ticker=NFLX'` with the whole
// file (5,189 rows) answers one dated prediction per 50-day window, the
// last for 2023-01-03 (2023-01-02 was the New Year holiday).
func TestPredictUploadWholeNFLXFile(t *testing.T) {
	h, _, _ := newServer(t)
	b, err := os.ReadFile(sharedtest.Path(t, "single", "NFLX.csv"))
	if err != nil {
		t.Fatal(err)
	}
	body, ct := multipartForm(t, formPart{"file", string(b)})
	a := decodeUpload(t, doBody(h, "/predict?ticker=NFLX", ct, body))
	if a.RowsRead != 5189 || a.Lookback != 50 || len(a.Predictions) != 5189-50+1 {
		t.Fatalf("%d rows, lookback %d, %d predictions; want 5189, 50, %d", a.RowsRead, a.Lookback, len(a.Predictions), 5189-50+1)
	}
	first, last := a.Predictions[0], a.Predictions[len(a.Predictions)-1]
	if first.WindowEnd != "2002-08-02" || first.Date != "2002-08-05" || last.WindowEnd != "2022-12-30" || last.Date != "2023-01-03" {
		t.Fatalf("first %+v, last %+v", first, last)
	}
}
