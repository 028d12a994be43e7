package kb

import (
	"encoding/gob"
	"fmt"
	"io"
	"slices"
	"strings"
)

// snapshot is the saved form of an index: the stored texts with their
// tokens, so Load rebuilds postings without segmenting again.
type snapshot struct {
	Format        int
	Tokenizer     string
	Params        Params
	Entries       []Entry
	EntryTokens   []entryTokens // per entry; empty when disabled
	Passages      []Passage
	PassageTokens [][]string
	Synonyms      [][]string // already tokenized
}

const snapshotFormat = 2

// Save writes the index with encoding/gob.
func (x *Index) Save(w io.Writer) error {
	x.mu.RLock()
	s := snapshot{
		Format:    snapshotFormat,
		Tokenizer: x.tok.Version(),
		Params:    x.params,
		Synonyms:  x.synGroup,
	}
	for _, st := range x.entries {
		s.Entries = append(s.Entries, st.entry)
		var toks entryTokens
		for _, u := range st.units {
			toks.Questions = append(toks.Questions, x.units[u].tokens)
		}
		if st.answer >= 0 {
			toks.Answer = x.units[st.answer].tokens
		}
		s.EntryTokens = append(s.EntryTokens, toks)
	}
	for _, st := range x.passages {
		s.Passages = append(s.Passages, st.passage)
		s.PassageTokens = append(s.PassageTokens, x.units[st.unit].tokens)
	}
	// Encode under the lock: the snapshot shares token slices with the
	// index, which are never modified in place but are dropped on removal.
	defer x.mu.RUnlock()
	return gob.NewEncoder(w).Encode(&s)
}

// Load reads an index written by Save. The tokenizer must be the same
// version as the one that built it (same stop words, stemmer and
// segmenter); otherwise Load fails and the caller rebuilds the index from
// its entries.
func Load(r io.Reader, tok *Tokenizer) (*Index, error) {
	var s snapshot
	if err := gob.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("kb: load index: %w", err)
	}
	if s.Format != snapshotFormat {
		return nil, fmt.Errorf("kb: load index: format %d, want %d", s.Format, snapshotFormat)
	}
	if s.Tokenizer != tok.Version() {
		return nil, fmt.Errorf("kb: load index: built by tokenizer %q, have %q", s.Tokenizer, tok.Version())
	}
	if len(s.EntryTokens) != len(s.Entries) || len(s.PassageTokens) != len(s.Passages) {
		return nil, fmt.Errorf("kb: load index: corrupt snapshot")
	}
	x := NewIndex(tok, s.Params)
	// Insert in ID order so unit numbering, and with it tie-breaking, does
	// not depend on map order at save time.
	order := make([]int, len(s.Entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(s.Entries[a].ID, s.Entries[b].ID) })
	for _, i := range order {
		e := s.Entries[i]
		if e.Enabled && len(s.EntryTokens[i].Questions) != len(e.Questions) {
			return nil, fmt.Errorf("kb: load index: corrupt entry %q", e.ID)
		}
		x.upsertTokens(e, s.EntryTokens[i])
	}
	for i, p := range s.Passages {
		x.upsertPassageTokens(p, s.PassageTokens[i])
	}
	x.setSynonymTokens(s.Synonyms)
	return x, nil
}
