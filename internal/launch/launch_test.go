package launch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/launch"
	"github.com/finsight/finsight/internal/pipeline"
)

const rows = "Date,Open\n2022-01-03,600\n2022-01-04,601\n"

// A file uploaded by the starter, one streamed by the API and its key
// named as store_csv are the same data: one key, one workflow id.
func TestUploadsAndStoredCSVsAreOneRequest(t *testing.T) {
	ctx := context.Background()
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nflx.csv")
	if err := os.WriteFile(path, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile, err := launch.UploadFile(ctx, store, path)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := launch.Spool(strings.NewReader(rows), "upload.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	fromStream, err := sp.Put(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	sum := blob.ContentHash([]byte(rows))
	if fromFile.Key != pipeline.UploadKey(sum) || fromStream.Key != fromFile.Key || fromStream.SHA256 != sum || fromFile.Name != "nflx.csv" {
		t.Fatalf("uploads %+v and %+v, want both under %s", fromFile, fromStream, sum)
	}
	stored, err := launch.StoredCSV(ctx, store, fromFile.Key)
	if err != nil || stored.SHA256 != sum {
		t.Fatalf("stored %+v, %v", stored, err)
	}

	r := pipeline.DefaultTrainRequest()
	r.Ticker, r.Epochs = "NFLX", 2
	now := time.Now()
	a, err := launch.PrepareTraining(ctx, store, r, &fromFile, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := launch.PrepareTraining(ctx, store, r, &fromStream, now)
	if err != nil {
		t.Fatal(err)
	}
	r.StoreCSV = fromFile.Key
	c, err := launch.PrepareTraining(ctx, store, r, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.ID != c.ID || !strings.HasPrefix(a.ID, "train-NFLX-"+sum[:8]+"-") || a.Input.Model.Epochs != 2 {
		t.Errorf("ids %s, %s, %s", a.ID, b.ID, c.ID)
	}

	var fe *pipeline.FieldError
	if _, err := launch.StoredCSV(ctx, store, "uploads/none.csv"); !errors.As(err, &fe) || fe.Field != "store_csv" {
		t.Errorf("a missing object: %v", err)
	}
	if _, err := launch.StoredCSV(ctx, store, "../x.csv"); !errors.As(err, &fe) || fe.Field != "store_csv" {
		t.Errorf("a bad key: %v", err)
	}
}
