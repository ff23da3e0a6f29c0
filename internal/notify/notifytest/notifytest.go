// Package notifytest runs real receivers of notifications in-process for
// tests: an SMTP server (github.com/emersion/go-smtp) that keeps what it
// accepts, optionally behind STARTTLS or implicit TLS, with PLAIN
// authentication, refusing the first deliveries when asked; and a webhook
// receiver that verifies each delivery's signature.
package notifytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/finsight/finsight/internal/notify"
)

// Mail is one message the SMTP server accepted.
type Mail struct {
	From    string
	To      []string
	Header  mail.Header
	Subject string // decoded
	Body    string // decoded from quoted-printable
	TLS     bool   // it came over an encrypted connection
	User    string // who authenticated ("" for nobody)
}

// SMTPOptions shape the server.
type SMTPOptions struct {
	RefuseFirst int    // answer 451 (try again later) to the first N messages
	User, Pass  string // require PLAIN authentication with these
	StartTLS    bool   // offer STARTTLS
	ImplicitTLS bool   // speak TLS from the first byte (smtps://)
}

// SMTPServer is a running SMTP server.
type SMTPServer struct {
	Addr string
	// ClientTLS trusts the server's certificate (notify.Config.TLS).
	ClientTLS *tls.Config
	opts      SMTPOptions

	mu       sync.Mutex
	mails    []Mail
	attempts int // messages offered (DATA), refused ones included
}

// StartSMTP starts a server on a free loopback port until the test ends.
func StartSMTP(t testing.TB, opts SMTPOptions) *SMTPServer {
	t.Helper()
	s := &SMTPServer{opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.ErrorLog = quietLog{}
	srv.AllowInsecureAuth = !opts.StartTLS && !opts.ImplicitTLS
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	if opts.StartTLS || opts.ImplicitTLS {
		cert, pool := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.ClientTLS = &tls.Config{RootCAs: pool}
		if opts.ImplicitTLS {
			l = tls.NewListener(l, srv.TLSConfig)
		}
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL is the server's smtp:// (or smtps://) URL, with the credentials.
func (s *SMTPServer) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	if s.opts.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.opts.User != "" {
		u.User = url.UserPassword(s.opts.User, s.opts.Pass)
	}
	return u.String()
}

// Mails are the messages accepted so far, in order.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Attempts counts the messages offered, refused ones included.
func (s *SMTPServer) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// WaitMails waits until at least n messages are accepted (or timeout) and
// returns them all.
func (s *SMTPServer) WaitMails(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := s.Mails()
		if len(m) >= n {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP server got %d messages within %s, want %d", len(m), timeout, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type session struct {
	s    *SMTPServer
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.opts.User || pass != ss.s.opts.Pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "invalid credentials"}
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.User != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.attempts <= s.opts.RefuseFirst {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: fmt.Sprintf("try again later (refusal %d)", s.attempts)}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message: " + err.Error()}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "body: " + err.Error()}
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	s.mails = append(s.mails, Mail{From: ss.from, To: append([]string(nil), ss.to...), Header: msg.Header, Subject: subject,
		Body: strings.ReplaceAll(string(body), "\r\n", "\n"), TLS: isTLS(ss.conn), User: ss.user})
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func isTLS(c *smtp.Conn) bool {
	_, ok := c.TLSConnectionState()
	return ok
}

type quietLog struct{}

func (quietLog) Printf(string, ...interface{}) {}
func (quietLog) Println(...interface{})        {}

// selfSigned is a certificate for 127.0.0.1 and localhost, and a pool that
// trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "notifytest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Delivery is one webhook request the receiver got.
type Delivery struct {
	Header  http.Header
	Body    []byte
	Payload notify.Payload
	Verify  error // notify.Verify's verdict (nil: valid, or no secret to check)
}

// Webhook is a running webhook receiver.
type Webhook struct {
	URL    string // with a path, as real webhooks have
	Secret string // deliveries are verified with it ("" = not checked)
	// Status, when set, answers the n-th request (from 1) with its code
	// instead of 204 (or 401 for a bad signature).
	Status func(n int) int

	mu         sync.Mutex
	requests   int
	deliveries []Delivery
}

// StartWebhook starts a receiver until the test ends.
func StartWebhook(t testing.TB, secret string) *Webhook {
	t.Helper()
	w := &Webhook{Secret: secret}
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	w.URL = srv.URL + "/hooks/T000/B000/s3cr3t-path"
	return w
}

func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.requests++
	n := w.requests
	status := w.Status
	w.mu.Unlock()
	if status != nil {
		if code := status(n); code != 0 {
			http.Error(rw, "not now", code)
			return
		}
	}
	d := Delivery{Header: r.Header.Clone(), Body: body}
	if w.Secret != "" {
		d.Verify = notify.Verify(w.Secret, r.Header, body, time.Now(), 0)
	}
	if err := json.Unmarshal(body, &d.Payload); err != nil {
		http.Error(rw, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	if d.Verify != nil {
		http.Error(rw, d.Verify.Error(), http.StatusUnauthorized)
		return
	}
	w.mu.Lock()
	w.deliveries = append(w.deliveries, d)
	w.mu.Unlock()
	rw.WriteHeader(http.StatusNoContent)
}

// Deliveries are the verified deliveries so far, in order.
func (w *Webhook) Deliveries() []Delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Delivery(nil), w.deliveries...)
}

// Requests counts every request, refused ones included.
func (w *Webhook) Requests() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests
}

// WaitDeliveries waits until at least n deliveries arrived (or timeout)
// and returns them all.
func (w *Webhook) WaitDeliveries(t testing.TB, n int, timeout time.Duration) []Delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d := w.Deliveries()
		if len(d) >= n {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook got %d deliveries within %s, want %d", len(d), timeout, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
