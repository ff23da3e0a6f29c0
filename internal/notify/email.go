package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// mailer sends e-mail through one SMTP server: smtp://[user:pass@]host[:port]
// (port 587 by default; STARTTLS whenever the server offers it) or
// smtps://... (implicit TLS, port 465 by default).
type mailer struct {
	redacted    string // the URL without its password, for errors
	addr, host  string
	implicitTLS bool
	user, pass  string
	auth        bool
	from        *mail.Address
	to          []*mail.Address
	tls         *tls.Config
	timeout     time.Duration
}

func newMailer(rawURL, from, to string, tlsConfig *tls.Config, timeout time.Duration) (*mailer, error) {
	redacted := RedactSMTP(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		return nil, fmt.Errorf("SMTP URL %s: does not parse", redacted)
	}
	m := &mailer{redacted: redacted, tls: tlsConfig, timeout: timeout}
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		m.implicitTLS, port = true, "465"
	default:
		return nil, fmt.Errorf("SMTP URL %s: scheme %q, want smtp:// or smtps://", redacted, u.Scheme)
	}
	m.host = u.Hostname()
	if m.host == "" {
		return nil, fmt.Errorf("SMTP URL %s: no host", redacted)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	m.addr = net.JoinHostPort(m.host, port)
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, m.auth = u.User.Password()
		m.auth = m.auth || m.user != ""
	}
	if m.from, err = mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("sender %q (FINSIGHT_MAIL_FROM): %v", from, err)
	}
	for _, s := range strings.Split(to, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("recipient %q (FINSIGHT_NOTIFY_EMAIL): %v", s, err)
		}
		m.to = append(m.to, a)
	}
	if len(m.to) == 0 {
		return nil, errors.New("no recipient in FINSIGHT_NOTIFY_EMAIL")
	}
	return m, nil
}

func (m *mailer) String() string {
	to := make([]string, len(m.to))
	for i, a := range m.to {
		to[i] = a.Address
	}
	return "e-mail to " + strings.Join(to, ", ") + " via " + m.redacted
}

// send delivers one message; an error names the server by its redacted URL.
func (m *mailer) send(ctx context.Context, ev Event) error {
	if err := m.deliver(ctx, m.message(ev)); err != nil {
		err = fmt.Errorf("e-mail via %s: %w", m.redacted, err)
		var proto *textproto.Error
		if errors.As(err, &proto) && proto.Code >= 500 {
			return permanent(err)
		}
		return err
	}
	return nil
}

func (m *mailer) deliver(ctx context.Context, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	d := net.Dialer{}
	var conn net.Conn
	var err error
	if m.implicitTLS {
		td := tls.Dialer{NetDialer: &d, Config: m.tlsConfig()}
		conn, err = td.DialContext(ctx, "tcp", m.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	// The whole conversation is bounded by ctx: the deadline, and closing
	// the connection when ctx ends first (a cancelled activity).
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("finsight.localhost"); err != nil {
		return err
	}
	secure := m.implicitTLS
	if !secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tlsConfig()); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
			secure = true
		}
	}
	if m.auth {
		if !secure && !isLoopback(m.host) {
			return permanent(errors.New("the server offers no STARTTLS: refusing to send the password unencrypted (use smtps:// or a server with STARTTLS)"))
		}
		if err := c.Auth(smtp.PlainAuth("", m.user, m.pass, m.host)); err != nil {
			return fmt.Errorf("authenticate as %s: %w", m.user, err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return err
	}
	for _, a := range m.to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("recipient %s: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

func (m *mailer) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if m.tls != nil {
		cfg = m.tls.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = m.host
	}
	return cfg
}

// message is the RFC 5322 message of ev: plain text, UTF-8, quoted-printable,
// with a Message-ID derived from the event id (a repeat of one event has
// the same one, so mail clients can drop it).
func (m *mailer) message(ev Event) []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	to := make([]string, len(m.to))
	for i, a := range m.to {
		to[i] = a.String()
	}
	sum := sha256.Sum256([]byte(ev.ID))
	date := ev.Time
	if date.IsZero() {
		date = time.Now()
	}
	header("From", m.from.String())
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", "[FinSight] "+ev.Title()))
	header("Date", date.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(sum[:16])+"@finsight>")
	header(HeaderEventID, mime.QEncoding.Encode("utf-8", oneLine(ev.ID)))
	header("X-FinSight-Event", oneLine(ev.Kind))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(ev.Text(), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// isLoopback: host is this machine (a password may cross a loopback
// connection unencrypted, as net/smtp allows).
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
