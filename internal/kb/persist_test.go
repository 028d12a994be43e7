package kb

import (
	"bytes"
	"reflect"
	"testing"
)

func TestSaveLoad(t *testing.T) {
	tok := gseTokenizer(t)
	s := loadEvalSet(t, "zh")
	x := buildIndex(t, tok, s.Entries[:60])
	x.Upsert(Entry{ID: "off", Answer: "x", Questions: []string{"停用的问题"}})
	x.UpsertPassage(Passage{ID: "p1", DocID: "d1", Title: "退货说明", Text: "签收后七天内可以无理由退货。"})
	x.SetSynonyms([][]string{{"退款", "退钱"}})

	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		t.Fatal(err)
	}
	y, err := Load(bytes.NewReader(buf.Bytes()), tok)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := fmtLen(x), fmtLen(y); a != b {
		t.Errorf("Len: saved %v, loaded %v", a, b)
	}
	if e, ok := y.Entry("off"); !ok || e.Enabled {
		t.Errorf("disabled entry: %+v %v", e, ok)
	}
	for _, q := range append([]string{"退钱要几天", "七天无理由退货"}, questions(s, 60)...) {
		a, b := x.Search(q, 5), y.Search(q, 5)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("Search(%q):\nsaved  %+v\nloaded %+v", q, a, b)
		}
	}

	// A snapshot from another tokenizer is refused.
	if _, err := Load(bytes.NewReader(buf.Bytes()), NewTokenizer(Bigrams{})); err == nil {
		t.Error("loaded a snapshot made with another segmenter")
	}
	if _, err := Load(bytes.NewReader(buf.Bytes()[:buf.Len()/2]), tok); err == nil {
		t.Error("loaded a truncated snapshot")
	}
}

func fmtLen(x *Index) [2]int {
	a, b := x.Len()
	return [2]int{a, b}
}

func questions(s evalSet, n int) []string {
	var out []string
	for _, c := range s.Tests {
		out = append(out, c.Question)
	}
	return out[:min(n, len(out))]
}
