package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/notify/notifytest"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/sharedtest"
)

// The real worker binary, configured by environment for a real SMTP server
// that refuses the first two deliveries (451): a run fails at validate,
// the worker is killed (kill -9) after the first refused delivery and
// started again, and the mail still arrives exactly once, on attempt 3.
// The run's own result is its failure, whatever the mail does.
func TestFailureMailSurvivesAWorkerCrashAndArrivesOnce(t *testing.T) {
	t.Parallel()
	mail := notifytest.StartSMTP(t, notifytest.SMTPOptions{RefuseFirst: 2})
	cs := startCrashStack(t, "notify-crash", "FINSIGHT_SMTP_URL="+mail.URL(), "FINSIGHT_NOTIFY_EMAIL=ops@example.com")
	path := sharedtest.Path(t, "single", "NFLX.csv")
	csv := fixOpen(t, string(csvRows(t, path, "2016-01-01", "2017-12-31")), "2016-06-01", "-1")
	in := pipeline.TrainingInput{Ticker: "NFLX", CSVKey: uploadBytes(t, cs.store, []byte(csv)), Model: pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 1}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const id = "notify-crash-nflx"
	run, err := cs.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: cs.queue}, pipeline.TrainingWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err == nil || !strings.Contains(err.Error(), "validate failed") {
		t.Fatalf("run ended with %v, want its own failure at validate", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for mail.Attempts() < 1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if mail.Attempts() < 1 {
		t.Fatalf("no delivery was tried\n%s", cs.first.log)
	}
	second := cs.restart(t)
	t.Logf("killed the worker (kill -9) after delivery attempt %d was refused", mail.Attempts())
	got := mail.WaitMails(t, 1, 5*time.Minute)
	time.Sleep(5 * time.Second)
	if n := len(mail.Mails()); n != 1 {
		t.Fatalf("%d mails arrived, want exactly one\nsecond worker log:\n%s", n, second.log)
	}
	if mail.Attempts() != 3 {
		t.Errorf("the mail took %d attempts, want 3 (two refused)", mail.Attempts())
	}
	if !strings.Contains(got[0].Body, id) || !strings.Contains(got[0].Body, "validate") {
		t.Errorf("the mail does not name the workflow %s and the failing step:\n%s", id, got[0].Body)
	}
}
