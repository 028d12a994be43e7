package kb

import "slices"

// Answer is the knowledge base's reply to a visitor question.
type Answer struct {
	EntryID    string
	Text       string
	Confidence float64
	// Cached reports that the answer came from the hot-answer cache.
	Cached bool
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
	key := Normalize(question)
	if a, ok := b.cache.Get(key); ok && a.Confidence >= threshold {
		a.Cached = true
		return a, true
	}
	epoch := b.cache.Epoch()
	for _, h := range b.idx.Search(question, 5) {
		if h.Kind != KindFAQ {
			continue
		}
		if h.Confidence < threshold {
			return Answer{}, false
		}
		e, ok := b.idx.Entry(h.ID)
		if !ok {
			return Answer{}, false
		}
		a := Answer{EntryID: e.ID, Text: e.Answer, Confidence: h.Confidence}
		b.cache.Put(key, a, epoch)
		return a, true
	}
	return Answer{}, false
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

// SetSynonyms replaces the synonym groups; as they change every ranking,
// the cache is purged.
func (b *Base) SetSynonyms(groups [][]string) {
	b.idx.SetSynonyms(groups)
	b.cache.Purge()
}
