package notify

import (
	"errors"
	"net/url"
)

// permanentError is a delivery that no retry will make: the server refused
// the message itself (an SMTP 5xx, a webhook 4xx other than 408 and 429)
// or the settings cannot work (credentials over an unencrypted connection).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// IsPermanent reports whether a delivery error will not go away by trying
// again (the activity then stops retrying that delivery).
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// RedactSMTP is an SMTP URL without its password (smtp://user:xxxxx@host:port),
// for messages and logs.
func RedactSMTP(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an SMTP URL that does not parse)"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.Redacted()
}

// RedactWebhook is a webhook URL with its scheme and host only: the path
// and query of a webhook (Slack's, for one) are its credentials.
func RedactWebhook(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(a webhook URL that does not parse)"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		s += "/…"
	}
	return s
}

// scrubURL replaces a *url.Error's URL (net/http puts the whole URL in its
// errors) by redacted.
func scrubURL(err error, redacted string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redacted, Err: ue.Err}
	}
	return err
}
