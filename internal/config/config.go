// Package config holds Kefu's one Config struct: defaults, then an optional
// JSON file, then KEFU_* environment variables, then command-line flags,
// each overriding the one before. Every setting is declared once in the
// settings table below; docs/config.md is generated from it and a test
// keeps the two in step.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything a Kefu server needs to start.
type Config struct {
	Listen            string
	DataDir           string
	DatabaseURL       string
	SQLiteSynchronous string
	NATSURL           string
	NATSSubject       string
	LogLevel          string
	LogFormat         string
	DebugAddr         string
	PublicURL         string
	AdminEmail        string
	AdminPassword     string
	MaxUploadBytes    int64
	HeartbeatInterval time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	TrustProxyHeaders bool
	WidgetRate        float64 // visitor sessions per minute per client address
	WidgetBurst       int
	WidgetReadRate    float64 // GET /widget/config and /widget/status per minute per client address
	WidgetReadBurst   int
	// SecretKey seals language-model API keys in the database (AES-256-GCM).
	SecretKey string
}

// setting is one row of the table: its names, default, help and how to set it.
type setting struct {
	flag, env, json, def, help string
	set                        func(c *Config, v string) error
}

func str(f func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func dur(f func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("not a duration (e.g. 30s, 2m): %q", v)
		}
		*f(c) = d
		return nil
	}
}

var settings = []setting{
	{"listen", "KEFU_LISTEN", "listen", ":8080", "Address the HTTP and WebSocket server listens on.", str(func(c *Config) *string { return &c.Listen })},
	{"data-dir", "KEFU_DATA_DIR", "data_dir", "./data", "Folder for the SQLite database and uploaded attachments.", str(func(c *Config) *string { return &c.DataDir })},
	{"database-url", "KEFU_DATABASE_URL", "database_url", "", "Empty: SQLite at DATA_DIR/kefu.db. `postgres://user@host/db` uses PostgreSQL.", str(func(c *Config) *string { return &c.DatabaseURL })},
	{"sqlite-synchronous", "KEFU_SQLITE_SYNCHRONOUS", "sqlite_synchronous", "FULL", "FULL: every acknowledged message is fsynced (survives power loss). NORMAL: faster, an explicit opt-in that may lose the last moments of messages on power loss (not on a crash of Kefu alone).", str(func(c *Config) *string { return &c.SQLiteSynchronous })},
	{"nats-url", "KEFU_NATS_URL", "nats_url", "", "Empty: single node. `nats://host:4222` fans events out across nodes through NATS.", str(func(c *Config) *string { return &c.NATSURL })},
	{"nats-subject", "KEFU_NATS_SUBJECT", "nats_subject", "kefu.ev", "Subject prefix for events on NATS; clusters sharing one NATS server need different prefixes.", str(func(c *Config) *string { return &c.NATSSubject })},
	{"log-level", "KEFU_LOG_LEVEL", "log_level", "info", "debug, info, warn or error.", str(func(c *Config) *string { return &c.LogLevel })},
	{"log-format", "KEFU_LOG_FORMAT", "log_format", "text", "text or json.", str(func(c *Config) *string { return &c.LogFormat })},
	{"debug-addr", "KEFU_DEBUG_ADDR", "debug_addr", "", "Empty: off. An address such as 127.0.0.1:6060 serves pprof there; it must be a loopback address.", str(func(c *Config) *string { return &c.DebugAddr })},
	{"public-url", "KEFU_PUBLIC_URL", "public_url", "", "The URL people reach Kefu at, for printed links (the start-up log, invitation links). Empty: derived from listen; invitation links use the host the admin reached.", str(func(c *Config) *string { return &c.PublicURL })},
	{"admin-email", "KEFU_ADMIN_EMAIL", "admin_email", "admin@example.com", "Email of the admin created on first start.", str(func(c *Config) *string { return &c.AdminEmail })},
	{"admin-password", "KEFU_ADMIN_PASSWORD", "admin_password", "", "Password of the admin created on first start. Empty: a random one is generated and printed once.", str(func(c *Config) *string { return &c.AdminPassword })},
	{"max-upload-bytes", "KEFU_MAX_UPLOAD_BYTES", "max_upload_bytes", "10485760", "Largest attachment accepted, in bytes.", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("not a whole number: %q", v)
		}
		c.MaxUploadBytes = n
		return nil
	}},
	{"heartbeat-interval", "KEFU_HEARTBEAT_INTERVAL", "heartbeat_interval", "25s", "How often WebSocket clients are asked to send a frame.", dur(func(c *Config) *time.Duration { return &c.HeartbeatInterval })},
	{"idle-timeout", "KEFU_IDLE_TIMEOUT", "idle_timeout", "60s", "A WebSocket connection silent this long is closed (4009).", dur(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"shutdown-timeout", "KEFU_SHUTDOWN_TIMEOUT", "shutdown_timeout", "15s", "How long a SIGTERM waits for requests and commits to drain.", dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"widget-rate", "KEFU_WIDGET_RATE", "widget_rate", "30", "New visitor sessions per minute from one client address (a public endpoint). Raise it for load tests from one machine.", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return fmt.Errorf("not a positive number: %q", v)
		}
		c.WidgetRate = f
		return nil
	}},
	{"widget-burst", "KEFU_WIDGET_BURST", "widget_burst", "10", "Visitor sessions one client address may open at once before the rate applies.", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("not a positive whole number: %q", v)
		}
		c.WidgetBurst = n
		return nil
	}},
	{"widget-read-rate", "KEFU_WIDGET_READ_RATE", "widget_read_rate", "600", "Widget config and status reads per minute from one client address (public endpoints the widget calls on each page view).", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return fmt.Errorf("not a positive number: %q", v)
		}
		c.WidgetReadRate = f
		return nil
	}},
	{"widget-read-burst", "KEFU_WIDGET_READ_BURST", "widget_read_burst", "120", "Widget config and status reads one client address may make at once before the rate applies.", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("not a positive whole number: %q", v)
		}
		c.WidgetReadBurst = n
		return nil
	}},
	{"secret-key", "KEFU_SECRET_KEY", "secret_key", "", "Key that encrypts stored language-model API keys: 32 bytes as 64 hex digits or base64. Empty: generated once into DATA_DIR/secret.key (mode 0600); keep that file with your backups.", str(func(c *Config) *string { return &c.SecretKey })},
	{"trust-proxy-headers", "KEFU_TRUST_PROXY_HEADERS", "trust_proxy_headers", "false", "Take client addresses from X-Forwarded-For. Only behind a proxy that sets it.", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not true or false: %q", v)
		}
		c.TrustProxyHeaders = b
		return nil
	}},
}

// Default returns the configuration with every default applied.
func Default() Config {
	var c Config
	for _, s := range settings {
		if err := s.set(&c, s.def); err != nil {
			panic("config: bad default for " + s.flag)
		}
	}
	return c
}

// Load builds a Config from defaults, the file named by --config or
// KEFU_CONFIG, the environment and args, in rising precedence. It returns
// the arguments left after the flags.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, []string, error) {
	c := Default()
	fs := flag.NewFlagSet("kefu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", getenv("KEFU_CONFIG"), "Optional JSON config file (keys as in docs/config.md).")
	vals := map[string]*string{}
	for _, s := range settings {
		vals[s.flag] = fs.String(s.flag, "", s.help)
	}
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if *file != "" {
		if err := c.loadFile(*file); err != nil {
			return c, nil, err
		}
	}
	for _, s := range settings {
		if v := getenv(s.env); v != "" {
			if err := s.set(&c, v); err != nil {
				return c, nil, fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		for _, s := range settings {
			if s.flag == f.Name {
				if err := s.set(&c, *vals[s.flag]); err != nil {
					errs = append(errs, fmt.Errorf("--%s: %w", s.flag, err))
				}
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return c, nil, err
	}
	return c, fs.Args(), c.Validate()
}

func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	for k, v := range raw {
		i := slicesIndex(k)
		if i < 0 {
			return fmt.Errorf("config file %s: unknown key %q", path, k)
		}
		var sv string
		switch v := v.(type) {
		case string:
			sv = v
		case float64:
			sv = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			sv = strconv.FormatBool(v)
		default:
			return fmt.Errorf("config file %s: %q must be a string, number or boolean", path, k)
		}
		if err := settings[i].set(c, sv); err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, k, err)
		}
	}
	return nil
}

func slicesIndex(jsonKey string) int {
	for i, s := range settings {
		if s.json == jsonKey {
			return i
		}
	}
	return -1
}

// Validate reports settings that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen is empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir is empty"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("database url must start with postgres:// (or be empty for SQLite)"))
	}
	switch strings.ToUpper(c.SQLiteSynchronous) {
	case "FULL", "NORMAL":
	default:
		errs = append(errs, fmt.Errorf("sqlite synchronous must be FULL or NORMAL, not %q", c.SQLiteSynchronous))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log format must be text or json, not %q", c.LogFormat))
	}
	if c.MaxUploadBytes <= 0 {
		errs = append(errs, errors.New("max upload bytes must be positive"))
	}
	if c.HeartbeatInterval <= 0 || c.IdleTimeout <= c.HeartbeatInterval {
		errs = append(errs, errors.New("idle timeout must be longer than the heartbeat interval, and both positive"))
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		errs = append(errs, errors.New("admin password must have at least 8 characters"))
	}
	return errors.Join(errs...)
}

// SQLitePath is where the embedded database lives.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "kefu.db") }

// Markdown renders the settings table for docs/config.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Configuration\n\n")
	b.WriteString("<!-- Generated from internal/config/config.go by `go test ./internal/config -update`; do not edit by hand. -->\n\n")
	b.WriteString("Kefu reads its settings from, in rising precedence: built-in defaults, an optional JSON file named by `--config` or `KEFU_CONFIG`, `KEFU_*` environment variables, and command-line flags (`kefu serve --listen :9090`).\n\n")
	b.WriteString("| flag | environment | JSON key | default | meaning |\n|---|---|---|---|---|\n")
	rows := settings
	for _, s := range rows {
		def := s.def
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | `%s` | `%s` | %s |\n", s.flag, s.env, s.json, def, strings.ReplaceAll(s.help, "|", "\\|"))
	}
	b.WriteString("\nExample file:\n\n```json\n{\n  \"listen\": \":8080\",\n  \"data_dir\": \"/var/lib/kefu\",\n  \"database_url\": \"postgres://kefu@db/kefu\",\n  \"log_format\": \"json\"\n}\n```\n")
	return b.String()
}
