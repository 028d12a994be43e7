package kb

import (
	"slices"
	"testing"
)

func enIndex(entries ...Entry) *Index {
	x := NewIndex(NewTokenizer(Bigrams{}), DefaultParams())
	for _, e := range entries {
		x.Upsert(e)
	}
	return x
}

func ids(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.ID)
	}
	return out
}

var rankingEntries = []Entry{
	{ID: "refund-time", Answer: "Refunds arrive in 5 to 10 days.", Questions: []string{"How long does a refund take?", "When will I get my refund?"}, Enabled: true},
	{ID: "refund-where", Answer: "Refunds go to the original card.", Questions: []string{"Where does my refund go?"}, Enabled: true},
	{ID: "ship-time", Answer: "Orders ship within 48 hours.", Questions: []string{"How long does shipping take?", "When will my order ship?"}, Enabled: true},
	{ID: "password", Answer: "Use Forgot password on the sign-in page.", Questions: []string{"I forgot my password"}, Enabled: true},
}

func TestSearchRanksBestPhrasing(t *testing.T) {
	x := enIndex(rankingEntries...)
	for _, c := range []struct {
		q    string
		want string
	}{
		{"how long for a refund", "refund-time"},
		{"refund card", "refund-where"},
		{"when does my order ship", "ship-time"},
		{"forgot password", "password"},
	} {
		hits := x.Search(c.q, 3)
		if len(hits) == 0 || hits[0].ID != c.want {
			t.Errorf("Search(%q) = %v, want %s first", c.q, ids(hits), c.want)
		}
	}
	// An exact phrasing is confident; an unrelated question is not.
	th := x.Params().Threshold
	if h := x.Search("How long does a refund take?", 1); len(h) != 1 || h[0].Confidence < th || h[0].Confidence > 1 {
		t.Errorf("exact phrasing: %+v, want confidence in [%v,1]", h, th)
	}
	if h := x.Search("what's the weather tomorrow", 1); len(h) > 0 && h[0].Confidence >= th {
		t.Errorf("unrelated question: %+v, want confidence below %v", h, th)
	}
	if h := x.Search("", 3); h != nil {
		t.Errorf("empty query: %v", h)
	}
}

// TestSearchIDF checks BM25's rarity weighting (a rare term outweighs a
// common one) and term-frequency saturation.
func TestSearchIDF(t *testing.T) {
	x := enIndex(
		Entry{ID: "a", Answer: "x", Questions: []string{"order status"}, Enabled: true},
		Entry{ID: "b", Answer: "x", Questions: []string{"order invoice"}, Enabled: true},
		Entry{ID: "c", Answer: "x", Questions: []string{"order coupon"}, Enabled: true},
		Entry{ID: "d", Answer: "x", Questions: []string{"order order order address change for the order"}, Enabled: true},
	)
	if got := ids(x.Search("order invoice", 2)); len(got) == 0 || got[0] != "b" {
		t.Errorf("order invoice: %v, want b first", got)
	}
	// Term frequency saturates: four times the word is worth well under
	// four times the score.
	hits := x.Search("order", 4)
	if len(hits) != 4 || hits[0].ID != "d" {
		t.Fatalf("order: %v, want d first", ids(hits))
	}
	if hits[0].Score >= 2*hits[1].Score {
		t.Errorf("order: tf 4 scores %v, tf 1 scores %v; want saturation below 2x", hits[0].Score, hits[1].Score)
	}
}

func TestSearchPassages(t *testing.T) {
	x := enIndex(rankingEntries...)
	x.UpsertPassage(Passage{ID: "p1", DocID: "care", Title: "Washing wool", Text: "Hand wash wool sweaters in cold water and dry them flat."})
	hits := x.Search("how to wash a wool sweater", 2)
	if len(hits) == 0 || hits[0].Kind != KindPassage || hits[0].ID != "p1" {
		t.Fatalf("hits %+v, want passage p1 first", hits)
	}
	if err := x.RemovePassage("p1"); err != nil {
		t.Fatal(err)
	}
	if hits := x.Search("wool sweater", 2); len(hits) != 0 {
		t.Errorf("after removal: %+v", hits)
	}
	if err := x.RemovePassage("p1"); err != ErrNotFound {
		t.Errorf("second removal: %v, want ErrNotFound", err)
	}
}

func TestIncrementalUpdate(t *testing.T) {
	x := enIndex(rankingEntries...)
	// Rewriting an entry replaces its phrasings.
	x.Upsert(Entry{ID: "password", Answer: "x", Questions: []string{"How do I change my email?"}, Enabled: true})
	if got := ids(x.Search("change email", 1)); !slices.Equal(got, []string{"password"}) {
		t.Errorf("after update: %v", got)
	}
	if hits := x.Search("forgot password", 3); slices.Contains(ids(hits), "password") {
		t.Errorf("old phrasing still found: %v", ids(hits))
	}
	// Disabled entries are kept but not found.
	x.Upsert(Entry{ID: "ship-time", Answer: "x", Questions: []string{"How long does shipping take?"}})
	if hits := x.Search("shipping take", 3); slices.Contains(ids(hits), "ship-time") {
		t.Errorf("disabled entry found: %v", ids(hits))
	}
	if _, ok := x.Entry("ship-time"); !ok {
		t.Error("disabled entry dropped")
	}
	if err := x.Remove("refund-where"); err != nil {
		t.Fatal(err)
	}
	if err := x.Remove("refund-where"); err != ErrNotFound {
		t.Errorf("second removal: %v", err)
	}
	if n, _ := x.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
	// Statistics match an index built from scratch with the same content.
	fresh := enIndex(
		Entry{ID: "refund-time", Answer: rankingEntries[0].Answer, Questions: rankingEntries[0].Questions, Enabled: true},
		Entry{ID: "password", Answer: "x", Questions: []string{"How do I change my email?"}, Enabled: true},
	)
	for i := range x.fields {
		if x.fields[i].live != fresh.fields[i].live || x.fields[i].totalLen != fresh.fields[i].totalLen || len(x.fields[i].postings) != len(fresh.fields[i].postings) {
			t.Errorf("field %d: incremental %d units/%d tokens/%d terms, fresh %d/%d/%d", i,
				x.fields[i].live, x.fields[i].totalLen, len(x.fields[i].postings),
				fresh.fields[i].live, fresh.fields[i].totalLen, len(fresh.fields[i].postings))
		}
	}
	a, b := x.Search("refund take", 2), fresh.Search("refund take", 2)
	if len(a) == 0 || len(b) == 0 || a[0].Score != b[0].Score {
		t.Errorf("scores differ: incremental %+v, fresh %+v", a, b)
	}
}

func TestSynonyms(t *testing.T) {
	// Without the bundled lexicon, which knows "money back" already
	// (TestLexiconBridgesParaphrases).
	x := NewIndex(NewTokenizerLexicon(Bigrams{}, nil), DefaultParams())
	for _, e := range rankingEntries {
		x.Upsert(e)
	}
	if hits := x.Search("money back timing", 3); slices.Contains(ids(hits), "refund-time") {
		t.Fatalf("found without synonyms: %v", ids(hits))
	}
	x.SetSynonyms([][]string{{"refund", "money back"}, {"nothing"}})
	hits := x.Search("how long until I get my money back", 3)
	if len(hits) == 0 || hits[0].ID != "refund-time" {
		t.Fatalf("with synonyms: %v, want refund-time first", ids(hits))
	}
	// A synonym counts less than the word itself.
	direct := x.Search("how long until I get my refund", 1)
	if direct[0].Score <= hits[0].Score {
		t.Errorf("synonym score %v >= direct score %v", hits[0].Score, direct[0].Score)
	}
	x.SetSynonyms(nil)
	if hits := x.Search("money back timing", 3); slices.Contains(ids(hits), "refund-time") {
		t.Errorf("found after clearing synonyms: %v", ids(hits))
	}
}

func TestSynonymsChinese(t *testing.T) {
	x := NewIndex(gseTokenizer(t), DefaultParams())
	x.Upsert(Entry{ID: "refund", Answer: "原路退回", Questions: []string{"退款多久到账"}, Enabled: true})
	x.Upsert(Entry{ID: "ship", Answer: "48小时内发货", Questions: []string{"什么时候发货"}, Enabled: true})
	x.SetSynonyms([][]string{{"退款", "返款"}})
	if got := ids(x.Search("返款几天能到", 1)); !slices.Equal(got, []string{"refund"}) {
		t.Errorf("返款几天能到: %v, want refund", got)
	}
}
