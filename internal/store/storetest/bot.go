package storetest

import (
	"slices"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// testBot covers migration 0005: the knowledge base, bot configuration
// and records, message meta, and that every one of them is scoped to its
// workspace.
func testBot(t *testing.T, s kefu.Store) {
	f := newFixture(t, s)
	ctx := t.Context()
	a, b := f.tenant(), f.tenant()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	notFound := func(what string, err error) {
		t.Helper()
		if !kefu.IsNotFound(err) {
			t.Errorf("%s across workspaces: %v, want not_found", what, err)
		}
	}

	// FAQ CRUD and isolation.
	faq := &kefu.FAQ{WorkspaceID: a.ws.ID, Category: "售后", Answer: "7天无理由退货", Questions: []string{"能退货吗", "how to return"}, Enabled: true}
	must(s.CreateFAQ(ctx, faq))
	got, err := s.GetFAQ(ctx, a.ws.ID, faq.ID)
	must(err)
	if got.Answer != faq.Answer || !slices.Equal(got.Questions, faq.Questions) || !got.Enabled || !got.CreatedAt.Equal(faq.CreatedAt) {
		t.Fatalf("GetFAQ %+v, want %+v", got, faq)
	}
	_, err = s.GetFAQ(ctx, b.ws.ID, faq.ID)
	notFound("GetFAQ", err)
	faq.Enabled = false
	notFound("UpdateFAQ", s.UpdateFAQ(ctx, &kefu.FAQ{ID: faq.ID, WorkspaceID: b.ws.ID, Answer: "x"}))
	must(s.UpdateFAQ(ctx, faq))
	if list, _ := s.ListFAQs(ctx, a.ws.ID); len(list) != 1 || list[0].Enabled {
		t.Fatalf("ListFAQs after update %+v", list)
	}
	if list, _ := s.ListFAQs(ctx, b.ws.ID); len(list) != 0 {
		t.Fatalf("other workspace sees %d FAQs", len(list))
	}
	notFound("DeleteFAQ", s.DeleteFAQ(ctx, b.ws.ID, faq.ID))

	// An import stores every entry or none.
	before, err := s.ListFAQs(ctx, a.ws.ID)
	must(err)
	bad := []*kefu.FAQ{
		{WorkspaceID: a.ws.ID, Answer: "one", Questions: []string{"q1"}, Enabled: true},
		{WorkspaceID: 1 << 40, Answer: "no such workspace", Questions: []string{"q2"}, Enabled: true},
		{WorkspaceID: a.ws.ID, Answer: "three", Questions: []string{"q3"}, Enabled: true},
	}
	if err := s.CreateFAQs(ctx, bad); err == nil {
		t.Fatal("CreateFAQs with a missing workspace succeeded")
	}
	if after, _ := s.ListFAQs(ctx, a.ws.ID); len(after) != len(before) || bad[0].ID != 0 {
		t.Fatalf("failed import left %d entries (had %d), first id %d", len(after), len(before), bad[0].ID)
	}
	good := []*kefu.FAQ{bad[0], bad[2]}
	must(s.CreateFAQs(ctx, good))
	after, err := s.ListFAQs(ctx, a.ws.ID)
	must(err)
	if len(after) != len(before)+2 || good[0].ID == 0 || good[1].ID <= good[0].ID || after[len(after)-1].Answer != "three" {
		t.Fatalf("import: %d entries (had %d), ids %d %d", len(after), len(before), good[0].ID, good[1].ID)
	}
	for _, f := range good {
		must(s.DeleteFAQ(ctx, a.ws.ID, f.ID))
	}

	// Documents and passages, embeddings round-trip.
	d := &kefu.Document{WorkspaceID: a.ws.ID, Title: "Guide", Format: "markdown"}
	must(s.CreateDocument(ctx, d, []*kefu.Passage{{Title: "A", Text: "one", Embedding: []float32{0.5, -1}}, {Text: "two"}}))
	ps, err := s.ListPassages(ctx, a.ws.ID)
	must(err)
	if len(ps) != 2 || ps[0].DocumentID != d.ID || !slices.Equal(ps[0].Embedding, []float32{0.5, -1}) || ps[1].Embedding != nil || ps[1].Seq != 1 {
		t.Fatalf("passages %+v", ps)
	}
	if ps, _ := s.ListPassages(ctx, b.ws.ID); len(ps) != 0 {
		t.Fatal("passages leak across workspaces")
	}
	notFound("DeleteDocument", s.DeleteDocument(ctx, b.ws.ID, d.ID))
	must(s.DeleteDocument(ctx, a.ws.ID, d.ID))
	if ps, _ := s.ListPassages(ctx, a.ws.ID); len(ps) != 0 {
		t.Fatal("passages survive their document")
	}
	must(s.DeleteFAQ(ctx, a.ws.ID, faq.ID))

	// Synonyms and the index snapshot.
	must(s.SetSynonyms(ctx, a.ws.ID, [][]string{{"退货", "退款"}}))
	if g, _ := s.GetSynonyms(ctx, b.ws.ID); len(g) != 0 {
		t.Fatal("synonyms leak")
	}
	if g, _ := s.GetSynonyms(ctx, a.ws.ID); len(g) != 1 || g[0][1] != "退款" {
		t.Fatalf("synonyms %v", g)
	}
	_, _, err = s.LoadKBIndex(ctx, a.ws.ID)
	notFound("LoadKBIndex before save", err)
	must(s.SaveKBIndex(ctx, a.ws.ID, "fp1", []byte{1, 2}))
	must(s.SaveKBIndex(ctx, a.ws.ID, "fp2", []byte{3}))
	if fp, data, err := s.LoadKBIndex(ctx, a.ws.ID); err != nil || fp != "fp2" || !slices.Equal(data, []byte{3}) {
		t.Fatalf("LoadKBIndex %q %v %v", fp, data, err)
	}
	_, _, err = s.LoadKBIndex(ctx, b.ws.ID)
	notFound("LoadKBIndex", err)

	// Intents (the action secret is stored) and plugins.
	it := &kefu.Intent{WorkspaceID: a.ws.ID, Name: "order", Keywords: []string{"订单"}, Entities: []string{"order_number"}, Enabled: true,
		Action: &kefu.IntentAction{URL: "http://shop/x", Secret: "k", Template: "{{status}}"}}
	must(s.CreateIntent(ctx, it))
	if err := s.CreateIntent(ctx, &kefu.Intent{WorkspaceID: a.ws.ID, Name: "order"}); kefu.ErrorCode(err) != kefu.EConflict {
		t.Errorf("duplicate intent name: %v", err)
	}
	notFound("UpdateIntent", s.UpdateIntent(ctx, &kefu.Intent{ID: it.ID, WorkspaceID: b.ws.ID, Name: "x"}))
	if l, _ := s.ListIntents(ctx, a.ws.ID); len(l) != 1 || l[0].Action == nil || l[0].Action.Secret != "k" || l[0].Keywords[0] != "订单" {
		t.Fatalf("intents %+v", l)
	}
	notFound("DeleteIntent", s.DeleteIntent(ctx, b.ws.ID, it.ID))
	p := &kefu.BotPlugin{WorkspaceID: a.ws.ID, Name: "crm", URL: "http://crm", Secret: "s", Priority: 250, Enabled: true}
	must(s.CreatePlugin(ctx, p))
	notFound("UpdatePlugin", s.UpdatePlugin(ctx, &kefu.BotPlugin{ID: p.ID, WorkspaceID: b.ws.ID}))
	if l, _ := s.ListPlugins(ctx, a.ws.ID); len(l) != 1 || l[0].Secret != "s" || l[0].Priority != 250 {
		t.Fatalf("plugins %+v", l)
	}
	notFound("DeletePlugin", s.DeletePlugin(ctx, b.ws.ID, p.ID))

	// Settings: per inbox, only the workspace's own inbox.
	_, err = s.GetBotSettings(ctx, a.ws.ID, a.inbox.ID)
	notFound("GetBotSettings before put", err)
	bs := &kefu.BotSettings{WorkspaceID: a.ws.ID, InboxID: a.inbox.ID, Mode: kefu.BotFirst, Greeting: "hi", QuickReplies: []string{"x"}, Threshold: 0.5, HandoffAfter: 2}
	must(s.PutBotSettings(ctx, bs))
	notFound("PutBotSettings on another workspace's inbox", s.PutBotSettings(ctx, &kefu.BotSettings{WorkspaceID: b.ws.ID, InboxID: a.inbox.ID, Mode: kefu.BotFirst}))
	if g, err := s.GetBotSettings(ctx, a.ws.ID, a.inbox.ID); err != nil || g.Mode != kefu.BotFirst || g.HandoffAfter != 2 || g.QuickReplies[0] != "x" {
		t.Fatalf("settings %+v %v", g, err)
	}
	ls := &kefu.LLMSettings{WorkspaceID: a.ws.ID, Enabled: true, BaseURL: "http://llm", Model: "m", APIKeyEnc: []byte{9, 9}, DailyTokenCap: 1000}
	must(s.PutLLMSettings(ctx, ls))
	if g, err := s.GetLLMSettings(ctx, a.ws.ID); err != nil || g.Model != "m" || !slices.Equal(g.APIKeyEnc, []byte{9, 9}) {
		t.Fatalf("llm settings %+v %v", g, err)
	}
	_, err = s.GetLLMSettings(ctx, b.ws.ID)
	notFound("GetLLMSettings", err)

	// Usage accumulates per workspace and day.
	must2 := func(u *kefu.LLMUsage, err error) *kefu.LLMUsage { t.Helper(); must(err); return u }
	must2(s.AddLLMUsage(ctx, &kefu.LLMUsage{WorkspaceID: a.ws.ID, Day: "2026-01-01", Requests: 1, PromptTokens: 10, CompletionTokens: 5, Cost: 0.5}))
	u := must2(s.AddLLMUsage(ctx, &kefu.LLMUsage{WorkspaceID: a.ws.ID, Day: "2026-01-01", Requests: 1, PromptTokens: 1, CompletionTokens: 1, Cost: 0.25}))
	if u.Requests != 2 || u.PromptTokens != 11 || u.CompletionTokens != 6 || u.Cost != 0.75 {
		t.Fatalf("usage %+v", u)
	}
	if u := must2(s.GetLLMUsage(ctx, b.ws.ID, "2026-01-01")); u.Requests != 0 {
		t.Fatal("usage leaks")
	}

	// Message meta: NULL when empty, a document when set.
	conv := f.conversation(a.ws.ID, a.inbox.ID, a.contact.ID)
	plain := f.send(conv, "hello")
	botMsg := f.append(&kefu.Message{WorkspaceID: a.ws.ID, ConversationID: conv.ID, SenderType: kefu.SenderBot, Kind: kefu.KindText, Body: "answer",
		Meta: map[string]any{"source": "kb", "quick_replies": []any{"a"}}})
	ms := f.messages(a.ws.ID, conv.ID)
	if ms[0].Meta != nil || ms[1].Meta["source"] != "kb" || botMsg.Message.Meta["source"] != "kb" {
		t.Fatalf("meta %v %v", ms[0].Meta, ms[1].Meta)
	}

	// Feedback only on a bot message of the workspace's conversation.
	must(s.PutBotFeedback(ctx, &kefu.BotFeedback{WorkspaceID: a.ws.ID, ConversationID: conv.ID, MessageID: botMsg.Message.ID, Helpful: false}))
	must(s.PutBotFeedback(ctx, &kefu.BotFeedback{WorkspaceID: a.ws.ID, ConversationID: conv.ID, MessageID: botMsg.Message.ID, Helpful: true}))
	notFound("feedback on a visitor message", s.PutBotFeedback(ctx, &kefu.BotFeedback{WorkspaceID: a.ws.ID, ConversationID: conv.ID, MessageID: plain.Message.ID}))
	notFound("feedback across workspaces", s.PutBotFeedback(ctx, &kefu.BotFeedback{WorkspaceID: b.ws.ID, ConversationID: conv.ID, MessageID: botMsg.Message.ID}))
	if fb, _ := s.ListBotFeedback(ctx, a.ws.ID, 10); len(fb) != 1 || !fb[0].Helpful {
		t.Fatalf("feedback %+v", fb)
	}

	// Unanswered questions and decisions.
	must(s.CreateUnanswered(ctx, &kefu.Unanswered{WorkspaceID: a.ws.ID, ConversationID: conv.ID, Question: "q1"}))
	must(s.CreateUnanswered(ctx, &kefu.Unanswered{WorkspaceID: a.ws.ID, ConversationID: conv.ID, Question: "q2"}))
	if l, _ := s.ListUnanswered(ctx, a.ws.ID, 10); len(l) != 2 || l[0].Question != "q2" {
		t.Fatalf("unanswered %+v", l)
	}
	if l, _ := s.ListUnanswered(ctx, b.ws.ID, 10); len(l) != 0 {
		t.Fatal("unanswered leaks")
	}
	must(s.CreateBotDecision(ctx, &kefu.BotDecision{WorkspaceID: a.ws.ID, ConversationID: conv.ID, MessageID: plain.Message.ID, Question: "hello",
		Outcome: "answered", Source: "kb", Confidence: 0.8, Detail: map[string]any{"k": "v"}}))
	if l, _ := s.ListBotDecisions(ctx, a.ws.ID, conv.ID); len(l) != 1 || l[0].Detail["k"] != "v" || l[0].Confidence != 0.8 {
		t.Fatalf("decisions %+v", l)
	}
	if l, _ := s.ListBotDecisions(ctx, b.ws.ID, conv.ID); len(l) != 0 {
		t.Fatal("decisions leak")
	}
}
