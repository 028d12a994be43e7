package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite docs/config.md")

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedenceFileThenEnvThenFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kefu.json")
	os.WriteFile(file, []byte(`{"listen":":1111","data_dir":"/from/file","log_format":"json","idle_timeout":"90s","trust_proxy_headers":true}`), 0o600)
	c, rest, err := Load([]string{"--config", file, "--listen", ":3333", "extra"}, env(map[string]string{"KEFU_LISTEN": ":2222", "KEFU_DATA_DIR": "/from/env"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":3333" || c.DataDir != "/from/env" || c.LogFormat != "json" || c.IdleTimeout != 90*time.Second || !c.TrustProxyHeaders {
		t.Fatalf("got %+v", c)
	}
	if len(rest) != 1 || rest[0] != "extra" {
		t.Fatalf("rest = %v", rest)
	}
}

func TestDefaults(t *testing.T) {
	c, _, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" || c.DataDir != "./data" || c.SQLiteSynchronous != "FULL" || c.DatabaseURL != "" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestInvalidSettingsAreRejected(t *testing.T) {
	cases := []map[string]string{
		{"KEFU_SQLITE_SYNCHRONOUS": "OFF"},
		{"KEFU_DATABASE_URL": "mysql://x"},
		{"KEFU_IDLE_TIMEOUT": "soon"},
		{"KEFU_IDLE_TIMEOUT": "10s", "KEFU_HEARTBEAT_INTERVAL": "20s"},
		{"KEFU_LOG_LEVEL": "loud"},
		{"KEFU_MAX_UPLOAD_BYTES": "-1"},
		{"KEFU_ADMIN_PASSWORD": "short"},
	}
	for _, e := range cases {
		if _, _, err := Load(nil, env(e), io.Discard); err == nil {
			t.Errorf("%v accepted", e)
		}
	}
	file := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(file, []byte(`{"no_such_key":1}`), 0o600)
	if _, _, err := Load([]string{"--config", file}, env(nil), io.Discard); err == nil {
		t.Error("unknown file key accepted")
	}
}

func TestDocsAreCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "config.md")
	if *update {
		if err := os.WriteFile(path, []byte(Markdown()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != Markdown() {
		t.Fatal("docs/config.md is stale: run go test ./internal/config -update")
	}
}
