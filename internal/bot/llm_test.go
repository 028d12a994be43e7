package bot

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/llm/llmtest"
	"github.com/kefu-chat/kefu/internal/secret"
	"github.com/kefu-chat/kefu/internal/store/sqlite"
)

type llmFixture struct {
	store *sqlite.Store
	ws    int64
	k     *Knowledge
	p     *LLMProvider
	srv   *llmtest.Server
	now   time.Time
}

func newLLMFixture(t *testing.T, mod func(*kefu.LLMSettings)) *llmFixture {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kefu.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ws := &kefu.Workspace{Name: "w"}
	if err := store.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	k := NewKnowledge(store, func() (*kb.Tokenizer, error) { return kb.NewTokenizer(kb.Bigrams{}), nil }, nil)
	box, _ := secret.NewBox(bytes.Repeat([]byte{3}, 32))
	f := &llmFixture{store: store, ws: ws.ID, k: k, srv: llmtest.New(t), now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	f.p = &LLMProvider{Store: store, Knowledge: k, Box: box, Now: func() time.Time { return f.now }, Deadline: 15 * time.Second}
	k.SetEmbedder(f.p.Embed)
	sealed, _ := box.Seal([]byte("sk-live-123"), KeyAD(ws.ID))
	ls := &kefu.LLMSettings{WorkspaceID: ws.ID, Enabled: true, BaseURL: f.srv.URL, Model: "qwen", APIKeyEnc: sealed, Grounded: true,
		Temperature: 0.3, MaxTokens: 200, PromptPricePer1K: 0.5, CompletionPricePer1K: 2}
	if mod != nil {
		mod(ls)
	}
	if err := store.PutLLMSettings(ctx, ls); err != nil {
		t.Fatal(err)
	}
	if err := k.PutFAQ(ctx, &kefu.FAQ{WorkspaceID: ws.ID, Answer: "Refunds reach your card within 5 working days.",
		Questions: []string{"when do I get my refund"}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return f
}

// ask runs the KB and LLM sources through the pipeline, as the bot does.
func (f *llmFixture) ask(t *testing.T, text string) (Result, []string) {
	t.Helper()
	ctx := t.Context()
	base, err := f.k.Base(ctx, f.ws)
	if err != nil {
		t.Fatal(err)
	}
	sources := []Source{&KBSource{Base: base, Prio: PriorityKB}}
	s, err := f.p.Source(ctx, f.ws)
	if err != nil {
		t.Fatal(err)
	}
	if s != nil {
		sources = append(sources, s)
	}
	var mu sync.Mutex
	var deltas []string
	q := Question{WorkspaceID: f.ws, Text: text, Delta: func(src, piece string) {
		mu.Lock()
		defer mu.Unlock()
		if src != "llm" {
			t.Errorf("delta from %s", src)
		}
		deltas = append(deltas, piece)
	}}
	res := Run(ctx, sources, q, 10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	return res, slices.Clone(deltas)
}

func TestLLMSourceStreamsGroundedAnswer(t *testing.T) {
	f := newLLMFixture(t, nil)
	f.srv.Chat = func(w http.ResponseWriter, _ *http.Request, _ int, r llmtest.ChatRequest) {
		llmtest.Stream(w, r, []string{"Your refund ", "arrives within ", "5 working days."}, &llmtest.Usage{PromptTokens: 1000, CompletionTokens: 500})
	}
	res, deltas := f.ask(t, "my refund, how long does it take to show up?")
	if res.Winner != "llm" || res.Reply.Text != "Your refund arrives within 5 working days." {
		t.Fatalf("result %+v", res)
	}
	if strings.Join(deltas, "") != res.Reply.Text || len(deltas) != 3 {
		t.Fatalf("deltas %q", deltas)
	}
	reqs := f.srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Authorization != "Bearer sk-live-123" || r.Model != "qwen" || r.MaxTokens != 200 {
		t.Fatalf("request %+v", r)
	}
	if r.Messages[0].Role != "system" || r.Messages[1].Role != "system" || !strings.Contains(r.Messages[1].Content, "5 working days") {
		t.Fatalf("context not in the second system message: %+v", r.Messages)
	}
	if r.Messages[2].Role != "user" || r.Messages[2].Content != "my refund, how long does it take to show up?" {
		t.Fatalf("user message %+v", r.Messages[2])
	}
	for _, m := range r.Messages {
		if strings.Contains(m.Content, "sk-live") || strings.Contains(m.Content, f.srv.URL) {
			t.Fatal("configuration in the prompt")
		}
	}
	d := res.Reply.Detail
	if d["prompt_tokens"] != 1000 || d["completion_tokens"] != 500 || d["usage_estimated"] != false || d["retrieval"] != "bm25" {
		t.Fatalf("detail %+v", d)
	}
	u, _ := f.store.GetLLMUsage(t.Context(), f.ws, "2026-03-01")
	if u.Requests != 1 || u.PromptTokens != 1000 || u.CompletionTokens != 500 || u.Cost != 0.5+1 {
		t.Fatalf("usage %+v", u)
	}
}

// A question the knowledge base answers confidently costs no tokens; a
// grounded model with nothing to ground on is not called either.
func TestLLMSourceSpendsNoTokensNeedlessly(t *testing.T) {
	f := newLLMFixture(t, nil)
	res, deltas := f.ask(t, "when do I get my refund")
	if res.Winner != "kb" || len(deltas) != 0 {
		t.Fatalf("result %+v deltas %q", res, deltas)
	}
	res, _ = f.ask(t, "qwertyuiop zxcvbnm")
	if res.Reply != nil {
		t.Fatalf("grounded answer without context: %+v", res.Reply)
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Fatalf("%d model requests", n)
	}
}

// Once the day's tokens reach the cap the model is skipped (recorded in
// the decision) and the knowledge base still answers; the next day it
// runs again.
func TestLLMDailyCap(t *testing.T) {
	f := newLLMFixture(t, func(ls *kefu.LLMSettings) { ls.DailyTokenCap = 1200; ls.Grounded = false })
	f.srv.Chat = func(w http.ResponseWriter, _ *http.Request, _ int, r llmtest.ChatRequest) {
		llmtest.Stream(w, r, []string{"ok"}, &llmtest.Usage{PromptTokens: 1000, CompletionTokens: 300})
	}
	if res, _ := f.ask(t, "do you sell gift cards"); res.Winner != "llm" {
		t.Fatalf("first %+v", res)
	}
	res, deltas := f.ask(t, "do you sell gift cards")
	if res.Reply != nil || len(deltas) != 0 {
		t.Fatalf("over the cap: %+v", res)
	}
	var llmAttempt Attempt
	for _, a := range res.Attempts {
		if a.Source == "llm" {
			llmAttempt = a
		}
	}
	if llmAttempt.Outcome != "skipped" || !strings.Contains(llmAttempt.Error, "daily token cap") {
		t.Fatalf("attempts %+v", res.Attempts)
	}
	if res, _ := f.ask(t, "when do I get my refund"); res.Winner != "kb" {
		t.Fatalf("KB over the cap: %+v", res)
	}
	if n := len(f.srv.Requests()); n != 1 {
		t.Fatalf("%d model requests", n)
	}
	f.now = f.now.Add(24 * time.Hour)
	if res, _ := f.ask(t, "do you sell gift cards"); res.Winner != "llm" {
		t.Fatalf("next day %+v", res)
	}
}

// A model that fails before any text leaves the turn unanswered (the bot
// falls back); one cut off mid-stream is stored as far as it came.
func TestLLMSourceFailures(t *testing.T) {
	f := newLLMFixture(t, func(ls *kefu.LLMSettings) { ls.Grounded = false; ls.TimeoutMS = 300 })
	f.srv.Chat = func(w http.ResponseWriter, r *http.Request, n int, req llmtest.ChatRequest) {
		if strings.Contains(req.Messages[2].Content, "fail") {
			llmtest.WriteError(w, 401, "bad key")
			return
		}
		llmtest.StartStream(w)
		llmtest.Chunk(w, "Gift cards are")
		<-r.Context().Done()
	}
	res, _ := f.ask(t, "fail please")
	if res.Reply != nil || !strings.Contains(res.Attempts[1].Error, "401") {
		t.Fatalf("failure %+v", res)
	}
	res, deltas := f.ask(t, "gift cards?")
	if res.Winner != "llm" || res.Reply.Text != "Gift cards are …" || res.Reply.Meta["truncated"] != true || len(deltas) != 1 {
		t.Fatalf("cut %+v %q", res.Reply, deltas)
	}
	if u, _ := f.store.GetLLMUsage(t.Context(), f.ws, "2026-03-01"); u.Requests != 2 || u.CompletionTokens == 0 {
		t.Fatalf("usage %+v: the cut answer's tokens count too", u)
	}
}

// With an embedding model, new passages are embedded and stored with
// their vectors, and retrieval fuses them with BM25.
func TestLLMEmbeddings(t *testing.T) {
	f := newLLMFixture(t, func(ls *kefu.LLMSettings) { ls.EmbeddingModel = "bge"; ls.Grounded = false })
	ctx := context.Background()
	doc := &kefu.Document{WorkspaceID: f.ws, Title: "Care", Format: "text"}
	if err := f.k.AddDocument(ctx, doc, "Wash wool jumpers by hand in cold water.\n\nDry them flat."); err != nil {
		t.Fatal(err)
	}
	ps, _ := f.store.ListPassages(ctx, f.ws)
	if len(ps) == 0 || len(ps[0].Embedding) != 27 {
		t.Fatalf("passages %+v", ps)
	}
	if len(f.k.Vectors(f.ws)) != len(ps) {
		t.Fatalf("vectors %d", len(f.k.Vectors(f.ws)))
	}
	res, _ := f.ask(t, "how should I wash a wool jumper")
	if res.Winner != "llm" || res.Reply.Detail["retrieval"] != "bm25+embeddings" {
		t.Fatalf("result %+v", res.Reply)
	}
	if !strings.Contains(f.srv.Requests()[0].Messages[1].Content, "Wash wool jumpers") {
		t.Fatal("passage not in the prompt")
	}
	// A restart loads the vectors from the store.
	k2 := NewKnowledge(f.store, func() (*kb.Tokenizer, error) { return kb.NewTokenizer(kb.Bigrams{}), nil }, nil)
	if _, err := k2.Base(ctx, f.ws); err != nil || len(k2.Vectors(f.ws)) != len(ps) {
		t.Fatalf("reloaded vectors %d %v", len(k2.Vectors(f.ws)), err)
	}
	if err := f.k.DeleteDocument(ctx, f.ws, doc.ID); err != nil || len(f.k.Vectors(f.ws)) != 0 {
		t.Fatalf("vectors after delete %d %v", len(f.k.Vectors(f.ws)), err)
	}
}

// No model configured: no source, and documents are stored without
// embeddings.
func TestNoLLMConfigured(t *testing.T) {
	f := newLLMFixture(t, func(ls *kefu.LLMSettings) { ls.Enabled = false; ls.EmbeddingModel = "bge" })
	if s, err := f.p.Source(t.Context(), f.ws); s != nil || err != nil {
		t.Fatalf("%v %v", s, err)
	}
	if err := f.k.AddDocument(t.Context(), &kefu.Document{WorkspaceID: f.ws, Title: "x", Format: "text"}, "some text"); err != nil {
		t.Fatal(err)
	}
	if len(f.srv.EmbedRequests()) != 0 {
		t.Fatal("embedded without a model")
	}
}
