package notify_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/notify"
	"github.com/finsight/finsight/internal/notify/notifytest"
)

const password = "hunter2-s3cret"

func failure() notify.Event {
	return notify.Event{
		ID: notify.EventID("train-NFLX-1", "run-1", notify.KindFailed, ""), Kind: notify.KindFailed,
		Time: time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC), Namespace: "default",
		Workflow: "TrainingPipeline", WorkflowID: "train-NFLX-1", RunID: "run-1", Ticker: "NFLX",
		Step: "validate", ErrorType: "InvalidData", Error: "validate failed: 1 critical anomaly: price ≤ 0 in row 17", Attempts: 1,
	}
}

func newNotifier(t *testing.T, cfg notify.Config) *notify.Notifier {
	t.Helper()
	if cfg.UIURL == "" {
		cfg.UIURL = "http://ui.example:8233"
	}
	n, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n == nil {
		t.Fatal("configured notifier is nil")
	}
	return n
}

func TestEmailCarriesTheEvent(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{})
	n := newNotifier(t, notify.Config{SMTPURL: srv.URL(), To: "ops@example.com, Data Team <data@example.com>"})
	if err := n.Send(context.Background(), notify.ChannelEmail, failure()); err != nil {
		t.Fatal(err)
	}
	mails := srv.Mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails, want 1", len(mails))
	}
	m := mails[0]
	if m.From != "finsight@localhost" || strings.Join(m.To, ",") != "ops@example.com,data@example.com" {
		t.Errorf("envelope from %q to %v", m.From, m.To)
	}
	if want := "[FinSight] NFLX: TrainingPipeline failed at validate (InvalidData)"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	for _, want := range []string{"train-NFLX-1", "run-1", "Step:        validate", "Error type:  InvalidData",
		"price ≤ 0 in row 17", "Attempts:    1", "http://ui.example:8233/namespaces/default/workflows/train-NFLX-1/run-1/history"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
	if got := m.Header.Get(notify.HeaderEventID); got != failure().ID {
		t.Errorf("%s %q, want %q", notify.HeaderEventID, got, failure().ID)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasSuffix(id, "@finsight>") {
		t.Errorf("Message-ID %q", id)
	}
	t.Logf("sample mail:\nSubject: %s\n\n%s", m.Subject, m.Body)
}

func TestEmailUsesStartTLSWhenOfferedAndAuthenticates(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{StartTLS: true, User: "finsight", Pass: password})
	n := newNotifier(t, notify.Config{SMTPURL: srv.URL(), To: "ops@example.com", From: "alerts@example.com", TLS: srv.ClientTLS})
	if err := n.Send(context.Background(), notify.ChannelEmail, failure()); err != nil {
		t.Fatal(err)
	}
	m := srv.Mails()
	if len(m) != 1 || !m[0].TLS || m[0].User != "finsight" || m[0].From != "alerts@example.com" {
		t.Fatalf("mails %+v, want one over TLS from alerts@example.com authenticated as finsight", m)
	}
}

func TestEmailOverImplicitTLS(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{ImplicitTLS: true, User: "finsight", Pass: password})
	if !strings.HasPrefix(srv.URL(), "smtps://") {
		t.Fatalf("URL %s", srv.URL())
	}
	n := newNotifier(t, notify.Config{SMTPURL: srv.URL(), To: "ops@example.com", TLS: srv.ClientTLS})
	if err := n.Send(context.Background(), notify.ChannelEmail, failure()); err != nil {
		t.Fatal(err)
	}
	if m := srv.Mails(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("mails %+v, want one over TLS", m)
	}
}

// A server that refuses a message for now (4xx) is tried again; the
// Notify activity's retry policy does (see activities' TestNotifyRetries...).
func TestEmailTemporaryRefusalIsRetryable(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{RefuseFirst: 2})
	n := newNotifier(t, notify.Config{SMTPURL: srv.URL(), To: "ops@example.com"})
	for i := 1; i <= 2; i++ {
		err := n.Send(context.Background(), notify.ChannelEmail, failure())
		if err == nil || notify.IsPermanent(err) || !strings.Contains(err.Error(), "451") {
			t.Fatalf("delivery %d: %v, want a temporary 451 refusal", i, err)
		}
	}
	if err := n.Send(context.Background(), notify.ChannelEmail, failure()); err != nil {
		t.Fatalf("delivery 3: %v", err)
	}
	if len(srv.Mails()) != 1 || srv.Attempts() != 3 {
		t.Fatalf("%d mails after %d attempts, want 1 after 3", len(srv.Mails()), srv.Attempts())
	}
}

// The password appears in no error and no description, whatever fails.
func TestSecretsStayOutOfErrors(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{StartTLS: true, User: "finsight", Pass: password})
	wrong := strings.Replace(srv.URL(), password, password+"-wrong", 1)
	n := newNotifier(t, notify.Config{SMTPURL: wrong, To: "ops@example.com", TLS: srv.ClientTLS,
		WebhookURL: "http://127.0.0.1:1/hooks/T0/B0/" + password, WebhookSecret: password})
	if strings.Contains(n.String(), password) {
		t.Errorf("description %q shows the secret", n.String())
	}
	err := n.Send(context.Background(), notify.ChannelEmail, failure())
	if err == nil || !notify.IsPermanent(err) {
		t.Fatalf("wrong password: %v, want a permanent (5xx) error", err)
	}
	closed := freeAddr(t)
	unreachable := newNotifier(t, notify.Config{SMTPURL: "smtp://finsight:" + password + "@" + closed, To: "ops@example.com"})
	for _, e := range []error{err,
		n.Send(context.Background(), notify.ChannelWebhook, failure()),
		unreachable.Send(context.Background(), notify.ChannelEmail, failure()),
	} {
		if e == nil {
			t.Fatal("a delivery to nowhere succeeded")
		}
		if strings.Contains(e.Error(), password) {
			t.Errorf("error shows the secret: %v", e)
		}
		t.Logf("error: %v", e)
	}
	_, err = notify.New(notify.Config{SMTPURL: "smtp://finsight:" + password + "@host:99999999/%zz", To: "a@b.c"})
	if err == nil || strings.Contains(err.Error(), password) {
		t.Errorf("bad URL: %v", err)
	}
}

func TestWebhookIsSignedAndVerifiable(t *testing.T) {
	const secret = "whsec-test"
	hook := notifytest.StartWebhook(t, secret)
	n := newNotifier(t, notify.Config{WebhookURL: hook.URL, WebhookSecret: secret})
	ev := failure()
	if err := n.Send(context.Background(), notify.ChannelWebhook, ev); err != nil {
		t.Fatal(err)
	}
	d := hook.Deliveries()
	if len(d) != 1 {
		t.Fatalf("%d deliveries, want 1", len(d))
	}
	p := d[0].Payload
	if !strings.Contains(p.Text, "NFLX: TrainingPipeline failed at validate (InvalidData)") || !strings.Contains(p.Text, "/workflows/train-NFLX-1/run-1/history") {
		t.Errorf("text %q", p.Text)
	}
	if p.Event.ID != ev.ID || p.Event.Step != "validate" || p.Event.WorkflowID != "train-NFLX-1" || p.Event.Attempts != 1 || p.Event.UIURL == "" {
		t.Errorf("event %+v", p.Event)
	}
	if d[0].Header.Get(notify.HeaderEventID) != ev.ID {
		t.Errorf("event id header %q", d[0].Header.Get(notify.HeaderEventID))
	}
	var raw map[string]any
	if err := json.Unmarshal(d[0].Body, &raw); err != nil || raw["text"] == nil || raw["event"] == nil {
		t.Errorf("body %s: want top-level text and event", d[0].Body)
	}
	t.Logf("sample webhook body: %s", d[0].Body)

	// What Verify refuses: another body, another secret, an old delivery,
	// no signature.
	now := time.Now()
	h := d[0].Header
	if err := notify.Verify(secret, h, d[0].Body, now, 0); err != nil {
		t.Fatalf("the delivery itself does not verify: %v", err)
	}
	tampered := []byte(strings.Replace(string(d[0].Body), "validate", "evaluate", 1))
	for name, err := range map[string]error{
		"tampered body": notify.Verify(secret, h, tampered, now, 0),
		"wrong secret":  notify.Verify("other", h, d[0].Body, now, 0),
		"replayed late": notify.Verify(secret, h, d[0].Body, now.Add(10*time.Minute), 0),
		"unsigned":      notify.Verify(secret, http.Header{}, d[0].Body, now, 0),
	} {
		if err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestWebhookAnswersDecideRetries(t *testing.T) {
	hook := notifytest.StartWebhook(t, "")
	codes := []int{http.StatusInternalServerError, http.StatusTooManyRequests, http.StatusBadRequest}
	hook.Status = func(n int) int {
		if n <= len(codes) {
			return codes[n-1]
		}
		return 0
	}
	n := newNotifier(t, notify.Config{WebhookURL: hook.URL})
	for i, wantPermanent := range []bool{false, false, true} {
		err := n.Send(context.Background(), notify.ChannelWebhook, failure())
		if err == nil || notify.IsPermanent(err) != wantPermanent {
			t.Errorf("answer %d: %v, permanent %v, want permanent %v", codes[i], err, notify.IsPermanent(err), wantPermanent)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t-path") {
			t.Errorf("error shows the webhook's path: %v", err)
		}
	}
	if err := n.Send(context.Background(), notify.ChannelWebhook, failure()); err != nil {
		t.Fatal(err)
	}
	if d := hook.Deliveries(); len(d) != 1 || d[0].Header.Get(notify.HeaderSignature) != "" {
		t.Fatalf("deliveries %d (signature %q), want one unsigned", len(d), d[0].Header.Get(notify.HeaderSignature))
	}
}

func TestConfig(t *testing.T) {
	if n, err := notify.New(notify.Config{UIURL: "http://x"}); n != nil || err != nil {
		t.Fatalf("nothing configured: %v, %v; want nil, nil", n, err)
	}
	if n := (*notify.Notifier)(nil); n.Channels() != nil || n.String() != "notifications off" {
		t.Fatal("nil notifier")
	}
	for name, cfg := range map[string]notify.Config{
		"smtp without recipients": {SMTPURL: "smtp://localhost:25"},
		"recipients without smtp": {To: "a@example.com"},
		"bad scheme":              {SMTPURL: "http://localhost:25", To: "a@example.com"},
		"bad recipient":           {SMTPURL: "smtp://localhost:25", To: "not an address"},
		"bad webhook":             {WebhookURL: "ftp://host/x"},
		"secret without webhook":  {WebhookSecret: "x"},
	} {
		if _, err := notify.New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	n := newNotifier(t, notify.Config{SMTPURL: "smtps://u:" + password + "@mail.example.com", To: "a@example.com",
		WebhookURL: "https://hooks.example.com/services/T/B/" + password, WebhookSecret: password})
	if got := strings.Join(n.Channels(), ","); got != "email,webhook" {
		t.Errorf("channels %s", got)
	}
	want := "e-mail to a@example.com via smtps://u:xxxxx@mail.example.com; webhook https://hooks.example.com/… (signed)"
	if n.String() != want {
		t.Errorf("description %q, want %q", n.String(), want)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
