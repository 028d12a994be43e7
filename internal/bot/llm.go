package bot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/llm"
	"github.com/kefu-chat/kefu/internal/secret"
)

// LLMProvider builds a workspace's language-model source from its stored
// settings (Options.LLM is its Source method) and embeds passages for
// semantic retrieval (Knowledge.SetEmbedder takes its Embed method).
type LLMProvider struct {
	Store     kefu.BotStore
	Knowledge *Knowledge
	Box       *secret.Box
	HTTP      *http.Client // nil: the connector's default
	Now       func() time.Time
	Log       *slog.Logger
	// Deadline is the pipeline's deadline: a model call is given a bit
	// less, so a slow answer ends (and is stored) before the pipeline
	// gives up on it.
	Deadline time.Duration
}

// MinContextConfidence is the retrieval confidence below which a hit is
// not put in front of the model.
const MinContextConfidence = 0.12

// contextItems is how many knowledge-base pieces go into a prompt.
const contextItems = 5

// KeyAD binds a sealed API key to its workspace.
func KeyAD(workspaceID int64) []byte {
	return []byte("kefu-llm-key:" + strconv.FormatInt(workspaceID, 10))
}

// Day is the usage day (UTC) of t.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func (p *LLMProvider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *LLMProvider) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.New(slog.DiscardHandler)
}

// client builds a connector for the settings (nil settings: none).
func (p *LLMProvider) client(ls *kefu.LLMSettings) (*llm.Client, error) {
	var key string
	if len(ls.APIKeyEnc) > 0 {
		if p.Box == nil {
			return nil, fmt.Errorf("llm: no server key to open the API key")
		}
		b, err := p.Box.Open(ls.APIKeyEnc, KeyAD(ls.WorkspaceID))
		if err != nil {
			return nil, err
		}
		key = string(b)
	}
	total := time.Duration(ls.TimeoutMS) * time.Millisecond
	if total <= 0 {
		total = 30 * time.Second
	}
	if p.Deadline > time.Second && total > p.Deadline-500*time.Millisecond {
		total = p.Deadline - 500*time.Millisecond
	}
	return llm.New(llm.Config{BaseURL: ls.BaseURL, APIKey: key, HTTP: p.HTTP,
		Timeouts: llm.Timeouts{Connect: min(10*time.Second, total), FirstToken: total, Total: total}})
}

// settings returns the workspace's enabled settings, or nil.
func (p *LLMProvider) settings(ctx context.Context, workspaceID int64) (*kefu.LLMSettings, error) {
	ls, err := p.Store.GetLLMSettings(ctx, workspaceID)
	if kefu.IsNotFound(err) {
		return nil, nil
	}
	if err != nil || !ls.Enabled || ls.BaseURL == "" || ls.Model == "" {
		return nil, err
	}
	return ls, nil
}

// Source returns the workspace's language-model source: nil when no
// model is configured, a source that skips (recorded as "skipped" in the
// decision) when today's token cap is reached.
func (p *LLMProvider) Source(ctx context.Context, workspaceID int64) (Source, error) {
	ls, err := p.settings(ctx, workspaceID)
	if err != nil || ls == nil {
		return nil, err
	}
	if ls.DailyTokenCap > 0 {
		u, err := p.Store.GetLLMUsage(ctx, workspaceID, Day(p.now()))
		if err != nil {
			return nil, err
		}
		if used := u.PromptTokens + u.CompletionTokens; used >= ls.DailyTokenCap {
			return skipSource{name: "llm", prio: PriorityLLM,
				reason: fmt.Sprintf("daily token cap reached (%d of %d tokens used today)", used, ls.DailyTokenCap)}, nil
		}
	}
	c, err := p.client(ls)
	if err != nil {
		return nil, err
	}
	return &LLMSource{p: p, ls: ls, c: c}, nil
}

// Record adds one call's tokens and cost to today's usage. It runs even
// when the answer was cancelled: the tokens were spent.
func (p *LLMProvider) Record(ctx context.Context, ls *kefu.LLMSettings, u llm.Usage) {
	cost := float64(u.PromptTokens)/1000*ls.PromptPricePer1K + float64(u.CompletionTokens)/1000*ls.CompletionPricePer1K
	_, err := p.Store.AddLLMUsage(context.WithoutCancel(ctx), &kefu.LLMUsage{WorkspaceID: ls.WorkspaceID, Day: Day(p.now()),
		Requests: 1, PromptTokens: int64(u.PromptTokens), CompletionTokens: int64(u.CompletionTokens), Cost: cost})
	if err != nil {
		p.log().Warn("llm usage not recorded", "workspace_id", ls.WorkspaceID, "err", err)
	}
}

// Embed returns embeddings of texts with the workspace's embedding model,
// or nil when none is configured (or the cap is reached).
func (p *LLMProvider) Embed(ctx context.Context, workspaceID int64, texts []string) ([][]float32, error) {
	ls, err := p.settings(ctx, workspaceID)
	if err != nil || ls == nil || ls.EmbeddingModel == "" || len(texts) == 0 {
		return nil, err
	}
	if ls.DailyTokenCap > 0 {
		u, err := p.Store.GetLLMUsage(ctx, workspaceID, Day(p.now()))
		if err != nil || u.PromptTokens+u.CompletionTokens >= ls.DailyTokenCap {
			return nil, err
		}
	}
	c, err := p.client(ls)
	if err != nil {
		return nil, err
	}
	vecs, u, err := c.Embed(ctx, ls.EmbeddingModel, texts)
	if u.PromptTokens > 0 {
		p.Record(ctx, ls, u)
	}
	return vecs, err
}

// skipSource stands in for a source that must not run now.
type skipSource struct {
	name   string
	prio   int
	reason string
}

func (s skipSource) Name() string  { return s.name }
func (s skipSource) Priority() int { return s.prio }
func (s skipSource) Answer(context.Context, Question) (*Reply, error) {
	return nil, &Skipped{Reason: s.reason}
}

// LLMSource answers with the workspace's language model, from the
// knowledge base (retrieval-augmented), streaming its answer.
type LLMSource struct {
	p  *LLMProvider
	ls *kefu.LLMSettings
	c  *llm.Client
}

func (s *LLMSource) Name() string  { return "llm" }
func (s *LLMSource) Priority() int { return PriorityLLM }

func (s *LLMSource) Answer(ctx context.Context, q Question) (*Reply, error) {
	base, err := s.p.Knowledge.Base(ctx, q.WorkspaceID)
	if err != nil {
		return nil, err
	}
	th := q.Threshold
	if th <= 0 {
		th = base.Index().Params().Threshold
	}
	// The knowledge base (a higher priority) answers this one itself:
	// spend no tokens on an answer that cannot win.
	if _, ok := base.AnswerAt(q.Text, th); ok {
		return nil, nil
	}
	items, how := s.retrieve(ctx, base, q.Text)
	if s.ls.Grounded && len(items) == 0 {
		// Nothing to ground an answer on: the bot's own "I don't know"
		// (in the visitor's language) follows, without a model call.
		return nil, nil
	}
	msgs := BuildPrompt(PromptInput{Instructions: s.ls.SystemPrompt, Grounded: s.ls.Grounded, Chinese: isChinese(q.Text),
		Context: items, Question: q.Text})
	res, err := s.c.Stream(ctx, llm.Request{Model: s.ls.Model, Messages: msgs, Temperature: s.ls.Temperature, MaxTokens: s.ls.MaxTokens},
		func(piece string) {
			if q.Delta != nil {
				q.Delta(s.Name(), piece)
			}
		})
	if res.Attempts > 0 {
		s.p.Record(ctx, s.ls, res.Usage)
	}
	text := strings.TrimSpace(res.Text)
	detail := map[string]any{"prompt_tokens": res.Usage.PromptTokens, "completion_tokens": res.Usage.CompletionTokens,
		"usage_estimated": res.Usage.Estimated, "attempts": res.Attempts, "retrieval": how, "context": refs(items)}
	if err != nil {
		if text == "" || ctx.Err() != nil {
			return nil, err
		}
		// The visitor already saw part of the answer: store what arrived,
		// marked as cut short, so the stream ends in one stored message.
		detail["error"] = err.Error()
		return &Reply{Text: text + " …", Confidence: 0.5, Meta: map[string]any{"llm": true, "truncated": true}, Detail: detail}, nil
	}
	if text == "" {
		return nil, nil
	}
	return &Reply{Text: text, Confidence: 0.5, Meta: map[string]any{"llm": true, "grounded": s.ls.Grounded}, Detail: detail}, nil
}

func refs(items []ContextItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Ref
	}
	return out
}

// retrieve picks the knowledge-base pieces for the prompt: BM25 hits,
// fused with embedding similarity over passages when the workspace has
// an embedding model and stored passage vectors (reciprocal rank fusion,
// k=60, so neither score's scale dominates). It reports which was used.
func (s *LLMSource) retrieve(ctx context.Context, base *kb.Base, question string) ([]ContextItem, string) {
	idx := base.Index()
	hits := idx.Search(question, 10)
	score := map[string]float64{}
	var order []string
	add := func(ref string, rank int) {
		if _, ok := score[ref]; !ok {
			order = append(order, ref)
		}
		score[ref] += 1 / float64(60+rank)
	}
	rank := 0
	for _, h := range hits {
		if h.Confidence < MinContextConfidence {
			continue
		}
		add(h.ID, rank)
		rank++
	}
	how := "bm25"
	if vecs := s.p.Knowledge.Vectors(s.ls.WorkspaceID); len(vecs) > 0 && s.ls.EmbeddingModel != "" {
		if qv, err := s.p.Embed(ctx, s.ls.WorkspaceID, []string{question}); err == nil && len(qv) == 1 {
			how = "bm25+embeddings"
			type sim struct {
				ref string
				v   float64
			}
			var sims []sim
			for ref, v := range vecs {
				if c := llm.Cosine(qv[0], v); c > 0 {
					sims = append(sims, sim{ref, c})
				}
			}
			slices.SortFunc(sims, func(a, b sim) int {
				if a.v != b.v {
					if a.v > b.v {
						return -1
					}
					return 1
				}
				return strings.Compare(a.ref, b.ref)
			})
			for i, x := range sims[:min(len(sims), 10)] {
				add(x.ref, i)
			}
		}
	}
	slices.SortStableFunc(order, func(a, b string) int {
		switch {
		case score[a] > score[b]:
			return -1
		case score[a] < score[b]:
			return 1
		}
		return 0
	})
	var items []ContextItem
	for _, ref := range order {
		if len(items) == contextItems {
			break
		}
		if e, ok := idx.Entry(ref); ok && e.Enabled {
			title := ""
			if len(e.Questions) > 0 {
				title = e.Questions[0]
			}
			items = append(items, ContextItem{Ref: ref, Title: title, Text: e.Answer})
		} else if p, ok := idx.Passage(ref); ok {
			items = append(items, ContextItem{Ref: ref, Title: p.Title, Text: p.Text})
		}
	}
	return items, how
}
