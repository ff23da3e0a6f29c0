package config

import (
	"bytes"
	"context"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/finsight/finsight/internal/blob"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestHookToken(t *testing.T) {
	if c := FromEnv(env(nil)); c.HookToken != "" {
		t.Errorf("default hook token %q, want none (hook off)", c.HookToken)
	}
	c := FromEnv(env(map[string]string{"FINSIGHT_HOOK_TOKEN": " from-env \n"}))
	if c.HookToken != "from-env" {
		t.Errorf("hook token %q, want from-env", c.HookToken)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse([]string{"-hook-token", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	if c.HookToken != "from-flag" {
		t.Errorf("hook token %q, want the flag's", c.HookToken)
	}
}

func TestGCSLocation(t *testing.T) {
	for _, tc := range []struct {
		store, bucket, prefix string
		ok                    bool
	}{
		{"gs://acme-finsight/prod", "acme-finsight", "prod", true},
		{"gs://acme-finsight/prod/eu/", "acme-finsight", "prod/eu", true},
		{"gs://acme-finsight", "acme-finsight", "", true},
		{"gs://acme-finsight/", "acme-finsight", "", true},
		{"gs:///prod", "", "", false},
		{".state/store", "", "", false},
		{"file:///var/finsight", "", "", false},
		{"s3://acme/prod", "", "", false},
	} {
		bucket, prefix, ok := Config{Store: tc.store}.GCSLocation()
		if bucket != tc.bucket || prefix != tc.prefix || ok != tc.ok {
			t.Errorf("%s: (%q, %q, %v), want (%q, %q, %v)", tc.store, bucket, prefix, ok, tc.bucket, tc.prefix, tc.ok)
		}
	}
}

func TestStoreTimeout(t *testing.T) {
	c := FromEnv(env(nil))
	if d, err := c.storeTimeout(); err != nil || d != blob.DefaultCallTimeout {
		t.Errorf("default store timeout %v, %v; want %v", d, err, blob.DefaultCallTimeout)
	}
	c = FromEnv(env(map[string]string{"FINSIGHT_STORE_TIMEOUT": "750ms"}))
	if d, err := c.storeTimeout(); err != nil || d != 750*time.Millisecond {
		t.Errorf("FINSIGHT_STORE_TIMEOUT=750ms: %v, %v", d, err)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse([]string{"-store-timeout", "2s"}); err != nil {
		t.Fatal(err)
	}
	if d, err := c.storeTimeout(); err != nil || d != 2*time.Second {
		t.Errorf("--store-timeout 2s: %v, %v", d, err)
	}
	for _, bad := range []string{"soon", "0s", "-1s"} {
		c := Config{Store: t.TempDir(), StoreTimeout: bad}
		if _, err := c.OpenStore(context.Background()); err == nil || !strings.Contains(err.Error(), "FINSIGHT_STORE_TIMEOUT") {
			t.Errorf("OpenStore with store timeout %q: %v, want an error naming FINSIGHT_STORE_TIMEOUT", bad, err)
		}
	}
	s, err := Config{Store: t.TempDir(), StoreTimeout: "1500ms"}.OpenStore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := s.(*blob.DeadlineStore); !ok || d.Timeout() != 1500*time.Millisecond {
		t.Errorf("OpenStore gave %T, want a DeadlineStore of 1.5s", s)
	}
}

func TestAPITokens(t *testing.T) {
	if c := FromEnv(env(nil)); c.APITokens != "" || c.APITokenList() != nil {
		t.Errorf("default API tokens %q, want none (mutating routes off)", c.APITokens)
	}
	c := FromEnv(env(map[string]string{"FINSIGHT_API_TOKENS": " alpha , beta,,gamma "}))
	if got := c.APITokenList(); !slices.Equal(got, []string{"alpha", "beta", "gamma"}) {
		t.Errorf("tokens %q, want alpha, beta, gamma", got)
	}
	fs := flag.NewFlagSet("finsight-api", flag.ContinueOnError)
	c.APIFlags(fs)
	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()
	if strings.Contains(help.String(), "alpha") || !strings.Contains(help.String(), "(3 set)") {
		t.Errorf("-help shows the tokens, or not how many:\n%s", help.String())
	}
	if err := fs.Parse([]string{"-api-tokens", "delta"}); err != nil {
		t.Fatal(err)
	}
	if got := c.APITokenList(); !slices.Equal(got, []string{"delta"}) {
		t.Errorf("the flag did not override: %q", got)
	}
	all := flag.NewFlagSet("all", flag.ContinueOnError)
	c.Flags(all)
	if all.Lookup("api-tokens") != nil {
		t.Error("Flags registers --api-tokens: only the API binary takes it (APIFlags)")
	}
}
