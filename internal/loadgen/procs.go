package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// One process may hold about 19,000 connections here (20,000 files), so
// bigger runs re-execute the program as --procs workers. The parent
// prepares the fixture, starts the workers with the same command line and
// the environment variable KEFU_LOADGEN_WORKER=1, and talks to each over
// its stdin and stdout, one JSON object per line:
//
//	parent -> worker: the workerSpec (first line); then "go" to pass a barrier
//	worker -> parent: {"event":"progress","stats":…} once a second
//	                  {"event":"barrier","name":…,"stats":…} then waits for "go"
//	                  {"event":"result","result":…} or {"event":"error",…} at the end
//
// A worker takes share i of every count (Env.share), so the parent merges
// results without knowing the scenario. When a worker's stdin closes (the
// parent died) it stops at its next barrier; its --timeout bounds it anyway.

const workerEnv = "KEFU_LOADGEN_WORKER"

// workerIndexEnv tells a worker its index before it reads its spec, for
// what must be known at once (the name of its CPU profile).
const workerIndexEnv = "KEFU_LOADGEN_WORKER_INDEX"

type workerSpec struct {
	Index   int      `json:"index"`
	Procs   int      `json:"procs"`
	Fixture *Fixture `json:"fixture"`
}

type workerEvent struct {
	Event  string    `json:"event"`
	Name   string    `json:"name,omitempty"`
	Stats  *Snapshot `json:"stats,omitempty"`
	Result *Result   `json:"result,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// runWorker is a worker process's side.
func runWorker(ctx context.Context, sc *scenario, cfg *Config, stdin io.Reader, stdout, stderr io.Writer) int {
	in := bufio.NewReaderSize(stdin, 64*1024)
	line, err := in.ReadBytes('\n')
	var spec workerSpec
	if err == nil {
		err = json.Unmarshal(line, &spec)
	}
	if err != nil || spec.Fixture == nil || spec.Procs < 1 || spec.Index < 0 || spec.Index >= spec.Procs {
		fmt.Fprintf(stderr, "kefu-loadgen worker: no valid spec on stdin (%v); this mode is for --procs\n", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	var outMu sync.Mutex
	enc := json.NewEncoder(stdout)
	send := func(ev workerEvent) {
		outMu.Lock()
		defer outMu.Unlock()
		enc.Encode(ev)
	}
	// The parent's "go" lines; closed when the parent goes away.
	gos := make(chan struct{})
	go func() {
		defer close(gos)
		for {
			if _, err := in.ReadBytes('\n'); err != nil {
				return
			}
			select {
			case gos <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()

	stats := newStats()
	env, err := newEnv(cfg, stats, spec.Fixture, spec.Index, spec.Procs, stderr)
	if err != nil {
		send(workerEvent{Event: "error", Error: err.Error()})
		return exitFail
	}
	defer env.close()
	env.barrier = func(ctx context.Context, name string) error {
		snap := stats.Snapshot()
		send(workerEvent{Event: "barrier", Name: name, Stats: &snap})
		select {
		case _, ok := <-gos:
			if !ok {
				cancel()
				return fmt.Errorf("parent process went away at barrier %q", name)
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				snap := stats.Snapshot()
				send(workerEvent{Event: "progress", Stats: &snap})
			}
		}
	})
	res, err := sc.run(ctx, env)
	close(quit)
	wg.Wait()
	if res != nil {
		res.Stats = stats.Snapshot()
		send(workerEvent{Event: "result", Result: res})
	}
	if err != nil {
		send(workerEvent{Event: "error", Error: err.Error()})
		return exitFail
	}
	return exitOK
}

type procEvent struct {
	idx int
	ev  workerEvent
}

// runParent starts the workers, relays barriers, prints progress and
// merges their results into res.
func runParent(ctx context.Context, sc *scenario, env *Env, args []string, hooks, res *Result, stderr io.Writer) {
	cfg := env.cfg
	exe, err := os.Executable()
	if err != nil {
		res.fail("--procs: cannot find my own executable: %v", err)
		return
	}
	n := cfg.Procs
	events := make(chan procEvent, 64)
	stdins := make([]io.WriteCloser, n)
	var readers sync.WaitGroup
	started := 0
	for i := range n {
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Env = append(os.Environ(), workerEnv+"=1", workerIndexEnv+"="+strconv.Itoa(i))
		cmd.Stderr = stderr
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 30 * time.Second
		stdin, err1 := cmd.StdinPipe()
		stdout, err2 := cmd.StdoutPipe()
		if err := firstErr(err1, err2, cmd.Start()); err != nil {
			res.fail("starting worker %d: %v", i, err)
			break
		}
		started++
		stdins[i] = stdin
		spec, _ := json.Marshal(workerSpec{Index: i, Procs: n, Fixture: env.fx})
		stdin.Write(append(spec, '\n'))
		readers.Go(func() {
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 64*1024), 64<<20)
			for sc.Scan() {
				var ev workerEvent
				if json.Unmarshal(sc.Bytes(), &ev) == nil {
					events <- procEvent{i, ev}
				}
			}
			err := cmd.Wait()
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			events <- procEvent{i, workerEvent{Event: "exit", Error: msg}}
		})
	}
	if started < n {
		for i := range started {
			stdins[i].Close() // workers stop at their first barrier
		}
	}

	latest := make([]Snapshot, n)
	finished := make([]bool, n) // sent its result or error, or exited
	exited := 0
	gotResult := make([]bool, n)
	arrived := map[string][]bool{}
	released := map[string]bool{}
	sum := func() Snapshot {
		var s Snapshot
		for _, x := range latest {
			s.Add(x)
		}
		return s
	}
	// allThere reports whether every worker still running has reached the
	// barrier, and the connections those that did hold.
	allThere := func(at []bool) (open int64, ok bool) {
		for i := range n {
			if !at[i] && !finished[i] {
				return 0, false
			}
			if at[i] {
				open += latest[i].Open
			}
		}
		return open, true
	}
	tryRelease := func() {
		for name, at := range arrived {
			open, ok := allThere(at)
			if released[name] || !ok {
				continue
			}
			released[name] = true
			if sc.hook != nil {
				sc.hook(ctx, env, name, open, hooks)
			}
			for i := range started {
				if !finished[i] {
					stdins[i].Write([]byte("go\n"))
				}
			}
		}
	}
	var mu sync.Mutex // guards latest for the progress printer
	stop := progress(cfg, stderr, func() Snapshot { mu.Lock(); defer mu.Unlock(); return sum() })
	defer stop()
	for exited < started {
		pe := <-events
		mu.Lock()
		if pe.ev.Stats != nil {
			latest[pe.idx] = *pe.ev.Stats
		}
		mu.Unlock()
		switch pe.ev.Event {
		case "barrier":
			if arrived[pe.ev.Name] == nil {
				arrived[pe.ev.Name] = make([]bool, n)
			}
			arrived[pe.ev.Name][pe.idx] = true
		case "result":
			gotResult[pe.idx] = true
			finished[pe.idx] = true
			mu.Lock()
			latest[pe.idx] = pe.ev.Result.Stats
			mu.Unlock()
			res.merge(pe.ev.Result)
		case "error":
			finished[pe.idx] = true
			res.fail("worker %d: %s", pe.idx, pe.ev.Error)
		case "exit":
			finished[pe.idx] = true
			exited++
			stdins[pe.idx].Close()
			if !gotResult[pe.idx] {
				res.fail("worker %d ended without a result (%s)", pe.idx, pe.ev.Error)
			}
		}
		tryRelease()
	}
	readers.Wait()
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
