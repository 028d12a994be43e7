package kb

import "slices"

// Answer is the knowledge base's reply to a visitor question: an FAQ
// entry's answer (Kind KindFAQ, EntryID) or a document passage (Kind
// KindPassage, PassageID, DocID, Title; Text is the passage text).
type Answer struct {
	Kind       Kind
	EntryID    string
	PassageID  string
	DocID      string
	Title      string
	Text       string
	Confidence float64
	// Cached reports that the answer came from the hot-answer cache.
	Cached bool
}

// ref is the entry or passage the answer came from, under which the cache
// files it for invalidation.
func (a Answer) ref() string {
	if a.Kind == KindPassage {
		return a.PassageID
	}
	return a.EntryID
}

// Base is one workspace's knowledge base: the index and the hot-answer
// cache kept consistent with it. Change entries through Base, not through
// the index directly, or the cache will serve stale answers.
//
// Locking: Base has no lock of its own; the index and the cache each have
// one and neither is held while taking the other.
type Base struct {
	idx   *Index
	cache *Cache
}

// NewBase returns a knowledge base over idx with a cache of cacheSize
// answers, counting cache lookups in counts (nil: counters of its own).
func NewBase(idx *Index, cacheSize int, counts *Counters) *Base {
	return &Base{idx: idx, cache: NewCache(cacheSize, counts)}
}

// Index returns the underlying index, for searches (suggested answers for
// agents) and Save.
func (b *Base) Index() *Index { return b.idx }

// CacheStats returns the hot-answer cache counters (the shared totals
// when the base was given shared Counters).
func (b *Base) CacheStats() CacheStats { return b.cache.Stats() }

// Answer returns the best FAQ answer for question if its confidence
// reaches the index's threshold. Confident answers are cached under the
// normalised question.
func (b *Base) Answer(question string) (Answer, bool) {
	return b.AnswerAt(question, b.idx.Params().Threshold)
}

// AnswerAt is Answer with the caller's confidence threshold (an inbox may
// ask for more, or less, than the index default). A cached answer is used
// only if its confidence reaches threshold.
func (b *Base) AnswerAt(question string, threshold float64) (Answer, bool) {
	return b.answer(question, threshold, false)
}

// AnswerWithPassages is AnswerAt that may also answer with a document
// passage: when the best-ranked passage reaches threshold and is more
// confident than the best FAQ entry, the passage is the answer; otherwise
// the FAQ entry, as AnswerAt. For a bot without a language model, which
// would otherwise never use documents to answer.
func (b *Base) AnswerWithPassages(question string, threshold float64) (Answer, bool) {
	return b.answer(question, threshold, true)
}

// cacheKey separates the answers of the two modes: the same question may
// have a passage answer with passages and an FAQ answer (or none) without.
func cacheKey(question string, passages bool) string {
	if passages {
		return "p " + Normalize(question)
	}
	return "f " + Normalize(question)
}

func (b *Base) answer(question string, threshold float64, passages bool) (Answer, bool) {
	key := cacheKey(question, passages)
	if a, ok := b.cache.Get(key); ok && a.Confidence >= threshold {
		a.Cached = true
		return a, true
	}
	epoch := b.cache.Epoch()
	var faq, psg *Hit
	hits := b.idx.Search(question, 5)
	for i := range hits {
		switch h := &hits[i]; {
		case h.Kind == KindFAQ && faq == nil:
			faq = h
		case h.Kind == KindPassage && psg == nil && passages:
			psg = h
		}
	}
	var a Answer
	switch {
	case psg != nil && psg.Confidence >= threshold && (faq == nil || psg.Confidence > faq.Confidence):
		p, ok := b.idx.Passage(psg.ID)
		if !ok {
			return Answer{}, false
		}
		a = Answer{Kind: KindPassage, PassageID: p.ID, DocID: p.DocID, Title: p.Title, Text: p.Text, Confidence: psg.Confidence}
	case faq != nil && faq.Confidence >= threshold:
		e, ok := b.idx.Entry(faq.ID)
		if !ok {
			return Answer{}, false
		}
		a = Answer{Kind: KindFAQ, EntryID: e.ID, Text: e.Answer, Confidence: faq.Confidence}
	default:
		return Answer{}, false
	}
	b.cache.Put(key, a, epoch)
	return a, true
}

// Upsert adds or replaces an entry and keeps the cache consistent.
//
// Answers cached from this entry are always dropped. When the entry is new
// or its phrasings changed, it may now be the best match for questions
// cached from other entries, so the whole cache is purged; edits of the
// answer, category or enabled flag only touch this entry's answers.
func (b *Base) Upsert(e Entry) {
	old, existed := b.idx.Entry(e.ID)
	b.idx.Upsert(e)
	if !existed || !slices.Equal(old.Questions, e.Questions) || (e.Enabled && !old.Enabled) {
		b.cache.Purge()
		return
	}
	b.cache.InvalidateEntry(e.ID)
}

// Remove deletes an entry and the answers cached from it.
func (b *Base) Remove(id string) error {
	err := b.idx.Remove(id)
	b.cache.InvalidateEntry(id)
	return err
}

// UpsertPassage adds or replaces a document passage. It may now be the
// best answer to any cached question (and it changes the body field's
// statistics), so the cache is purged.
func (b *Base) UpsertPassage(p Passage) {
	b.idx.UpsertPassage(p)
	b.cache.Purge()
}

// RemovePassage deletes a passage and the answers cached from it.
func (b *Base) RemovePassage(id string) error {
	err := b.idx.RemovePassage(id)
	b.cache.InvalidateEntry(id)
	return err
}

// SetSynonyms replaces the synonym groups; as they change every ranking,
// the cache is purged.
func (b *Base) SetSynonyms(groups [][]string) {
	b.idx.SetSynonyms(groups)
	b.cache.Purge()
}
