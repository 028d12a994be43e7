package kb

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// loadSegmenter loads gse's dictionary once per test binary: it takes
// about two seconds (longer under -race) and ~130 MB.
var loadSegmenter = sync.OnceValues(LoadGSE)

func gseTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	seg, err := loadSegmenter()
	if err != nil {
		t.Fatalf("load gse: %v", err)
	}
	return NewTokenizer(seg)
}

// evalQuestion is a test question and the entry that answers it.
type evalQuestion struct {
	Question string `json:"question"`
	Want     string `json:"want"`
}

// evalResult is how an index did on a list of test questions.
type evalResult struct {
	hit1, hit3                []bool // per question: right at rank 1, within the top 3
	confident, confidentWrong int    // top hits at or above the threshold, and how many of those were wrong
}

// rate is the share of questions i (those keep accepts; all when keep is
// nil) for which hit[i] holds.
func rate(hit []bool, keep func(i int) bool) float64 {
	n, ok := 0, 0
	for i, h := range hit {
		if keep != nil && !keep(i) {
			continue
		}
		n++
		if h {
			ok++
		}
	}
	return float64(ok) / float64(n)
}

// evaluate asks x every question; with -v it logs the misses.
func evaluate(t *testing.T, x *Index, tests []evalQuestion) evalResult {
	t.Helper()
	r := evalResult{hit1: make([]bool, len(tests)), hit3: make([]bool, len(tests))}
	th := x.Params().Threshold
	for qi, q := range tests {
		hits := x.Search(q.Question, 3)
		for i, h := range hits {
			if h.ID == q.Want {
				r.hit3[qi], r.hit1[qi] = true, i == 0
				break
			}
		}
		if len(hits) > 0 && hits[0].Confidence >= th {
			r.confident++
			if hits[0].ID != q.Want {
				r.confidentWrong++
			}
		}
		if testing.Verbose() && (len(hits) == 0 || hits[0].ID != q.Want) {
			got := ""
			if len(hits) > 0 {
				got = hits[0].ID + " " + hits[0].Matched
			}
			t.Logf("miss: %q want %s got %s", q.Question, q.Want, got)
		}
	}
	return r
}

type evalSet struct {
	Language string         `json:"language"`
	Entries  []Entry        `json:"entries"`
	Tests    []evalQuestion `json:"tests"`
}

func loadEvalSet(t testing.TB, lang string) evalSet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "faq_"+lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var s evalSet
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func buildIndex(t testing.TB, tok *Tokenizer, entries []Entry) *Index {
	t.Helper()
	x := NewIndex(tok, DefaultParams())
	for _, e := range entries {
		x.Upsert(e)
	}
	return x
}

// TestEvalSetShape keeps the evaluation set honest: enough entries and
// test questions, every test question maps to an entry, and no test
// question is a stored phrasing.
func TestEvalSetShape(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		s := loadEvalSet(t, lang)
		if len(s.Entries) < 200 || len(s.Tests) < 200 {
			t.Errorf("%s: %d entries, %d tests; want at least 200 each", lang, len(s.Entries), len(s.Tests))
		}
		stored := make(map[string]bool)
		ids := make(map[string]bool)
		for _, e := range s.Entries {
			if ids[e.ID] {
				t.Errorf("%s: duplicate id %s", lang, e.ID)
			}
			ids[e.ID] = true
			if len(e.Questions) < 2 || len(e.Questions) > 3 || e.Answer == "" || !e.Enabled {
				t.Errorf("%s: entry %s: %d phrasings, enabled %v", lang, e.ID, len(e.Questions), e.Enabled)
			}
			for _, q := range e.Questions {
				stored[Normalize(q)] = true
			}
		}
		for _, c := range s.Tests {
			if !ids[c.Want] {
				t.Errorf("%s: test %q wants unknown entry %s", lang, c.Question, c.Want)
			}
			if stored[Normalize(c.Question)] {
				t.Errorf("%s: test %q is a stored phrasing", lang, c.Question)
			}
		}
	}
}

// Accuracy floors, set just under the honest measurement (docs/bot.md,
// "Retrieval quality"). First measured on 2026-11-23 with tokenizer
// kb-tok-3; re-measured with kb-tok-4 (concept lexicon, full Porter
// stemmer, Chinese question words as stop words):
//
//	             kb-tok-3               kb-tok-4
//	zh           top-1 0.260 top-3 0.395  top-1 0.285 top-3 0.425
//	en           top-1 0.120 top-3 0.240  top-1 0.170 top-3 0.335
//	zh+synonyms  top-1 0.270 top-3 0.375  top-1 0.295 top-3 0.450
//	en+synonyms  top-1 0.170 top-3 0.330  top-1 0.225 top-3 0.445
//
// The test questions were written to avoid the stored wording (they say
// "撤销" for "取消", "ran out" for "out of stock"), so these are the numbers
// for hard paraphrases; the stored phrasings themselves are answered
// (top-1 at or above the threshold) 97.7-98.7% of the time, which the test
// also checks. Raise a floor when retrieval improves; never lower it to make a
// change pass.
const (
	floorTop1ZH = 0.27
	floorTop1EN = 0.16
	floorTop3ZH = 0.41
	floorTop3EN = 0.32

	floorTop1ZHSynonyms = 0.28
	floorTop1ENSynonyms = 0.21
	floorTop3ZHSynonyms = 0.43
	floorTop3ENSynonyms = 0.43
)

func TestAccuracy(t *testing.T) {
	tok := gseTokenizer(t)
	for _, c := range []struct {
		lang     string
		synonyms bool
		floor    float64
		floor3   float64
	}{
		{"zh", false, floorTop1ZH, floorTop3ZH}, {"en", false, floorTop1EN, floorTop3EN},
		{"zh", true, floorTop1ZHSynonyms, floorTop3ZHSynonyms}, {"en", true, floorTop1ENSynonyms, floorTop3ENSynonyms},
	} {
		name := c.lang
		if c.synonyms {
			name += "+synonyms"
		}
		t.Run(name, func(t *testing.T) {
			s := loadEvalSet(t, c.lang)
			x := buildIndex(t, tok, s.Entries)
			if c.synonyms {
				x.SetSynonyms(loadSynonyms(t, c.lang))
			}
			th := x.Params().Threshold
			r := evaluate(t, x, s.Tests)
			t1, t3 := rate(r.hit1, nil), rate(r.hit3, nil)
			t.Logf("%s: top-1 %.3f, top-3 %.3f over %d questions; answered at threshold %.2f: %d (%d wrong)",
				name, t1, t3, len(s.Tests), th, r.confident, r.confidentWrong)
			// Per half of the test questions (even and odd positions):
			// parameters are tuned on the even half and confirmed on the
			// odd one (docs/bot.md, "Retrieval quality").
			even, odd := func(i int) bool { return i%2 == 0 }, func(i int) bool { return i%2 == 1 }
			t.Logf("%s: even (tune) top-1 %.3f top-3 %.3f; odd (held out) top-1 %.3f top-3 %.3f",
				name, rate(r.hit1, even), rate(r.hit3, even), rate(r.hit1, odd), rate(r.hit3, odd))
			// Stored phrasings must be answered with their own entry: 97.7-98.7%
			// at the first measurement (586-592 of 600; the rest are short
			// phrasings that two entries share words with, e.g. "找人代付").
			stored, storedOK := 0, 0
			for _, e := range s.Entries {
				for _, q := range e.Questions {
					stored++
					if h := x.Search(q, 1); len(h) == 1 && h[0].ID == e.ID && h[0].Confidence >= th {
						storedOK++
					}
				}
			}
			t.Logf("%s: stored phrasings answered with their entry at threshold: %d of %d", name, storedOK, stored)
			if float64(storedOK) < 0.97*float64(stored) {
				t.Errorf("%s: only %d of %d stored phrasings answered with their own entry", name, storedOK, stored)
			}
			// Questions a shop's FAQ cannot answer must stay below the
			// threshold, so the bot hands off instead of guessing.
			for _, q := range outOfDomain[c.lang] {
				if h := x.Search(q, 1); len(h) == 1 && h[0].Confidence >= th {
					t.Errorf("%s: out-of-domain %q answered with %s (confidence %.2f)", name, q, h[0].ID, h[0].Confidence)
				}
			}
			if t1 < c.floor {
				t.Errorf("%s top-1 accuracy %.3f below floor %.3f", name, t1, c.floor)
			}
			if t3 < c.floor3 {
				t.Errorf("%s top-3 accuracy %.3f below floor %.3f", name, t3, c.floor3)
			}
		})
	}
}

func loadSynonyms(t testing.TB, lang string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "synonyms_"+lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g [][]string
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// outOfDomain are questions outside any shop's FAQ, some sharing a word
// with it ("order", "account", "快递") so that they are not trivially
// unmatched.
var outOfDomain = map[string][]string{
	"zh": {
		"今天北京天气怎么样", "帮我写一首关于春天的诗", "推荐一部好看的电影", "一加一等于几",
		"你们老板叫什么名字", "我想学游泳去哪报名", "快递员长得帅吗", "怎么做红烧肉",
		"股票明天会涨吗", "附近有什么好吃的餐厅",
	},
	"en": {
		"What's the weather like in Paris tomorrow", "Write me a poem about the sea", "Recommend a good movie",
		"What is two plus two", "Who won the football match last night", "How do I bake sourdough bread",
		"In what order should I read the Harry Potter books", "Is the stock market going up",
		"Can you help with my math homework", "What is the capital of Australia",
	},
}

// heldOutSet is a question set written after the concept lexicon, blind
// to it and to the tests in faq_*.json (testdata/heldout_*.json, "note").
type heldOutSet struct {
	Language string         `json:"language"`
	Note     string         `json:"note"`
	Tests    []evalQuestion `json:"tests"`
}

func loadHeldOut(t testing.TB, lang string) heldOutSet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "heldout_"+lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var s heldOutSet
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHeldOutShape keeps the held-out set what its note says: one question
// for each entry at an even position of faq_*.json, none repeated, none a
// stored phrasing.
func TestHeldOutShape(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		faq, h := loadEvalSet(t, lang), loadHeldOut(t, lang)
		if h.Language != faq.Language || h.Note == "" {
			t.Errorf("%s: language %q (faq %q), note %q", lang, h.Language, faq.Language, h.Note)
		}
		if len(h.Tests) != 100 {
			t.Errorf("%s: %d held-out questions, want 100", lang, len(h.Tests))
		}
		ids := make(map[string]bool)
		stored := make(map[string]bool)
		for _, e := range faq.Entries {
			ids[e.ID] = true
			for _, q := range e.Questions {
				stored[Normalize(q)] = true
			}
		}
		seen := make(map[string]bool)
		for i, c := range h.Tests {
			if !ids[c.Want] {
				t.Errorf("%s: held-out %q wants unknown entry %s", lang, c.Question, c.Want)
			}
			if 2*i < len(faq.Entries) && c.Want != faq.Entries[2*i].ID {
				t.Errorf("%s: held-out question %d wants %s, want entry at position %d (%s)", lang, i, c.Want, 2*i, faq.Entries[2*i].ID)
			}
			n := Normalize(c.Question)
			if seen[n] {
				t.Errorf("%s: duplicate held-out question %q", lang, c.Question)
			}
			seen[n] = true
			if stored[n] {
				t.Errorf("%s: held-out %q is a stored phrasing", lang, c.Question)
			}
		}
	}
}

// Held-out floors, set just under the first measurement on 2026-12-06
// (kb-tok-4, DefaultParams; docs/benchmarks.md, "Held-out questions"):
//
//	             top-1  top-3  answered at threshold 0.45 (wrong)
//	zh           0.440  0.650  3 (0)
//	en           0.330  0.560  4 (1)
//	zh+synonyms  0.400  0.610  5 (0)
//	en+synonyms  0.380  0.620  5 (2)
//
// Each floor is one question (0.01) under that measurement.
//
// Nothing was tuned on these questions, and nothing may be: they exist to
// check the numbers of TestAccuracy, whose lexicon was written while
// looking at its tests. Raise a floor when retrieval improves without
// looking at this set; never lower it to make a change pass.
const (
	floorHeldOutTop1ZH = 0.43
	floorHeldOutTop1EN = 0.32
	floorHeldOutTop3ZH = 0.64
	floorHeldOutTop3EN = 0.55

	floorHeldOutTop1ZHSynonyms = 0.39
	floorHeldOutTop1ENSynonyms = 0.37
	floorHeldOutTop3ZHSynonyms = 0.60
	floorHeldOutTop3ENSynonyms = 0.61
)

func TestHeldOutAccuracy(t *testing.T) {
	tok := gseTokenizer(t)
	for _, c := range []struct {
		lang          string
		synonyms      bool
		floor, floor3 float64
	}{
		{"zh", false, floorHeldOutTop1ZH, floorHeldOutTop3ZH}, {"en", false, floorHeldOutTop1EN, floorHeldOutTop3EN},
		{"zh", true, floorHeldOutTop1ZHSynonyms, floorHeldOutTop3ZHSynonyms}, {"en", true, floorHeldOutTop1ENSynonyms, floorHeldOutTop3ENSynonyms},
	} {
		name := c.lang
		if c.synonyms {
			name += "+synonyms"
		}
		t.Run(name, func(t *testing.T) {
			x := buildIndex(t, tok, loadEvalSet(t, c.lang).Entries)
			if c.synonyms {
				x.SetSynonyms(loadSynonyms(t, c.lang))
			}
			h := loadHeldOut(t, c.lang)
			r := evaluate(t, x, h.Tests)
			t1, t3 := rate(r.hit1, nil), rate(r.hit3, nil)
			t.Logf("%s held-out: top-1 %.3f, top-3 %.3f over %d questions; answered at threshold %.2f: %d (%d wrong)",
				name, t1, t3, len(h.Tests), x.Params().Threshold, r.confident, r.confidentWrong)
			if t1 < c.floor {
				t.Errorf("%s held-out top-1 accuracy %.3f below floor %.3f", name, t1, c.floor)
			}
			if t3 < c.floor3 {
				t.Errorf("%s held-out top-3 accuracy %.3f below floor %.3f", name, t3, c.floor3)
			}
		})
	}
}
