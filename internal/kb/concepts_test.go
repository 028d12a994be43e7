package kb

import (
	"slices"
	"strings"
	"testing"
)

func TestDefaultLexicon(t *testing.T) {
	l := DefaultLexicon()
	if len(l.zh) < 300 || len(l.en) < 300 {
		t.Errorf("lexicon has %d Chinese and %d English terms; want hundreds of each", len(l.zh), len(l.en))
	}
	if l.zhMax < 2 || l.enMax < 2 || l.sum == "" {
		t.Errorf("zhMax %d, enMax %d, sum %q", l.zhMax, l.enMax, l.sum)
	}
}

func TestParseLexiconErrors(t *testing.T) {
	for _, text := range []string{
		"refund, 退",               // one Chinese character
		"refund, 7天退货",            // mixed scripts
		"refund, the",             // only stop words
		"refund, ,money back",     // empty term
		"refund, x\nrefund, back", // concept named twice
	} {
		if _, err := ParseLexicon(text); err == nil {
			t.Errorf("ParseLexicon(%q) = nil error", text)
		}
	}
	l, err := ParseLexicon("# comment\n\nrefund, money back, 退款, 退钱\n")
	if err != nil {
		t.Fatal(err)
	}
	if l.zhMax != 2 || l.enMax != 2 {
		t.Errorf("zhMax %d enMax %d, want 2 and 2", l.zhMax, l.enMax)
	}
}

func TestTokensConcepts(t *testing.T) {
	l, err := ParseLexicon("refund, money back, reimbursed, 退款, 退钱\nout of stock, sold out, 缺货\nship, dispatch")
	if err != nil {
		t.Fatal(err)
	}
	tok := NewTokenizerLexicon(Bigrams{}, l)
	for _, c := range []struct {
		in   string
		want []string // concept terms, in order
	}{
		{"When do I get my money back?", []string{"~refund"}},
		{"Were you reimbursing me?", []string{"~refund"}},   // stemmed
		{"the size is SOLD-OUT", []string{"~out_of_stock"}}, // punctuation and case
		{"sold my shoes out", nil},                          // not adjacent
		{"能退钱吗", []string{"~refund"}},
		{"退款退钱", []string{"~refund", "~refund"}},
		{"缺货了，什么时候dispatch", []string{"~out_of_stock", "~ship"}},
		{"weather today", nil},
	} {
		var got []string
		for _, w := range tok.Tokens(c.in) {
			if isConcept(w) {
				got = append(got, w)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("concepts of %q = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestLexiconBridgesParaphrases: a question that shares no word with the
// stored phrasing, only a concept, still finds its entry.
func TestLexiconBridgesParaphrases(t *testing.T) {
	x := enIndex(rankingEntries...)
	if hits := x.Search("money back timing", 3); len(hits) == 0 || !strings.HasPrefix(hits[0].ID, "refund-") {
		t.Errorf("money back timing: %v, want a refund entry first", ids(hits))
	}
	plain := NewIndex(NewTokenizerLexicon(Bigrams{}, nil), DefaultParams())
	for _, e := range rankingEntries {
		plain.Upsert(e)
	}
	if hits := plain.Search("money back timing", 3); len(hits) > 0 && strings.HasPrefix(hits[0].ID, "refund-") {
		t.Errorf("found without the lexicon: %v; the test proves nothing", ids(hits))
	}
	zh := NewIndex(gseTokenizer(t), DefaultParams())
	zh.Upsert(Entry{ID: "refund", Answer: "原路退回", Questions: []string{"退款多久到账"}, Enabled: true})
	zh.Upsert(Entry{ID: "invoice", Answer: "在订单详情申请", Questions: []string{"怎么开发票"}, Enabled: true})
	if got := ids(zh.Search("退钱要几天", 1)); !slices.Equal(got, []string{"refund"}) {
		t.Errorf("退钱要几天: %v, want refund", got)
	}
	if got := ids(zh.Search("能给我开收据吗", 1)); !slices.Equal(got, []string{"invoice"}) {
		t.Errorf("能给我开收据吗: %v, want invoice", got)
	}
}

// TestVersionNamesLexicon: a saved index records the lexicon, so editing
// concepts.txt makes old snapshots rebuild instead of being misread.
func TestVersionNamesLexicon(t *testing.T) {
	a, _ := ParseLexicon("refund, money back")
	b, _ := ParseLexicon("refund, money back, reimburse")
	va := NewTokenizerLexicon(Bigrams{}, a).Version()
	vb := NewTokenizerLexicon(Bigrams{}, b).Version()
	vn := NewTokenizerLexicon(Bigrams{}, nil).Version()
	if va == vb || va == vn || vb == vn {
		t.Errorf("versions not distinct: %q %q %q", va, vb, vn)
	}
	if !strings.HasPrefix(va, TokenizerVersion+"/") {
		t.Errorf("version %q does not start with %q", va, TokenizerVersion)
	}
}
