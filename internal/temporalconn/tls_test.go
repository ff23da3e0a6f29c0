package temporalconn

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/finsight/finsight/internal/config"
	"github.com/finsight/finsight/internal/devserver"
)

// The Temporal CLI's dev server (v1.5.1) has no TLS flags, so the test puts
// a TLS-terminating proxy that requires a client certificate in front of
// its plain gRPC port, as a load balancer or a sidecar would in
// production.
func TestDialThroughMTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	srv := devserver.Start(t)
	dir := t.TempDir()
	ca := newCA(t, "finsight test CA")
	proxy, refused := startTLSProxy(t, ca.serverTLS(t, ca), srv.Address)
	certPEM, keyPEM := ca.leaf(t, "finsight-worker", false)
	cfg := config.Config{
		TemporalAddress: proxy,
		Namespace:       "default",
		TemporalTLSCA:   writeFile(t, dir, "ca.pem", ca.pem),
		TemporalTLSCert: writeFile(t, dir, "client.pem", certPEM),
		TemporalTLSKey:  writeFile(t, dir, "client.key", keyPEM),
	}

	t.Run("client certificate", func(t *testing.T) {
		c := dialOK(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			t.Fatalf("health check through TLS: %v", err)
		}
		resp, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
		if err != nil {
			t.Fatalf("describe namespace through TLS: %v", err)
		}
		if got := resp.GetNamespaceInfo().GetName(); got != "default" {
			t.Errorf("namespace %q", got)
		}
	})
	t.Run("server name", func(t *testing.T) {
		named := cfg
		named.TemporalTLSServerName = "localhost"
		dialOK(t, named)
		named.TemporalTLSServerName = "temporal.elsewhere"
		dialFails(t, named, "temporal.elsewhere")
	})
	t.Run("no client certificate", func(t *testing.T) {
		anon := cfg
		anon.TemporalTLSCert, anon.TemporalTLSKey = "", ""
		refused.clear()
		dialFails(t, anon, "")
		refused.saw(t, "didn't provide a certificate")
	})
	t.Run("client certificate of another CA", func(t *testing.T) {
		other := newCA(t, "other CA")
		certPEM, keyPEM := other.leaf(t, "intruder", false)
		stranger := cfg
		stranger.TemporalTLSCert = writeFile(t, dir, "stranger.pem", certPEM)
		stranger.TemporalTLSKey = writeFile(t, dir, "stranger.key", keyPEM)
		// Go's TLS client offers only a certificate of a CA the server
		// asks for, so the server sees none.
		refused.clear()
		dialFails(t, stranger, "")
		refused.saw(t, "didn't provide a certificate")
	})
	t.Run("CA that did not sign the server", func(t *testing.T) {
		wrong := cfg
		wrong.TemporalTLSCA = writeFile(t, dir, "wrong-ca.pem", newCA(t, "wrong CA").pem)
		dialFails(t, wrong, "certificate")
	})
	t.Run("plain text to a TLS port", func(t *testing.T) {
		dialFails(t, config.Config{TemporalAddress: proxy, Namespace: "default"}, "no TLS")
	})
}

// dialOK dials cfg and closes the client when the test ends.
func dialOK(t *testing.T, cfg config.Config) client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg, client.Options{Logger: quiet{}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// dialFails checks that dialing cfg fails with an error naming the
// address, the namespace and want.
func dialFails(t *testing.T, cfg config.Config, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg, client.Options{Logger: quiet{}})
	if err == nil {
		c.Close()
		t.Fatal("dial succeeded")
	}
	t.Logf("dial failed as it should: %v", err)
	for _, w := range []string{cfg.TemporalAddress, "namespace " + cfg.Namespace, want} {
		if w != "" && !containsFold(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// startTLSProxy listens on a free local port with TLS (serverTLS) and
// copies each connection both ways to the plain backend. It stops when
// the test ends. It offers HTTP/2 by ALPN, as a gRPC load balancer must:
// gRPC clients (grpc-go 1.67 on) refuse a TLS server that selects none.
//
// With TLS 1.3 the client may learn of a refused certificate only as a
// broken connection ("broken pipe", "EOF"), so the tests ask the proxy
// why it refused (handshakes) rather than read it from the client's error.
func startTLSProxy(t *testing.T, serverTLS *tls.Config, backend string) (string, *handshakes) {
	t.Helper()
	serverTLS.NextProtos = []string{"h2"}
	l, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	hs := &handshakes{}
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); pipe(conn, backend, hs) }()
		}
	}()
	return l.Addr().String(), hs
}

// handshakes are the proxy's failed TLS handshakes, each consumed once.
type handshakes struct {
	mu   sync.Mutex
	errs []string
}

func (h *handshakes) add(err error) {
	h.mu.Lock()
	h.errs = append(h.errs, err.Error())
	h.mu.Unlock()
}

// clear forgets the handshakes refused so far.
func (h *handshakes) clear() {
	h.mu.Lock()
	h.errs = nil
	h.mu.Unlock()
}

// saw fails the test unless a handshake failed since the last call with
// an error that says want; it waits a little for the proxy to record it.
func (h *handshakes) saw(t *testing.T, want string) {
	t.Helper()
	for range 50 {
		h.mu.Lock()
		errs := h.errs
		h.errs = nil
		h.mu.Unlock()
		for _, e := range errs {
			if containsFold(e, want) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("the proxy refused no handshake for %q", want)
}

// pipe completes conn's TLS handshake (a client without a valid
// certificate fails here) and copies bytes between it and backend until
// either side closes.
func pipe(conn net.Conn, backend string, hs *handshakes) {
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := conn.(*tls.Conn).HandshakeContext(ctx); err != nil {
		hs.add(err)
		return
	}
	up, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
	<-done
}

// quiet is a Temporal logger that drops everything.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}

// containsFold is strings.Contains ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
