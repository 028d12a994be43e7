// Package llmtest is a local stand-in for an OpenAI-compatible model
// server, for tests: it speaks the real wire format (chat completions as
// server-sent events or one JSON document, embeddings) and records what it
// was asked. Each test scripts its answers with a Handler.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// ChatRequest is a chat completion request as received.
type ChatRequest struct {
	Model         string `json:"model"`
	Messages      []struct{ Role, Content string }
	Temperature   *float64 `json:"temperature"`
	MaxTokens     int      `json:"max_tokens"`
	Stream        bool     `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Authorization string `json:"-"`
}

// Handler answers the n-th chat request (counting from 0).
type Handler func(w http.ResponseWriter, r *http.Request, n int, req ChatRequest)

// Server is a fake model server.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	chats []ChatRequest
	embed [][]string
	// Chat answers chat completions; nil: Stream("Hello", " world").
	Chat Handler
	// Embedding returns the vector of one input; nil: a bag of letters.
	Embedding func(input string) []float32
}

// New starts a server closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("POST /v1/embeddings", s.embeddings)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Requests returns the chat requests received so far.
func (s *Server) Requests() []ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChatRequest(nil), s.chats...)
}

// EmbedRequests returns the inputs of each embeddings request.
func (s *Server) EmbedRequests() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.embed...)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req ChatRequest
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &req); err != nil || req.Model == "" || len(req.Messages) == 0 {
		WriteError(w, http.StatusBadRequest, "invalid request")
		return
	}
	req.Authorization = r.Header.Get("Authorization")
	s.mu.Lock()
	n := len(s.chats)
	s.chats = append(s.chats, req)
	h := s.Chat
	s.mu.Unlock()
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request, _ int, req ChatRequest) {
			Stream(w, req, []string{"Hello", " world"}, &Usage{PromptTokens: 12, CompletionTokens: 2})
		}
	}
	h(w, r, n, req)
}

// Usage is the usage object of the wire format.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// StartStream writes the event-stream headers.
func StartStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flush(w)
}

// Chunk writes one chat.completion.chunk event carrying text.
func Chunk(w http.ResponseWriter, text string) {
	Event(w, map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "fake",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": text}, "finish_reason": nil}}})
}

// Event writes one data event with v as JSON.
func Event(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	Raw(w, "data: "+string(b)+"\n\n")
}

// Raw writes s to the stream as is.
func Raw(w http.ResponseWriter, s string) {
	io.WriteString(w, s)
	flush(w)
}

// Finish writes the finishing chunk, the usage chunk if u is set and the
// request asked for it, and [DONE].
func Finish(w http.ResponseWriter, req ChatRequest, u *Usage) {
	Event(w, map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "fake",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
	if u != nil && req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
		Event(w, map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "fake",
			"choices": []any{}, "usage": u})
	}
	Raw(w, "data: [DONE]\n\n")
}

// Stream answers with pieces as a stream (or as one JSON document if the
// request did not ask for streaming).
func Stream(w http.ResponseWriter, req ChatRequest, pieces []string, u *Usage) {
	if !req.Stream {
		Whole(w, strings.Join(pieces, ""), u)
		return
	}
	StartStream(w)
	Raw(w, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n")
	for _, p := range pieces {
		Chunk(w, p)
	}
	Finish(w, req, u)
}

// Whole answers with one chat.completion document.
func Whole(w http.ResponseWriter, text string, u *Usage) {
	v := map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "fake",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}}}
	if u != nil {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
		v["usage"] = u
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// WriteError answers with the wire format's error document.
func WriteError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":"server_error","code":null}}`, msg)
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" {
		WriteError(w, http.StatusBadRequest, "invalid request")
		return
	}
	s.mu.Lock()
	s.embed = append(s.embed, req.Input)
	f := s.Embedding
	s.mu.Unlock()
	if f == nil {
		f = Letters
	}
	data := make([]any, len(req.Input))
	tokens := 0
	for i, in := range req.Input {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": f(in)}
		tokens += len(strings.Fields(in))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens}})
}

// Letters is a toy embedding: counts of the letters a–z and of other
// characters, so texts sharing letters are near each other.
func Letters(s string) []float32 {
	v := make([]float32, 27)
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' {
			v[r-'a']++
		} else if r > 127 {
			v[26]++
		}
	}
	return v
}
