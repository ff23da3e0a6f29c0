package api

import (
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/prep"
	"github.com/finsight/finsight/internal/validate"
)

// maxUploadBody bounds a /predict price file (multipart or text/csv): a
// daily file of 40 years is under 1 MiB.
const maxUploadBody = 32 << 20

// maxFormField bounds the ticker, columns and date_format form fields.
const maxFormField = 1 << 10

// uploadBatch is how many windows go to the model at once: the model's own
// chunk (model.predictChunk), so a file costs the forward passes the model
// needs anyway while the windows in memory stay bounded.
const uploadBatch = 1024

// The parameters a price file may come with, as query parameters or (in a
// multipart form) form fields.
const (
	paramTicker     = "ticker"
	paramColumns    = "columns"
	paramDateFormat = "date_format"
	paramDecimal    = "decimal"
	fieldFile       = "file"
)

// bodyKind is what a /predict body holds, by its Content-Type.
type bodyKind int

const (
	bodyJSON      bodyKind = iota // one window of values, or a batch of them (predictRequest)
	bodyMultipart                 // a form with the price file in field file
	bodyCSV                       // the price file itself
)

// csvTypes are the media types of a raw price-file body.
var csvTypes = map[string]bool{
	"text/csv": true, "application/csv": true, "text/comma-separated-values": true, "text/tab-separated-values": true,
}

// predictBodyKind sorts a request by its Content-Type. JSON is what
// /predict has always read, so no Content-Type, text/plain and
// application/x-www-form-urlencoded (curl -d's default) still mean JSON.
func predictBodyKind(contentType string) (bodyKind, map[string]string, error) {
	const accepted = "send application/json (one window of values, or a batch of windows), multipart/form-data (the CSV in the file field) or text/csv (the CSV as the body)"
	if strings.TrimSpace(contentType) == "" {
		return bodyJSON, nil, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, nil, fmt.Errorf("malformed Content-Type %q (%v): %s", contentType, err, accepted)
	}
	switch {
	case mt == "multipart/form-data":
		return bodyMultipart, params, nil
	case csvTypes[mt]:
		return bodyCSV, params, nil
	case mt == "application/json", strings.HasSuffix(mt, "+json"), mt == "text/plain", mt == "application/x-www-form-urlencoded":
		return bodyJSON, params, nil
	}
	return 0, nil, fmt.Errorf("unsupported Content-Type %q: %s", mt, accepted)
}

// uploadParams are a price file's ticker, columns and date_format, each
// from the query or a form field, and the file's own ticker.
type uploadParams struct {
	values map[string]string
	from   map[string]string // where each value came from, for messages
}

func newUploadParams() *uploadParams {
	return &uploadParams{values: map[string]string{}, from: map[string]string{}}
}

// set records a parameter, refusing two different values for it.
func (p *uploadParams) set(name, value, from string) error {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil
	}
	if old, ok := p.values[name]; ok && old != value && !(name == paramTicker && strings.EqualFold(old, value)) {
		return fmt.Errorf("%s is %q in the %s but %q in the %s: give it once", name, old, p.from[name], value, from)
	}
	p.values[name], p.from[name] = value, from
	return nil
}

// fromQuery takes the parameters of the request's query.
func (p *uploadParams) fromQuery(c *gin.Context) error {
	for _, name := range []string{paramTicker, paramColumns, paramDateFormat, paramDecimal} {
		if err := p.set(name, c.Query(name), "query"); err != nil {
			return err
		}
	}
	return nil
}

// ticker is the normalised ticker asked for, "" when none was.
func (p *uploadParams) ticker() (string, error) {
	t, ok := p.values[paramTicker]
	if !ok {
		return "", nil
	}
	n, err := pipeline.NormalizeTicker(t)
	if err != nil {
		return "", fmt.Errorf("%s (%s): %v", paramTicker, p.from[paramTicker], err)
	}
	return n, nil
}

// options are the reader's options for the parameters given so far.
func (p *uploadParams) options() (frame.CSVOptions, error) {
	var opts frame.CSVOptions
	ticker, err := p.ticker()
	if err != nil {
		return opts, err
	}
	opts.Ticker = ticker
	if spec, ok := p.values[paramColumns]; ok {
		cols, err := frame.ParseColumns(spec)
		if err != nil {
			return opts, fmt.Errorf("%s (%s): %v", paramColumns, p.from[paramColumns], err)
		}
		opts.Format.Columns = cols
	}
	if df, ok := p.values[paramDateFormat]; ok {
		if err := (frame.CSVFormat{DateFormat: df}).Validate(); err != nil {
			return opts, fmt.Errorf("%s (%s): %v", paramDateFormat, p.from[paramDateFormat], err)
		}
		opts.Format.DateFormat = df
	}
	if d, ok := p.values[paramDecimal]; ok {
		if err := (frame.CSVFormat{Decimal: d}).Validate(); err != nil {
			return opts, fmt.Errorf("%s (%s): %v", paramDecimal, p.from[paramDecimal], err)
		}
		opts.Format.Decimal = d
	}
	if err := opts.Format.Validate(); err != nil {
		return opts, fmt.Errorf("%s (%s): %v", paramColumns, p.from[paramColumns], err)
	}
	return opts, nil
}

// limitedBody is the request body cut off past maxUploadBody, remembering
// whether it was.
type limitedBody struct {
	r   io.Reader
	hit bool
}

func (s *Server) limitBody(c *gin.Context) *limitedBody {
	return &limitedBody{r: http.MaxBytesReader(c.Writer, c.Request.Body, maxUploadBody)}
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		b.hit = true
	}
	return n, err
}

// tooLarge answers 413 and reports true when the body is over the limit
// (declared or found while reading).
func tooLarge(c *gin.Context, body *limitedBody) bool {
	if c.Request.ContentLength <= maxUploadBody && (body == nil || !body.hit) {
		return false
	}
	jsonError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf(
		"the upload is over the %d MiB limit of a price file; send a smaller file (a daily file of 40 years is under 1 MiB)", maxUploadBody>>20))
	return true
}

// csvRefused answers the reader's refusal of a file: 400 naming the line
// and column.
func csvRefused(c *gin.Context, err error, note string) {
	msg := "cannot read the price file: " + err.Error() + note
	var ce *frame.CSVError
	if errors.As(err, &ce) {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": msg, "line": ce.Line, "column": ce.Column})
		return
	}
	jsonError(c, http.StatusBadRequest, msg)
}

// predictCSVBody answers a text/csv body: the price file itself, with the
// ticker, columns and date_format in the query.
func (s *Server) predictCSVBody(c *gin.Context) {
	if tooLarge(c, nil) {
		return
	}
	params := newUploadParams()
	if err := params.fromQuery(c); err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	opts, err := params.options()
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	body := s.limitBody(c)
	bars, rep, err := frame.ReadCSV(body, opts)
	if tooLarge(c, body) {
		return
	}
	if err != nil {
		csvRefused(c, err, "")
		return
	}
	s.predictBars(c, bars, rep, opts.Ticker)
}

// predictUpload answers a multipart form: the price file in field file,
// streamed to the reader (never spooled to disk or held whole), and the
// optional ticker, columns and date_format fields, which must come before
// the file when they say how to read it.
func (s *Server) predictUpload(c *gin.Context, boundary string) {
	if tooLarge(c, nil) {
		return
	}
	if boundary == "" {
		jsonError(c, http.StatusBadRequest, "multipart/form-data without a boundary parameter in its Content-Type")
		return
	}
	params := newUploadParams()
	if err := params.fromQuery(c); err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	body := s.limitBody(c)
	mr := newFormReader(body, boundary)
	var (
		bars      *frame.Bars
		rep       frame.CSVReport
		readErr   error
		readOpts  frame.CSVOptions
		seenFile  bool
		lateNames []string // fields after the file that would have changed how it was read
		lateTick  bool
	)
	for {
		part, err := mr.NextPart()
		if tooLarge(c, body) {
			return
		}
		if errors.Is(err, io.EOF) && !mr.complete() {
			jsonError(c, http.StatusBadRequest, errFormCut.Error())
			return
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			jsonError(c, http.StatusBadRequest, fmt.Sprintf("malformed multipart body: %v", err))
			return
		}
		name := part.FormName()
		switch name {
		case fieldFile:
			if seenFile {
				jsonError(c, http.StatusBadRequest, "the form has two file fields: send one price file per request")
				return
			}
			seenFile = true
			if readOpts, err = params.options(); err != nil {
				jsonError(c, http.StatusBadRequest, err.Error())
				return
			}
			bars, rep, readErr = frame.ReadCSV(part, readOpts)
			if tooLarge(c, body) {
				return
			}
		case paramTicker, paramColumns, paramDateFormat, paramDecimal:
			v, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
			if tooLarge(c, body) {
				return
			}
			if err != nil {
				jsonError(c, http.StatusBadRequest, fmt.Sprintf("malformed multipart body: form field %s: %v", name, err))
				return
			}
			if len(v) > maxFormField {
				jsonError(c, http.StatusBadRequest, fmt.Sprintf("form field %s is longer than %d bytes", name, maxFormField))
				return
			}
			if err := params.set(name, string(v), "form field"); err != nil {
				jsonError(c, http.StatusBadRequest, err.Error())
				return
			}
			if seenFile && name == paramTicker {
				lateTick = true
			} else if seenFile {
				lateNames = append(lateNames, name)
			}
		default:
			jsonError(c, http.StatusBadRequest, fmt.Sprintf("unknown form field %q: the fields are file (the CSV), ticker, columns, date_format and decimal", name))
			return
		}
		_ = part.Close()
	}
	if !seenFile {
		jsonError(c, http.StatusBadRequest, "the form has no file field: send the price CSV as the form field named file")
		return
	}
	if len(lateNames) > 0 {
		jsonError(c, http.StatusBadRequest, fmt.Sprintf("form field(s) %s come after the file: they say how to read it, so send them before the file field",
			strings.Join(lateNames, ", ")))
		return
	}
	if readErr != nil {
		note := ""
		if lateTick {
			note = " (the ticker field came after the file; send it before the file so the reader can pick that ticker's rows)"
		}
		csvRefused(c, readErr, note)
		return
	}
	ticker, err := params.ticker()
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	if lateTick && readOpts.Ticker == "" && bars.Ticker != "" && !frame.SameTicker(bars.Ticker, ticker) {
		jsonError(c, http.StatusBadRequest, fmt.Sprintf("the ticker field says %s but the file's ticker column holds %s", ticker, bars.Ticker))
		return
	}
	s.predictBars(c, bars, rep, ticker)
}

// uploadPrediction is the forecast of one window of a price file.
type uploadPrediction struct {
	Date       string  `json:"date"`       // the trading day it is for
	WindowEnd  string  `json:"window_end"` // the last day of the window
	Prediction float64 `json:"prediction"` // that day's Open, price units
	// Interval and Intervals: as in predictResponse.
	Interval  *predictInterval  `json:"interval,omitempty"`
	Intervals []predictInterval `json:"intervals,omitempty"`
}

type uploadResponse struct {
	Ticker       string `json:"ticker"`
	ModelVersion int    `json:"model_version"` // 0 for the naive forecast
	Selection    string `json:"selection"`
	Reason       string `json:"reason,omitempty"` // as in predictResponse
	Lookback     int    `json:"lookback"`
	HorizonDays  int    `json:"horizon_days"`
	RowsRead     int    `json:"rows_read"`
	// Read says how the file was read (CSVReport.Summary); File is the same
	// as fields.
	Read        string             `json:"read"`
	File        frame.CSVReport    `json:"file"`
	Predictions []uploadPrediction `json:"predictions"`
	// RegistryUnavailable: as in predictResponse.
	RegistryUnavailable bool `json:"registry_unavailable,omitempty"`
}

// predictBars answers one prediction per window of lookback consecutive
// rows of a file, each for the trading day horizon days after the window's
// last day, the last one past the file's end. asked is the ticker the
// request named ("" takes the file's own ticker column). The model is
// chosen as for a JSON body (choose): with the naive forecast, each
// window's prediction is its last Open.
func (s *Server) predictBars(c *gin.Context, bars *frame.Bars, rep frame.CSVReport, asked string) {
	ticker := asked
	if ticker == "" {
		if bars.Ticker == "" {
			jsonError(c, http.StatusBadRequest, "no ticker: give it as ?ticker= or the ticker form field (the file has no ticker column)")
			return
		}
		t, err := pipeline.NormalizeTicker(bars.Ticker)
		if err != nil {
			jsonError(c, http.StatusBadRequest, fmt.Sprintf("the file's ticker column: %v; give the ticker as ?ticker= or the ticker form field", err))
			return
		}
		ticker = t
	}
	c.Set(logTicker, ticker)
	ch, ask, ok := s.choose(c, ticker)
	if !ok {
		return
	}
	m := ch.model
	lookback, n := ch.lookback, bars.Len()
	if n < lookback {
		what := fmt.Sprintf("model v%d needs", ch.version())
		if m == nil {
			what = "the naive forecast, which answers for now, takes windows as long as the models of " + ticker + " need:"
		}
		jsonError(c, http.StatusBadRequest, fmt.Sprintf("the file has %d rows of %s (%s); %s at least %d consecutive days (the lookback) for one prediction",
			n, ticker, span(bars), what, lookback))
		return
	}
	series := barSeries(bars)
	cols := []string{"open"}
	if m != nil {
		cols = needed(m.transform)
	}
	if err := checkBars(bars, series, cols); err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	windows := n - lookback + 1
	preds := make([]uploadPrediction, 0, windows)
	answer := uploadResponse{Ticker: ticker, ModelVersion: ch.version(), Selection: ch.selection, Reason: ch.reason, Lookback: lookback,
		HorizonDays: ch.horizon, RowsRead: rep.Rows, Read: rep.Summary(), File: rep, RegistryUnavailable: ch.stale}
	if m == nil {
		for w := range windows {
			end := w + lookback - 1
			p := uploadPrediction{Date: day(tradingDaysAfter(bars.Date[end], ch.horizon)), WindowEnd: day(bars.Date[end]),
				Prediction: bars.Open[end]}
			p.Interval, p.Intervals = ch.bands.around(p.Prediction, bars.Open[end])
			preds = append(preds, p)
		}
		answer.Predictions = preds
		s.served(ticker, ch, ask)
		c.JSON(http.StatusOK, answer)
		return
	}
	var spent time.Duration
	recent := make(map[string][]float64, len(series))
	for first := 0; first < windows; first += uploadBatch {
		if err := c.Request.Context().Err(); err != nil {
			jsonError(c, http.StatusServiceUnavailable, fmt.Sprintf("the request ended before its windows were predicted: %v", err))
			return
		}
		last := min(first+uploadBatch, windows)
		x := make([][]float32, 0, last-first)
		lastOpen := make([]float64, 0, last-first)
		for w := first; w < last; w++ {
			for name, col := range series {
				recent[name] = col[w : w+lookback]
			}
			win, open, err := prep.RecentWindow(m.transform, recent, lookback)
			if err != nil {
				jsonError(c, http.StatusBadRequest, fmt.Sprintf("model v%d (lookback %d days, features %v), window ending %s: %v",
					m.version, lookback, m.transform.Spec.Features, day(bars.Date[w+lookback-1]), err))
				return
			}
			x = append(x, win)
			lastOpen = append(lastOpen, open)
		}
		prices, took, err := m.forecast(x, lastOpen)
		spent += took
		if err != nil {
			jsonError(c, http.StatusInternalServerError, err.Error())
			return
		}
		for i, p := range prices {
			end := bars.Date[first+i+lookback-1]
			up := uploadPrediction{Date: day(tradingDaysAfter(end, m.cfg.Horizon)), WindowEnd: day(end), Prediction: p}
			up.Interval, up.Intervals = ch.bands.around(p, lastOpen[i])
			preds = append(preds, up)
		}
	}
	s.metrics.Forecast(spent)
	s.served(ticker, ch, ask)
	answer.Predictions = preds
	c.JSON(http.StatusOK, answer)
}

// barSeries maps feature names (as predictRequest names them) to columns.
func barSeries(b *frame.Bars) map[string][]float64 {
	return map[string][]float64{"open": b.Open, "high": b.High, "low": b.Low, "close": b.Close, "adj_close": b.AdjClose, "volume": b.Volume}
}

// needed lists the columns a model reads: its features and the Open.
func needed(t prep.Transform) []string {
	out := []string{"open"}
	for _, f := range t.Spec.Features {
		if f != "open" {
			out = append(out, f)
		}
	}
	return out
}

// checkBars refuses a missing value or a non-positive price (a negative
// volume) in the columns the model reads, naming the date. Missing values
// are not filled: what training's cleaning did is not recorded with the
// model, and a prediction should rest on the prices sent.
func checkBars(b *frame.Bars, series map[string][]float64, cols []string) error {
	for r := range b.Len() {
		for _, name := range cols {
			v := series[name][r]
			switch {
			case math.IsNaN(v):
				return fmt.Errorf("the row of %s has no %s value (empty, null or NaN in the file): fill it in or remove the row", day(b.Date[r]), name)
			case name == "volume" && (v < 0 || math.IsInf(v, 0)):
				return fmt.Errorf("volume on %s is %v: volumes must be finite and non-negative", day(b.Date[r]), v)
			case name != "volume" && (v <= 0 || math.IsInf(v, 0)):
				return fmt.Errorf("%s on %s is %v: prices must be finite and positive", name, day(b.Date[r]), v)
			}
		}
	}
	return nil
}

// tradingDaysAfter is the NYSE trading day n trading days after t.
func tradingDaysAfter(t time.Time, n int) time.Time {
	for range max(n, 1) {
		t = validate.NextTradingDay(t)
	}
	return t
}

func day(t time.Time) string { return t.Format(frame.DateLayout) }

func span(b *frame.Bars) string {
	if b.Len() == 0 {
		return "none"
	}
	return day(b.Date[0]) + " to " + day(b.Date[b.Len()-1])
}
