package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/registry"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/sharedtest"
)

func TestPromotionGateOnRealRuns(t *testing.T) {
	s := startStack(t)
	key := s.upload(t, sharedtest.Path(t, "single", "NFLX.csv"))
	in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: key, Model: pipeline.ModelParams{Epochs: 1, Units: 16, Layers: 1}}
	ctx := context.Background()
	reg := registry.Registry{Store: s.store}

	// Run 1: a 1-epoch model. Whatever it scores, the gate's decision must
	// follow from its RMSE against naive on the same days.
	first := s.trainAs(t, "promo-1", in)
	p := first.Promotion
	worse := p.RMSE > p.NaiveRMSE
	if p.Promoted == worse || (p.Alias == registry.Champion) == worse {
		t.Fatalf("run 1: RMSE %.4f vs naive %.4f but promoted=%v alias=%s (%s)", p.RMSE, p.NaiveRMSE, p.Promoted, p.Alias, p.Reason)
	}
	t.Logf("run 1 → %s: %s", p.Alias, p.Reason)

	// Run 2 forced: champion whatever the gate says, and recorded as forced.
	in.ForcePromote = true
	second := s.trainAs(t, "promo-2", in)
	if second.Promotion.Alias != registry.Champion || !second.Promotion.Forced {
		t.Fatalf("forced run 2 → %+v", second.Promotion)
	}
	m, err := reg.Manifest(ctx, "NFLX")
	if err != nil {
		t.Fatal(err)
	}
	if m.Aliases[registry.Champion] != second.ModelVersion || !m.History[len(m.History)-1].Forced {
		t.Fatalf("registry after the forced run: aliases %v, last move %+v", m.Aliases, m.History[len(m.History)-1])
	}
	rec, err := runs.Read(ctx, s.store, "promo-2")
	if err != nil || rec.Promotion == nil || !rec.Promotion.Forced {
		t.Fatalf("run record promotion %+v (%v)", rec.Promotion, err)
	}

	// Run 3 is judged against the champion (run 2), re-scored on run 3's
	// test days: an identical model (same data, seed, params) cannot beat it.
	in.ForcePromote = false
	third := s.trainAs(t, "promo-3", in)
	if third.Promotion.Promoted || third.Promotion.PreviousVersion != second.ModelVersion ||
		!strings.Contains(third.Promotion.Reason, "does not beat the champion") {
		t.Fatalf("run 3 (identical to the champion) → %+v", third.Promotion)
	}
	if third.Promotion.ChampionRMSE != third.Promotion.RMSE {
		t.Fatalf("identical models scored %v and %v on the same days", third.Promotion.RMSE, third.Promotion.ChampionRMSE)
	}

	// Rollback restores the champion before the forced one, if there was one.
	if first.Promotion.Promoted {
		m, err := reg.Rollback(ctx, "NFLX", "test")
		if err != nil || m.Aliases[registry.Champion] != first.ModelVersion {
			t.Fatalf("rollback: %v, champion v%d, want v%d", err, m.Aliases[registry.Champion], first.ModelVersion)
		}
	} else if _, err := reg.Rollback(ctx, "NFLX", "test"); err == nil {
		t.Fatal("rolled back to a champion that never existed")
	}

	// The tracking UI over these real runs, and one that failed with
	// markup in its error.
	in.Model = pipeline.ModelParams{Epochs: 3, Units: 32, Layers: 1}
	s.trainAs(t, "promo-wide", in)
	s.failScriptRun(t, "promo-bad")
	checkTrackingUI(t, s, []string{"promo-1", "promo-2", "promo-3", "promo-wide"}, [2]string{"promo-1", "promo-wide"}, "promo-bad")
}
