package httpapi

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/kefu-chat/kefu/internal/bot"
	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// The bot's REST endpoints (issue 7): knowledge base, intents, plugins,
// per-inbox settings, reports, suggestions for agents and visitor
// feedback. Knowledge-base writes go through bot.Knowledge so the
// in-memory index and its cache follow every change.

func (s *Server) knowledge() (*bot.Knowledge, error) {
	if s.kb == nil {
		return nil, kefu.Errorf(kefu.EUnavailable, "the bot is not enabled on this server")
	}
	return s.kb, nil
}

type faqRequest struct {
	Category  string   `json:"category"`
	Answer    string   `json:"answer"`
	Questions []string `json:"questions"`
	Enabled   *bool    `json:"enabled"`
}

func (req *faqRequest) faq(ws, id int64) *kefu.FAQ {
	return &kefu.FAQ{ID: id, WorkspaceID: ws, Category: req.Category, Answer: req.Answer, Questions: req.Questions,
		Enabled: req.Enabled == nil || *req.Enabled}
}

func (s *Server) listFAQs(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	faqs, err := s.store.ListFAQs(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(faqs, ""))
	return nil
}

func (s *Server) getFAQ(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := s.store.GetFAQ(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (s *Server) putFAQ(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	k, err := s.knowledge()
	if err != nil {
		return err
	}
	id, err := optionalID(r)
	if err != nil {
		return err
	}
	var req faqRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	f := req.faq(a.WorkspaceID, id)
	if id != 0 {
		old, err := s.store.GetFAQ(r.Context(), a.WorkspaceID, id)
		if err != nil {
			return err
		}
		f.CreatedAt = old.CreatedAt
	}
	if err := k.PutFAQ(r.Context(), f); err != nil {
		return err
	}
	writeSaved(w, id == 0, f)
	return nil
}

func (s *Server) deleteFAQ(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	k, err := s.knowledge()
	if err != nil {
		return err
	}
	return deleted(w, r, func(ctx context.Context, id int64) error { return k.DeleteFAQ(ctx, a.WorkspaceID, id) })
}

// maxImportBytes bounds an FAQ import or a document upload.
const maxImportBytes = 8 << 20

type importResult struct {
	Imported int `json:"imported"`
}

// importFAQs takes CSV (text/csv) or JSON (application/json). The whole
// file is validated before anything is stored.
func (s *Server) importFAQs(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	k, err := s.knowledge()
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImportBytes))
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var faqs []*kefu.FAQ
	switch mt {
	case "text/csv":
		faqs, err = bot.ParseFAQCSV(bytes.NewReader(body))
	case "application/json":
		faqs, err = bot.ParseFAQJSON(bytes.NewReader(body))
	default:
		return kefu.Errorf(kefu.EUnsupported, "Content-Type must be text/csv or application/json")
	}
	if err != nil {
		return err
	}
	return importFAQs(w, r, k, a.WorkspaceID, faqs)
}

// importFAQs stores parsed entries and reports how many.
func importFAQs(w http.ResponseWriter, r *http.Request, k *bot.Knowledge, workspaceID int64, faqs []*kefu.FAQ) error {
	if err := k.ImportFAQs(r.Context(), workspaceID, faqs); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, importResult{Imported: len(faqs)})
	return nil
}

// importSampleFAQs loads the bundled Chinese and English e-commerce FAQ.
func (s *Server) importSampleFAQs(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	k, err := s.knowledge()
	if err != nil {
		return err
	}
	faqs, err := bot.SampleFAQ()
	if err != nil {
		return err
	}
	return importFAQs(w, r, k, a.WorkspaceID, faqs)
}

func (s *Server) exportFAQs(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		return kefu.Errorf(kefu.EInvalid, "format must be json or csv")
	}
	faqs, err := s.store.ListFAQs(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if format == "csv" {
		err = bot.WriteFAQCSV(&buf, faqs)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		err = bot.WriteFAQJSON(&buf, faqs)
		w.Header().Set("Content-Type", "application/json")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="faq.`+format+`"`)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
	return nil
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	docs, err := s.store.ListDocuments(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(docs, ""))
	return nil
}

type documentRequest struct {
	Title   string `json:"title"`
	Format  string `json:"format"`
	Content string `json:"content"`
}

// createDocument takes the document as JSON text: {"title","format":
// "markdown"|"text"|"html","content"}. HTML is reduced to text; it is
// never stored or shown as markup.
func (s *Server) createDocument(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	k, err := s.knowledge()
	if err != nil {
		return err
	}
	var req documentRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := checkText("title", req.Title, 200, false); err != nil {
		return err
	}
	switch req.Format {
	case "markdown", "text", "html":
	default:
		return kefu.Errorf(kefu.EInvalid, "format must be markdown, text or html")
	}
	if len(req.Content) > bot.MaxDocumentSize {
		return kefu.Errorf(kefu.ETooLarge, "content is longer than %d bytes", bot.MaxDocumentSize)
	}
	d := &kefu.Document{WorkspaceID: a.WorkspaceID, Title: strings.TrimSpace(req.Title), Format: req.Format}
	if err := k.AddDocument(r.Context(), d, req.Content); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) deleteDocument(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	k, err := s.knowledge()
	if err != nil {
		return err
	}
	return deleted(w, r, func(ctx context.Context, id int64) error { return k.DeleteDocument(ctx, a.WorkspaceID, id) })
}

type synonymsBody struct {
	Groups [][]string `json:"groups"`
}

func (s *Server) getSynonyms(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	g, err := s.store.GetSynonyms(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, synonymsBody{Groups: g})
	return nil
}

func (s *Server) putSynonyms(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	k, err := s.knowledge()
	if err != nil {
		return err
	}
	var req synonymsBody
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if len(req.Groups) > 1000 {
		return kefu.Errorf(kefu.EInvalid, "at most 1000 synonym groups")
	}
	groups := [][]string{}
	for _, g := range req.Groups {
		var clean []string
		for _, w := range g {
			if w = strings.TrimSpace(w); w != "" {
				if err := checkText("synonym", w, 100, false); err != nil {
					return err
				}
				clean = append(clean, w)
			}
		}
		if len(clean) > 50 {
			return kefu.Errorf(kefu.EInvalid, "at most 50 words per synonym group")
		}
		if len(clean) >= 2 {
			groups = append(groups, clean)
		}
	}
	if err := k.SetSynonyms(r.Context(), a.WorkspaceID, groups); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, synonymsBody{Groups: groups})
	return nil
}

// intentView hides an action's secret.
func intentView(it *kefu.Intent) *kefu.Intent {
	cp := *it
	if it.Action != nil {
		a := *it.Action
		a.SecretSet, a.Secret = a.Secret != "", ""
		cp.Action = &a
	}
	return &cp
}

func (s *Server) listIntents(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	list, err := s.store.ListIntents(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	for i, it := range list {
		list[i] = intentView(it)
	}
	writeJSON(w, http.StatusOK, newList(list, ""))
	return nil
}

type intentRequest struct {
	Name     string             `json:"name"`
	Examples []string           `json:"examples"`
	Keywords []string           `json:"keywords"`
	Patterns []string           `json:"patterns"`
	Entities []string           `json:"entities"`
	Reply    string             `json:"reply"`
	Action   *kefu.IntentAction `json:"action"`
	Handoff  bool               `json:"handoff"`
	Enabled  *bool              `json:"enabled"`
}

func (s *Server) putIntent(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := optionalID(r)
	if err != nil {
		return err
	}
	var req intentRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	it := &kefu.Intent{ID: id, WorkspaceID: a.WorkspaceID, Name: req.Name, Examples: req.Examples, Keywords: req.Keywords,
		Patterns: req.Patterns, Entities: req.Entities, Reply: req.Reply, Action: req.Action, Handoff: req.Handoff,
		Enabled: req.Enabled == nil || *req.Enabled}
	if err := bot.ValidateIntent(it); err != nil {
		return err
	}
	if id == 0 {
		err = s.store.CreateIntent(r.Context(), it)
	} else {
		// An update without a secret keeps the stored one.
		if it.Action != nil && it.Action.Secret == "" {
			if old := s.findIntent(r, a.WorkspaceID, id); old != nil && old.Action != nil {
				it.Action.Secret = old.Action.Secret
			}
		}
		err = s.store.UpdateIntent(r.Context(), it)
	}
	if err != nil {
		return err
	}
	writeSaved(w, id == 0, intentView(it))
	return nil
}

func (s *Server) findIntent(r *http.Request, ws, id int64) *kefu.Intent {
	list, err := s.store.ListIntents(r.Context(), ws)
	if err != nil {
		return nil
	}
	for _, it := range list {
		if it.ID == id {
			return it
		}
	}
	return nil
}

func (s *Server) deleteIntent(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	return deleted(w, r, func(ctx context.Context, id int64) error { return s.store.DeleteIntent(ctx, a.WorkspaceID, id) })
}

type pluginView struct {
	*kefu.BotPlugin
	SecretSet bool `json:"secret_set"`
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	list, err := s.store.ListPlugins(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	out := make([]pluginView, len(list))
	for i, p := range list {
		out[i] = pluginView{p, p.Secret != ""}
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

type pluginRequest struct {
	Name      string  `json:"name"`
	URL       string  `json:"url"`
	Secret    *string `json:"secret"`
	Priority  int     `json:"priority"`
	TimeoutMS int     `json:"timeout_ms"`
	Enabled   *bool   `json:"enabled"`
}

func (s *Server) putPlugin(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := optionalID(r)
	if err != nil {
		return err
	}
	var req pluginRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := checkText("name", req.Name, 100, false); err != nil {
		return err
	}
	if !(strings.HasPrefix(req.URL, "http://") || strings.HasPrefix(req.URL, "https://")) || len(req.URL) > 2000 {
		return kefu.Errorf(kefu.EInvalid, "url must be an http or https URL")
	}
	if req.TimeoutMS < 0 || req.TimeoutMS > 30_000 || req.Priority < -1000 || req.Priority > 1000 {
		return kefu.Errorf(kefu.EInvalid, "timeout_ms must be 0..30000 and priority -1000..1000")
	}
	p := &kefu.BotPlugin{ID: id, WorkspaceID: a.WorkspaceID, Name: strings.TrimSpace(req.Name), URL: req.URL, Priority: req.Priority,
		TimeoutMS: req.TimeoutMS, Enabled: req.Enabled == nil || *req.Enabled}
	if req.Secret != nil {
		p.Secret = *req.Secret
	}
	if id == 0 {
		err = s.store.CreatePlugin(r.Context(), p)
	} else {
		if req.Secret == nil {
			list, lerr := s.store.ListPlugins(r.Context(), a.WorkspaceID)
			if lerr != nil {
				return lerr
			}
			for _, old := range list {
				if old.ID == id {
					p.Secret = old.Secret
				}
			}
		}
		err = s.store.UpdatePlugin(r.Context(), p)
	}
	if err != nil {
		return err
	}
	writeSaved(w, id == 0, pluginView{p, p.Secret != ""})
	return nil
}

func (s *Server) deletePlugin(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	return deleted(w, r, func(ctx context.Context, id int64) error { return s.store.DeletePlugin(ctx, a.WorkspaceID, id) })
}

func (s *Server) getBotSettings(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.GetInbox(r.Context(), a.WorkspaceID, id); err != nil {
		return err
	}
	bs, err := s.store.GetBotSettings(r.Context(), a.WorkspaceID, id)
	if kefu.IsNotFound(err) {
		bs, err = &kefu.BotSettings{WorkspaceID: a.WorkspaceID, InboxID: id, Mode: kefu.BotOff, QuickReplies: []string{}}, nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, bs)
	return nil
}

type botSettingsRequest struct {
	Mode         string   `json:"mode"`
	Greeting     string   `json:"greeting"`
	QuickReplies []string `json:"quick_replies"`
	Threshold    float64  `json:"threshold"`
	HandoffAfter int      `json:"handoff_after"`
}

func (s *Server) putBotSettings(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req botSettingsRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	switch req.Mode {
	case kefu.BotOff, kefu.BotFirst, kefu.BotOutsideHours:
	default:
		return kefu.Errorf(kefu.EInvalid, "mode must be off, bot_first or outside_hours")
	}
	if err := checkText("greeting", req.Greeting, maxGreetingLen, true); err != nil {
		return err
	}
	if len(req.QuickReplies) > 10 {
		return kefu.Errorf(kefu.EInvalid, "at most 10 quick replies")
	}
	for _, q := range req.QuickReplies {
		if err := checkText("quick reply", q, 100, false); err != nil {
			return err
		}
	}
	if req.Threshold < 0 || req.Threshold > 1 || req.HandoffAfter < 0 || req.HandoffAfter > 20 {
		return kefu.Errorf(kefu.EInvalid, "threshold must be 0..1 and handoff_after 0..20")
	}
	bs := &kefu.BotSettings{WorkspaceID: a.WorkspaceID, InboxID: id, Mode: req.Mode, Greeting: req.Greeting,
		QuickReplies: req.QuickReplies, Threshold: req.Threshold, HandoffAfter: req.HandoffAfter}
	if err := s.store.PutBotSettings(r.Context(), bs); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, bs)
	return nil
}

// unansweredGroup is similar unanswered questions, most frequent first.
type unansweredGroup struct {
	Question string   `json:"question"` // the most recent wording
	Count    int      `json:"count"`
	Examples []string `json:"examples"`
}

// listUnanswered groups the latest unanswered questions by their
// normalised text and shared terms (see bot.GroupQuestions).
func (s *Server) listUnanswered(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	list, err := s.store.ListUnanswered(r.Context(), a.WorkspaceID, 2000)
	if err != nil {
		return err
	}
	var tok *kb.Tokenizer
	if s.kb != nil {
		if b, err := s.kb.Base(r.Context(), a.WorkspaceID); err == nil {
			tok = b.Index().Tokenizer()
		}
	}
	groups := bot.GroupQuestions(list, tok)
	out := make([]unansweredGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, unansweredGroup{Question: g.Question, Count: g.Count, Examples: g.Examples})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

func (s *Server) listBotFeedback(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	n, err := limitParam(r)
	if err != nil {
		return err
	}
	list, err := s.store.ListBotFeedback(r.Context(), a.WorkspaceID, n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, ""))
	return nil
}

func (s *Server) listBotDecisions(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.chat.Conversation(r.Context(), a, id); err != nil {
		return err
	}
	list, err := s.store.ListBotDecisions(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list, ""))
	return nil
}

type suggestionsResponse struct {
	Question string           `json:"question"`
	Data     []bot.Suggestion `json:"data"`
}

// suggestions returns the top knowledge-base matches for the visitor's
// last message in the conversation.
func (s *Server) suggestions(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	k, err := s.knowledge()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	msgs, err := s.chat.Messages(r.Context(), a, kefu.MessageRange{ConversationID: id, BeforeSeq: 1 << 62, Limit: 50})
	if err != nil {
		return err
	}
	resp := suggestionsResponse{Data: []bot.Suggestion{}}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].SenderType == kefu.SenderContact && strings.TrimSpace(msgs[i].Body) != "" {
			resp.Question = msgs[i].Body
			break
		}
	}
	if resp.Question != "" {
		base, err := k.Base(r.Context(), a.WorkspaceID)
		if err != nil {
			return err
		}
		resp.Data = bot.Suggest(base, resp.Question, 5)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

type feedbackRequest struct {
	Helpful *bool `json:"helpful"`
}

// widgetFeedback records a visitor's verdict on a bot message of their own
// conversation.
func (s *Server) widgetFeedback(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	mid, err := pathID(r, "message_id")
	if err != nil {
		return err
	}
	var req feedbackRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Helpful == nil {
		return kefu.Errorf(kefu.EInvalid, "helpful is required")
	}
	if _, err := s.chat.Conversation(r.Context(), a, id); err != nil {
		return err
	}
	f := &kefu.BotFeedback{WorkspaceID: a.WorkspaceID, ConversationID: id, MessageID: mid, Helpful: *req.Helpful}
	if err := s.store.PutBotFeedback(r.Context(), f); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
