package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Channels.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// DefaultFrom is the sender when FINSIGHT_MAIL_FROM is not set.
const DefaultFrom = "FinSight <finsight@localhost>"

// Config is where notifications go (the FINSIGHT_SMTP_URL, FINSIGHT_MAIL_FROM,
// FINSIGHT_NOTIFY_EMAIL, FINSIGHT_WEBHOOK_URL and FINSIGHT_WEBHOOK_SECRET
// settings) and how to link the Web UI.
type Config struct {
	SMTPURL       string // smtp://[user:pass@]host[:port] or smtps://...
	From          string // sender address ("" = DefaultFrom)
	To            string // comma-separated recipients
	WebhookURL    string // http(s) URL the JSON is POSTed to
	WebhookSecret string // HMAC-SHA256 key of the signature header ("" = unsigned)
	UIURL         string // Temporal Web UI base URL, for links

	// Timeout bounds one delivery on one channel (0: 30 s).
	Timeout time.Duration
	// TLS is the TLS configuration for SMTP (nil: the system's roots);
	// tests trust their own server with it.
	TLS *tls.Config
	// HTTPClient sends webhooks (nil: a plain client).
	HTTPClient *http.Client
}

// Notifier delivers events to the configured channels.
type Notifier struct {
	mail *mailer
	hook *webhook
	ui   string
}

// New checks cfg and returns its Notifier, or nil (and no error) when no
// channel is configured: nothing to send. E-mail needs both an SMTP URL and
// recipients; one without the other is an error, as is a URL that does
// not parse. Errors never quote a password or a webhook's path.
func New(cfg Config) (*Notifier, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	n := &Notifier{ui: cfg.UIURL}
	var errs []error
	switch smtpURL, to := strings.TrimSpace(cfg.SMTPURL), strings.TrimSpace(cfg.To); {
	case smtpURL != "" && to != "":
		from := strings.TrimSpace(cfg.From)
		if from == "" {
			from = DefaultFrom
		}
		m, err := newMailer(smtpURL, from, to, cfg.TLS, timeout)
		if err != nil {
			errs = append(errs, err)
		}
		n.mail = m
	case smtpURL != "":
		errs = append(errs, fmt.Errorf("FINSIGHT_SMTP_URL (%s) is set but FINSIGHT_NOTIFY_EMAIL names no recipient", RedactSMTP(smtpURL)))
	case to != "":
		errs = append(errs, errors.New("FINSIGHT_NOTIFY_EMAIL is set but FINSIGHT_SMTP_URL names no SMTP server"))
	}
	if u := strings.TrimSpace(cfg.WebhookURL); u != "" {
		h, err := newWebhook(u, cfg.WebhookSecret, cfg.HTTPClient, timeout)
		if err != nil {
			errs = append(errs, err)
		}
		n.hook = h
	} else if cfg.WebhookSecret != "" {
		errs = append(errs, errors.New("FINSIGHT_WEBHOOK_SECRET is set but FINSIGHT_WEBHOOK_URL is not"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	if n.mail == nil && n.hook == nil {
		return nil, nil
	}
	return n, nil
}

// Channels lists the configured channels (none for a nil Notifier).
func (n *Notifier) Channels() []string {
	if n == nil {
		return nil
	}
	var out []string
	if n.mail != nil {
		out = append(out, ChannelEmail)
	}
	if n.hook != nil {
		out = append(out, ChannelWebhook)
	}
	return out
}

// String says where notifications go, without secrets.
func (n *Notifier) String() string {
	if n == nil {
		return "notifications off"
	}
	var parts []string
	if n.mail != nil {
		parts = append(parts, n.mail.String())
	}
	if n.hook != nil {
		parts = append(parts, n.hook.String())
	}
	return strings.Join(parts, "; ")
}

// Send delivers ev on one channel. It fills the event's Web UI link. An
// error that IsPermanent will not go away by trying again.
func (n *Notifier) Send(ctx context.Context, channel string, ev Event) error {
	if ev.UIURL == "" {
		ev.UIURL = WorkflowLink(n.ui, ev.Namespace, ev.WorkflowID, ev.RunID)
	}
	switch {
	case channel == ChannelEmail && n.mail != nil:
		return n.mail.send(ctx, ev)
	case channel == ChannelWebhook && n.hook != nil:
		return n.hook.send(ctx, ev)
	}
	return permanent(fmt.Errorf("notification channel %q is not configured", channel))
}
