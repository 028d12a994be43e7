package bot

import (
	"bytes"
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
	if len(fromCSV) != 2 || fromCSV[0].Answer != "'=7天无理由" || len(fromCSV[0].Questions) != 2 || fromCSV[1].Enabled {
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
