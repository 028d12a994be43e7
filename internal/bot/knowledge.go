package bot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// Knowledge keeps one kb.Base per workspace in memory, built from the
// store on first use (or loaded from the saved snapshot when the
// knowledge base has not changed since), and changed incrementally with
// every write that goes through it.
//
// Writes through Knowledge update the store first, then the index, then
// save a fresh snapshot. On a multi-node install the node that made the
// change tells the others (OnChange, wired to the bus), and they drop
// their copy (Invalidate) and reload it on next use.
type Knowledge struct {
	store     kefu.KnowledgeStore
	tokenizer func() (*kb.Tokenizer, error)
	log       *slog.Logger
	cacheSize int
	embedder  atomic.Pointer[Embedder]
	onChange  atomic.Pointer[func(workspaceID int64)]
	// counts totals the hot-answer cache lookups of every base this
	// Knowledge has built, including bases since replaced (Invalidate,
	// a failed load), so the exported counters never go down.
	counts kb.Counters

	mu    sync.Mutex
	bases map[int64]*wsBase
}

// wsBase is one workspace's base; load is done once, under once.
type wsBase struct {
	once sync.Once
	base *kb.Base
	err  error
	mu   sync.Mutex // serialises writes and snapshot saves
	// vecs maps passage keys to their embeddings; replaced (never
	// changed) under mu, so readers use it without a lock.
	vecs atomic.Pointer[map[string][]float32]
}

// Embedder returns embeddings of texts for a workspace, or nil when it
// has no embedding model.
type Embedder func(ctx context.Context, workspaceID int64, texts []string) ([][]float32, error)

// OnChange registers f, called after every change made through k has been
// saved: the place to tell other nodes. Set it before serving.
func (k *Knowledge) OnChange(f func(workspaceID int64)) { k.onChange.Store(&f) }

// SetEmbedder makes new documents' passages embedded when the workspace
// has an embedding model (the server wires LLMProvider.Embed).
func (k *Knowledge) SetEmbedder(e Embedder) { k.embedder.Store(&e) }

// Vectors returns the stored passage embeddings of a loaded workspace
// (passage key to vector); nil when there are none. Do not modify it.
func (k *Knowledge) Vectors(workspaceID int64) map[string][]float32 {
	k.mu.Lock()
	w := k.bases[workspaceID]
	k.mu.Unlock()
	if w == nil {
		return nil
	}
	if m := w.vecs.Load(); m != nil {
		return *m
	}
	return nil
}

// setVectors replaces w's vectors with old minus drop plus add.
func (w *wsBase) setVectors(add map[string][]float32, drop func(key string) bool) {
	next := map[string][]float32{}
	if old := w.vecs.Load(); old != nil {
		for k, v := range *old {
			if drop == nil || !drop(k) {
				next[k] = v
			}
		}
	}
	for k, v := range add {
		next[k] = v
	}
	w.vecs.Store(&next)
}

// NewKnowledge returns a manager over store. tokenizer is called on first
// use; it may load a large dictionary (gse), so callers wrap it in
// sync.OnceValues.
func NewKnowledge(store kefu.KnowledgeStore, tokenizer func() (*kb.Tokenizer, error), log *slog.Logger) *Knowledge {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Knowledge{store: store, tokenizer: tokenizer, log: log, cacheSize: 10_000, bases: map[int64]*wsBase{}}
}

// faqKey and passageKey name store records in the index.
func faqKey(id int64) string     { return "f" + strconv.FormatInt(id, 10) }
func passageKey(id int64) string { return "p" + strconv.FormatInt(id, 10) }

// FAQID parses an index entry id back to the FAQ id.
func FAQID(key string) int64 {
	id, _ := strconv.ParseInt(strings.TrimPrefix(key, "f"), 10, 64)
	return id
}

// PassageID parses an index passage id back to the passage id.
func PassageID(key string) int64 {
	id, _ := strconv.ParseInt(strings.TrimPrefix(key, "p"), 10, 64)
	return id
}

func toEntry(f *kefu.FAQ) kb.Entry {
	return kb.Entry{ID: faqKey(f.ID), Answer: f.Answer, Questions: f.Questions, Category: f.Category, Enabled: f.Enabled}
}

// Base returns the workspace's knowledge base, loading it if needed.
func (k *Knowledge) Base(ctx context.Context, workspaceID int64) (*kb.Base, error) {
	w := k.ws(workspaceID)
	w.once.Do(func() { w.base, w.err = k.load(ctx, workspaceID, w) })
	if w.err != nil {
		// Forget the failure so the next call tries again.
		k.mu.Lock()
		if k.bases[workspaceID] == w {
			delete(k.bases, workspaceID)
		}
		k.mu.Unlock()
	}
	return w.base, w.err
}

func (k *Knowledge) ws(workspaceID int64) *wsBase {
	k.mu.Lock()
	defer k.mu.Unlock()
	w := k.bases[workspaceID]
	if w == nil {
		w = &wsBase{}
		k.bases[workspaceID] = w
	}
	return w
}

// Invalidate drops the workspace's in-memory base; the next use reloads it.
func (k *Knowledge) Invalidate(workspaceID int64) {
	k.mu.Lock()
	delete(k.bases, workspaceID)
	k.mu.Unlock()
}

// contents is what an index is built from.
type contents struct {
	faqs     []*kefu.FAQ
	passages []*kefu.Passage
	synonyms [][]string
}

func (k *Knowledge) read(ctx context.Context, workspaceID int64) (contents, error) {
	var c contents
	var err error
	if c.faqs, err = k.store.ListFAQs(ctx, workspaceID); err != nil {
		return c, err
	}
	if c.passages, err = k.store.ListPassages(ctx, workspaceID); err != nil {
		return c, err
	}
	c.synonyms, err = k.store.GetSynonyms(ctx, workspaceID)
	return c, err
}

// fingerprint identifies the knowledge base's contents and the tokenizer:
// a snapshot saved under the same fingerprint can be loaded instead of
// segmenting everything again.
func (c contents) fingerprint(tok *kb.Tokenizer) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%+v\n", tok.Version(), kb.DefaultParams())
	for _, f := range c.faqs {
		fmt.Fprintf(h, "f%d %d %t\n", f.ID, f.UpdatedAt.UnixMicro(), f.Enabled)
	}
	for _, p := range c.passages {
		fmt.Fprintf(h, "p%d\n", p.ID)
	}
	fmt.Fprintf(h, "s%q\n", c.synonyms)
	return hex.EncodeToString(h.Sum(nil))
}

func (k *Knowledge) load(ctx context.Context, workspaceID int64, w *wsBase) (*kb.Base, error) {
	tok, err := k.tokenizer()
	if err != nil {
		return nil, err
	}
	c, err := k.read(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	vecs := map[string][]float32{}
	for _, p := range c.passages {
		if len(p.Embedding) > 0 {
			vecs[passageKey(p.ID)] = p.Embedding
		}
	}
	w.setVectors(vecs, nil)
	fp := c.fingerprint(tok)
	if saved, data, err := k.store.LoadKBIndex(ctx, workspaceID); err == nil && saved == fp {
		if idx, err := kb.Load(bytes.NewReader(data), tok); err == nil {
			return kb.NewBase(idx, k.cacheSize, &k.counts), nil
		}
	}
	idx := kb.NewIndex(tok, kb.DefaultParams())
	for _, f := range c.faqs {
		idx.Upsert(toEntry(f))
	}
	for _, p := range c.passages {
		idx.UpsertPassage(kb.Passage{ID: passageKey(p.ID), DocID: strconv.FormatInt(p.DocumentID, 10), Title: p.Title, Text: p.Text})
	}
	idx.SetSynonyms(c.synonyms)
	k.save(ctx, workspaceID, idx, fp)
	return kb.NewBase(idx, k.cacheSize, &k.counts), nil
}

func (k *Knowledge) save(ctx context.Context, workspaceID int64, idx *kb.Index, fp string) {
	var buf bytes.Buffer
	if err := idx.Save(&buf); err != nil {
		k.log.Warn("kb snapshot not saved", "workspace_id", workspaceID, "err", err)
		return
	}
	if err := k.store.SaveKBIndex(ctx, workspaceID, fp, buf.Bytes()); err != nil {
		k.log.Warn("kb snapshot not saved", "workspace_id", workspaceID, "err", err)
	}
}

// change applies fn to the workspace's base (if loaded) under the write
// lock and saves a new snapshot. If the base is not loaded yet, there is
// nothing to update: it will be built from the store.
func (k *Knowledge) change(ctx context.Context, workspaceID int64, fn func(b *kb.Base)) error {
	b, err := k.Base(ctx, workspaceID)
	if err != nil {
		return err
	}
	w := k.ws(workspaceID)
	w.mu.Lock()
	defer w.mu.Unlock()
	fn(b)
	c, err := k.read(ctx, workspaceID)
	if err != nil {
		return err
	}
	k.save(ctx, workspaceID, b.Index(), c.fingerprint(b.Index().Tokenizer()))
	if f := k.onChange.Load(); f != nil {
		(*f)(workspaceID)
	}
	return nil
}

// PutFAQ creates (ID 0) or updates an FAQ entry.
func (k *Knowledge) PutFAQ(ctx context.Context, f *kefu.FAQ) error {
	if err := ValidateFAQ(f); err != nil {
		return err
	}
	var err error
	if f.ID == 0 {
		err = k.store.CreateFAQ(ctx, f)
	} else {
		err = k.store.UpdateFAQ(ctx, f)
	}
	if err != nil {
		return err
	}
	return k.change(ctx, f.WorkspaceID, func(b *kb.Base) { b.Upsert(toEntry(f)) })
}

// ImportFAQs creates entries in bulk and saves one snapshot at the end.
func (k *Knowledge) ImportFAQs(ctx context.Context, workspaceID int64, faqs []*kefu.FAQ) error {
	for i, f := range faqs {
		f.WorkspaceID, f.ID = workspaceID, 0
		if err := ValidateFAQ(f); err != nil {
			return kefu.Errorf(kefu.EInvalid, "entry %d: %s", i+1, kefu.ErrorMessage(err))
		}
	}
	if err := k.store.CreateFAQs(ctx, faqs); err != nil {
		return err
	}
	return k.change(ctx, workspaceID, func(b *kb.Base) {
		for _, f := range faqs {
			b.Upsert(toEntry(f))
		}
	})
}

// DeleteFAQ removes an entry and the answers cached from it.
func (k *Knowledge) DeleteFAQ(ctx context.Context, workspaceID, id int64) error {
	if err := k.store.DeleteFAQ(ctx, workspaceID, id); err != nil {
		return err
	}
	return k.change(ctx, workspaceID, func(b *kb.Base) { b.Remove(faqKey(id)) })
}

// AddDocument splits text into passages and stores and indexes them.
func (k *Knowledge) AddDocument(ctx context.Context, d *kefu.Document, body string) error {
	chunks := SplitDocument(d.Format, body)
	if len(chunks) == 0 {
		return kefu.Errorf(kefu.EInvalid, "the document has no text")
	}
	ps := make([]*kefu.Passage, len(chunks))
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		ps[i] = &kefu.Passage{Title: c.Title, Text: c.Text}
		texts[i] = strings.TrimSpace(c.Title + "\n" + c.Text)
	}
	// Embeddings are optional: a failing model leaves the document
	// searchable by BM25 alone.
	if e := k.embedder.Load(); e != nil && *e != nil {
		vecs, err := (*e)(ctx, d.WorkspaceID, texts)
		if err != nil {
			k.log.Warn("passages not embedded", "workspace_id", d.WorkspaceID, "err", err)
		} else if len(vecs) == len(ps) {
			for i, p := range ps {
				p.Embedding = vecs[i]
			}
		}
	}
	if err := k.store.CreateDocument(ctx, d, ps); err != nil {
		return err
	}
	return k.change(ctx, d.WorkspaceID, func(b *kb.Base) {
		add := map[string][]float32{}
		for _, p := range ps {
			b.UpsertPassage(kb.Passage{ID: passageKey(p.ID), DocID: strconv.FormatInt(d.ID, 10), Title: p.Title, Text: p.Text})
			if len(p.Embedding) > 0 {
				add[passageKey(p.ID)] = p.Embedding
			}
		}
		k.ws(d.WorkspaceID).setVectors(add, nil)
	})
}

// DeleteDocument removes a document and its passages.
func (k *Knowledge) DeleteDocument(ctx context.Context, workspaceID, id int64) error {
	before, err := k.store.ListPassages(ctx, workspaceID)
	if err != nil {
		return err
	}
	if err := k.store.DeleteDocument(ctx, workspaceID, id); err != nil {
		return err
	}
	return k.change(ctx, workspaceID, func(b *kb.Base) {
		gone := map[string]bool{}
		for _, p := range before {
			if p.DocumentID == id {
				b.RemovePassage(passageKey(p.ID))
				gone[passageKey(p.ID)] = true
			}
		}
		k.ws(workspaceID).setVectors(nil, func(key string) bool { return gone[key] })
	})
}

// SetSynonyms replaces the workspace's synonym groups.
func (k *Knowledge) SetSynonyms(ctx context.Context, workspaceID int64, groups [][]string) error {
	if err := k.store.SetSynonyms(ctx, workspaceID, groups); err != nil {
		return err
	}
	return k.change(ctx, workspaceID, func(b *kb.Base) { b.SetSynonyms(groups) })
}

// Limits on knowledge-base input.
const (
	MaxAnswerLen    = 8 * 1024
	MaxQuestionLen  = 500
	MaxQuestions    = 50
	MaxCategoryLen  = 100
	MaxImportFAQs   = 10_000
	MaxDocumentSize = 2 << 20
)

// ValidateFAQ checks an entry before it is stored.
func ValidateFAQ(f *kefu.FAQ) error {
	f.Answer = strings.TrimSpace(f.Answer)
	f.Category = strings.TrimSpace(f.Category)
	var qs []string
	for _, q := range f.Questions {
		if q = strings.TrimSpace(q); q != "" {
			qs = append(qs, q)
		}
	}
	f.Questions = qs
	switch {
	case f.Answer == "":
		return kefu.Errorf(kefu.EInvalid, "answer is required")
	case len(f.Answer) > MaxAnswerLen:
		return kefu.Errorf(kefu.EInvalid, "answer is longer than %d bytes", MaxAnswerLen)
	case len(f.Questions) == 0:
		return kefu.Errorf(kefu.EInvalid, "at least one question is required")
	case len(f.Questions) > MaxQuestions:
		return kefu.Errorf(kefu.EInvalid, "at most %d questions", MaxQuestions)
	case len(f.Category) > MaxCategoryLen:
		return kefu.Errorf(kefu.EInvalid, "category is longer than %d bytes", MaxCategoryLen)
	case !validText(f.Answer) || !validText(f.Category):
		return kefu.Errorf(kefu.EInvalid, "answer and category must be UTF-8 text")
	}
	for _, q := range f.Questions {
		if len(q) > MaxQuestionLen || !validText(q) {
			return kefu.Errorf(kefu.EInvalid, "each question must be UTF-8 text of at most %d bytes", MaxQuestionLen)
		}
	}
	return nil
}

// CacheStats returns the hot-answer cache counters of every base since
// k was made: totals that only grow, whatever bases were dropped since.
func (k *Knowledge) CacheStats() kb.CacheStats { return k.counts.Stats() }

// RegisterMetrics exports the hot-answer cache counters and hit ratio.
func (k *Knowledge) RegisterMetrics(reg prometheus.Registerer) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kefu_bot_kb_cache_hits_total", Help: "Knowledge-base answers served from the hot-answer cache."},
			func() float64 { return float64(k.CacheStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kefu_bot_kb_cache_misses_total", Help: "Knowledge-base questions not in the hot-answer cache."},
			func() float64 { return float64(k.CacheStats().Misses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kefu_bot_kb_cache_hit_ratio", Help: "Hot-answer cache hits / lookups since start."},
			func() float64 { return k.CacheStats().HitRatio() }),
	)
}
