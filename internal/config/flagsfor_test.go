package config

import (
	"flag"
	"io"
	"slices"
	"testing"
)

// FlagsFor registers only the named settings, with the environment's value
// as default, and a flag overrides its field.
func TestFlagsForBindsOnlyTheNamedSettings(t *testing.T) {
	c := FromEnv(env(map[string]string{"FINSIGHT_STORE": "/data/store", "FINSIGHT_DEVICE": "cuda"}))
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.FlagsFor(fs, append(slices.Clone(TemporalFlags), StoreFlags...)...)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	want := []string{"api-key", "gcs-credentials", "gcs-endpoint", "namespace", "store", "store-timeout", "temporal",
		"tls", "tls-ca", "tls-cert", "tls-key", "tls-server-name"}
	if !slices.Equal(names, want) {
		t.Fatalf("flags %v, want %v", names, want)
	}
	if d := fs.Lookup("store").DefValue; d != "/data/store" {
		t.Errorf("--store default %q, want the environment's", d)
	}
	if err := fs.Parse([]string{"--namespace", "prod"}); err != nil {
		t.Fatal(err)
	}
	if c.Namespace != "prod" || c.Store != "/data/store" || c.Device != "cuda" {
		t.Errorf("config after parse: %+v", c)
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse([]string{"--device", "cpu"}); err == nil {
		t.Error("--device was accepted though it was not bound")
	}
}

func TestFlagsForPanicsOnAnUnknownSetting(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for an unknown setting")
		}
	}()
	c := FromEnv(env(nil))
	c.FlagsFor(flag.NewFlagSet("test", flag.ContinueOnError), "no-such-setting")
}
