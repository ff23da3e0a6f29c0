package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
)

// predict sends the last n Opens of a CSV to the API's /predict and says
// plainly what answered: the ticker's champion, or, when no version of it
// beats the naive forecast, the naive forecast (the last Open) and why; or
// the version or alias asked for.
func predict(args []string, stdout io.Writer, cfg config.Config) error {
	fs := newFlagSet("predict")
	api := fs.String("api", "http://"+cfg.APIAddr, "FinSight API base URL (default from FINSIGHT_API_ADDR)")
	ticker := fs.String("ticker", "", "ticker symbol (required)")
	csvPath := fs.String("csv", "", "CSV whose last Opens are sent (required)")
	n := fs.Int("n", 50, "how many of the last Opens to send")
	version := fs.Int("version", 0, "ask this version for the forecast instead of the champion (/predict?version=N)")
	alias := fs.String("alias", "", "ask the version an alias names, e.g. challenger (/predict?alias=NAME)")
	formatFlags := addFormatFlags(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *version < 0 {
		return errors.New("--version must be a version number (1, 2, ...)")
	}
	if *version > 0 && *alias != "" {
		return errors.New("give --version or --alias, not both")
	}
	format, err := formatFlags.parse()
	if err != nil {
		return err
	}
	t, err := pipeline.NormalizeTicker(*ticker)
	if err != nil {
		return err
	}
	f, err := os.Open(*csvPath)
	if err != nil {
		return fmt.Errorf("open csv: %w", err)
	}
	defer f.Close()
	bars, _, err := frame.ReadCSV(f, frame.CSVOptions{Ticker: t, Format: format})
	if err != nil {
		return fmt.Errorf("read %s: %w", *csvPath, err)
	}
	opens := make([]float64, 0, *n)
	for i := bars.Len() - 1; i >= 0 && len(opens) < *n; i-- {
		if v := bars.Open[i]; v == v { // skip missing values
			opens = append(opens, v)
		}
	}
	if len(opens) == 0 {
		return fmt.Errorf("%s has no Opens to send", *csvPath)
	}
	for i, j := 0, len(opens)-1; i < j; i, j = i+1, j-1 {
		opens[i], opens[j] = opens[j], opens[i]
	}
	body, err := json.Marshal(map[string]any{"ticker": t, "open": opens})
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	target := *api + "/predict"
	q := url.Values{}
	if *version > 0 {
		q.Set("version", strconv.Itoa(*version))
	}
	if *alias != "" {
		q.Set("alias", *alias)
	}
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Post(target, "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s: %w", target, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	fmt.Fprintf(stdout, "POST %s {\"ticker\":%q,\"open\":[%d values, last %.4f on %s]}\n", target, t, len(opens),
		opens[len(opens)-1], bars.Date[bars.Len()-1].Format("2006-01-02"))
	fmt.Fprintf(stdout, "→ %d %s\n", resp.StatusCode, bytes.TrimSpace(answer))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the API answered %d", resp.StatusCode)
	}
	var p predictAnswer
	if err := json.Unmarshal(answer, &p); err != nil {
		return fmt.Errorf("decode the answer: %w", err)
	}
	fmt.Fprintln(stdout, p.plainly())
	return nil
}

// predictAnswer is the part of /predict's answer predict explains.
type predictAnswer struct {
	Ticker              string  `json:"ticker"`
	ModelVersion        int     `json:"model_version"`
	Selection           string  `json:"selection"`
	Reason              string  `json:"reason"`
	HorizonDays         int     `json:"horizon_days"`
	Prediction          float64 `json:"prediction"`
	RegistryUnavailable bool    `json:"registry_unavailable"`
	Intervals           []struct {
		Level float64 `json:"level"`
		Low   float64 `json:"low"`
		High  float64 `json:"high"`
	} `json:"intervals"`
}

// plainly says what the forecast is and what made it.
func (p predictAnswer) plainly() string {
	days := "1 trading day"
	if p.HorizonDays != 1 {
		days = fmt.Sprintf("%d trading days", p.HorizonDays)
	}
	var from string
	switch p.Selection {
	case "naive":
		from = "the naive forecast (the last Open), not a model: " + p.Reason +
			".\nAsk a model anyway with --version N or --alias NAME"
	case "champion":
		from = fmt.Sprintf("from the champion, v%d", p.ModelVersion)
	case "version":
		from = fmt.Sprintf("from v%d, as asked (--version)", p.ModelVersion)
	default:
		from = fmt.Sprintf("from v%d, the %s (--alias)", p.ModelVersion, p.Selection)
	}
	s := fmt.Sprintf("%s Open %s ahead: %.4f, %s", p.Ticker, days, p.Prediction, from)
	for _, iv := range p.Intervals {
		s += fmt.Sprintf("\n  %g%% interval: %.4f to %.4f", 100*iv.Level, iv.Low, iv.High)
	}
	if p.RegistryUnavailable {
		s += "\n(the store is unavailable: the API answered from the registry and model it had read before)"
	}
	return s
}
