package bot

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSource is a test source with a latency, a priority and an outcome;
// hang blocks until the pipeline cancels it.
type fakeSource struct {
	name  string
	prio  int
	delay time.Duration
	text  string
	err   error
	hang  bool
	delta []string
}

func (f *fakeSource) Name() string  { return f.name }
func (f *fakeSource) Priority() int { return f.prio }
func (f *fakeSource) Answer(ctx context.Context, q Question) (*Reply, error) {
	for _, d := range f.delta {
		if q.Delta != nil {
			q.Delta(f.name, d)
		}
	}
	if f.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.err != nil {
		return nil, f.err
	}
	if f.text == "" {
		return nil, nil
	}
	return &Reply{Text: f.text, Confidence: 0.9}, nil
}

// settle waits until the goroutine count falls back to base.
func settle(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines leaked: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func outcomes(r Result) map[string]string {
	m := map[string]string{}
	for _, a := range r.Attempts {
		m[a.Source] = a.Outcome
	}
	return m
}

func TestRunPicksHighestPriorityValidAnswer(t *testing.T) {
	base := runtime.NumGoroutine()
	cases := []struct {
		name    string
		sources []Source
		winner  string
		want    map[string]string
	}{
		{"slow high priority beats fast low priority", []Source{
			&fakeSource{name: "low", prio: 1, delay: 0, text: "low"},
			&fakeSource{name: "high", prio: 9, delay: 30 * time.Millisecond, text: "high"},
		}, "high", map[string]string{"low": "answer", "high": "answer"}},
		{"high priority with nothing lets the lower answer", []Source{
			&fakeSource{name: "low", prio: 1, delay: 10 * time.Millisecond, text: "low"},
			&fakeSource{name: "high", prio: 9, delay: 0},
		}, "low", map[string]string{"low": "answer", "high": "none"}},
		{"an error and a hang do not block a valid answer past the deadline", []Source{
			&fakeSource{name: "boom", prio: 9, err: errors.New("boom")},
			&fakeSource{name: "hang", prio: 5, hang: true},
			&fakeSource{name: "ok", prio: 1, text: "ok"},
		}, "ok", map[string]string{"boom": "error", "hang": "timeout", "ok": "answer"}},
		{"a valid high answer cancels the hanging lower one", []Source{
			&fakeSource{name: "hang", prio: 1, hang: true},
			&fakeSource{name: "kb", prio: 9, text: "kb"},
		}, "kb", map[string]string{"hang": "cancelled", "kb": "answer"}},
		{"nobody answers", []Source{
			&fakeSource{name: "boom", prio: 9, err: errors.New("boom")},
			&fakeSource{name: "none", prio: 1},
		}, "", map[string]string{"boom": "error", "none": "none"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Run(context.Background(), c.sources, Question{Text: "q"}, 200*time.Millisecond)
			if r.Winner != c.winner {
				t.Fatalf("winner %q, want %q (%+v)", r.Winner, c.winner, r.Attempts)
			}
			for k, v := range c.want {
				if outcomes(r)[k] != v {
					t.Errorf("%s: outcome %q, want %q", k, outcomes(r)[k], v)
				}
			}
		})
	}
	settle(t, base)
}

// TestRunDeadline: with a hanging top source, Run returns at the deadline
// (it does not wait for the hang) and reports it; the sources' goroutines
// end once cancelled.
func TestRunDeadline(t *testing.T) {
	base := runtime.NumGoroutine()
	done := make(chan Result, 1)
	go func() {
		done <- Run(context.Background(), []Source{&fakeSource{name: "hang", prio: 9, hang: true}, &fakeSource{name: "ok", prio: 1, text: "ok"}},
			Question{Text: "q"}, 50*time.Millisecond)
	}()
	select {
	case r := <-done:
		if r.Winner != "ok" || outcomes(r)["hang"] != "timeout" {
			t.Fatalf("got %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return at its deadline")
	}
	settle(t, base)
}

// TestRunGatesStreaming: pieces streamed by a low-priority source reach
// the visitor only once the higher ones finished without an answer.
func TestRunGatesStreaming(t *testing.T) {
	var mu sync.Mutex
	var got []string
	q := Question{Text: "q", Delta: func(src, text string) { mu.Lock(); got = append(got, src+":"+text); mu.Unlock() }}
	r := Run(context.Background(), []Source{
		&fakeSource{name: "llm", prio: 1, delta: []string{"a", "b"}, delay: 20 * time.Millisecond, text: "ab"},
		&fakeSource{name: "kb", prio: 9, text: "kb answer", delay: 5 * time.Millisecond},
	}, q, time.Second)
	if r.Winner != "kb" {
		t.Fatalf("winner %q", r.Winner)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 0 {
		t.Fatalf("a losing source streamed to the visitor: %v", got)
	}
}

// TestRunReleasesBufferedStream: a lower source that streamed its whole
// answer while a higher one was still working has its pieces held back;
// once the higher source finishes without an answer, every piece reaches
// the visitor, in order, before Run returns (the answer is then stored).
func TestRunReleasesBufferedStream(t *testing.T) {
	var mu sync.Mutex
	var got []string
	q := Question{Text: "q", Delta: func(src, text string) { mu.Lock(); got = append(got, src+":"+text); mu.Unlock() }}
	r := Run(context.Background(), []Source{
		&fakeSource{name: "llm", prio: 1, delta: []string{"a", "b", "c"}, text: "abc"},
		&fakeSource{name: "intents", prio: 5, delay: 30 * time.Millisecond},
		&fakeSource{name: "kb", prio: 9, delay: 60 * time.Millisecond},
	}, q, time.Second)
	if r.Winner != "llm" {
		t.Fatalf("winner %q", r.Winner)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, ",") != "llm:a,llm:b,llm:c" {
		t.Fatalf("streamed %v, want every piece of the winner in order", got)
	}
}
