package kb

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-ego/gse"
)

// TokenizerVersion changes whenever Tokens would produce different output
// for the same text (new stop words, a stemmer change, another
// segmenter). A saved index records it, and Load refuses a snapshot made
// by another version so that stored tokens and query tokens never drift
// apart.
const TokenizerVersion = "kb-tok-4"

// Segmenter cuts a run of CJK text into words. Implementations must be
// safe for concurrent use.
type Segmenter interface {
	// CutSearch returns the words of text in search-engine mode: long
	// words are also returned as their shorter dictionary words, which
	// raises recall when a visitor uses the short form.
	CutSearch(text string) []string
	// Name identifies the segmenter and its dictionary in saved indexes.
	Name() string
}

// GSE segments Chinese with github.com/go-ego/gse and its embedded
// simplified-Chinese dictionary. Loading the dictionary takes about two
// seconds and ~130 MB of heap, so a process loads it once and shares it.
type GSE struct {
	seg *gse.Segmenter
}

// LoadGSE loads gse's embedded simplified-Chinese dictionary.
func LoadGSE() (*GSE, error) {
	seg, err := gse.NewEmbed("zh_s")
	if err != nil {
		return nil, err
	}
	return &GSE{seg: &seg}, nil
}

// CutSearch implements Segmenter using gse's search mode with HMM for
// words that are not in the dictionary.
func (g *GSE) CutSearch(text string) []string { return g.seg.CutSearch(text, true) }

// Name implements Segmenter.
func (g *GSE) Name() string { return "gse-zh_s" }

// Bigrams is the dictionary-free fallback: every CJK character and every
// pair of adjacent characters becomes a token. It needs no memory or
// start-up time and works for any CJK language, at the cost of noisier
// matches than a real segmenter.
type Bigrams struct{}

// CutSearch implements Segmenter.
func (Bigrams) CutSearch(text string) []string {
	rs := []rune(text)
	out := make([]string, 0, 2*len(rs))
	for i, r := range rs {
		out = append(out, string(r))
		if i+1 < len(rs) {
			out = append(out, string(rs[i:i+2]))
		}
	}
	return out
}

// Name implements Segmenter.
func (Bigrams) Name() string { return "bigrams" }

// Tokenizer turns text into index terms, the same way for stored
// phrasings and for visitor questions.
//
// Text is normalised first (Normalize), then split into runs: CJK runs go
// to the segmenter, Latin words are stemmed, digit runs are kept whole as
// tokens (order numbers, "7" in "7天无理由"). Stop words of both languages
// and punctuation are dropped.
type Tokenizer struct {
	seg Segmenter
	lex *Lexicon // nil: no concept terms
}

// NewTokenizer returns a tokenizer that cuts CJK text with seg and adds
// the concept terms of the bundled lexicon (concepts.txt).
func NewTokenizer(seg Segmenter) *Tokenizer {
	return &Tokenizer{seg: seg, lex: DefaultLexicon()}
}

// NewTokenizerLexicon returns a tokenizer with the given lexicon, or
// none when lex is nil.
func NewTokenizerLexicon(seg Segmenter, lex *Lexicon) *Tokenizer {
	return &Tokenizer{seg: seg, lex: lex}
}

// Version identifies the tokenizer, its segmenter and its lexicon for
// saved indexes.
func (t *Tokenizer) Version() string {
	v := TokenizerVersion + "/" + t.seg.Name()
	if t.lex != nil {
		v += "/lex-" + t.lex.sum
	}
	return v
}

// Normalize folds full-width forms to half-width (ＡＢＣ１２３ → abc123,
// the ideographic space to a space), lowercases, and collapses runs of
// white space. It is also the key of the hot-answer cache, so it trims the
// trailing punctuation that visitors add or leave off at random.
func Normalize(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for _, r := range text {
		r = unicode.ToLower(foldWidth(r))
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return strings.TrimRightFunc(b.String(), func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r)
	})
}

// foldWidth maps full-width ASCII variants (U+FF01–U+FF5E) to ASCII and
// the ideographic space to a space.
func foldWidth(r rune) rune {
	switch {
	case r == '\u3000':
		return ' '
	case r >= '\uFF01' && r <= '\uFF5E':
		return r - 0xFEE0
	}
	return r
}

type runKind int

const (
	runNone runKind = iota
	runCJK
	runWord
	runDigit
)

func classify(r rune) runKind {
	switch {
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
		return runCJK
	case r < 0x250 && unicode.IsLetter(r), r == '\'':
		return runWord
	case unicode.IsDigit(r):
		return runDigit
	}
	return runNone
}

// Tokens returns the index terms of text, in order, with repeats.
func (t *Tokenizer) Tokens(text string) []string {
	text = Normalize(text)
	var out []string
	var words []string // English stems and numbers, for lexicon phrases
	start, kind := 0, runNone
	flush := func(end int) {
		if kind == runNone || start >= end {
			return
		}
		run := text[start:end]
		switch kind {
		case runCJK:
			if t.lex != nil {
				out = t.lex.matchZH(run, out)
			}
			for _, w := range t.seg.CutSearch(run) {
				w = strings.TrimSpace(w)
				if w == "" || zhStop[w] || !hasLetter(w) {
					continue
				}
				out = append(out, w)
				if utf8.RuneCountInString(w) > 1 {
					// The characters of a word as well: paraphrases
					// share characters more often than words (写错/填错,
					// 邮费/运费), and idf keeps common characters cheap.
					for _, r := range w {
						if c := string(r); !zhStop[c] && unicode.IsLetter(r) {
							out = append(out, c)
						}
					}
				}
			}
		case runWord:
			w := strings.ReplaceAll(run, "'", "")
			if enNegations[w] {
				w = "not"
			}
			if len(w) < 2 || enStop[w] {
				return
			}
			w = Stem(w)
			out = append(out, w)
			words = append(words, w)
		case runDigit:
			out = append(out, run)
			words = append(words, run)
		}
	}
	for i, r := range text {
		k := classify(r)
		if k != kind {
			flush(i)
			start, kind = i, k
		}
	}
	flush(len(text))
	if t.lex != nil {
		out = t.lex.matchEN(words, out)
	}
	return out
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
