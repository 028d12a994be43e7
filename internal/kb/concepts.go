package kb

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strings"
)

// conceptsText is the bundled e-commerce concept lexicon; see the header
// of concepts.txt for its format.
//
//go:embed concepts.txt
var conceptsText string

// conceptPrefix starts every concept term. The tokenizer never produces
// it from text (it is not a letter or digit), so concept terms cannot
// collide with words.
const conceptPrefix = "~"

// isConcept reports whether an index term is a concept term.
func isConcept(t string) bool { return strings.HasPrefix(t, conceptPrefix) }

// Lexicon maps words and phrases to concepts: a text that contains a
// phrase gets the concept's term as an extra index term. Stored phrasings
// and visitor questions go through the same tokenizer, so "退钱" in a
// question and "退款" in a phrasing meet at the "refund" concept without
// any query-time expansion, and the concept term gets its own idf.
type Lexicon struct {
	zh    map[string][]string // CJK phrase -> concept terms
	zhMax int                 // longest CJK phrase, in runes
	en    map[string][]string // stems joined by spaces -> concept terms
	enMax int                 // longest English phrase, in words
	sum   string              // identifies the lexicon in saved indexes
}

// DefaultLexicon parses the bundled concepts.txt.
func DefaultLexicon() *Lexicon {
	l, err := ParseLexicon(conceptsText)
	if err != nil {
		// The file is embedded and checked by TestDefaultLexicon.
		panic(err)
	}
	return l
}

// ParseLexicon reads a lexicon in the concepts.txt format: one concept a
// line, its terms separated by commas, the first naming it; blank lines
// and lines starting with # are ignored. A Chinese term must have at
// least two characters (single characters match too much) and may not mix
// scripts; an English term is stemmed and loses its stop words, and must
// keep at least one word.
func ParseLexicon(text string) (*Lexicon, error) {
	plain := &Tokenizer{seg: Bigrams{}} // for English terms; has no lexicon
	l := &Lexicon{zh: make(map[string][]string), en: make(map[string][]string)}
	names := make(map[string]bool)
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		terms := strings.Split(line, ",")
		name := conceptPrefix + strings.Join(strings.Fields(Normalize(terms[0])), "_")
		if names[name] {
			return nil, fmt.Errorf("kb: lexicon line %d: concept %q named twice", n, terms[0])
		}
		names[name] = true
		for _, term := range terms {
			if err := l.add(plain, name, Normalize(strings.TrimSpace(term))); err != nil {
				return nil, fmt.Errorf("kb: lexicon line %d: %w", n, err)
			}
		}
	}
	h := sha256.Sum256([]byte(text))
	l.sum = hex.EncodeToString(h[:4])
	return l, nil
}

func (l *Lexicon) add(plain *Tokenizer, name, term string) error {
	if term == "" {
		return fmt.Errorf("empty term")
	}
	cjk := 0
	for _, r := range term {
		if classify(r) == runCJK {
			cjk++
		}
	}
	var key string
	var m map[string][]string
	switch {
	case cjk > 0:
		if cjk != len([]rune(term)) || cjk < 2 {
			return fmt.Errorf("term %q: Chinese terms need two or more Chinese characters and nothing else", term)
		}
		key, m, l.zhMax = term, l.zh, max(l.zhMax, cjk)
	default:
		words := plain.Tokens(term)
		if len(words) == 0 {
			return fmt.Errorf("term %q has only stop words", term)
		}
		key, m, l.enMax = strings.Join(words, " "), l.en, max(l.enMax, len(words))
	}
	for _, c := range m[key] {
		if c == name {
			return nil
		}
	}
	m[key] = append(m[key], name)
	return nil
}

// matchZH appends the concepts of every lexicon phrase found in a run of
// CJK text.
func (l *Lexicon) matchZH(run string, out []string) []string {
	rs := []rune(run)
	for i := range rs {
		for n := 2; n <= l.zhMax && i+n <= len(rs); n++ {
			out = append(out, l.zh[string(rs[i:i+n])]...)
		}
	}
	return out
}

// matchEN appends the concepts of every lexicon phrase found in a
// sequence of English terms (stems and numbers, stop words removed).
func (l *Lexicon) matchEN(words []string, out []string) []string {
	var b strings.Builder
	for i := range words {
		b.Reset()
		for n := 1; n <= l.enMax && i+n <= len(words); n++ {
			if n > 1 {
				b.WriteByte(' ')
			}
			b.WriteString(words[i+n-1])
			out = append(out, l.en[b.String()]...)
		}
	}
	return out
}
