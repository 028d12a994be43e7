package kb

import (
	"errors"
	"math"
	"slices"
	"sync"
)

// Entry is one FAQ entry: one answer reached by several phrasings of the
// question.
type Entry struct {
	ID        string   `json:"id"`
	Answer    string   `json:"answer"`
	Questions []string `json:"questions"`
	Category  string   `json:"category,omitempty"`
	Enabled   bool     `json:"enabled"`
}

// Passage is one searchable piece of an uploaded document (a section or a
// few paragraphs); splitting documents into passages is the caller's job.
type Passage struct {
	ID    string `json:"id"`
	DocID string `json:"doc_id"`
	Title string `json:"title,omitempty"`
	Text  string `json:"text"`
}

// Kind says what a Hit points at.
type Kind uint8

const (
	KindFAQ Kind = iota + 1
	KindPassage
)

// Hit is one ranked result.
type Hit struct {
	Kind Kind
	// ID is the entry ID for KindFAQ and the passage ID for KindPassage.
	ID string
	// Matched is the stored text that scored best: the phrasing of the
	// entry, or the passage text.
	Matched string
	// Score is the raw BM25 score: comparable between hits of one query
	// only.
	Score float64
	// Confidence in [0,1]; see Index.Search for the formula.
	Confidence float64
}

// Params tune ranking. The zero value is not useful; start from
// DefaultParams.
type Params struct {
	// K1 and B are the BM25 term-frequency saturation and length
	// normalisation.
	K1, B float64
	// SynonymWeight scales a term that matched only through a synonym.
	SynonymWeight float64
	// AnswerWeight adds the BM25 score of the entry's answer text,
	// scaled by this weight, to the score of its best phrasing. Answers
	// carry the vocabulary visitors use when they describe a problem
	// instead of asking the stored question; 0 ranks by phrasings only.
	AnswerWeight float64
	// ConceptWeight scales the score of a concept term (a lexicon
	// concept shared by question and phrasing, see Lexicon): lower than
	// a shared word, as a concept is broader than the word itself.
	ConceptWeight float64
	// Threshold is the confidence below which a knowledge-base answer is
	// not given to a visitor (Base.Answer); Search returns hits below it
	// so agents can still see suggestions.
	Threshold float64
}

// DefaultParams are the BM25 textbook values and a threshold chosen on
// the bundled evaluation set (docs/benchmarks.md, "Knowledge base").
func DefaultParams() Params {
	return Params{K1: 1.2, B: 0.75, SynonymWeight: 0.8, AnswerWeight: 0.5, ConceptWeight: 0.8, Threshold: 0.45}
}

// ErrNotFound is returned when removing an entry or passage that is not in
// the index.
var ErrNotFound = errors.New("kb: not found")

// Two fields are indexed with separate BM25 statistics, because their
// lengths and vocabularies differ: short question phrasings, and long
// bodies (answers and document passages).
const (
	fieldQuestion = 0
	fieldBody     = 1
)

// field holds one field's postings and length statistics.
type field struct {
	postings map[string][]posting
	live     int // live units
	totalLen int // tokens over live units
}

// idf is BM25's inverse document frequency, always positive.
func (f *field) idf(df int) float64 {
	n := float64(f.live)
	return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
}

// unit is one indexed text: a phrasing or answer of an entry, or a
// passage.
type unit struct {
	kind   Kind
	field  uint8
	ref    string
	text   string
	tokens []string
}

type posting struct {
	unit int32
	tf   int32
}

// Index is the in-memory BM25 index of one workspace's knowledge base. It
// is safe for concurrent use: searches share a read lock, changes take the
// write lock for the time it takes to update postings (tokenizing happens
// before the lock is taken).
type Index struct {
	tok    *Tokenizer
	params Params

	mu       sync.RWMutex
	entries  map[string]*entryState
	passages map[string]*passageState
	units    []unit
	free     []int32
	fields   [2]field
	synGroup [][]string
	synonyms map[string][]string // token -> other tokens of its groups

	scratch sync.Pool // *scratch, reused by searches
}

// scratch holds per-search arrays indexed by unit, so a search over
// thousands of postings allocates no maps. Every slot a search touches is
// listed in touched or gTouched and zeroed before the scratch is reused.
type scratch struct {
	score, matched []float64 // per unit, over the whole query
	best, bestW    []float64 // per unit, within one query group
	in             []bool    // unit is in touched
	touched        []int32
	gTouched       []int32
}

func (x *Index) getScratch() *scratch {
	sc, _ := x.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	if n := len(x.units); len(sc.score) < n {
		n += n / 4
		sc.score = make([]float64, n)
		sc.matched = make([]float64, n)
		sc.best = make([]float64, n)
		sc.bestW = make([]float64, n)
		sc.in = make([]bool, n)
	}
	return sc
}

func (x *Index) putScratch(sc *scratch) {
	for _, u := range sc.touched {
		sc.score[u], sc.matched[u], sc.in[u] = 0, 0, false
	}
	sc.touched = sc.touched[:0]
	x.scratch.Put(sc)
}

type entryState struct {
	entry  Entry
	units  []int32 // phrasings
	answer int32   // -1 when disabled
}

type passageState struct {
	passage Passage
	unit    int32
}

// NewIndex returns an empty index that tokenizes with tok.
func NewIndex(tok *Tokenizer, p Params) *Index {
	x := &Index{
		tok:      tok,
		params:   p,
		entries:  make(map[string]*entryState),
		passages: make(map[string]*passageState),
		synonyms: make(map[string][]string),
	}
	for i := range x.fields {
		x.fields[i].postings = make(map[string][]posting)
	}
	return x
}

// Params returns the ranking parameters.
func (x *Index) Params() Params { return x.params }

// Tokenizer returns the index's tokenizer.
func (x *Index) Tokenizer() *Tokenizer { return x.tok }

// Len returns the number of entries and passages.
func (x *Index) Len() (entries, passages int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries), len(x.passages)
}

// Entry returns the stored entry with id.
func (x *Index) Entry(id string) (Entry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s, ok := x.entries[id]
	if !ok {
		return Entry{}, false
	}
	return s.entry, true
}

// Passage returns the stored passage with id.
func (x *Index) Passage(id string) (Passage, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s, ok := x.passages[id]
	if !ok {
		return Passage{}, false
	}
	return s.passage, true
}

// entryTokens are the tokens of an entry: one list per phrasing, then the
// answer's. Nil for a disabled entry.
type entryTokens struct {
	Questions [][]string
	Answer    []string
}

func (x *Index) tokenizeEntry(e Entry) entryTokens {
	if !e.Enabled {
		return entryTokens{}
	}
	t := entryTokens{Questions: make([][]string, len(e.Questions)), Answer: x.tok.Tokens(e.Answer)}
	for i, q := range e.Questions {
		t.Questions[i] = x.tok.Tokens(q)
	}
	return t
}

// Upsert adds e or replaces the entry with the same ID. A disabled entry
// is stored but not searchable.
func (x *Index) Upsert(e Entry) {
	toks := x.tokenizeEntry(e)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.upsertTokens(e, toks)
}

func (x *Index) upsertTokens(e Entry, toks entryTokens) {
	e.Questions = slices.Clone(e.Questions)
	x.removeEntry(e.ID)
	st := &entryState{entry: e, answer: -1}
	if e.Enabled {
		for i, q := range e.Questions {
			st.units = append(st.units, x.addUnit(KindFAQ, fieldQuestion, e.ID, q, toks.Questions[i]))
		}
		st.answer = x.addUnit(KindFAQ, fieldBody, e.ID, e.Answer, toks.Answer)
	}
	x.entries[e.ID] = st
}

func (x *Index) removeEntry(id string) bool {
	st, ok := x.entries[id]
	if !ok {
		return false
	}
	for _, u := range st.units {
		x.removeUnit(u)
	}
	if st.answer >= 0 {
		x.removeUnit(st.answer)
	}
	delete(x.entries, id)
	return true
}

// Remove deletes the entry with id.
func (x *Index) Remove(id string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.removeEntry(id) {
		return ErrNotFound
	}
	return nil
}

// UpsertPassage adds p or replaces the passage with the same ID. The
// title, if any, is indexed with the text.
func (x *Index) UpsertPassage(p Passage) {
	toks := x.tok.Tokens(p.Title + "\n" + p.Text)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.upsertPassageTokens(p, toks)
}

func (x *Index) upsertPassageTokens(p Passage, toks []string) {
	if old, ok := x.passages[p.ID]; ok {
		x.removeUnit(old.unit)
	}
	x.passages[p.ID] = &passageState{passage: p, unit: x.addUnit(KindPassage, fieldBody, p.ID, p.Text, toks)}
}

// RemovePassage deletes the passage with id.
func (x *Index) RemovePassage(id string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	st, ok := x.passages[id]
	if !ok {
		return ErrNotFound
	}
	x.removeUnit(st.unit)
	delete(x.passages, id)
	return nil
}

// SetSynonyms replaces the workspace's synonym groups. Each group lists
// words or phrases that mean the same ("退款 退钱 返款", "refund money
// back"); a query term from a group also searches for the others, at
// SynonymWeight. A phrase that tokenizes to several terms expands to all
// of them.
func (x *Index) SetSynonyms(groups [][]string) {
	tg := make([][]string, 0, len(groups))
	for _, g := range groups {
		var terms []string
		for _, w := range g {
			for _, t := range x.tok.Tokens(w) {
				// Concept terms are matched at index time already.
				if !isConcept(t) && !slices.Contains(terms, t) {
					terms = append(terms, t)
				}
			}
		}
		if len(terms) > 1 {
			tg = append(tg, terms)
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.setSynonymTokens(tg)
}

func (x *Index) setSynonymTokens(groups [][]string) {
	x.synGroup = groups
	x.synonyms = make(map[string][]string)
	for _, g := range groups {
		for _, t := range g {
			for _, o := range g {
				if o != t && !slices.Contains(x.synonyms[t], o) {
					x.synonyms[t] = append(x.synonyms[t], o)
				}
			}
		}
	}
}

func (x *Index) addUnit(kind Kind, fi uint8, ref, text string, toks []string) int32 {
	var id int32
	u := unit{kind: kind, field: fi, ref: ref, text: text, tokens: toks}
	if n := len(x.free); n > 0 {
		id = x.free[n-1]
		x.free = x.free[:n-1]
		x.units[id] = u
	} else {
		id = int32(len(x.units))
		x.units = append(x.units, u)
	}
	f := &x.fields[fi]
	tf := make(map[string]int32, len(toks))
	for _, t := range toks {
		tf[t]++
	}
	for t, n := range tf {
		f.postings[t] = append(f.postings[t], posting{unit: id, tf: n})
	}
	f.live++
	f.totalLen += len(toks)
	return id
}

func (x *Index) removeUnit(id int32) {
	u := &x.units[id]
	f := &x.fields[u.field]
	seen := make(map[string]bool, len(u.tokens))
	for _, t := range u.tokens {
		if seen[t] {
			continue
		}
		seen[t] = true
		ps := f.postings[t]
		for i := range ps {
			if ps[i].unit == id {
				ps[i] = ps[len(ps)-1]
				ps = ps[:len(ps)-1]
				break
			}
		}
		if len(ps) == 0 {
			delete(f.postings, t)
		} else {
			f.postings[t] = ps
		}
	}
	f.live--
	f.totalLen -= len(u.tokens)
	*u = unit{}
	x.free = append(x.free, id)
}

// Search ranks entries and passages for query and returns the best k.
//
// Scoring: every phrasing, answer and passage is a BM25 document, with
// separate statistics for the question field (phrasings) and the body
// field (answers, passages). Each distinct query term forms a group with
// its synonyms; a document gets, per group, the best BM25 term score among
// the group's terms, synonyms scaled by SynonymWeight. Concept terms (from
// the tokenizer's lexicon) count at ConceptWeight. An entry scores as
// its best phrasing plus AnswerWeight times its answer's score; a passage
// as itself.
//
// Confidence of a hit (in [0,1]) is measured on the matched phrasing (or
// on the answer or passage when no phrasing matched at all):
//
//	qcov = Σ idf(g) over query groups found in the document (× SynonymWeight if only via a synonym)
//	       / Σ idf(g) over all query groups
//	ucov = Σ idf(t) over distinct document terms matched by the query
//	       / Σ idf(t) over all distinct document terms
//	confidence = sqrt(qcov × ucov)
//
// where idf is taken in the document's field and idf(g) is the idf of the
// group's own term (a term unknown to the index has the highest idf, so an
// unknown word in the question lowers confidence). qcov asks "how much of
// the question did we understand", ucov "how much of the stored question
// did the visitor ask"; both must be high for a confident answer. Then
// the margin over the next hit:
//
//	margin = 1 - score(next hit) / score(this hit)   (1 when there is none)
//	confidence = sqrt(qcov × ucov) × (0.5 + 0.5 × margin)
//
// so a question that matches two entries about equally well is not
// answered with confidence. On the bundled evaluation set the overlap term
// alone did not separate right from wrong answers on paraphrases; the
// margin did (docs/benchmarks.md).
func (x *Index) Search(query string, k int) []Hit {
	qt := x.tok.Tokens(query)
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.search(qt, k)
}

type alt struct {
	term string
	w    float64
}

func (x *Index) search(qt []string, k int) []Hit {
	if k <= 0 || len(qt) == 0 {
		return nil
	}
	// A term is used once: a synonym that is itself in the query, or was
	// already added for an earlier term ("money back" -> "refund" from
	// both words), is not counted again.
	var groups [][]alt
	used := make(map[string]bool, len(qt))
	for _, t := range qt {
		used[t] = true
	}
	seen := make(map[string]bool, len(qt))
	for _, t := range qt {
		if seen[t] {
			continue
		}
		seen[t] = true
		w := 1.0
		if isConcept(t) {
			w = x.params.ConceptWeight
		}
		g := []alt{{t, w}}
		for _, s := range x.synonyms[t] {
			if !used[s] {
				used[s] = true
				g = append(g, alt{s, w * x.params.SynonymWeight})
			}
		}
		groups = append(groups, g)
	}
	sc := x.getScratch()
	defer x.putScratch(sc)
	var qmass [2]float64
	for fi := range x.fields {
		qmass[fi] = x.scoreField(&x.fields[fi], groups, sc)
	}

	// Aggregate per entry (best phrasing + weighted answer) and passage.
	type cand struct {
		unit   int32 // the document confidence is measured on
		phrase float64
		answer float64
		score  float64
	}
	cands := make(map[string]*cand)
	for _, u := range sc.touched {
		score := sc.score[u]
		un := &x.units[u]
		key := un.ref
		if un.kind == KindPassage {
			key = "\x00" + key
		}
		c := cands[key]
		if c == nil {
			c = &cand{unit: u}
			cands[key] = c
		}
		switch {
		case un.kind == KindPassage:
			c.phrase = score
		case un.field == fieldBody:
			c.answer = score
		default:
			// A phrasing: keep the best, and prefer any phrasing over the
			// answer as the document confidence is measured on. Ties go
			// by text, not unit number, so a loaded index matches the
			// saved one.
			cur := &x.units[c.unit]
			if cur.field == fieldBody || score > c.phrase || (score == c.phrase && un.text < cur.text) {
				c.phrase, c.unit = score, u
			}
		}
	}
	// Keep the best k+1 (one more for the margin of the last hit) by
	// insertion: k is small and there may be thousands of candidates.
	better := func(a, b *cand) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return x.units[a.unit].ref < x.units[b.unit].ref
	}
	list := make([]*cand, 0, k+1)
	for _, c := range cands {
		c.score = c.phrase + x.params.AnswerWeight*c.answer
		if c.score <= 0 || (len(list) == k+1 && !better(c, list[k])) {
			continue
		}
		if len(list) < k+1 {
			list = append(list, c)
		} else {
			list[k] = c
		}
		for i := len(list) - 1; i > 0 && better(list[i], list[i-1]); i-- {
			list[i], list[i-1] = list[i-1], list[i]
		}
	}
	hits := make([]Hit, min(k, len(list)))

	qterms := make(map[string]bool)
	for _, g := range groups {
		for _, a := range g {
			qterms[a.term] = true
		}
	}
	for i, c := range list[:len(hits)] {
		u := &x.units[c.unit]
		f := &x.fields[u.field]
		var all, got float64
		ut := make(map[string]bool, len(u.tokens))
		for _, t := range u.tokens {
			if ut[t] {
				continue
			}
			ut[t] = true
			v := f.idf(len(f.postings[t]))
			all += v
			if qterms[t] {
				got += v
			}
		}
		ucov, qcov := 0.0, 0.0
		if all > 0 {
			ucov = got / all
		}
		if qmass[u.field] > 0 {
			qcov = min(1, sc.matched[c.unit]/qmass[u.field])
		}
		margin := 1.0
		if i+1 < len(list) {
			margin = 1 - list[i+1].score/c.score
		}
		hits[i] = Hit{
			Kind:       u.kind,
			ID:         u.ref,
			Matched:    u.text,
			Score:      c.score,
			Confidence: math.Sqrt(qcov*ucov) * (0.5 + 0.5*margin),
		}
	}
	return hits
}

// scoreField adds the BM25 scores of one field's documents to sc and
// returns the field's idf mass of the query groups.
func (x *Index) scoreField(f *field, groups [][]alt, sc *scratch) float64 {
	if f.live == 0 {
		return 0
	}
	avgdl := float64(f.totalLen) / float64(f.live)
	k1, b := x.params.K1, x.params.B
	var qmass float64
	for _, g := range groups {
		gidf := g[0].w * f.idf(len(f.postings[g[0].term]))
		qmass += gidf
		for _, a := range g {
			ps := f.postings[a.term]
			if len(ps) == 0 {
				continue
			}
			idf := f.idf(len(ps))
			for _, p := range ps {
				dl := float64(len(x.units[p.unit].tokens))
				tf := float64(p.tf)
				s := a.w * idf * tf * (k1 + 1) / (tf + k1*(1-b+b*dl/avgdl))
				if sc.bestW[p.unit] == 0 {
					sc.gTouched = append(sc.gTouched, p.unit)
				}
				sc.best[p.unit] = max(sc.best[p.unit], s)
				sc.bestW[p.unit] = max(sc.bestW[p.unit], a.w)
			}
		}
		for _, u := range sc.gTouched {
			if !sc.in[u] {
				sc.in[u] = true
				sc.touched = append(sc.touched, u)
			}
			sc.score[u] += sc.best[u]
			sc.matched[u] += gidf * sc.bestW[u] / g[0].w
			sc.best[u], sc.bestW[u] = 0, 0
		}
		sc.gTouched = sc.gTouched[:0]
	}
	return qmass
}
