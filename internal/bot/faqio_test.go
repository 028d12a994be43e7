package bot

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestFAQRoundTrip(t *testing.T) {
	in := []*kefu.FAQ{{Category: "售后", Answer: "=7天无理由", Questions: []string{"能退货吗", "how to return, please"}, Enabled: true},
		{Answer: "Shipping is free", Questions: []string{"shipping cost"}, Enabled: false}}
	var csvBuf, jsonBuf bytes.Buffer
	if err := WriteFAQCSV(&csvBuf, in); err != nil {
		t.Fatal(err)
	}
	if err := WriteFAQJSON(&jsonBuf, in); err != nil {
		t.Fatal(err)
	}
	fromCSV, err := ParseFAQCSV(&csvBuf)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseFAQJSON(&jsonBuf)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromCSV) != 2 || fromCSV[0].Answer != "=7天无理由" || len(fromCSV[0].Questions) != 2 || fromCSV[1].Enabled {
		t.Fatalf("csv %+v %+v", fromCSV[0], fromCSV[1])
	}
	if len(fromJSON) != 2 || fromJSON[0].Answer != "=7天无理由" || fromJSON[1].Enabled {
		t.Fatalf("json %+v", fromJSON)
	}
	if _, err := ParseFAQCSV(strings.NewReader("answer,questions\n,q\n")); kefu.ErrorCode(err) != kefu.EInvalid {
		t.Fatalf("empty answer: %v", err)
	}
	if faqs, err := SampleFAQ(); err != nil || len(faqs) != 400 {
		t.Fatalf("sample: %d %v", len(faqs), err)
	}
}

// TestFAQCSVFormulaGuardRoundTrip: the exporter's apostrophe before a
// cell starting with = + - @ is there in the file (a spreadsheet shows
// the cell as text) and gone after import, so export → import gives the
// entries back unchanged; an apostrophe that is part of the text, before
// a formula character or not, survives.
func TestFAQCSVFormulaGuardRoundTrip(t *testing.T) {
	cases := []struct {
		text string
		cell string // as written in the CSV
	}{
		{"+86 400-820-8820 is our hotline.", "'+86 400-820-8820 is our hotline."},
		{"=SUM(A1:A2)", "'=SUM(A1:A2)"},
		{"-20% off everything", "'-20% off everything"},
		{"@support on WeChat", "'@support on WeChat"},
		{"'quoted' is how we say it", "'quoted' is how we say it"},
		{"'", "'"},
		{"'+86 with its own apostrophe", "''+86 with its own apostrophe"},
		{"''=two of them", "'''=two of them"},
		{"plain", "plain"},
		{"a + b = c", "a + b = c"},
	}
	var in []*kefu.FAQ
	for _, c := range cases {
		in = append(in, &kefu.FAQ{Category: c.text, Answer: c.text, Questions: []string{c.text, "second " + c.text}, Enabled: true})
	}
	var buf bytes.Buffer
	if err := WriteFAQCSV(&buf, in); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil || len(recs) != len(cases)+1 {
		t.Fatalf("export (%v):\n%s", err, buf.String())
	}
	for i, c := range cases {
		r := recs[i+1]
		if r[0] != c.cell || r[1] != c.cell || r[2] != c.cell+"\nsecond "+c.text {
			t.Errorf("%q exported as %q", c.text, r[:3])
		}
	}
	out, err := ParseFAQCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d entries back, want %d", len(out), len(in))
	}
	for i, c := range cases {
		f := out[i]
		if f.Category != c.text || f.Answer != c.text || !slices.Equal(f.Questions, in[i].Questions) {
			t.Errorf("%q came back as category %q, answer %q, questions %q", c.text, f.Category, f.Answer, f.Questions)
		}
	}
	// A hand-written file: only the guard (an apostrophe before a formula
	// character) is removed.
	out, err = ParseFAQCSV(strings.NewReader("category,answer,questions\n'Sales,'@shop,'-q|'q2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f := out[0]; f.Category != "'Sales" || f.Answer != "@shop" || !slices.Equal(f.Questions, []string{"-q", "'q2"}) {
		t.Fatalf("hand-written: %+v", f)
	}
}

// FuzzImport: any input either fails with an invalid error or yields only
// entries that pass validation; it never panics.
func FuzzImport(f *testing.F) {
	f.Add([]byte("category,answer,questions,enabled\nc,a,q1|q2,true\n"))
	f.Add([]byte(`[{"answer":"a","questions":["q"]}]`))
	f.Add([]byte(`{"entries":[{"answer":"a","questions":["q"],"enabled":false}]}`))
	f.Add([]byte("answer,questions\n\"unterminated"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func(*bytes.Reader) ([]*kefu.FAQ, error){
			func(r *bytes.Reader) ([]*kefu.FAQ, error) { return ParseFAQCSV(r) },
			func(r *bytes.Reader) ([]*kefu.FAQ, error) { return ParseFAQJSON(r) },
		} {
			faqs, err := parse(bytes.NewReader(b))
			if err != nil {
				if kefu.ErrorCode(err) != kefu.EInvalid {
					t.Fatalf("error %v is not invalid", err)
				}
				continue
			}
			for _, f := range faqs {
				cp := *f
				if ValidateFAQ(&cp) != nil {
					t.Fatalf("invalid entry accepted: %+v", f)
				}
			}
		}
	})
}
