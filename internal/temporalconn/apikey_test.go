package temporalconn

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/finsight/finsight/internal/config"
)

// fakeFrontend is a Temporal frontend that answers what dialing and a
// namespace lookup ask, over TLS, and records the authorization header of
// each call. Calls without the Bearer key it expects are refused.
type fakeFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	key string

	mu    sync.Mutex
	auths map[string][]string // method -> authorization values seen
}

func (f *fakeFrontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{Capabilities: &workflowservice.GetSystemInfoResponse_Capabilities{}}, nil
}

func (f *fakeFrontend) DescribeNamespace(_ context.Context, req *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	return &workflowservice.DescribeNamespaceResponse{NamespaceInfo: &namespacepb.NamespaceInfo{Name: req.GetNamespace()}}, nil
}

// authorize records the call's authorization header and refuses it
// unless it carries the expected key.
func (f *fakeFrontend) authorize(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	got := md.Get("authorization")
	f.mu.Lock()
	f.auths[info.FullMethod] = append(f.auths[info.FullMethod], got...)
	f.mu.Unlock()
	if len(got) != 1 || got[0] != "Bearer "+f.key {
		return nil, status.Error(codes.Unauthenticated, "bad API key")
	}
	return handler(ctx, req)
}

// seen is the authorization values the method received.
func (f *fakeFrontend) seen(method string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auths[method]...)
}

// startFakeFrontend serves a fakeFrontend expecting key over TLS with a
// certificate of ca, until the test ends.
func startFakeFrontend(t *testing.T, ca *testCA, key string) (*fakeFrontend, string) {
	t.Helper()
	f := &fakeFrontend{key: key, auths: map[string][]string{}}
	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(ca.serverTLS(t, nil))), grpc.UnaryInterceptor(f.authorize))
	workflowservice.RegisterWorkflowServiceServer(s, f)
	hs := health.NewServer()
	hs.SetServingStatus(workflowservice.WorkflowService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, hs)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return f, l.Addr().String()
}

// An API key goes to every call as "authorization: Bearer <key>", over
// TLS; it shows in no error and no log line.
func TestAPIKeyReachesTheFrontend(t *testing.T) {
	const key = "tc-api-key-3f9a7c"
	ca := newCA(t, "fake cloud CA")
	f, addr := startFakeFrontend(t, ca, key)
	cfg := config.Config{
		TemporalAddress: addr,
		Namespace:       "finsight.acct42",
		TemporalTLSCA:   writeFile(t, t.TempDir(), "ca.pem", ca.pem),
		TemporalAPIKey:  key,
	}
	logs := &recordingLogger{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg, client.Options{Logger: logs})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		t.Fatalf("health check: %v", err)
	}
	resp, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: cfg.Namespace})
	if err != nil || resp.GetNamespaceInfo().GetName() != cfg.Namespace {
		t.Fatalf("describe namespace: %v, %v", resp, err)
	}
	for _, m := range []string{
		"/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo",
		"/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace",
		"/grpc.health.v1.Health/Check",
	} {
		if got := f.seen(m); len(got) == 0 || got[0] != "Bearer "+key {
			t.Errorf("%s received authorization %q, want Bearer <key>", m, got)
		}
	}

	wrong := cfg
	wrong.TemporalAPIKey = "tc-api-key-WRONG-77"
	_, err = Dial(ctx, wrong, client.Options{Logger: logs})
	if err == nil {
		t.Fatal("dial with a wrong key succeeded")
	}
	t.Logf("wrong key: %v", err)
	for _, w := range []string{addr, "namespace finsight.acct42", "API key", "Unauthenticated"} {
		if !containsFold(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	for _, text := range append(logs.lines(), err.Error(), Describe(cfg), Describe(wrong)) {
		if strings.Contains(text, key) || strings.Contains(text, wrong.TemporalAPIKey) {
			t.Errorf("the API key leaks: %q", text)
		}
	}
}

// recordingLogger is a Temporal logger that keeps every line.
type recordingLogger struct {
	mu  sync.Mutex
	out []string
}

func (l *recordingLogger) log(level, msg string, kv ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.out = append(l.out, fmt.Sprint(append([]any{level, msg}, kv...)...))
}

func (l *recordingLogger) Debug(msg string, kv ...any) { l.log("DEBUG", msg, kv...) }
func (l *recordingLogger) Info(msg string, kv ...any)  { l.log("INFO", msg, kv...) }
func (l *recordingLogger) Warn(msg string, kv ...any)  { l.log("WARN", msg, kv...) }
func (l *recordingLogger) Error(msg string, kv ...any) { l.log("ERROR", msg, kv...) }

func (l *recordingLogger) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.out...)
}
