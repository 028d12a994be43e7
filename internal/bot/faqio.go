package bot

import (
	"bytes"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// FAQ files: JSON is an array of {"category","answer","questions","enabled"}
// (or an object with an "entries" array, the bundled sample's shape); CSV
// has a header row with the columns category, answer, questions, enabled,
// where questions are separated by "|" or new lines.

// faqFile is one entry as exchanged in files.
type faqFile struct {
	Category  string   `json:"category"`
	Answer    string   `json:"answer"`
	Questions []string `json:"questions"`
	Enabled   *bool    `json:"enabled,omitempty"`
}

// ParseFAQJSON reads entries from JSON. Every entry is validated; the
// first problem fails the whole file, so nothing is half-imported.
func ParseFAQJSON(r io.Reader) ([]*kefu.FAQ, error) {
	b, err := io.ReadAll(io.LimitReader(r, 32<<20))
	if err != nil {
		return nil, err
	}
	var list []faqFile
	if err := json.Unmarshal(b, &list); err != nil {
		var wrapped struct {
			Entries []faqFile `json:"entries"`
		}
		if err2 := json.Unmarshal(b, &wrapped); err2 != nil || wrapped.Entries == nil {
			return nil, kefu.Errorf(kefu.EInvalid, "FAQ JSON must be an array of entries or {\"entries\": [...]}")
		}
		list = wrapped.Entries
	}
	return fromFile(list)
}

func fromFile(list []faqFile) ([]*kefu.FAQ, error) {
	if len(list) > MaxImportFAQs {
		return nil, kefu.Errorf(kefu.EInvalid, "at most %d entries per import", MaxImportFAQs)
	}
	out := make([]*kefu.FAQ, 0, len(list))
	for i, e := range list {
		f := &kefu.FAQ{Category: e.Category, Answer: e.Answer, Questions: e.Questions, Enabled: e.Enabled == nil || *e.Enabled}
		if err := ValidateFAQ(f); err != nil {
			return nil, kefu.Errorf(kefu.EInvalid, "entry %d: %s", i+1, kefu.ErrorMessage(err))
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseFAQCSV reads entries from CSV with a header row. The apostrophe
// WriteFAQCSV puts before a cell starting with = + - @ is removed.
func ParseFAQCSV(r io.Reader) ([]*kefu.FAQ, error) {
	cr := csv.NewReader(io.LimitReader(r, 32<<20))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, kefu.Errorf(kefu.EInvalid, "CSV needs a header row: category,answer,questions,enabled")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["answer"]; !ok {
		return nil, kefu.Errorf(kefu.EInvalid, "CSV header must name an answer column")
	}
	if _, ok := col["questions"]; !ok {
		return nil, kefu.Errorf(kefu.EInvalid, "CSV header must name a questions column")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var list []faqFile
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, kefu.Errorf(kefu.EInvalid, "CSV: %v", err)
		}
		// Cells exported by WriteFAQCSV carry its formula guard; strip it
		// before anything else so a round trip keeps "+86…" as it was.
		e := faqFile{Category: csvUnguard(get(rec, "category")), Answer: csvUnguard(get(rec, "answer")),
			Questions: strings.FieldsFunc(csvUnguard(get(rec, "questions")), func(r rune) bool { return r == '|' || r == '\n' })}
		if v := strings.TrimSpace(get(rec, "enabled")); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, kefu.Errorf(kefu.EInvalid, "CSV line %d: enabled must be true or false", line)
			}
			e.Enabled = &b
		}
		list = append(list, e)
		if len(list) > MaxImportFAQs {
			return nil, kefu.Errorf(kefu.EInvalid, "at most %d entries per import", MaxImportFAQs)
		}
	}
	return fromFile(list)
}

// WriteFAQJSON writes entries in the import format.
func WriteFAQJSON(w io.Writer, faqs []*kefu.FAQ) error {
	list := make([]faqFile, len(faqs))
	for i, f := range faqs {
		en := f.Enabled
		list[i] = faqFile{Category: f.Category, Answer: f.Answer, Questions: f.Questions, Enabled: &en}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(list)
}

// WriteFAQCSV writes entries in the import format. Questions containing
// "|" cannot round-trip through CSV's one column; they are joined by new
// lines instead, which the reader also accepts.
func WriteFAQCSV(w io.Writer, faqs []*kefu.FAQ) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"category", "answer", "questions", "enabled"})
	for _, f := range faqs {
		cw.Write([]string{csvSafe(f.Category), csvSafe(f.Answer), csvSafe(strings.Join(f.Questions, "\n")), strconv.FormatBool(f.Enabled)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formula injection: a cell starting with
// = + - @ gets a leading apostrophe, which a spreadsheet shows as text and
// ParseFAQCSV strips again (csvUnguard). So that the guard is never
// confused with the text itself, a cell that already starts with
// apostrophes followed by one of those characters ("'+86") gets one more,
// and a cell like "'quoted" (no formula character after the apostrophes)
// is left alone.
func csvSafe(s string) string {
	if formulaAfterApostrophes(s) {
		return "'" + s
	}
	return s
}

// csvUnguard undoes csvSafe: it strips one apostrophe from a cell of one
// or more apostrophes followed by = + - @, and leaves every other cell,
// including one with a genuine leading apostrophe, as it is.
func csvUnguard(s string) string {
	if strings.HasPrefix(s, "'") && formulaAfterApostrophes(s[1:]) {
		return s[1:]
	}
	return s
}

// formulaAfterApostrophes reports whether s is zero or more apostrophes
// followed by a character a spreadsheet starts a formula with.
func formulaAfterApostrophes(s string) bool {
	s = strings.TrimLeft(s, "'")
	return s != "" && strings.ContainsRune("=+-@", rune(s[0]))
}

//go:embed sample/*.json
var sampleFS embed.FS

// SampleFAQ returns the bundled Chinese and English e-commerce FAQ.
func SampleFAQ() ([]*kefu.FAQ, error) {
	var out []*kefu.FAQ
	for _, name := range []string{"sample/faq_zh.json", "sample/faq_en.json"} {
		b, err := sampleFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		faqs, err := ParseFAQJSON(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		out = append(out, faqs...)
	}
	return out, nil
}
