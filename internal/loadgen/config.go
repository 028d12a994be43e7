package loadgen

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Hard limits: every run is bounded in size and time whatever the flags.
const (
	maxTotalConns   = 200_000
	maxConnsPerProc = 19_000 // a process may open 20,000 files here; keep room for the rest
	maxProcs        = 64
	maxRate         = 200_000 // messages per second
	maxPhase        = time.Hour
	maxTimeout      = 3 * time.Hour
	maxMessagesCap  = 20_000_000
	maxConcurrency  = 4096
)

// Config is everything a run needs, from the command line. Each scenario
// registers the flags it uses; the rest keep their defaults.
type Config struct {
	Scenario string `json:"scenario"`

	// Target and credentials.
	Server        string `json:"server"`
	Servers       string `json:"servers,omitempty"`      // several nodes of one cluster; visitors round robin
	AgentServer   string `json:"agent_server,omitempty"` // where agents connect; default the first server
	AllowRemote   bool   `json:"allow_remote"`
	AdminEmail    string `json:"-"`
	AdminPassword string `json:"-"`
	InboxToken    string `json:"-"`
	InboxName     string `json:"inbox_name"`
	AgentPrefix   string `json:"agent_prefix"`
	AgentPassword string `json:"-"`

	// Spreading the load.
	SourceAddrs string `json:"source_addrs,omitempty"`
	ClientAddrs string `json:"client_addrs,omitempty"`
	Procs       int    `json:"procs"`
	Concurrency int    `json:"concurrency"`

	// Output and bounds.
	JSON       bool          `json:"-"`
	CPUProfile string        `json:"-"`
	Quiet      bool          `json:"-"`
	Timeout    time.Duration `json:"timeout"`
	Cleanup    bool          `json:"cleanup"`

	// idle
	Conns       int           `json:"conns,omitempty"`
	ConnectRate float64       `json:"connect_rate,omitempty"`
	Hold        time.Duration `json:"hold,omitempty"`
	Settle      time.Duration `json:"settle,omitempty"`

	// assign
	Queued   int           `json:"queued,omitempty"`
	Capacity int           `json:"capacity,omitempty"`
	Think    time.Duration `json:"think,omitempty"`

	// chat, resume, throughput, burst
	Visitors    int           `json:"visitors,omitempty"`
	Agents      int           `json:"agents,omitempty"`
	Rate        float64       `json:"rate,omitempty"`
	Duration    time.Duration `json:"duration,omitempty"`
	ReplyRatio  float64       `json:"reply_ratio,omitempty"`
	AgentRate   float64       `json:"agent_rate,omitempty"`
	Size        int           `json:"size,omitempty"`
	Drain       time.Duration `json:"drain,omitempty"`
	MaxMessages int           `json:"max_messages,omitempty"`
	Echo        bool          `json:"expect_echo"`

	// burst
	Spread   time.Duration `json:"spread,omitempty"`
	Deadline time.Duration `json:"deadline,omitempty"`

	// resume
	Before          time.Duration `json:"before,omitempty"`
	After           time.Duration `json:"after,omitempty"`
	Cut             string        `json:"cut,omitempty"`
	ReconnectJitter time.Duration `json:"reconnect_jitter,omitempty"`

	// throughput
	StartRate    float64       `json:"start_rate,omitempty"`
	StepRate     float64       `json:"step_rate,omitempty"`
	StepDuration time.Duration `json:"step_duration,omitempty"`
	MaxLatency   time.Duration `json:"max_latency,omitempty"`
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// commonFlags registers the flags every scenario has.
func commonFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Server, "server", envOr("KEFU_LOADGEN_SERVER", "http://127.0.0.1:8080"), "Kefu server base URL (env KEFU_LOADGEN_SERVER)")
	fs.StringVar(&c.Servers, "servers", "", "comma-separated base URLs of several nodes of one cluster, instead of --server: visitors are spread over them round robin; the admin setup uses the first")
	fs.StringVar(&c.AgentServer, "agent-server", "", "base URL agents connect to (default: the first server)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a target outside 127.0.0.0/8, ::1 and localhost")
	fs.StringVar(&c.AdminEmail, "admin-email", os.Getenv("KEFU_LOADGEN_ADMIN_EMAIL"), "admin login, to create the loadgen inbox and agents (env KEFU_LOADGEN_ADMIN_EMAIL)")
	fs.StringVar(&c.AdminPassword, "admin-password", os.Getenv("KEFU_LOADGEN_ADMIN_PASSWORD"), "admin password (env KEFU_LOADGEN_ADMIN_PASSWORD)")
	fs.StringVar(&c.InboxToken, "inbox-token", os.Getenv("KEFU_LOADGEN_INBOX_TOKEN"), "public token of the inbox visitors use; default: find or create the inbox named --inbox-name (env KEFU_LOADGEN_INBOX_TOKEN)")
	fs.StringVar(&c.InboxName, "inbox-name", "loadgen", "name of the inbox the load generator finds or creates")
	fs.StringVar(&c.AgentPrefix, "agent-prefix", "loadgen-agent", "agents are <prefix>-<n>@loadgen.example.com, created if missing")
	fs.StringVar(&c.AgentPassword, "agent-password", envOr("KEFU_LOADGEN_AGENT_PASSWORD", "loadgen-agent-password-1"), "password of the loadgen agents (env KEFU_LOADGEN_AGENT_PASSWORD)")
	fs.StringVar(&c.SourceAddrs, "source-addrs", "", "comma-separated local IPs to dial from, round robin (e.g. 127.0.0.2,127.0.0.3); each adds ~28,000 ephemeral ports")
	fs.StringVar(&c.ClientAddrs, "client-addrs", "127.100.0.0/16", `each visitor creates its session (and each agent logs in) from its own address in this range, as distinct people would; the server limits those requests per client address ("off" to disable)`)
	fs.IntVar(&c.Procs, "procs", 1, fmt.Sprintf("worker processes sharing the load (each may hold %d connections)", maxConnsPerProc))
	fs.IntVar(&c.Concurrency, "concurrency", 64, "REST requests and WebSocket dials in flight at once, per process")
	fs.BoolVar(&c.JSON, "json", false, "print machine-readable results on stdout (the summary goes to stderr)")
	fs.BoolVar(&c.Quiet, "quiet", false, "no progress line")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write the generator's own CPU profile to this file (worker N of --procs writes FILE.N), to see how much of a figure is the generator's cost")
	fs.DurationVar(&c.Timeout, "timeout", 0, "hard limit on the whole run, setup included (default: derived from the scenario's durations)")
	fs.BoolVar(&c.Cleanup, "cleanup", true, "resolve the conversations the run created, at the end")
}

func messageFlags(fs *flag.FlagSet, c *Config) {
	fs.IntVar(&c.Size, "size", 64, "message body size in bytes (at least the id and timestamp it carries)")
	fs.IntVar(&c.MaxMessages, "max-messages", 0, "stop sending after this many visitor messages (default: twice what the rates and durations ask for)")
	fs.DurationVar(&c.Drain, "drain", 15*time.Second, "after sending stops, how long to wait for outstanding acks and deliveries")
	fs.BoolVar(&c.Echo, "expect-echo", true, "expect a sender's own connection to receive its message too (protocol: every connection following the conversation does)")
}

// parseFlags parses a scenario's command line into a Config.
func parseFlags(sc *scenario, args []string, stderr io.Writer) (*Config, error) {
	c := &Config{Scenario: sc.name}
	fs := flag.NewFlagSet("kefu-loadgen "+sc.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	commonFlags(fs, c)
	sc.flags(fs, c)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kefu-loadgen %s [flags]\n\n%s\n\nFlags:\n", sc.name, sc.doc)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	serverSet := false
	fs.Visit(func(f *flag.Flag) { serverSet = serverSet || f.Name == "server" })
	if serverSet && c.Servers != "" {
		return nil, errors.New("give --server or --servers, not both")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := c.validate(sc); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) validate(sc *scenario) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := c.targets(); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseSourceAddrs(c.SourceAddrs, c.AllowRemote); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseClientAddrs(c.ClientAddrs, c.AllowRemote); err != nil {
		errs = append(errs, err)
	}
	if c.Procs < 1 || c.Procs > maxProcs {
		bad("--procs must be 1..%d", maxProcs)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		bad("--concurrency must be 1..%d", maxConcurrency)
	}
	for name, d := range map[string]time.Duration{"hold": c.Hold, "duration": c.Duration, "drain": c.Drain, "spread": c.Spread,
		"deadline": c.Deadline, "settle": c.Settle, "before": c.Before, "after": c.After, "step-duration": c.StepDuration, "reconnect-jitter": c.ReconnectJitter} {
		if d < 0 || d > maxPhase {
			bad("--%s must be between 0 and %v", name, maxPhase)
		}
	}
	if c.Timeout < 0 || c.Timeout > maxTimeout {
		bad("--timeout must be at most %v", maxTimeout)
	}
	if c.Rate < 0 || c.Rate > maxRate || c.ConnectRate < 0 || c.StartRate < 0 || c.StepRate < 0 || c.AgentRate < 0 {
		bad("rates must be between 0 and %d per second", maxRate)
	}
	if c.Size < 0 || c.Size > 16*1024 {
		bad("--size must be at most 16384 bytes")
	}
	if c.MaxMessages < 0 || c.MaxMessages > maxMessagesCap {
		bad("--max-messages must be at most %d", maxMessagesCap)
	}
	if c.ReplyRatio < 0 || c.ReplyRatio > 1 {
		bad("--reply-ratio must be between 0 and 1")
	}
	conns := c.Conns + c.Visitors + c.Agents
	if conns > maxTotalConns {
		bad("at most %d connections in one run (asked for %d)", maxTotalConns, conns)
	}
	if per := (conns + c.Procs - 1) / c.Procs; per > maxConnsPerProc {
		bad("%d connections over %d process(es) is %d per process, over the %d a process may hold: use --procs %d",
			conns, c.Procs, per, maxConnsPerProc, (conns+maxConnsPerProc-1)/maxConnsPerProc)
	}
	if c.Procs > 1 && c.Agents > 0 && c.Agents < c.Procs {
		bad("with --procs %d every worker needs its own agents: use --agents %d or more", c.Procs, c.Procs)
	}
	if sc.check != nil {
		if err := sc.check(c); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Timeout == 0 {
		c.Timeout = min(maxTimeout, sc.budget(c)+2*time.Minute)
	}
	return errors.Join(errs...)
}

// setupBudget is a generous allowance for creating n sessions,
// conversations and connections before a scenario's clock starts.
func setupBudget(n int) time.Duration {
	return time.Duration(n/100)*time.Second + 30*time.Second
}

// targets are the servers of a run: visitors go round robin to
// visitors[i % len(visitors)], agents to agent, the admin setup to
// visitors[0]. Every URL passes the loopback guard.
type targets struct {
	visitors []*url.URL
	agent    *url.URL
}

func (c *Config) targets() (*targets, error) {
	raw := []string{c.Server}
	if c.Servers != "" {
		raw = raw[:0]
		for f := range strings.SplitSeq(c.Servers, ",") {
			if f = strings.TrimSpace(f); f != "" {
				raw = append(raw, f)
			}
		}
		if len(raw) == 0 {
			return nil, errors.New("--servers names no server")
		}
	}
	t := &targets{}
	seen := map[string]bool{}
	for _, s := range raw {
		u, err := checkTarget(s, c.AllowRemote)
		if err != nil {
			return nil, err
		}
		if seen[u.String()] {
			return nil, fmt.Errorf("--servers names %s twice", u)
		}
		seen[u.String()] = true
		t.visitors = append(t.visitors, u)
	}
	t.agent = t.visitors[0]
	if c.AgentServer != "" {
		u, err := checkTarget(c.AgentServer, c.AllowRemote)
		if err != nil {
			return nil, fmt.Errorf("--agent-server: %w", err)
		}
		t.agent = u
	}
	return t, nil
}

// all is every distinct server, visitors' first, then the agents' if it is
// not among them.
func (t *targets) all() []*url.URL {
	out := slices.Clone(t.visitors)
	if !slices.ContainsFunc(out, func(u *url.URL) bool { return u.String() == t.agent.String() }) {
		out = append(out, t.agent)
	}
	return out
}

// String names the targets for the summary.
func (t *targets) String() string {
	names := make([]string, len(t.visitors))
	for i, u := range t.visitors {
		names[i] = u.String()
	}
	s := strings.Join(names, ",")
	if len(t.visitors) > 1 || t.agent.String() != t.visitors[0].String() {
		s += " (agents on " + t.agent.String() + ")"
	}
	return s
}
