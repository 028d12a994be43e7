package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/kefu-chat/kefu/internal/browsertest"
)

// downloader saves a tab's downloads in a folder of the test's and hands
// each finished one over, with the name the page suggested.
type downloader struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	mu   sync.Mutex
	name map[string]string // guid -> suggested file name
	done chan string       // guids of finished downloads
}

func newDownloader(t *testing.T, ctx context.Context) *downloader {
	t.Helper()
	d := &downloader{t: t, ctx: ctx, dir: t.TempDir(), name: map[string]string{}, done: make(chan string, 16)}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *browser.EventDownloadWillBegin:
			d.mu.Lock()
			d.name[ev.GUID] = ev.SuggestedFilename
			d.mu.Unlock()
		case *browser.EventDownloadProgress:
			if ev.State == browser.DownloadProgressStateCompleted {
				select {
				case d.done <- ev.GUID:
				default:
				}
			}
		}
	})
	browsertest.Run(t, ctx, uiWait, browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).
		WithDownloadPath(d.dir).WithEventsEnabled(true))
	return d
}

// get runs click and returns the file it downloads.
func (d *downloader) get(what string, click chromedp.Action) (name string, body []byte) {
	d.t.Helper()
	browsertest.Run(d.t, d.ctx, uiWait, click)
	select {
	case guid := <-d.done:
		body, err := os.ReadFile(filepath.Join(d.dir, guid))
		if err != nil {
			d.t.Fatalf("%s: %v", what, err)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.name[guid], body
	case <-time.After(uiWait):
		browsertest.Screenshot(d.t, d.ctx, "failure")
		d.t.Fatalf("%s: no download finished", what)
		return "", nil
	}
}

// faqLine is an FAQ entry as one comparable line.
func faqLine(category, answer string, questions []string, enabled bool) string {
	return fmt.Sprintf("%s | %s | %s | %v", category, answer, strings.Join(questions, " / "), enabled)
}

// TestAdminKnowledgeBaseFilesAndSynonyms: in the admin console the admin
// imports FAQ entries from a CSV file and from a JSON file through the
// file input and sees them listed; exports both formats and finds the
// entries in the downloaded files; and edits the synonyms. A visitor's
// question that shares no word with any entry gets the bot's fallback
// before, and the entry's answer after, the synonym links its word to
// the entry's.
func TestAdminKnowledgeBaseFilesAndSynonyms(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	tok := s.login(adminEmail, adminPassword)
	inboxID, inbox := firstInbox(t, s, tok)
	ctx := agentTab(t, s, adminEmail, adminPassword)

	dir := t.TempDir()
	csvFile, jsonFile := filepath.Join(dir, "faq-shop.csv"), filepath.Join(dir, "faq-more.json")
	// Questions separated by "|" and by a new line inside a quoted cell;
	// a cell with a comma.
	must(t, os.WriteFile(csvFile, []byte("category,answer,questions,enabled\n"+
		"Products,A Zentrolix is our solar camping lantern.,What is a zentrolix?|zentrolix 是什么,true\n"+
		"Shipping,\"We ship within 24 hours, 我们24小时内发货。\",\"When do you ship?\n什么时候发货\",true\n"), 0o600))
	// An array of entries; one disabled, one whose answer a spreadsheet
	// would take for a formula.
	must(t, os.WriteFile(jsonFile, []byte(`[
 {"category": "Returns", "answer": "Returns are free within 30 days.", "questions": ["Are returns free?", "退货要钱吗"]},
 {"category": "Payment", "answer": "We accept Alipay, WeChat Pay and cards.", "questions": ["Which payment methods do you accept?"], "enabled": false},
 {"category": "Contact", "answer": "+86 400-820-8820 is our hotline.", "questions": ["What is your phone number?"]}
]`), 0o600))
	want := []string{
		faqLine("Products", "A Zentrolix is our solar camping lantern.", []string{"What is a zentrolix?", "zentrolix 是什么"}, true),
		faqLine("Shipping", "We ship within 24 hours, 我们24小时内发货。", []string{"When do you ship?", "什么时候发货"}, true),
		faqLine("Returns", "Returns are free within 30 days.", []string{"Are returns free?", "退货要钱吗"}, true),
		faqLine("Payment", "We accept Alipay, WeChat Pay and cards.", []string{"Which payment methods do you accept?"}, false),
		faqLine("Contact", "+86 400-820-8820 is our hotline.", []string{"What is your phone number?"}, true),
	}
	slices.Sort(want)

	browsertest.Run(t, ctx, uiWait,
		chromedp.Navigate(s.URL+"/app/admin/kb"),
		chromedp.WaitVisible("#kb-file", chromedp.ByQuery),
		recordToasts())
	waitJS(t, ctx, "the empty knowledge base", `document.getElementById('kb-status').textContent.startsWith('0 entries')`)
	browsertest.Run(t, ctx, uiWait, chromedp.SetUploadFiles("#kb-file", []string{csvFile}, chromedp.ByQuery))
	waitJS(t, ctx, "the CSV's entries listed", `document.getElementById('kb-status').textContent.startsWith('2 entries') && `+jsHas("window.__toasts", "2 entries imported.")+
		` && (document.getElementById('faq-table')?.innerText || '').includes('What is a zentrolix? / zentrolix 是什么')`)
	browsertest.Run(t, ctx, uiWait, chromedp.SetUploadFiles("#kb-file", []string{jsonFile}, chromedp.ByQuery))
	waitJS(t, ctx, "the JSON's entries listed too", `document.getElementById('kb-status').textContent.startsWith('5 entries') && `+jsHas("window.__toasts", "3 entries imported.")+
		` && document.querySelectorAll('#faq-table tbody tr').length === 5`)
	if err := evalString(t, ctx, `document.getElementById('kb-error').textContent`); err != "" {
		t.Fatalf("import error shown: %s", err)
	}
	rows := evalString(t, ctx, `JSON.stringify([...document.querySelectorAll('#faq-table tbody tr')].map((tr) =>
		[tr.cells[2], tr.cells[1], tr.cells[0]].map((td) => td.textContent).join(' | ') + ' | ' + tr.querySelector('input[type=checkbox]').checked))`)
	var listed []string
	must(t, json.Unmarshal([]byte(rows), &listed))
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Fatalf("the list shows\n%s\nwant\n%s", strings.Join(listed, "\n"), strings.Join(want, "\n"))
	}
	var stored []string
	zentrolix := int64(0)
	for _, x := range mustCall(t, 200, "GET", s.URL+"/api/v1/bot/faqs", tok, nil)["data"].([]any) {
		f := x.(map[string]any)
		var qs []string
		for _, q := range f["questions"].([]any) {
			qs = append(qs, q.(string))
		}
		stored = append(stored, faqLine(f["category"].(string), f["answer"].(string), qs, f["enabled"] == true))
		if f["category"] == "Products" {
			zentrolix = num(f["id"])
		}
	}
	slices.Sort(stored)
	if !slices.Equal(stored, want) {
		t.Fatalf("the API holds\n%s\nwant\n%s", strings.Join(stored, "\n"), strings.Join(want, "\n"))
	}
	browsertest.Screenshot(t, ctx, "imported")

	// Export both formats through the page's buttons.
	dl := newDownloader(t, ctx)
	name, body := dl.get("the CSV export", chromedp.Click("#export-csv", chromedp.ByQuery))
	if name != "faq.csv" {
		t.Errorf("CSV export named %q", name)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) == 0 || !slices.Equal(recs[0], []string{"category", "answer", "questions", "enabled"}) {
		t.Fatalf("CSV export (%v):\n%s", err, body)
	}
	var exported []string
	for _, r := range recs[1:] {
		exported = append(exported, faqLine(r[0], r[1], strings.Split(r[2], "\n"), r[3] == "true"))
	}
	slices.Sort(exported)
	// The CSV defuses the cell a spreadsheet would run as a formula.
	wantCSV := slices.Clone(want)
	for i, w := range wantCSV {
		wantCSV[i] = strings.Replace(w, "+86", "'+86", 1)
	}
	if !slices.Equal(exported, wantCSV) {
		t.Fatalf("CSV export holds\n%s\nwant\n%s", strings.Join(exported, "\n"), strings.Join(wantCSV, "\n"))
	}
	name, body = dl.get("the JSON export", chromedp.Click("#export-json", chromedp.ByQuery))
	if name != "faq.json" {
		t.Errorf("JSON export named %q", name)
	}
	var entries []struct {
		Category, Answer string
		Questions        []string
		Enabled          bool
	}
	if err := json.Unmarshal(body, &entries); err != nil {
		t.Fatalf("JSON export (%v):\n%s", err, body)
	}
	exported = exported[:0]
	for _, e := range entries {
		exported = append(exported, faqLine(e.Category, e.Answer, e.Questions, e.Enabled))
	}
	slices.Sort(exported)
	if !slices.Equal(exported, want) {
		t.Fatalf("JSON export holds\n%s\nwant\n%s", strings.Join(exported, "\n"), strings.Join(want, "\n"))
	}

	// The bot answers on the inbox. "quibbleton" is in no entry: the
	// visitor gets the fallback.
	mustCall(t, 200, "PUT", fmt.Sprintf("%s/api/v1/inboxes/%d/bot", s.URL, inboxID), tok,
		map[string]any{"mode": "bot_first", "greeting": "您好！", "quick_replies": []string{}, "handoff_after": 3})
	v := s.visitorSession(inbox, "")
	conv := s.startConversation(v)
	vis := s.dial("/ws/visitor", v.Token, "")
	ask := func(q string) map[string]any {
		t.Helper()
		vis.Send(map[string]any{"type": "send", "conversation_id": conv, "body": q})
		for {
			m := vis.Next("message", wait).Message()
			if meta, _ := m["meta"].(map[string]any); m["sender_type"] == "bot" && meta["source"] != "greeting" {
				return m
			}
		}
	}
	const question = "What is a quibbleton?"
	if m := ask(question); m["meta"].(map[string]any)["source"] != "fallback" {
		t.Fatalf("before the synonym the bot answered %v", m)
	}

	// Synonyms, a group a line; the Chinese comma separates words too.
	browsertest.Run(t, ctx, uiWait,
		setValue("#synonyms", "zentrolix, quibbleton\n退货，退款"),
		chromedp.Click("#synonyms-submit", chromedp.ByQuery))
	waitJS(t, ctx, "the synonyms saved", jsHas("window.__toasts", "Saved.")+` && document.getElementById('synonyms').value === 'zentrolix, quibbleton\n退货, 退款'`)
	if got := fmt.Sprint(mustCall(t, 200, "GET", s.URL+"/api/v1/bot/synonyms", tok, nil)["groups"]); got != "[[zentrolix quibbleton] [退货 退款]]" {
		t.Fatalf("synonyms stored %s", got)
	}
	browsertest.Run(t, ctx, uiWait, chromedp.Navigate(s.URL+"/app/admin/kb"), chromedp.WaitVisible("#synonyms", chromedp.ByQuery))
	if got := evalString(t, ctx, `document.getElementById('synonyms').value`); got != "zentrolix, quibbleton\n退货, 退款" {
		t.Fatalf("synonyms after a reload %q", got)
	}
	browsertest.Screenshot(t, ctx, "synonyms")

	m := ask(question)
	meta := m["meta"].(map[string]any)
	if m["body"] != "A Zentrolix is our solar camping lantern." || meta["source"] != "kb" || num(meta["faq_id"]) != zentrolix {
		t.Fatalf("after the synonym the bot answered %v (want FAQ %d)", m, zentrolix)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
