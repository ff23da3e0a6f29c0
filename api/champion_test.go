package api_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/finsight/finsight/api"
	"github.com/finsight/finsight/internal/registry"
)

// The manifest is checked on every request here (WithManifestRefresh(0)),
// so each move is served by the next request;
// TestPromotionIsServedWithinTwoSeconds times the default.
func TestPredictServesTheChampionNotTheLatest(t *testing.T) {
	h, store, weights1 := newServer(t, api.WithManifestRefresh(0)) // v1
	registerModel(t, store, "NFLX", "r2", 2)
	reg := registry.Registry{Store: store}
	if _, err := reg.SetAlias(context.Background(), "NFLX", registry.Champion, 1, "test", false, "r1"); err != nil {
		t.Fatal(err)
	}
	open := opens(60)
	p := predictOK(t, h, "NFLX", open)
	if p.ModelVersion != 1 || p.Selection != "champion" {
		t.Fatalf("answered with v%d (%s), want the champion v1", p.ModelVersion, p.Selection)
	}
	if want := expectedPrediction(t, weights1, open); math.Abs(p.Prediction-want) > 1e-9 {
		t.Fatalf("prediction %v, want v1's %v", p.Prediction, want)
	}
	// Promotion of v2 takes effect on the next request; rollback undoes it.
	if _, err := reg.SetAlias(context.Background(), "NFLX", registry.Champion, 2, "better", false, "r2"); err != nil {
		t.Fatal(err)
	}
	if p := predictOK(t, h, "NFLX", open); p.ModelVersion != 2 || p.Selection != "champion" {
		t.Fatalf("after promoting v2: v%d (%s)", p.ModelVersion, p.Selection)
	}
	if _, err := reg.Rollback(context.Background(), "NFLX", "test"); err != nil {
		t.Fatal(err)
	}
	if p := predictOK(t, h, "NFLX", open); p.ModelVersion != 1 {
		t.Fatalf("after rollback: v%d, want v1 again", p.ModelVersion)
	}
}

func TestModelsEndpoints(t *testing.T) {
	h, store, _ := newServer(t)
	if _, err := (registry.Registry{Store: store}).SetAlias(context.Background(), "NFLX", registry.Champion, 1, "test", false, ""); err != nil {
		t.Fatal(err)
	}
	rec := do(h, http.MethodGet, "/models", "")
	var all struct {
		Models []registry.Manifest `json:"models"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &all); err != nil || rec.Code != 200 || len(all.Models) != 1 || all.Models[0].Aliases["champion"] != 1 {
		t.Fatalf("GET /models: %d %s", rec.Code, rec.Body)
	}
	if rec := do(h, http.MethodGet, "/models/nflx", ""); rec.Code != 200 {
		t.Fatalf("GET /models/nflx: %d %s", rec.Code, rec.Body)
	}
	if rec := do(h, http.MethodGet, "/models/AAPL", ""); rec.Code != 404 {
		t.Fatalf("GET /models/AAPL: %d, want 404", rec.Code)
	}
	if rec := do(h, http.MethodGet, "/models/..%2Fx", ""); rec.Code != 400 && rec.Code != 404 {
		t.Fatalf("GET /models/../x: %d, want 400", rec.Code)
	}
}
