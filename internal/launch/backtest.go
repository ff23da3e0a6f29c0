package launch

import (
	"context"
	"errors"
	"fmt"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
)

// CheckBacktestData checks that a backtest of ticker has data: the CSV at
// csvKey in the store, or, without one, a registered model of the ticker,
// whose raw data the backtest then uses. A missing CSV or model is a
// *pipeline.FieldError (of csv_key); a store failure is returned as it is.
func CheckBacktestData(ctx context.Context, store blob.Store, ticker, csvKey string) error {
	if csvKey != "" {
		_, err := StoredCSV(ctx, store, csvKey)
		var fe *pipeline.FieldError
		if errors.As(err, &fe) {
			fe.Field = "csv_key"
		}
		return err
	}
	m, err := registry.Registry{Store: store}.Manifest(ctx, ticker)
	if errors.Is(err, registry.ErrNoModel) || (err == nil && len(m.Versions) == 0) {
		return &pipeline.FieldError{Field: "csv_key", Msg: ticker + " has no registered model whose data a backtest could use: give a CSV"}
	}
	if err != nil {
		return fmt.Errorf("read the registry of %s: %w", ticker, err)
	}
	return nil
}
