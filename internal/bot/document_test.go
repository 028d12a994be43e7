package bot

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kefu-chat/kefu/internal/kefu"
)

const warrantyDoc = `# Zentrolix warranty

Every Zentrolix lantern has a two-year warranty against manufacturing defects.

# Battery care

Charge the battery fully before storing the lantern for the winter.
`

// addDoc uploads a Markdown document through Knowledge and returns it with
// its passages.
func (e *botEnv) addDoc(body string) (*kefu.Document, []*kefu.Passage) {
	e.t.Helper()
	d := &kefu.Document{WorkspaceID: e.ws(), Title: "Lantern guide", Format: "markdown"}
	e.must(e.k.AddDocument(e.t.Context(), d, body))
	ps, err := e.store.ListPassages(e.t.Context(), e.ws())
	e.must(err)
	return d, ps
}

// TestDocumentAnswersWithoutModel: with no language model, an uploaded
// document answers a question its passage matches confidently: the reply
// is the passage with its title, the message meta and the decision name
// the passage and document. A question nothing matches still gets the
// fallback, and the FAQ still answers its own question.
func TestDocumentAnswersWithoutModel(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst})
	d, ps := e.addDoc(warrantyDoc)
	var warranty *kefu.Passage
	for _, p := range ps {
		if p.Title == "Zentrolix warranty" {
			warranty = p
		}
	}
	if warranty == nil {
		t.Fatalf("passages %+v: no warranty section", ps)
	}
	conv := e.f.Conversation.ID

	e.ask(conv, "What warranty does the Zentrolix lantern have?")
	bots := e.messages(conv, kefu.SenderBot, kefu.KindText)
	want := "Zentrolix warranty\nEvery Zentrolix lantern has a two-year warranty against manufacturing defects."
	if len(bots) != 1 || bots[0].Body != want {
		t.Fatalf("bot messages %+v, want one %q", bots, want)
	}
	m := bots[0].Meta
	if m["source"] != "kb" || m["passage_id"] != float64(warranty.ID) || m["document_id"] != float64(d.ID) || m["faq_id"] != nil {
		t.Fatalf("meta %+v, want source kb, passage %d, document %d", m, warranty.ID, d.ID)
	}
	ds := e.decisions(conv)
	if len(ds) != 1 || ds[0].Outcome != OutcomeAnswered || ds[0].Source != "kb" || ds[0].Confidence < 0.45 {
		t.Fatalf("decision %+v", ds)
	}
	kbDetail, _ := ds[0].Detail["kb"].(map[string]any)
	if kbDetail["passage_id"] != float64(warranty.ID) || kbDetail["document_id"] != float64(d.ID) {
		t.Fatalf("decision detail %+v", ds[0].Detail)
	}

	// The same question again comes from the hot cache, still a passage.
	e.ask(conv, "What warranty does the Zentrolix lantern have?")
	if bots := e.messages(conv, kefu.SenderBot, kefu.KindText); len(bots) != 2 || bots[1].Body != want || bots[1].Meta["cached"] != true {
		t.Fatalf("second answer %+v", bots[len(bots)-1])
	}

	// The FAQ entry still answers its question.
	e.ask(conv, "how much is shipping")
	if bots := e.messages(conv, kefu.SenderBot, kefu.KindText); bots[2].Body != "Shipping is free over 99." || bots[2].Meta["faq_id"] == nil {
		t.Fatalf("FAQ answer %+v", bots[2])
	}

	// Nothing matches: the fallback, and the question is recorded.
	e.ask(conv, "Do you sell garden furniture?")
	bots = e.messages(conv, kefu.SenderBot, kefu.KindText)
	if last := bots[len(bots)-1]; last.Meta["source"] != "fallback" {
		t.Fatalf("unmatched question got %+v", last)
	}
	if ds := e.decisions(conv); ds[len(ds)-1].Outcome != OutcomeUnanswered {
		t.Fatalf("decisions %s", outcomesOf(ds))
	}

	// Deleting the document drops its cached answer.
	e.must(e.k.DeleteDocument(t.Context(), e.ws(), d.ID))
	e.ask(conv, "What warranty does the Zentrolix lantern have?")
	bots = e.messages(conv, kefu.SenderBot, kefu.KindText)
	if last := bots[len(bots)-1]; last.Meta["source"] != "fallback" {
		t.Fatalf("deleted document still answers: %+v", last)
	}
}

// TestDocumentAnswerHandsOff: questions a document does not cover count
// towards handoff_after as before.
func TestDocumentAnswerHandsOff(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst, HandoffAfter: 2})
	e.addDoc(warrantyDoc)
	conv := e.f.Conversation.ID
	e.ask(conv, "Do you sell garden furniture?")
	e.ask(conv, "What about patio umbrellas?")
	if got := outcomesOf(e.decisions(conv)); got != "unanswered,handoff" {
		t.Fatalf("decisions %s", got)
	}
	if h := e.handedOff(); len(h) != 1 || h[0] != conv {
		t.Fatalf("hand-offs %v", h)
	}
}

// declining is a language-model source that has nothing to say.
type declining struct{}

func (declining) Name() string                                     { return "llm" }
func (declining) Priority() int                                    { return PriorityLLM }
func (declining) Answer(context.Context, Question) (*Reply, error) { return nil, nil }

// TestDocumentLeftToModel: with a language model the passages are its to
// answer from, so the knowledge base does not send one itself; a model
// skipped for the day (token cap) counts as none.
func TestDocumentLeftToModel(t *testing.T) {
	e := newBotEnv(t, kefu.BotSettings{Mode: kefu.BotFirst})
	e.addDoc(warrantyDoc)
	var model Source = declining{}
	e.b.opts.LLM = func(context.Context, int64) (Source, error) { return model, nil }
	conv := e.f.Conversation.ID
	e.ask(conv, "What warranty does the Zentrolix lantern have?")
	bots := e.messages(conv, kefu.SenderBot, kefu.KindText)
	if len(bots) != 1 || bots[0].Meta["source"] != "fallback" {
		t.Fatalf("with a model: %+v", bots)
	}

	model = skipSource{name: "llm", prio: PriorityLLM, reason: "daily token cap reached"}
	e.ask(conv, "What warranty does the Zentrolix lantern have?")
	bots = e.messages(conv, kefu.SenderBot, kefu.KindText)
	if last := bots[len(bots)-1]; last.Meta["source"] != "kb" || last.Meta["passage_id"] == nil {
		t.Fatalf("with the model skipped: %+v", last)
	}
}

func TestPassageReply(t *testing.T) {
	if got := PassageReply("Returns", "  Free within 30 days. "); got != "Returns\nFree within 30 days." {
		t.Fatalf("short: %q", got)
	}
	if got := PassageReply("", "Free."); got != "Free." {
		t.Fatalf("untitled: %q", got)
	}
	long := strings.Repeat("The lantern is bright. ", 40) // 920 characters
	got := PassageReply("Light", long)
	body := strings.TrimPrefix(got, "Light\n")
	if n := utf8.RuneCountInString(body); n > MaxPassageReply+2 || !strings.HasSuffix(body, "bright. …") {
		t.Fatalf("long (%d runes): %q", n, got)
	}
	zh := strings.Repeat("灯", 700)
	if body := PassageReply("", zh); utf8.RuneCountInString(body) != MaxPassageReply+2 || !strings.HasSuffix(body, " …") {
		t.Fatalf("unbroken Chinese: %d runes", utf8.RuneCountInString(body))
	}
}

// TestSplitDocumentHTML: script, style and head are dropped, headings
// start titled passages, entities are decoded, tags never survive.
func TestSplitDocumentHTML(t *testing.T) {
	html := `<html><head><title>ignored</title><style>p{color:red}</style></head><body>
<script>alert("x")</script>
<p>Welcome to the shop.</p>
<h2>Returns &amp; refunds</h2>
<p>Returns are <b>free</b> within 30 days.</p>
<SCRIPT type="text/javascript">var secret = 1;</SCRIPT>
<h3>Shipping</h3><div>We ship in 24 hours.</div><ul><li>Express</li><li>Standard</li></ul>
</body></html>`
	got := SplitDocument("html", html)
	want := []Chunk{
		{Title: "", Text: "Welcome to the shop."},
		{Title: "Returns & refunds", Text: "Returns are free within 30 days."},
		{Title: "Shipping", Text: "We ship in 24 hours.\n\nExpress\n\nStandard"},
	}
	if len(got) != len(want) {
		t.Fatalf("chunks %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("chunk %d: %q, want %q", i, got[i], want[i])
		}
	}
	for _, c := range got {
		for _, bad := range []string{"<", "alert", "secret", "color", "ignored"} {
			if strings.Contains(c.Title+c.Text, bad) {
				t.Errorf("chunk %q contains %q", c, bad)
			}
		}
	}
}

// TestSplitDocumentText: plain text has no headings ("#" lines are text),
// paragraphs are packed together up to the limit.
func TestSplitDocumentText(t *testing.T) {
	got := SplitDocument("text", "# not a heading\r\n\r\nFirst paragraph.\n\n\n  Second paragraph.  \n")
	want := []Chunk{{Text: "# not a heading\n\nFirst paragraph.\n\nSecond paragraph."}}
	if len(got) != 1 || got[0] != want[0] {
		t.Fatalf("chunks %q, want %q", got, want)
	}
	if got := SplitDocument("text", " \n\n \n"); len(got) != 0 {
		t.Fatalf("blank text: %q", got)
	}
}

// TestSplitDocumentLongParagraph: a paragraph over the limit is cut into
// passages of at most maxChunk bytes, at rune boundaries, losing nothing,
// each keeping the section's title.
func TestSplitDocumentLongParagraph(t *testing.T) {
	long := strings.Repeat("退货政策说明", 100) // 1800 bytes, no spaces
	body := "# 退货\n\nBefore.\n\n" + long + "\n\nAfter."
	got := SplitDocument("markdown", body)
	if len(got) < 4 {
		t.Fatalf("%d chunks, want the long paragraph cut", len(got))
	}
	if got[0].Text != "Before." {
		t.Fatalf("first chunk %q, want the paragraph before on its own", got[0].Text)
	}
	var joined strings.Builder
	for _, c := range got {
		if c.Title != "退货" {
			t.Errorf("chunk title %q", c.Title)
		}
		if len(c.Text) > maxChunk || !utf8.ValidString(c.Text) || c.Text == "" {
			t.Errorf("chunk of %d bytes (valid UTF-8: %v)", len(c.Text), utf8.ValidString(c.Text))
		}
		// Pieces of the long paragraph are cut without a separator;
		// whole paragraphs packed together are separated by a blank line.
		joined.WriteString(strings.ReplaceAll(c.Text, "\n\n", ""))
	}
	if joined.String() != "Before."+long+"After." {
		t.Fatal("the long paragraph's pieces do not add up to it")
	}
}
