// Package llm is Kefu's connector to a language model that speaks the
// OpenAI-compatible HTTP API (hosted services, Ollama, vLLM and others):
// chat completions streamed as server-sent events, a non-streaming
// fallback, embeddings, timeouts, retries and token accounting.
//
// It knows nothing of the bot or the store: internal/bot builds prompts
// and records usage.
package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role"` // system, user or assistant
	Content string `json:"content"`
}

// Request is one chat completion.
type Request struct {
	Model       string
	Messages    []Message
	Temperature float64
	MaxTokens   int // 0: the server's default
}

// Usage counts tokens. Estimated is true when the server did not report
// usage and the counts were estimated from text length.
type Usage struct {
	PromptTokens     int  `json:"prompt_tokens"`
	CompletionTokens int  `json:"completion_tokens"`
	Estimated        bool `json:"estimated"`
}

// Total is prompt plus completion tokens.
func (u Usage) Total() int { return u.PromptTokens + u.CompletionTokens }

// Result is a finished (or interrupted) completion.
type Result struct {
	Text         string
	FinishReason string
	Usage        Usage
	// Attempts is how many HTTP requests were made (1 + retries).
	Attempts int
	// Streamed reports that the answer arrived as server-sent events.
	Streamed bool
}

// Timeouts bound one completion. Connect covers dialling and waiting for
// the response headers, FirstToken the time until the first piece of
// text (or the whole body of a non-streamed answer), Total the whole call
// including retries.
type Timeouts struct {
	Connect    time.Duration
	FirstToken time.Duration
	Total      time.Duration
}

// Config configures a Client.
type Config struct {
	BaseURL string // e.g. https://api.openai.com or http://127.0.0.1:11434
	APIKey  string // sent as a bearer token; empty: none (local servers)
	HTTP    *http.Client
	Timeouts
	// Retries is how many times a request is retried on 429, 5xx or a
	// network error before any text arrived (default 2; negative: none).
	Retries int
	// Backoff is the first retry delay, doubled each time, with jitter
	// (default 500ms); MaxBackoff caps it and a server's Retry-After
	// (default 10s).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Jitter returns a number in [0,1); nil: math/rand.
	Jitter func() float64
	// Sleep waits d or until ctx is done; nil: a timer. Tests inject one.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client calls one model server. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string
}

// New returns a client; BaseURL must be an http or https URL.
func New(cfg Config) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("llm: base URL must start with http:// or https://")
	}
	// Accept a base URL given with or without the /v1 suffix.
	base = strings.TrimSuffix(base, "/v1")
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext, MaxIdleConnsPerHost: 16}}
	}
	if cfg.Connect <= 0 {
		cfg.Connect = 10 * time.Second
	}
	if cfg.FirstToken <= 0 {
		cfg.FirstToken = 20 * time.Second
	}
	if cfg.Total <= 0 {
		cfg.Total = 60 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 2
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &Client{cfg: cfg, base: base}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Error kinds, for errors.Is.
var (
	// ErrTimeout: a connect, first-token or total deadline passed.
	ErrTimeout = errors.New("llm: timeout")
	// ErrMalformed: the server's answer could not be understood.
	ErrMalformed = errors.New("llm: malformed response")
)

// StatusError is a non-2xx answer from the server.
type StatusError struct {
	Status     int
	Message    string
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("llm: server answered %d: %s", e.Status, e.Message)
}

func (e *StatusError) retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// chatBody is the wire request.
type chatBody struct {
	Model         string         `json:"model"`
	Messages      []Message      `json:"messages"`
	Temperature   *float64       `json:"temperature,omitempty"`
	MaxTokens     int            `json:"max_tokens,omitempty"`
	Stream        bool           `json:"stream"`
	StreamOptions *streamOptions `json:"stream_options,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// wireUsage is usage as the server reports it.
type wireUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// chunk is one streamed event (and, with Message set, a whole answer).
type chunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		Message *struct {
			Content string `json:"content"`
		} `json:"message"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *wireUsage `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Stream runs a chat completion, streaming: onDelta receives each piece
// of text as it arrives (it may be nil). A server that ignores "stream"
// and answers with one JSON document is accepted too (the non-streaming
// fallback). Requests are retried only before any text was passed to
// onDelta: a retry after that would show the visitor a second answer.
//
// On an error after text arrived, the partial Result is returned with the
// error, so the caller can still account for the tokens.
func (c *Client) Stream(ctx context.Context, req Request, onDelta func(string)) (Result, error) {
	return c.chat(ctx, req, true, onDelta)
}

// Complete runs a chat completion without streaming.
func (c *Client) Complete(ctx context.Context, req Request) (Result, error) {
	return c.chat(ctx, req, false, nil)
}

func (c *Client) chat(ctx context.Context, req Request, stream bool, onDelta func(string)) (Result, error) {
	body := chatBody{Model: req.Model, Messages: req.Messages, MaxTokens: req.MaxTokens, Stream: stream}
	if req.Temperature > 0 {
		t := req.Temperature
		body.Temperature = &t
	}
	if stream {
		body.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Total, fmt.Errorf("%w: total %s", ErrTimeout, c.cfg.Total))
	defer cancel()
	var res Result
	attempts := 0
	err = c.retry(ctx, &attempts, func(ctx context.Context) (bool, error) {
		r, sent, err := c.once(ctx, raw, onDelta)
		var se *StatusError
		if stream && errors.As(err, &se) && (se.Status == http.StatusBadRequest || se.Status == http.StatusUnprocessableEntity) {
			// Some servers reject stream options they do not know: ask
			// again without streaming (the non-streaming fallback).
			plain := body
			plain.Stream, plain.StreamOptions = false, nil
			if raw2, err2 := json.Marshal(plain); err2 == nil {
				attempts++
				r, sent, err = c.once(ctx, raw2, onDelta)
			}
		}
		res = r
		return sent, err
	})
	res.Attempts = attempts
	if res.Usage == (Usage{}) || res.Usage.Estimated {
		res.Usage = Estimate(req.Messages, res.Text)
	}
	return res, err
}

// retry calls f until it succeeds, fails for good, or has been retried
// cfg.Retries times. f reports whether it already passed text on; then
// nothing is retried.
func (c *Client) retry(ctx context.Context, attempts *int, f func(context.Context) (bool, error)) error {
	for n := 0; ; n++ {
		*attempts = n + 1
		sent, err := f(ctx)
		if err == nil || sent || n >= c.cfg.Retries || !retryable(err) || ctx.Err() != nil {
			return c.ctxErr(ctx, err)
		}
		if err := c.cfg.Sleep(ctx, c.delay(n, err)); err != nil {
			return c.ctxErr(ctx, err)
		}
	}
}

// ctxErr prefers the context's cause (e.g. the total timeout) over the
// transport's wrapping of it.
func (c *Client) ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
	}
	return err
}

func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.retryable()
	}
	if errors.Is(err, ErrMalformed) || errors.Is(err, context.Canceled) {
		return false
	}
	// Network errors and connect/first-token timeouts.
	return true
}

// delay is the wait before retry n+1: the server's Retry-After if it gave
// one, else exponential backoff with full jitter in [d/2, d).
func (c *Client) delay(n int, err error) time.Duration {
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return min(se.RetryAfter, c.cfg.MaxBackoff)
	}
	d := min(c.cfg.Backoff<<n, c.cfg.MaxBackoff)
	return d/2 + time.Duration(c.cfg.Jitter()*float64(d/2))
}

// once makes one request. The returned bool says whether text was passed
// to onDelta.
func (c *Client) once(ctx context.Context, raw []byte, onDelta func(string)) (Result, bool, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// One watchdog covers connect and first token: it is stopped by the
	// first piece of text, or moved from the connect to the first-token
	// limit once headers arrived.
	watch := time.AfterFunc(c.cfg.Connect, func() {
		cancel(fmt.Errorf("%w: no response within %s", ErrTimeout, c.cfg.Connect))
	})
	defer watch.Stop()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/chat/completions", bytes.NewReader(raw))
	if err != nil {
		return Result{}, false, err
	}
	c.headers(hr)
	resp, err := c.cfg.HTTP.Do(hr)
	if err != nil {
		return Result{}, false, causeOr(ctx, err)
	}
	defer resp.Body.Close()
	if err := statusErr(resp); err != nil {
		return Result{}, false, err
	}
	watch.Stop()
	watch = time.AfterFunc(c.cfg.FirstToken, func() {
		cancel(fmt.Errorf("%w: no text within %s", ErrTimeout, c.cfg.FirstToken))
	})
	defer watch.Stop()
	ct := resp.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "text/event-stream") {
		r, err := readWhole(resp.Body)
		if err != nil {
			return r, false, causeOr(ctx, err)
		}
		if onDelta != nil && r.Text != "" {
			onDelta(r.Text)
			return r, true, nil
		}
		return r, false, nil
	}
	r, sent, err := readStream(resp.Body, func(s string) {
		watch.Stop()
		if onDelta != nil {
			onDelta(s)
		}
	})
	r.Streamed = true
	return r, sent, causeOr(ctx, err)
}

func (c *Client) headers(hr *http.Request) {
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "text/event-stream, application/json")
	if c.cfg.APIKey != "" {
		hr.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
}

// causeOr returns the context's cause when it ended, since the transport's
// error then only says "context canceled".
func causeOr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		if c := context.Cause(ctx); c != nil {
			return c
		}
	}
	return err
}

// statusErr turns a non-2xx response into a StatusError with the server's
// message (bounded) and Retry-After.
func statusErr(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	se := &StatusError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode), RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var e chunk
	if json.Unmarshal(b, &e) == nil && e.Error != nil && e.Error.Message != "" {
		se.Message = truncate(e.Error.Message, 300)
	}
	return se
}

// retryAfter parses delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// maxEvent bounds one server-sent event line.
const maxEvent = 1 << 20

// readStream reads server-sent events until [DONE] or the end of the
// body. Lines that are not data (comments, event names, ids) are
// skipped; a data line that is not JSON is skipped too, as some servers
// send keep-alive noise, but an error object ends the stream.
func readStream(body io.Reader, onDelta func(string)) (Result, bool, error) {
	var r Result
	var text strings.Builder
	sent := false
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEvent)
	done := false
	for !done && sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			done = true
			break
		}
		var ch chunk
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			continue
		}
		if ch.Error != nil {
			r.Text = text.String()
			return r, sent, fmt.Errorf("llm: server error in stream: %s", truncate(ch.Error.Message, 300))
		}
		if ch.Usage != nil {
			r.Usage = Usage{PromptTokens: ch.Usage.PromptTokens, CompletionTokens: ch.Usage.CompletionTokens}
		}
		for _, c := range ch.Choices {
			if c.FinishReason != nil && *c.FinishReason != "" {
				r.FinishReason = *c.FinishReason
			}
			if s := c.Delta.Content; s != "" {
				text.WriteString(s)
				onDelta(s)
				sent = true
			}
		}
	}
	r.Text = text.String()
	if err := sc.Err(); err != nil {
		return r, sent, err
	}
	if !done && r.FinishReason == "" {
		// The body ended without [DONE] or a finish reason: the answer
		// may be cut short.
		return r, sent, fmt.Errorf("%w: stream ended early", ErrMalformed)
	}
	return r, sent, nil
}

// readWhole reads a non-streamed answer.
func readWhole(body io.Reader) (Result, error) {
	b, err := io.ReadAll(io.LimitReader(body, 4<<20))
	if err != nil {
		return Result{}, err
	}
	var ch chunk
	if err := json.Unmarshal(b, &ch); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(ch.Choices) == 0 || ch.Choices[0].Message == nil {
		return Result{}, fmt.Errorf("%w: no choices", ErrMalformed)
	}
	r := Result{Text: ch.Choices[0].Message.Content}
	if f := ch.Choices[0].FinishReason; f != nil {
		r.FinishReason = *f
	}
	if ch.Usage != nil {
		r.Usage = Usage{PromptTokens: ch.Usage.PromptTokens, CompletionTokens: ch.Usage.CompletionTokens}
	}
	return r, nil
}

// Estimate guesses token counts from text length when the server does
// not report usage: about one token per Han character and one per four
// bytes of other text, plus a few tokens of framing per message. It is an
// estimate for cost caps, not a tokenizer.
func Estimate(msgs []Message, completion string) Usage {
	u := Usage{Estimated: true, CompletionTokens: estimateText(completion)}
	for _, m := range msgs {
		u.PromptTokens += 4 + estimateText(m.Content)
	}
	return u
}

func estimateText(s string) int {
	han, other := 0, 0
	for _, r := range s {
		if r >= 0x2E80 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF {
			han++
		} else {
			other += utf8.RuneLen(r)
		}
	}
	return han + (other+3)/4
}
