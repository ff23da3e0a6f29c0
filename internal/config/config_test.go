package config

import (
	"flag"
	"testing"
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
