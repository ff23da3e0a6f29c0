package config

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

func TestNotifySettingsFromEnvAndFlags(t *testing.T) {
	c := FromEnv(env(nil))
	if c.SMTPURL != "" || c.NotifyEmail != "" || c.WebhookURL != "" || c.WebhookSecret != "" || c.MailFrom != "" {
		t.Fatalf("notifications configured by default: %+v", c)
	}
	c = FromEnv(env(map[string]string{
		"FINSIGHT_SMTP_URL": "smtp://u:p@mail:587", "FINSIGHT_MAIL_FROM": "a@b.c", "FINSIGHT_NOTIFY_EMAIL": "x@y.z, w@y.z",
		"FINSIGHT_WEBHOOK_URL": "https://hooks.example/x", "FINSIGHT_WEBHOOK_SECRET": " s ",
	}))
	if c.SMTPURL != "smtp://u:p@mail:587" || c.MailFrom != "a@b.c" || c.NotifyEmail != "x@y.z, w@y.z" ||
		c.WebhookURL != "https://hooks.example/x" || c.WebhookSecret != "s" {
		t.Fatalf("from env: %+v", c)
	}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	c.NotifyFlags(fs)
	if err := fs.Parse([]string{"-smtp-url", "smtps://mail:465", "-mail-from", "f@b.c", "-notify-email", "o@p.q",
		"-webhook-url", "http://h/x", "-webhook-secret", "t"}); err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL != "smtps://mail:465" || c.MailFrom != "f@b.c" || c.NotifyEmail != "o@p.q" || c.WebhookURL != "http://h/x" || c.WebhookSecret != "t" {
		t.Fatalf("flags did not override: %+v", c)
	}
}

// -help shows the environment's values as defaults: without the secrets.
func TestNotifyFlagsHideSecretsInHelp(t *testing.T) {
	c := FromEnv(env(map[string]string{"FINSIGHT_SMTP_URL": "smtp://u:pw-123@mail:587",
		"FINSIGHT_WEBHOOK_URL": "https://hooks.example/services/tok-456", "FINSIGHT_WEBHOOK_SECRET": "shh-789"}))
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	c.NotifyFlags(fs)
	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()
	for _, secret := range []string{"pw-123", "tok-456", "shh-789"} {
		if strings.Contains(help.String(), secret) {
			t.Errorf("help shows %q:\n%s", secret, help.String())
		}
	}
	if !strings.Contains(help.String(), "smtp://u:xxxxx@mail:587") {
		t.Errorf("help does not show the redacted SMTP URL:\n%s", help.String())
	}
}
