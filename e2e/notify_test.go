package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/finsight/finsight/activities"
	"github.com/finsight/finsight/internal/blob"
	"github.com/finsight/finsight/internal/devserver"
	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/notify/notifytest"
	"github.com/finsight/finsight/internal/pipeline"
	"github.com/finsight/finsight/internal/runs"
	"github.com/finsight/finsight/internal/sharedtest"
)

// notifyStack is a worker whose notifications go to a real SMTP server
// (STARTTLS, PLAIN authentication) and a webhook receiver that verifies
// every signature, on a dev server shared by the subtests.
type notifyStack struct {
	*stack
	mail *notifytest.SMTPServer
	hook *notifytest.Webhook
}

const notifySecret = "e2e-webhook-secret"

func startNotifyStack(t *testing.T, srv *devserver.Server) *notifyStack {
	t.Helper()
	mail := notifytest.StartSMTP(t, notifytest.SMTPOptions{StartTLS: true, User: "finsight", Pass: "smtp-password"})
	hook := notifytest.StartWebhook(t, notifySecret)
	n, err := notify.New(notify.Config{SMTPURL: mail.URL(), To: "ops@example.com", TLS: mail.ClientTLS,
		WebhookURL: hook.URL, WebhookSecret: notifySecret, UIURL: fmt.Sprintf("http://127.0.0.1:%d", srv.UIPort)})
	if err != nil {
		t.Fatal(err)
	}
	store, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := startStackOn(t, srv, store, func(a *activities.Activities) { a.Notifier = n })
	return &notifyStack{stack: s, mail: mail, hook: hook}
}

// exactlyOne waits for one e-mail and one webhook delivery, then a few
// seconds more, and checks that nothing else came.
func (s *notifyStack) exactlyOne(t *testing.T) (notifytest.Mail, notify.Event) {
	t.Helper()
	mail := s.mail.WaitMails(t, 1, time.Minute)
	hooks := s.hook.WaitDeliveries(t, 1, time.Minute)
	time.Sleep(4 * time.Second)
	if m, h := s.mail.Mails(), s.hook.Deliveries(); len(m) != 1 || len(h) != 1 || s.hook.Requests() != 1 {
		t.Fatalf("%d mails and %d webhook deliveries (%d requests), want exactly one each: %+v", len(m), len(h), s.hook.Requests(), kindsOf(h))
	}
	if !mail[0].TLS || mail[0].User != "finsight" {
		t.Errorf("mail came without STARTTLS or authentication: %+v", mail[0])
	}
	if mail[0].Header.Get(notify.HeaderEventID) != hooks[0].Payload.Event.ID {
		t.Errorf("mail is event %q, webhook %q", mail[0].Header.Get(notify.HeaderEventID), hooks[0].Payload.Event.ID)
	}
	return mail[0], hooks[0].Payload.Event
}

func kindsOf(ds []notifytest.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Payload.Event.Kind)
	}
	return out
}

// waitDelivered waits until the run record shows its one notification
// delivered on both channels.
func (s *notifyStack) waitDelivered(t *testing.T, id string) runs.Notification {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, err := runs.Read(context.Background(), s.store, id)
		if err == nil && len(rec.Notifications) == 1 && rec.Notifications[0].Status == runs.NotifySent {
			n := rec.Notifications[0]
			if strings.Join(n.Channels, ",") != "email,webhook" {
				t.Fatalf("record: %+v", n)
			}
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("run record's notifications %+v (%v), want one sent", rec.Notifications, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	srv := devserver.Start(t)
	path := sharedtest.Path(t, "single", "NFLX.csv")
	tiny := pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 1}

	t.Run("a non-positive price fails the run: one message naming validate", func(t *testing.T) {
		t.Parallel()
		s := startNotifyStack(t, srv)
		csv := fixOpen(t, string(csvRows(t, path, "2016-01-01", "2017-12-31")), "2016-06-01", "-1")
		const id = "notify-bad-price"
		run, err := s.c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, pipeline.TrainingWorkflow,
			pipeline.TrainingInput{Ticker: "NFLX", CSVKey: uploadBytes(t, s.store, []byte(csv)), Model: tiny})
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Get(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "validate failed") {
			t.Fatalf("run ended with %v, want a failure at validate", err)
		}
		mail, ev := s.exactlyOne(t)
		if ev.Kind != notify.KindFailed || ev.Step != "validate" || ev.WorkflowID != id || ev.ErrorType != "InvalidData" ||
			!strings.Contains(ev.Error, "2016-06-01") || strings.Contains(ev.Error, "(type:") || ev.Attempts != 1 ||
			!strings.Contains(ev.UIURL, "/workflows/"+id+"/") {
			t.Fatalf("webhook event %+v", ev)
		}
		for _, want := range []string{"failed at validate", id, "Step:        validate", "Error type:  InvalidData", ev.UIURL} {
			if !strings.Contains(mail.Subject+"\n"+mail.Body, want) {
				t.Errorf("mail lacks %q:\n%s\n%s", want, mail.Subject, mail.Body)
			}
		}
		s.waitDelivered(t, id)
		t.Logf("mail:\n%s\n\n%s", mail.Subject, mail.Body)
	})

	t.Run("a registered model: one message with the decision", func(t *testing.T) {
		t.Parallel()
		s := startNotifyStack(t, srv)
		const id = "notify-promotion"
		res := s.trainAs(t, id, pipeline.TrainingInput{Ticker: "NFLX", Model: tiny,
			CSVKey: uploadBytes(t, s.store, csvRows(t, path, "2013-01-01", "2017-12-31"))})
		_, ev := s.exactlyOne(t)
		want := notify.KindChallenger
		if res.Promotion.Promoted {
			want = notify.KindPromoted
		}
		if ev.Kind != want || ev.ModelVersion != res.ModelVersion || ev.Alias != res.Promotion.Alias || ev.WorkflowID != id ||
			ev.ReportURL == "" || ev.ReportURL != res.ReportURI {
			t.Fatalf("event %+v, want %s of v%d with report %s", ev, want, res.ModelVersion, res.ReportURI)
		}
		s.waitDelivered(t, id)
	})

	t.Run("a cancelled run: one message", func(t *testing.T) {
		t.Parallel()
		s := startNotifyStack(t, srv)
		const id = "notify-cancelled"
		ctx := context.Background()
		run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, pipeline.TrainingWorkflow,
			pipeline.TrainingInput{Ticker: "NFLX", CSVKey: uploadBytes(t, s.store, csvRows(t, path, "2010-01-01", "2017-12-31")),
				Model: pipeline.ModelParams{Layers: 1, Units: 8, Epochs: 2000}})
		if err != nil {
			t.Fatal(err)
		}
		// Cancelled as soon as it has begun a step: a step that does not
		// heartbeat ends at once (training learns of a cancellation at its
		// next heartbeat, which the SDK sends at most every 24 s).
		waitStage(t, s.c, id, "", time.Minute)
		// As a user would: the starter's cancel command.
		cancel := exec.Command(buildStarter(t), "cancel", "--wait", "2m", id)
		cancel.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+srv.Address)
		if out, err := cancel.CombinedOutput(); err != nil {
			t.Fatalf("starter cancel %s: %v\n%s", id, err, out)
		}
		if err := run.Get(ctx, nil); !temporal.IsCanceledError(err) {
			t.Fatalf("run ended with %v, want cancelled", err)
		}
		_, ev := s.exactlyOne(t)
		s.waitDelivered(t, id)
		rec, err := runs.Read(ctx, s.store, id)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != notify.KindCancelled || ev.Step == "" || ev.Step != rec.Stage || ev.WorkflowID != id || rec.Status != runs.StatusCancelled {
			t.Fatalf("event %+v, want the cancellation at the run's stage %q (status %s)", ev, rec.Stage, rec.Status)
		}
	})
}

// fixOpen sets the Open of day in csv (Yahoo columns) to v.
func fixOpen(t *testing.T, csv, day, v string) string {
	t.Helper()
	lines := strings.Split(csv, "\n")
	for i, l := range lines {
		if f := strings.Split(l, ","); len(f) > 1 && f[0] == day {
			f[1] = v
			lines[i] = strings.Join(f, ",")
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no row for %s", day)
	return ""
}

// waitStage waits until the run's progress query answers stage ("": any).
func waitStage(t *testing.T, c client.Client, id, stage string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := c.QueryWorkflow(ctx, id, "", pipeline.ProgressQuery)
		cancel()
		var p pipeline.Progress
		if err == nil && v.Get(&p) == nil && p.Stage != "" && (stage == "" || p.Stage == stage) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("run %s never reached %s within %s", id, stage, limit)
}
