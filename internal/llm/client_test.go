package llm_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/llm"
	"github.com/kefu-chat/kefu/internal/llm/llmtest"
)

// sleeps records the retry delays instead of waiting them out.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func client(t *testing.T, srv *llmtest.Server, mod func(*llm.Config)) (*llm.Client, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	cfg := llm.Config{BaseURL: srv.URL + "/v1/", APIKey: "sk-test-secret", Sleep: sl.sleep, Jitter: func() float64 { return 0.5 },
		Timeouts: llm.Timeouts{Connect: 5 * time.Second, FirstToken: 5 * time.Second, Total: 10 * time.Second}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := llm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

var req = llm.Request{Model: "m", Messages: []llm.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hi"}}, Temperature: 0.2, MaxTokens: 50}

func collect() (*[]string, func(string)) {
	var got []string
	return &got, func(s string) { got = append(got, s) }
}

func TestStreamWithUsage(t *testing.T) {
	srv := llmtest.New(t)
	srv.Chat = func(w http.ResponseWriter, _ *http.Request, _ int, r llmtest.ChatRequest) {
		llmtest.Stream(w, r, []string{"你好", "，", "world"}, &llmtest.Usage{PromptTokens: 21, CompletionTokens: 3})
	}
	c, _ := client(t, srv, nil)
	got, on := collect()
	res, err := c.Stream(context.Background(), req, on)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(*got, []string{"你好", "，", "world"}) || res.Text != "你好，world" || !res.Streamed || res.FinishReason != "stop" {
		t.Fatalf("deltas %q result %+v", *got, res)
	}
	if res.Usage != (llm.Usage{PromptTokens: 21, CompletionTokens: 3}) {
		t.Fatalf("usage %+v, want the server's", res.Usage)
	}
	r := srv.Requests()[0]
	if !r.Stream || r.StreamOptions == nil || !r.StreamOptions.IncludeUsage || r.Model != "m" || r.MaxTokens != 50 || *r.Temperature != 0.2 {
		t.Fatalf("request %+v", r)
	}
	if r.Authorization != "Bearer sk-test-secret" || r.Messages[1].Role != "user" {
		t.Fatalf("request %+v", r)
	}
}

func TestStreamWithoutUsageIsEstimated(t *testing.T) {
	srv := llmtest.New(t)
	srv.Chat = func(w http.ResponseWriter, _ *http.Request, _ int, r llmtest.ChatRequest) {
		llmtest.Stream(w, r, []string{"abcdefgh", "你好"}, nil)
	}
	c, _ := client(t, srv, nil)
	res, err := c.Stream(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Usage.Estimated || res.Usage.CompletionTokens != 4 || res.Usage.PromptTokens == 0 {
		t.Fatalf("usage %+v: want an estimate (8 bytes/4 + 2 Han = 4)", res.Usage)
	}
}

func TestNonStreamingAnswer(t *testing.T) {
	srv := llmtest.New(t)
	srv.Chat = func(w http.ResponseWriter, _ *http.Request, _ int, _ llmtest.ChatRequest) {
		llmtest.Whole(w, "whole answer", &llmtest.Usage{PromptTokens: 5, CompletionTokens: 2})
	}
	c, _ := client(t, srv, nil)
	got, on := collect()
	res, err := c.Stream(context.Background(), req, on)
	if err != nil || res.Text != "whole answer" || res.Streamed || res.Usage.CompletionTokens != 2 || !slices.Equal(*got, []string{"whole answer"}) {
		t.Fatalf("res %+v err %v deltas %q", res, err, *got)
	}
	res, err = c.Complete(context.Background(), req)
	if err != nil || res.Text != "whole answer" || srv.Requests()[1].Stream {
		t.Fatalf("Complete %+v %v", res, err)
	}
}

// A server that rejects streaming with 400 is asked again without it.
func TestFallbackWhenStreamingRejected(t *testing.T) {
	srv := llmtest.New(t)
	srv.Chat = func(w http.ResponseWriter, _ *http.Request, _ int, r llmtest.ChatRequest) {
		if r.Stream {
			llmtest.WriteError(w, 400, "stream_options not supported")
			return
		}
		llmtest.Whole(w, "plain", nil)
	}
	c, _ := client(t, srv, nil)
	res, err := c.Stream(context.Background(), req, nil)
	if err != nil || res.Text != "plain" || res.Attempts != 2 {
		t.Fatalf("res %+v err %v", res, err)
	}
}

func TestRetryAfterThenSuccess(t *testing.T) {
	srv := llmtest.New(t)
	srv.Chat = func(w http.ResponseWriter, _ *http.Request, n int, r llmtest.ChatRequest) {
		if n == 0 {
			w.Header().Set("Retry-After", "3")
			llmtest.WriteError(w, 429, "rate limited")
			return
		}
		llmtest.Stream(w, r, []string{"ok"}, nil)
	}
	c, sl := client(t, srv, nil)
	res, err := c.Stream(context.Background(), req, nil)
	if err != nil || res.Text != "ok" || res.Attempts != 2 {
		t.Fatalf("res %+v err %v", res, err)
	}
	if !slices.Equal(sl.d, []time.Duration{3 * time.Second}) {
		t.Fatalf("slept %v, want Retry-After 3s", sl.d)
	}
}

func TestServerErrorsRetriedThenFail(t *testing.T) {
	srv := llmtest.New(t)
	srv.Chat = func(w http.ResponseWriter, _ *http.Request, _ int, _ llmtest.ChatRequest) {
		llmtest.WriteError(w, 503, "overloaded")
	}
	c, sl := client(t, srv, func(c *llm.Config) { c.Retries = 3; c.Backoff = 100 * time.Millisecond })
	_, err := c.Stream(context.Background(), req, nil)
	var se *llm.StatusError
	if !errors.As(err, &se) || se.Status != 503 || se.Message != "overloaded" {
		t.Fatalf("err %v", err)
	}
	if len(srv.Requests()) != 4 {
		t.Fatalf("%d requests, want 1 + 3 retries", len(srv.Requests()))
	}
	// Exponential backoff; the fixed jitter of 0.5 gives 3/4 of each step.
	want := []time.Duration{75 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond}
	if !slices.Equal(sl.d, want) {
		t.Fatalf("delays %v, want %v", sl.d, want)
	}
}

func TestClientErrorNotRetried(t *testing.T) {
	srv := llmtest.New(t)
	srv.Chat = func(w http.ResponseWriter, _ *http.Request, _ int, _ llmtest.ChatRequest) {
		llmtest.WriteError(w, 401, "bad key")
	}
	c, _ := client(t, srv, nil)
	_, err := c.Complete(context.Background(), req)
	var se *llm.StatusError
	if !errors.As(err, &se) || se.Status != 401 || len(srv.Requests()) != 1 {
		t.Fatalf("err %v after %d requests", err, len(srv.Requests()))
	}
}

// hang blocks a handler until the client goes away (or the test ends).
func hang(t *testing.T) func(*http.Request) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

func TestTimeoutBeforeFirstToken(t *testing.T) {
	srv := llmtest.New(t)
	wait := hang(t)
	srv.Chat = func(w http.ResponseWriter, r *http.Request, _ int, _ llmtest.ChatRequest) {
		llmtest.StartStream(w)
		wait(r)
	}
	c, _ := client(t, srv, func(c *llm.Config) { c.FirstToken = 50 * time.Millisecond; c.Retries = 1 })
	_, err := c.Stream(context.Background(), req, nil)
	if !errors.Is(err, llm.ErrTimeout) || !strings.Contains(err.Error(), "no text") {
		t.Fatalf("err %v, want a first-token timeout", err)
	}
	if len(srv.Requests()) != 2 {
		t.Fatalf("%d requests: a first-token timeout is retried once", len(srv.Requests()))
	}
}

func TestTimeoutBeforeHeaders(t *testing.T) {
	srv := llmtest.New(t)
	wait := hang(t)
	srv.Chat = func(w http.ResponseWriter, r *http.Request, _ int, _ llmtest.ChatRequest) { wait(r) }
	c, _ := client(t, srv, func(c *llm.Config) { c.Connect = 50 * time.Millisecond; c.Retries = -1 })
	_, err := c.Stream(context.Background(), req, nil)
	if !errors.Is(err, llm.ErrTimeout) || !strings.Contains(err.Error(), "no response") {
		t.Fatalf("err %v, want a connect timeout", err)
	}
}

// A stream that stops mid-answer ends at the total deadline with the text
// so far, and is not retried (the visitor already saw part of it).
func TestHangMidStream(t *testing.T) {
	srv := llmtest.New(t)
	wait := hang(t)
	srv.Chat = func(w http.ResponseWriter, r *http.Request, _ int, _ llmtest.ChatRequest) {
		llmtest.StartStream(w)
		llmtest.Chunk(w, "partial")
		wait(r)
	}
	c, _ := client(t, srv, func(c *llm.Config) { c.Total = 200 * time.Millisecond })
	got, on := collect()
	res, err := c.Stream(context.Background(), req, on)
	if !errors.Is(err, llm.ErrTimeout) || !strings.Contains(err.Error(), "total") {
		t.Fatalf("err %v, want the total timeout", err)
	}
	if res.Text != "partial" || !slices.Equal(*got, []string{"partial"}) || len(srv.Requests()) != 1 {
		t.Fatalf("res %+v deltas %q requests %d", res, *got, len(srv.Requests()))
	}
	if !res.Usage.Estimated || res.Usage.CompletionTokens == 0 {
		t.Fatalf("usage %+v: the partial answer still counts", res.Usage)
	}
}

func TestMalformedChunks(t *testing.T) {
	srv := llmtest.New(t)
	srv.Chat = func(w http.ResponseWriter, _ *http.Request, n int, r llmtest.ChatRequest) {
		llmtest.StartStream(w)
		switch n {
		case 0: // noise between good chunks is skipped
			llmtest.Raw(w, ": keep-alive\n\nevent: ping\ndata: {not json\n\ndata: {\"choices\":\"x\"}\n\n")
			llmtest.Chunk(w, "A")
			llmtest.Raw(w, "data: {\"choices\":[{}]}\n\ndata:\n\n")
			llmtest.Chunk(w, "B")
			llmtest.Finish(w, r, nil)
		case 1: // the body ends without [DONE] or a finish reason
			llmtest.Chunk(w, "cut")
		case 2: // an error object in the stream
			llmtest.Chunk(w, "x")
			llmtest.Raw(w, `data: {"error":{"message":"model crashed"}}`+"\n\n")
		case 3: // one huge line beyond the event limit
			llmtest.Raw(w, "data: "+strings.Repeat("x", 2<<20)+"\n\n")
		}
	}
	c, _ := client(t, srv, func(c *llm.Config) { c.Retries = -1 })
	res, err := c.Stream(context.Background(), req, nil)
	if err != nil || res.Text != "AB" {
		t.Fatalf("noise: %+v %v", res, err)
	}
	res, err = c.Stream(context.Background(), req, nil)
	if !errors.Is(err, llm.ErrMalformed) || res.Text != "cut" {
		t.Fatalf("cut: %+v %v", res, err)
	}
	res, err = c.Stream(context.Background(), req, nil)
	if err == nil || !strings.Contains(err.Error(), "model crashed") || res.Text != "x" {
		t.Fatalf("error event: %+v %v", res, err)
	}
	if _, err = c.Stream(context.Background(), req, nil); err == nil {
		t.Fatal("huge line: no error")
	}
}

func TestMalformedWholeAnswer(t *testing.T) {
	srv := llmtest.New(t)
	srv.Chat = func(w http.ResponseWriter, _ *http.Request, n int, _ llmtest.ChatRequest) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte([]string{`{"choices":[]}`, `<html>`}[n%2]))
	}
	c, _ := client(t, srv, nil)
	for range 2 {
		if _, err := c.Complete(context.Background(), req); !errors.Is(err, llm.ErrMalformed) {
			t.Fatalf("err %v", err)
		}
	}
}

func TestCancellation(t *testing.T) {
	srv := llmtest.New(t)
	wait := hang(t)
	srv.Chat = func(w http.ResponseWriter, r *http.Request, _ int, _ llmtest.ChatRequest) {
		llmtest.StartStream(w)
		llmtest.Chunk(w, "first")
		wait(r)
	}
	c, _ := client(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := c.Stream(ctx, req, func(string) { cancel() })
	if !errors.Is(err, context.Canceled) || res.Text != "first" || len(srv.Requests()) != 1 {
		t.Fatalf("res %+v err %v", res, err)
	}
}

func TestEmbeddings(t *testing.T) {
	srv := llmtest.New(t)
	c, _ := client(t, srv, nil)
	inputs := make([]string, llm.MaxEmbedBatch+3)
	for i := range inputs {
		inputs[i] = strings.Repeat("ab ", i+1)
	}
	vecs, u, err := c.Embed(context.Background(), "emb", inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(inputs) || vecs[4][0] != 5 || vecs[4][1] != 5 || u.Estimated || u.PromptTokens == 0 {
		t.Fatalf("%d vectors, [4]=%v, usage %+v", len(vecs), vecs[4][:2], u)
	}
	if rq := srv.EmbedRequests(); len(rq) != 2 || len(rq[0]) != llm.MaxEmbedBatch {
		t.Fatalf("batches %d", len(rq))
	}
	if sim := llm.Cosine(vecs[0], vecs[9]); sim < 0.999 {
		t.Fatalf("cosine %v", sim)
	}
}

func TestEmbeddingsMalformed(t *testing.T) {
	srv := llmtest.New(t)
	srv.Embedding = func(s string) []float32 {
		if s == "short" {
			return []float32{1}
		}
		return []float32{1, 2}
	}
	c, _ := client(t, srv, nil)
	if _, _, err := c.Embed(context.Background(), "emb", []string{"a", "short"}); !errors.Is(err, llm.ErrMalformed) {
		t.Fatalf("err %v", err)
	}
}

func TestBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "javascript:alert(1)"} {
		if _, err := llm.New(llm.Config{BaseURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
