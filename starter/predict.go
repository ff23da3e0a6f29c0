package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/frame"
	"github.com/finsight/finsight/internal/pipeline"
)

// predict sends the last n Opens of a CSV to the API's /predict.
func predict(args []string, stdout io.Writer, cfg config.Config) error {
	fs := newFlagSet("predict")
	api := fs.String("api", "http://"+cfg.APIAddr, "FinSight API base URL (default from FINSIGHT_API_ADDR)")
	ticker := fs.String("ticker", "", "ticker symbol (required)")
	csvPath := fs.String("csv", "", "CSV whose last Opens are sent (required)")
	n := fs.Int("n", 50, "how many of the last Opens to send")
	formatFlags := addFormatFlags(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
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
	for i, j := 0, len(opens)-1; i < j; i, j = i+1, j-1 {
		opens[i], opens[j] = opens[j], opens[i]
	}
	body, err := json.Marshal(map[string]any{"ticker": t, "open": opens})
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Post(*api+"/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST %s/predict: %w", *api, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	fmt.Fprintf(stdout, "POST %s/predict {\"ticker\":%q,\"open\":[%d values, last %.4f on %s]}\n", *api, t, len(opens),
		opens[len(opens)-1], bars.Date[bars.Len()-1].Format("2006-01-02"))
	fmt.Fprintf(stdout, "→ %d %s\n", resp.StatusCode, bytes.TrimSpace(answer))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the API answered %d", resp.StatusCode)
	}
	return nil
}
