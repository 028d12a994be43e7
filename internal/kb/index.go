package kb

import (
	"errors"
	"math"
	"slices"
	"strings"
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
	// Threshold is the confidence below which a knowledge-base answer is
	// not given to a visitor (Base.Answer); Search returns hits below it
	// so agents can still see suggestions.
	Threshold float64
}

// DefaultParams are the BM25 textbook values and a threshold chosen on
// the bundled evaluation set (docs/benchmarks.md, "Knowledge base").
func DefaultParams() Params {
	return Params{K1: 1.2, B: 0.75, SynonymWeight: 0.8, Threshold: 0.35}
}

// ErrNotFound is returned when removing an entry or passage that is not in
// the index.
var ErrNotFound = errors.New("kb: not found")

// unit is one indexed text: a phrasing of an entry or a passage.
type unit struct {
	kind   Kind
	ref    string
	text   string
	tokens []string
	live   bool
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
	postings map[string][]posting
	live     int // live units
	totalLen int // tokens over live units
	synGroup [][]string
	synonyms map[string][]string // token -> other tokens of its groups
}

type entryState struct {
	entry Entry
	units []int32
}

type passageState struct {
	passage Passage
	unit    int32
}

// NewIndex returns an empty index that tokenizes with tok.
func NewIndex(tok *Tokenizer, p Params) *Index {
	return &Index{
		tok:      tok,
		params:   p,
		entries:  make(map[string]*entryState),
		passages: make(map[string]*passageState),
		postings: make(map[string][]posting),
		synonyms: make(map[string][]string),
	}
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

// Upsert adds e or replaces the entry with the same ID. A disabled entry
// is stored but not searchable.
func (x *Index) Upsert(e Entry) {
	var toks [][]string
	if e.Enabled {
		toks = make([][]string, len(e.Questions))
		for i, q := range e.Questions {
			toks[i] = x.tok.Tokens(q)
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.upsertTokens(e, toks)
}

func (x *Index) upsertTokens(e Entry, toks [][]string) {
	e.Questions = slices.Clone(e.Questions)
	if old, ok := x.entries[e.ID]; ok {
		for _, u := range old.units {
			x.removeUnit(u)
		}
	}
	st := &entryState{entry: e}
	if e.Enabled {
		for i, q := range e.Questions {
			st.units = append(st.units, x.addUnit(KindFAQ, e.ID, q, toks[i]))
		}
	}
	x.entries[e.ID] = st
}

// Remove deletes the entry with id.
func (x *Index) Remove(id string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	st, ok := x.entries[id]
	if !ok {
		return ErrNotFound
	}
	for _, u := range st.units {
		x.removeUnit(u)
	}
	delete(x.entries, id)
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
	x.passages[p.ID] = &passageState{passage: p, unit: x.addUnit(KindPassage, p.ID, p.Text, toks)}
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
				if !slices.Contains(terms, t) {
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

func (x *Index) addUnit(kind Kind, ref, text string, toks []string) int32 {
	var id int32
	u := unit{kind: kind, ref: ref, text: text, tokens: toks, live: true}
	if n := len(x.free); n > 0 {
		id = x.free[n-1]
		x.free = x.free[:n-1]
		x.units[id] = u
	} else {
		id = int32(len(x.units))
		x.units = append(x.units, u)
	}
	tf := make(map[string]int32, len(toks))
	for _, t := range toks {
		tf[t]++
	}
	for t, n := range tf {
		x.postings[t] = append(x.postings[t], posting{unit: id, tf: n})
	}
	x.live++
	x.totalLen += len(toks)
	return id
}

func (x *Index) removeUnit(id int32) {
	u := &x.units[id]
	seen := make(map[string]bool, len(u.tokens))
	for _, t := range u.tokens {
		if seen[t] {
			continue
		}
		seen[t] = true
		ps := x.postings[t]
		for i := range ps {
			if ps[i].unit == id {
				ps[i] = ps[len(ps)-1]
				ps = ps[:len(ps)-1]
				break
			}
		}
		if len(ps) == 0 {
			delete(x.postings, t)
		} else {
			x.postings[t] = ps
		}
	}
	x.live--
	x.totalLen -= len(u.tokens)
	*u = unit{}
	x.free = append(x.free, id)
}

// idf is BM25's inverse document frequency, always positive.
func (x *Index) idf(df int) float64 {
	n := float64(x.live)
	return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
}

// Search ranks entries and passages for query and returns the best k.
//
// Scoring: every phrasing and passage is a BM25 document; an entry scores
// as its best phrasing. Each distinct query term forms a group with its
// synonyms; a unit gets, per group, the best BM25 term score among the
// group's terms, synonyms scaled by SynonymWeight.
//
// Confidence of a hit (in [0,1]):
//
//	qcov = Σ idf(g) over query groups matched in the unit (× SynonymWeight if only via a synonym)
//	       / Σ idf(g) over all query groups
//	ucov = Σ idf(t) over distinct unit terms matched by the query
//	       / Σ idf(t) over all distinct unit terms
//	confidence = sqrt(qcov × ucov)
//
// where idf(g) is the idf of the group's own term (a term unknown to the
// index has the highest idf, so an unknown word in the question lowers
// confidence). qcov asks "how much of the question did we understand",
// ucov "how much of the stored question did the visitor ask"; both must be
// high for a confident answer, and the geometric mean keeps it in [0,1].
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
	if k <= 0 || x.live == 0 || len(qt) == 0 {
		return nil
	}
	// Query groups: distinct terms, each with its synonyms.
	var groups [][]alt
	var gidf []float64
	seen := make(map[string]bool, len(qt))
	for _, t := range qt {
		if seen[t] {
			continue
		}
		seen[t] = true
		g := []alt{{t, 1}}
		for _, s := range x.synonyms[t] {
			g = append(g, alt{s, x.params.SynonymWeight})
		}
		groups = append(groups, g)
		gidf = append(gidf, x.idf(len(x.postings[t])))
	}
	avgdl := float64(x.totalLen) / float64(x.live)
	k1, b := x.params.K1, x.params.B

	type acc struct {
		score   float64
		matched float64 // idf mass of query groups matched
	}
	accs := make(map[int32]*acc)
	best := make(map[int32]float64) // per group: unit -> best term score
	bestW := make(map[int32]float64)
	for gi, g := range groups {
		clear(best)
		clear(bestW)
		for _, a := range g {
			ps := x.postings[a.term]
			if len(ps) == 0 {
				continue
			}
			idf := x.idf(len(ps))
			for _, p := range ps {
				dl := float64(len(x.units[p.unit].tokens))
				tf := float64(p.tf)
				s := a.w * idf * tf * (k1 + 1) / (tf + k1*(1-b+b*dl/avgdl))
				if s > best[p.unit] {
					best[p.unit] = s
				}
				if a.w > bestW[p.unit] {
					bestW[p.unit] = a.w
				}
			}
		}
		for u, s := range best {
			a := accs[u]
			if a == nil {
				a = &acc{}
				accs[u] = a
			}
			a.score += s
			a.matched += gidf[gi] * bestW[u]
		}
	}

	// Best unit per entry or passage.
	type cand struct {
		unit  int32
		score float64
		qcov  float64
	}
	var qmass float64
	for _, v := range gidf {
		qmass += v
	}
	bestOf := make(map[string]cand, len(accs))
	for u, a := range accs {
		key := x.units[u].ref
		if x.units[u].kind == KindPassage {
			key = "\x00" + key
		}
		if c, ok := bestOf[key]; !ok || a.score > c.score || (a.score == c.score && u < c.unit) {
			bestOf[key] = cand{unit: u, score: a.score, qcov: a.matched / qmass}
		}
	}
	cands := make([]cand, 0, len(bestOf))
	for _, c := range bestOf {
		cands = append(cands, c)
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return strings.Compare(x.units[a.unit].ref, x.units[b.unit].ref)
	})
	if len(cands) > k {
		cands = cands[:k]
	}

	// Expanded query terms, for the unit side of confidence.
	qterms := make(map[string]bool)
	for _, g := range groups {
		for _, a := range g {
			qterms[a.term] = true
		}
	}
	hits := make([]Hit, len(cands))
	for i, c := range cands {
		u := &x.units[c.unit]
		var all, got float64
		ut := make(map[string]bool, len(u.tokens))
		for _, t := range u.tokens {
			if ut[t] {
				continue
			}
			ut[t] = true
			v := x.idf(len(x.postings[t]))
			all += v
			if qterms[t] {
				got += v
			}
		}
		ucov := 0.0
		if all > 0 {
			ucov = got / all
		}
		hits[i] = Hit{
			Kind:       u.kind,
			ID:         u.ref,
			Matched:    u.text,
			Score:      c.score,
			Confidence: math.Sqrt(min(1, c.qcov) * ucov),
		}
	}
	return hits
}
