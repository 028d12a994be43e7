// Package loadgen is Kefu's load generator: it speaks the real protocol
// (REST visitor sessions, WebSocket frames, acks, resume) as the widget and
// the workbench do, and measures what a server sustains. Every run is
// bounded in connections, messages and time, and by default talks only to
// the loopback range. docs/loadgen.md is the user's guide.
package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"
)

// scenario is one subcommand.
type scenario struct {
	name, summary, doc string
	flags              func(fs *flag.FlagSet, c *Config)
	check              func(c *Config) error
	budget             func(c *Config) time.Duration // how long a run should take, for the default --timeout
	agents             func(c *Config) int           // agents the fixture must provide
	// run is one process's share of the scenario. It returns what it
	// measured even when it also returns an error.
	run func(ctx context.Context, e *Env) (*Result, error)
	// hook runs in the parent (or the only) process when every worker has
	// reached the barrier called name; open is the connections they hold.
	hook func(ctx context.Context, e *Env, name string, open int64, r *Result)
	// finish derives rates and the verdict from the merged result.
	finish func(c *Config, r *Result)
}

var scenarios = []*scenario{idleScenario, chatScenario, burstScenario, resumeScenario, throughputScenario, assignScenario}

func lookup(name string) *scenario {
	for _, s := range scenarios {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Env is what a scenario runs with: its share of the work, the fixture
// and the shared clients.
type Env struct {
	cfg    *Config
	base   *url.URL // the first server: admin setup and shared REST calls
	api    *API     // its REST client
	nodes  []*node  // the servers visitors use, round robin (nodes[0] is base)
	agentN *node    // the server agents connect to
	all    []*node  // every distinct server, for readiness and /metrics
	dialer *Dialer
	stats  *Stats
	fx     *Fixture
	index  int // this worker, 0-based
	procs  int // workers in all
	logf   func(format string, args ...any)
	// barrier waits until every worker has reached the same point; the
	// parent measures there (idle's memory sample) before letting go.
	barrier func(ctx context.Context, name string) error
}

// node is one server of the target cluster.
type node struct {
	base *url.URL
	ws   string // WebSocket base, ws://host:port
	api  *API
}

// visitorNode is the server of the i-th visitor of the run (a global
// index, the same in every worker): visitors go round robin over
// --servers, and each creates its session and opens its WebSocket on the
// same node.
func (e *Env) visitorNode(i int) *node { return e.nodes[i%len(e.nodes)] }

// close drops every REST client's idle connections.
func (e *Env) close() {
	for _, n := range e.all {
		n.api.Close()
	}
}

// share is this worker's part of total.
func (e *Env) share(total int) int {
	n := total / e.procs
	if e.index < total%e.procs {
		n++
	}
	return n
}

// offset is where this worker's part of total starts.
func (e *Env) offset(total int) int {
	n := 0
	for i := range e.index {
		n += total / e.procs
		if i < total%e.procs {
			n++
		}
	}
	return n
}

// agents are this worker's agents.
func (e *Env) agents() []AgentLogin {
	all := e.fx.Agents
	return all[e.offset(len(all)) : e.offset(len(all))+e.share(len(all))]
}

func newEnv(c *Config, stats *Stats, fx *Fixture, index, procs int, stderr io.Writer) (*Env, error) {
	tg, err := c.targets()
	if err != nil {
		return nil, err
	}
	base := tg.visitors[0]
	srcs, err := parseSourceAddrs(c.SourceAddrs, c.AllowRemote)
	if err != nil {
		return nil, err
	}
	clients, err := parseClientAddrs(c.ClientAddrs, c.AllowRemote)
	if err != nil {
		return nil, err
	}
	if clients != nil {
		if ip, err := netip.ParseAddr(base.Hostname()); err == nil && ip.Is6() && !ip.Is4In6() {
			clients = nil // an IPv6 target cannot be reached from IPv4 source addresses
		} else {
			clients.offset = rand.Uint64N(clients.size)
		}
	}
	d := newDialer(srcs, c.AllowRemote)
	prefix := "kefu-loadgen: "
	if procs > 1 {
		prefix = fmt.Sprintf("kefu-loadgen[%d]: ", index)
	}
	byURL := map[string]*node{}
	var all []*node
	at := func(u *url.URL) *node {
		if n := byURL[u.String()]; n != nil {
			return n
		}
		n := &node{base: u, ws: wsBase(u), api: newAPI(u, d, c.Concurrency+16, clients)}
		byURL[u.String()] = n
		all = append(all, n)
		return n
	}
	nodes := make([]*node, len(tg.visitors))
	for i, u := range tg.visitors {
		nodes[i] = at(u)
	}
	agentN := at(tg.agent)
	return &Env{
		cfg: c, base: base, dialer: d, api: nodes[0].api, nodes: nodes, agentN: agentN, all: all,
		stats: stats, fx: fx, index: index, procs: procs,
		logf: func(format string, args ...any) {
			fmt.Fprintf(stderr, prefix+format+"\n", args...)
		},
		barrier: func(context.Context, string) error { return nil },
	}, nil
}

const usageText = `kefu-loadgen drives a Kefu server with the real protocol and measures it.

Usage: kefu-loadgen <scenario> [flags]

Scenarios:
%s
Run "kefu-loadgen <scenario> -h" for a scenario's flags; docs/loadgen.md has
examples. Targets outside 127.0.0.0/8, ::1 and localhost are refused unless
--allow-remote is given. Every run stops by itself (see --timeout).
`

func usage(w io.Writer) {
	var b strings.Builder
	for _, s := range scenarios {
		fmt.Fprintf(&b, "  %-11s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, usageText, b.String())
}

// Main is the whole program: it returns the exit status. SIGINT and
// SIGTERM end the run early, with results so far.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // the run failed a check or could not complete
	exitUsage = 2
)

// Run runs one command line: a scenario and its flags.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	stderr = &lockedWriter{w: stderr} // progress, logs and workers' stderr share it
	sc := lookup(args[0])
	if sc == nil {
		fmt.Fprintf(stderr, "kefu-loadgen: unknown scenario %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	cfg, err := parseFlags(sc, args[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "kefu-loadgen %s: %v\n", sc.name, err)
		return exitUsage
	}
	if cfg.CPUProfile != "" {
		stop, err := startCPUProfile(cfg.CPUProfile)
		if err != nil {
			fmt.Fprintf(stderr, "kefu-loadgen %s: %v\n", sc.name, err)
			return exitUsage
		}
		defer stop()
	}
	if os.Getenv(workerEnv) == "1" {
		return runWorker(ctx, sc, cfg, stdin, stdout, stderr)
	}
	res := orchestrate(ctx, sc, cfg, args, stderr)
	if cfg.JSON {
		res.writeSummary(stderr)
		if err := res.writeJSON(stdout); err != nil {
			return exitFail
		}
	} else {
		res.writeSummary(stdout)
	}
	if !res.OK {
		return exitFail
	}
	return exitOK
}

// startCPUProfile profiles this process into path, or into path.N in
// worker N, so that workers do not overwrite each other's profile.
func startCPUProfile(path string) (stop func(), err error) {
	if i := os.Getenv(workerIndexEnv); i != "" {
		path += "." + i
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// orchestrate prepares the fixture, runs the scenario in this process or
// in --procs workers, and merges what they found.
func orchestrate(ctx context.Context, sc *scenario, cfg *Config, args []string, stderr io.Writer) *Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	res := newResult(sc.name)
	res.Server, res.Procs, res.StartedAt, res.Config = cfg.Server, cfg.Procs, start, cfg
	if tg, err := cfg.targets(); err == nil {
		res.Server = tg.String()
	}
	stats := newStats()
	env, err := newEnv(cfg, stats, nil, 0, 1, stderr)
	if err != nil {
		res.fail("%v", err)
		return res
	}
	defer env.close()
	done := func() *Result {
		res.Wall = time.Since(start).Seconds()
		sc.finish(cfg, res)
		res.verdict()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			res.fail("the run hit its time limit (--timeout %v) and was cut short", cfg.Timeout)
		} else if ctx.Err() != nil {
			res.fail("the run was interrupted")
		}
		res.OK = len(res.Failures) == 0
		return res
	}
	readyCtx, readyCancel := context.WithTimeout(ctx, 10*time.Second)
	for _, n := range env.all {
		if err = n.api.Ready(readyCtx); err != nil {
			res.fail("server %s: %v", n.base, err)
			break
		}
	}
	readyCancel()
	if err != nil {
		return done()
	}
	fx, err := setupFixture(ctx, cfg, env.api, sc.agents(cfg), env.logf)
	if err != nil {
		res.fail("setup: %v", err)
		return done()
	}
	env.fx = fx
	res.Run = fx.Run
	hooks := newResult(sc.name) // what the parent measures at barriers
	if cfg.Procs > 1 {
		runParent(ctx, sc, env, args, hooks, res, stderr)
	} else {
		env.barrier = func(ctx context.Context, name string) error {
			if sc.hook != nil {
				sc.hook(ctx, env, name, stats.Open.Load(), hooks)
			}
			return ctx.Err()
		}
		stop := progress(cfg, stderr, stats.Snapshot)
		wr, err := sc.run(ctx, env)
		stop()
		if wr != nil {
			wr.Stats = stats.Snapshot()
			res.merge(wr)
		}
		if err != nil {
			res.fail("%v", err)
		}
	}
	res.merge(hooks)
	return done()
}

// progress prints a line a second on stderr until stop is called.
func progress(c *Config, w io.Writer, snap func() Snapshot) (stop func()) {
	if c.Quiet {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start := time.Now()
		prev := snap()
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				cur := snap()
				fmt.Fprintln(w, progressLine(c.Scenario, now.Sub(start).Seconds(), cur, prev))
				prev = cur
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
