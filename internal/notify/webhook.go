package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Payload is the JSON body of a webhook delivery: Slack-compatible text
// (an incoming webhook shows it as the message) and the event's fields.
type Payload struct {
	Text  string `json:"text"`
	Event Event  `json:"event"`
}

// webhook POSTs events as JSON to one URL, signed when it has a secret.
type webhook struct {
	url, redacted string
	secret        string
	client        *http.Client
	timeout       time.Duration
	now           func() time.Time
}

func newWebhook(rawURL, secret string, client *http.Client, timeout time.Duration) (*webhook, error) {
	redacted := RedactWebhook(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("webhook URL %s: want http(s)://host/path", redacted)
	}
	if client == nil {
		client = &http.Client{}
	}
	return &webhook{url: rawURL, redacted: redacted, secret: secret, client: client, timeout: timeout, now: time.Now}, nil
}

func (w *webhook) String() string {
	s := "webhook " + w.redacted
	if w.secret != "" {
		s += " (signed)"
	}
	return s
}

// send POSTs ev. 2xx is delivered; 408, 429 and 5xx (and network errors)
// are worth another attempt; any other answer is permanent.
func (w *webhook) send(ctx context.Context, ev Event) error {
	body, err := json.Marshal(Payload{Text: slackText(ev), Event: ev})
	if err != nil {
		return permanent(fmt.Errorf("webhook %s: encode: %v", w.redacted, err))
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("webhook %s: %w", w.redacted, scrubURL(err, w.redacted)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "FinSight-Notify/1")
	req.Header.Set(HeaderEventID, ev.ID)
	if w.secret != "" {
		Sign(req.Header, w.secret, w.now(), body)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.redacted, scrubURL(err, w.redacted))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("webhook %s answered %s: %s", w.redacted, resp.Status, oneLine(string(snippet)))
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return err
	default:
		return permanent(err)
	}
}

// slackText is the message a chat shows: the title, the error or reason,
// and the links.
func slackText(ev Event) string {
	s := "FinSight: " + ev.Title()
	switch {
	case ev.Error != "":
		s += "\n" + truncate(ev.Error, 500)
	case ev.Reason != "":
		s += "\n" + truncate(ev.Reason, 500)
	}
	if ev.Attempts > 0 {
		s += fmt.Sprintf("\nattempts: %d", ev.Attempts)
	}
	if ev.UIURL != "" {
		s += "\nWeb UI: " + ev.UIURL
	}
	if ev.ReportURL != "" {
		s += "\nReport: " + ev.ReportURL
	}
	return s
}

// truncate keeps at most n bytes of s, cut at a rune boundary, marked "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
