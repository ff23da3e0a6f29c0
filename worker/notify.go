package main

import (
	"log/slog"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/notify"
)

// newNotifier is where the Notify step delivers (internal/notify), from
// the worker's settings, said once at start; nil when no channel is set
// (Notify then records "off" and sends nothing). A setting that cannot
// work (an SMTP URL without recipients, a URL that does not parse) stops
// the worker: better at start than at the first failed run.
func newNotifier(cfg config.Config) (*notify.Notifier, error) {
	n, err := notify.New(notify.Config{
		SMTPURL: cfg.SMTPURL, From: cfg.MailFrom, To: cfg.NotifyEmail,
		WebhookURL: cfg.WebhookURL, WebhookSecret: cfg.WebhookSecret, UIURL: cfg.UIURL,
	})
	if err != nil {
		return nil, err
	}
	if n == nil {
		slog.Info("notifications off: set FINSIGHT_SMTP_URL and FINSIGHT_NOTIFY_EMAIL, or FINSIGHT_WEBHOOK_URL, to be told when runs fail")
	} else {
		slog.Info("notifications on", "to", n.String())
	}
	return n, nil
}
