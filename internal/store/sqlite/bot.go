package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"math"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// The bot's tables (migration 0005). Records whose shape is only read
// back whole (intent definitions, settings) are kept as JSON documents.

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// notFoundIfNone turns an UPDATE or DELETE that matched no row (missing,
// or another workspace's) into ENotFound.
func notFoundIfNone(res sql.Result, err error, what string) error {
	if err != nil {
		return mapErr(err, what)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return kefu.Errorf(kefu.ENotFound, "%s not found", what)
	}
	return nil
}

// encodeEmbedding packs a vector as little-endian float32s; nil stays NULL.
func encodeEmbedding(v []float32) any {
	if len(v) == 0 {
		return nil
	}
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeEmbedding(b []byte) []float32 {
	if len(b) == 0 || len(b)%4 != 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

const faqCols = `id, workspace_id, category, answer, questions, enabled, created_at, updated_at`

func scanFAQ(row interface{ Scan(...any) error }) (*kefu.FAQ, error) {
	var f kefu.FAQ
	var qs string
	var enabled int
	var created, updated int64
	if err := row.Scan(&f.ID, &f.WorkspaceID, &f.Category, &f.Answer, &qs, &enabled, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(qs), &f.Questions); err != nil || f.Questions == nil {
		f.Questions = []string{}
	}
	f.Enabled = enabled != 0
	f.CreatedAt, f.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &f, nil
}

func (s *Store) CreateFAQ(ctx context.Context, f *kefu.FAQ) error {
	return s.CreateFAQs(ctx, []*kefu.FAQ{f})
}

func (s *Store) CreateFAQs(ctx context.Context, fs []*kefu.FAQ) error {
	now := kefu.Now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, f := range fs {
			if f.CreatedAt.IsZero() {
				f.CreatedAt = now
			}
			f.UpdatedAt = f.CreatedAt
			f.Questions = stringsOrEmpty(f.Questions)
			res, err := tx.ExecContext(ctx, `INSERT INTO kb_faqs (workspace_id, category, answer, questions, enabled, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, f.WorkspaceID, f.Category, f.Answer, jsonText(f.Questions), boolInt(f.Enabled), micros(f.CreatedAt), micros(f.UpdatedAt))
			if err != nil {
				return mapErr(err, "faq")
			}
			if f.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, f := range fs {
			f.ID = 0
		}
	}
	return err
}

func (s *Store) GetFAQ(ctx context.Context, workspaceID, id int64) (*kefu.FAQ, error) {
	f, err := scanFAQ(s.rc.QueryRowContext(ctx, `SELECT `+faqCols+` FROM kb_faqs WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	return f, mapErr(err, "faq")
}

func (s *Store) UpdateFAQ(ctx context.Context, f *kefu.FAQ) error {
	f.UpdatedAt = kefu.Now()
	f.Questions = stringsOrEmpty(f.Questions)
	res, err := s.wc.ExecContext(ctx, `UPDATE kb_faqs SET category = ?, answer = ?, questions = ?, enabled = ?, updated_at = ?
		WHERE id = ? AND workspace_id = ?`, f.Category, f.Answer, jsonText(f.Questions), boolInt(f.Enabled), micros(f.UpdatedAt), f.ID, f.WorkspaceID)
	return notFoundIfNone(res, err, "faq")
}

func (s *Store) DeleteFAQ(ctx context.Context, workspaceID, id int64) error {
	res, err := s.wc.ExecContext(ctx, `DELETE FROM kb_faqs WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return notFoundIfNone(res, err, "faq")
}

func (s *Store) ListFAQs(ctx context.Context, workspaceID int64) ([]*kefu.FAQ, error) {
	return queryAll(ctx, s, "faq", scanFAQ, `SELECT `+faqCols+` FROM kb_faqs WHERE workspace_id = ? ORDER BY id`, workspaceID)
}

// queryAll runs a read and scans every row.
func queryAll[T any](ctx context.Context, s *Store, what string, scan func(interface{ Scan(...any) error }) (*T, error), q string, args ...any) ([]*T, error) {
	rows, err := s.rc.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err(), what)
}

func (s *Store) CreateDocument(ctx context.Context, d *kefu.Document, passages []*kefu.Passage) (err error) {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = kefu.Now()
	}
	d.Passages = len(passages)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "document")
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, `INSERT INTO kb_documents (workspace_id, title, format, passages, created_at) VALUES (?, ?, ?, ?, ?)`,
		d.WorkspaceID, d.Title, d.Format, d.Passages, micros(d.CreatedAt))
	if err != nil {
		return mapErr(err, "document")
	}
	if d.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	for i, p := range passages {
		p.WorkspaceID, p.DocumentID, p.Seq = d.WorkspaceID, d.ID, i
		res, err := tx.ExecContext(ctx, `INSERT INTO kb_passages (workspace_id, document_id, seq, title, text, embedding) VALUES (?, ?, ?, ?, ?, ?)`,
			p.WorkspaceID, p.DocumentID, p.Seq, p.Title, p.Text, encodeEmbedding(p.Embedding))
		if err != nil {
			return mapErr(err, "passage")
		}
		if p.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return mapErr(tx.Commit(), "document")
}

func (s *Store) ListDocuments(ctx context.Context, workspaceID int64) ([]*kefu.Document, error) {
	return queryAll(ctx, s, "document", func(row interface{ Scan(...any) error }) (*kefu.Document, error) {
		var d kefu.Document
		var created int64
		err := row.Scan(&d.ID, &d.WorkspaceID, &d.Title, &d.Format, &d.Passages, &created)
		d.CreatedAt = fromMicros(created)
		return &d, err
	}, `SELECT id, workspace_id, title, format, passages, created_at FROM kb_documents WHERE workspace_id = ? ORDER BY id`, workspaceID)
}

func (s *Store) DeleteDocument(ctx context.Context, workspaceID, id int64) error {
	res, err := s.wc.ExecContext(ctx, `DELETE FROM kb_documents WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return notFoundIfNone(res, err, "document")
}

func (s *Store) ListPassages(ctx context.Context, workspaceID int64) ([]*kefu.Passage, error) {
	return queryAll(ctx, s, "passage", func(row interface{ Scan(...any) error }) (*kefu.Passage, error) {
		var p kefu.Passage
		var emb []byte
		err := row.Scan(&p.ID, &p.WorkspaceID, &p.DocumentID, &p.Seq, &p.Title, &p.Text, &emb)
		p.Embedding = decodeEmbedding(emb)
		return &p, err
	}, `SELECT id, workspace_id, document_id, seq, title, text, embedding FROM kb_passages WHERE workspace_id = ? ORDER BY id`, workspaceID)
}

func (s *Store) GetSynonyms(ctx context.Context, workspaceID int64) ([][]string, error) {
	var raw string
	err := s.rc.QueryRowContext(ctx, `SELECT groups FROM kb_synonyms WHERE workspace_id = ?`, workspaceID).Scan(&raw)
	if err == sql.ErrNoRows {
		return [][]string{}, nil
	}
	if err != nil {
		return nil, mapErr(err, "synonyms")
	}
	out := [][]string{}
	if err := json.Unmarshal([]byte(raw), &out); err != nil || out == nil {
		return [][]string{}, nil
	}
	return out, nil
}

func (s *Store) SetSynonyms(ctx context.Context, workspaceID int64, groups [][]string) error {
	if groups == nil {
		groups = [][]string{}
	}
	_, err := s.wc.ExecContext(ctx, `INSERT INTO kb_synonyms (workspace_id, groups) VALUES (?, ?)
		ON CONFLICT (workspace_id) DO UPDATE SET groups = excluded.groups`, workspaceID, jsonText(groups))
	return mapErr(err, "synonyms")
}

func (s *Store) SaveKBIndex(ctx context.Context, workspaceID int64, fingerprint string, data []byte) error {
	_, err := s.wc.ExecContext(ctx, `INSERT INTO kb_index (workspace_id, fingerprint, data) VALUES (?, ?, ?)
		ON CONFLICT (workspace_id) DO UPDATE SET fingerprint = excluded.fingerprint, data = excluded.data`, workspaceID, fingerprint, data)
	return mapErr(err, "kb index")
}

func (s *Store) LoadKBIndex(ctx context.Context, workspaceID int64) (string, []byte, error) {
	var fp string
	var data []byte
	err := s.rc.QueryRowContext(ctx, `SELECT fingerprint, data FROM kb_index WHERE workspace_id = ?`, workspaceID).Scan(&fp, &data)
	return fp, data, mapErr(err, "kb index")
}

// Intents keep their definition (everything but id, workspace, name and
// the enabled flag) as one JSON document.
func scanIntent(row interface{ Scan(...any) error }) (*kefu.Intent, error) {
	var in kefu.Intent
	var def string
	var enabled int
	var updated int64
	var id, ws int64
	var name string
	if err := row.Scan(&id, &ws, &name, &def, &enabled, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(def), &in); err != nil {
		return nil, err
	}
	in.ID, in.WorkspaceID, in.Name, in.Enabled, in.UpdatedAt = id, ws, name, enabled != 0, fromMicros(updated)
	return &in, nil
}

// intentDefinition is what the JSON document holds; the action's secret
// is stored with it (the API never returns it).
func intentDefinition(in *kefu.Intent) string {
	type def struct {
		Examples []string           `json:"examples"`
		Keywords []string           `json:"keywords"`
		Patterns []string           `json:"patterns"`
		Entities []string           `json:"entities"`
		Reply    string             `json:"reply"`
		Action   *kefu.IntentAction `json:"action,omitempty"`
		Handoff  bool               `json:"handoff"`
	}
	d := def{Examples: stringsOrEmpty(in.Examples), Keywords: stringsOrEmpty(in.Keywords), Patterns: stringsOrEmpty(in.Patterns),
		Entities: stringsOrEmpty(in.Entities), Reply: in.Reply, Handoff: in.Handoff}
	d.Action = in.Action
	return jsonText(d)
}

func (s *Store) CreateIntent(ctx context.Context, in *kefu.Intent) error {
	in.UpdatedAt = kefu.Now()
	res, err := s.wc.ExecContext(ctx, `INSERT INTO bot_intents (workspace_id, name, definition, enabled, updated_at) VALUES (?, ?, ?, ?, ?)`,
		in.WorkspaceID, in.Name, intentDefinition(in), boolInt(in.Enabled), micros(in.UpdatedAt))
	if err != nil {
		return mapErr(err, "intent")
	}
	in.ID, err = res.LastInsertId()
	return err
}

func (s *Store) UpdateIntent(ctx context.Context, in *kefu.Intent) error {
	in.UpdatedAt = kefu.Now()
	res, err := s.wc.ExecContext(ctx, `UPDATE bot_intents SET name = ?, definition = ?, enabled = ?, updated_at = ? WHERE id = ? AND workspace_id = ?`,
		in.Name, intentDefinition(in), boolInt(in.Enabled), micros(in.UpdatedAt), in.ID, in.WorkspaceID)
	return notFoundIfNone(res, err, "intent")
}

func (s *Store) DeleteIntent(ctx context.Context, workspaceID, id int64) error {
	res, err := s.wc.ExecContext(ctx, `DELETE FROM bot_intents WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return notFoundIfNone(res, err, "intent")
}

func (s *Store) ListIntents(ctx context.Context, workspaceID int64) ([]*kefu.Intent, error) {
	return queryAll(ctx, s, "intent", scanIntent, `SELECT id, workspace_id, name, definition, enabled, updated_at FROM bot_intents WHERE workspace_id = ? ORDER BY id`, workspaceID)
}

func (s *Store) CreatePlugin(ctx context.Context, p *kefu.BotPlugin) error {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = kefu.Now()
	}
	res, err := s.wc.ExecContext(ctx, `INSERT INTO bot_plugins (workspace_id, name, url, secret, priority, timeout_ms, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.WorkspaceID, p.Name, p.URL, p.Secret, p.Priority, p.TimeoutMS, boolInt(p.Enabled), micros(p.CreatedAt))
	if err != nil {
		return mapErr(err, "plugin")
	}
	p.ID, err = res.LastInsertId()
	return err
}

func (s *Store) UpdatePlugin(ctx context.Context, p *kefu.BotPlugin) error {
	res, err := s.wc.ExecContext(ctx, `UPDATE bot_plugins SET name = ?, url = ?, secret = ?, priority = ?, timeout_ms = ?, enabled = ? WHERE id = ? AND workspace_id = ?`,
		p.Name, p.URL, p.Secret, p.Priority, p.TimeoutMS, boolInt(p.Enabled), p.ID, p.WorkspaceID)
	return notFoundIfNone(res, err, "plugin")
}

func (s *Store) DeletePlugin(ctx context.Context, workspaceID, id int64) error {
	res, err := s.wc.ExecContext(ctx, `DELETE FROM bot_plugins WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return notFoundIfNone(res, err, "plugin")
}

func (s *Store) ListPlugins(ctx context.Context, workspaceID int64) ([]*kefu.BotPlugin, error) {
	return queryAll(ctx, s, "plugin", func(row interface{ Scan(...any) error }) (*kefu.BotPlugin, error) {
		var p kefu.BotPlugin
		var enabled int
		var created int64
		err := row.Scan(&p.ID, &p.WorkspaceID, &p.Name, &p.URL, &p.Secret, &p.Priority, &p.TimeoutMS, &enabled, &created)
		p.Enabled, p.CreatedAt = enabled != 0, fromMicros(created)
		return &p, err
	}, `SELECT id, workspace_id, name, url, secret, priority, timeout_ms, enabled, created_at FROM bot_plugins WHERE workspace_id = ? ORDER BY id`, workspaceID)
}

func (s *Store) GetBotSettings(ctx context.Context, workspaceID, inboxID int64) (*kefu.BotSettings, error) {
	var raw string
	var updated int64
	err := s.rc.QueryRowContext(ctx, `SELECT settings, updated_at FROM bot_settings WHERE workspace_id = ? AND inbox_id = ?`, workspaceID, inboxID).Scan(&raw, &updated)
	if err != nil {
		return nil, mapErr(err, "bot settings")
	}
	var bs kefu.BotSettings
	if err := json.Unmarshal([]byte(raw), &bs); err != nil {
		return nil, mapErr(err, "bot settings")
	}
	bs.WorkspaceID, bs.InboxID, bs.UpdatedAt = workspaceID, inboxID, fromMicros(updated)
	bs.QuickReplies = stringsOrEmpty(bs.QuickReplies)
	return &bs, nil
}

func (s *Store) PutBotSettings(ctx context.Context, bs *kefu.BotSettings) error {
	bs.UpdatedAt = kefu.Now()
	bs.QuickReplies = stringsOrEmpty(bs.QuickReplies)
	// The inbox must be the workspace's own: the foreign key alone would
	// accept another tenant's inbox id.
	res, err := s.wc.ExecContext(ctx, `INSERT INTO bot_settings (workspace_id, inbox_id, settings, updated_at)
		SELECT ?, id, ?, ? FROM inboxes WHERE id = ? AND workspace_id = ?
		ON CONFLICT (workspace_id, inbox_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
		bs.WorkspaceID, jsonText(bs), micros(bs.UpdatedAt), bs.InboxID, bs.WorkspaceID)
	return notFoundIfNone(res, err, "inbox")
}

func (s *Store) GetLLMSettings(ctx context.Context, workspaceID int64) (*kefu.LLMSettings, error) {
	var raw string
	var key []byte
	var updated int64
	err := s.rc.QueryRowContext(ctx, `SELECT settings, api_key_enc, updated_at FROM llm_settings WHERE workspace_id = ?`, workspaceID).Scan(&raw, &key, &updated)
	if err != nil {
		return nil, mapErr(err, "llm settings")
	}
	var ls kefu.LLMSettings
	if err := json.Unmarshal([]byte(raw), &ls); err != nil {
		return nil, mapErr(err, "llm settings")
	}
	ls.WorkspaceID, ls.APIKeyEnc, ls.UpdatedAt = workspaceID, key, fromMicros(updated)
	return &ls, nil
}

func (s *Store) PutLLMSettings(ctx context.Context, ls *kefu.LLMSettings) error {
	ls.UpdatedAt = kefu.Now()
	var key any
	if len(ls.APIKeyEnc) > 0 {
		key = ls.APIKeyEnc
	}
	_, err := s.wc.ExecContext(ctx, `INSERT INTO llm_settings (workspace_id, settings, api_key_enc, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id) DO UPDATE SET settings = excluded.settings, api_key_enc = excluded.api_key_enc, updated_at = excluded.updated_at`,
		ls.WorkspaceID, jsonText(ls), key, micros(ls.UpdatedAt))
	return mapErr(err, "llm settings")
}

func (s *Store) AddLLMUsage(ctx context.Context, u *kefu.LLMUsage) (*kefu.LLMUsage, error) {
	out := kefu.LLMUsage{WorkspaceID: u.WorkspaceID, Day: u.Day}
	err := s.wc.QueryRowContext(ctx, `INSERT INTO llm_usage (workspace_id, day, requests, prompt_tokens, completion_tokens, cost) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, day) DO UPDATE SET requests = requests + excluded.requests, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
			completion_tokens = completion_tokens + excluded.completion_tokens, cost = cost + excluded.cost
		RETURNING requests, prompt_tokens, completion_tokens, cost`,
		u.WorkspaceID, u.Day, u.Requests, u.PromptTokens, u.CompletionTokens, u.Cost).Scan(&out.Requests, &out.PromptTokens, &out.CompletionTokens, &out.Cost)
	if err != nil {
		return nil, mapErr(err, "llm usage")
	}
	return &out, nil
}

func (s *Store) GetLLMUsage(ctx context.Context, workspaceID int64, day string) (*kefu.LLMUsage, error) {
	out := kefu.LLMUsage{WorkspaceID: workspaceID, Day: day}
	err := s.rc.QueryRowContext(ctx, `SELECT requests, prompt_tokens, completion_tokens, cost FROM llm_usage WHERE workspace_id = ? AND day = ?`,
		workspaceID, day).Scan(&out.Requests, &out.PromptTokens, &out.CompletionTokens, &out.Cost)
	if err == sql.ErrNoRows {
		return &out, nil
	}
	if err != nil {
		return nil, mapErr(err, "llm usage")
	}
	return &out, nil
}

func (s *Store) PutBotFeedback(ctx context.Context, f *kefu.BotFeedback) error {
	if f.CreatedAt.IsZero() {
		f.CreatedAt = kefu.Now()
	}
	// Only a bot message of the workspace's conversation can be rated.
	res, err := s.wc.ExecContext(ctx, `INSERT INTO bot_feedback (workspace_id, conversation_id, message_id, helpful, created_at)
		SELECT ?, conversation_id, id, ?, ? FROM messages WHERE id = ? AND conversation_id = ? AND workspace_id = ? AND sender_type = 'bot'
		ON CONFLICT (workspace_id, message_id) DO UPDATE SET helpful = excluded.helpful, created_at = excluded.created_at`,
		f.WorkspaceID, boolInt(f.Helpful), micros(f.CreatedAt), f.MessageID, f.ConversationID, f.WorkspaceID)
	return notFoundIfNone(res, err, "bot message")
}

func (s *Store) ListBotFeedback(ctx context.Context, workspaceID int64, limit int) ([]*kefu.BotFeedback, error) {
	return queryAll(ctx, s, "feedback", func(row interface{ Scan(...any) error }) (*kefu.BotFeedback, error) {
		var f kefu.BotFeedback
		var helpful int
		var created int64
		err := row.Scan(&f.WorkspaceID, &f.ConversationID, &f.MessageID, &helpful, &created)
		f.Helpful, f.CreatedAt = helpful != 0, fromMicros(created)
		return &f, err
	}, `SELECT workspace_id, conversation_id, message_id, helpful, created_at FROM bot_feedback WHERE workspace_id = ? ORDER BY created_at DESC, message_id DESC LIMIT ?`, workspaceID, limit)
}

func (s *Store) CreateUnanswered(ctx context.Context, u *kefu.Unanswered) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = kefu.Now()
	}
	res, err := s.wc.ExecContext(ctx, `INSERT INTO bot_unanswered (workspace_id, conversation_id, question, created_at) VALUES (?, ?, ?, ?)`,
		u.WorkspaceID, u.ConversationID, u.Question, micros(u.CreatedAt))
	if err != nil {
		return mapErr(err, "unanswered question")
	}
	u.ID, err = res.LastInsertId()
	return err
}

func (s *Store) ListUnanswered(ctx context.Context, workspaceID int64, limit int) ([]*kefu.Unanswered, error) {
	return queryAll(ctx, s, "unanswered question", func(row interface{ Scan(...any) error }) (*kefu.Unanswered, error) {
		var u kefu.Unanswered
		var created int64
		err := row.Scan(&u.ID, &u.WorkspaceID, &u.ConversationID, &u.Question, &created)
		u.CreatedAt = fromMicros(created)
		return &u, err
	}, `SELECT id, workspace_id, conversation_id, question, created_at FROM bot_unanswered WHERE workspace_id = ? ORDER BY id DESC LIMIT ?`, workspaceID, limit)
}

func (s *Store) CreateBotDecision(ctx context.Context, d *kefu.BotDecision) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = kefu.Now()
	}
	if d.Detail == nil {
		d.Detail = map[string]any{}
	}
	res, err := s.wc.ExecContext(ctx, `INSERT INTO bot_decisions (workspace_id, conversation_id, message_id, question, outcome, source, confidence, detail, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.WorkspaceID, d.ConversationID, d.MessageID, d.Question, d.Outcome, d.Source, d.Confidence, jsonText(d.Detail), micros(d.CreatedAt))
	if err != nil {
		return mapErr(err, "bot decision")
	}
	d.ID, err = res.LastInsertId()
	return err
}

func (s *Store) ListBotDecisions(ctx context.Context, workspaceID, conversationID int64) ([]*kefu.BotDecision, error) {
	return queryAll(ctx, s, "bot decision", func(row interface{ Scan(...any) error }) (*kefu.BotDecision, error) {
		var d kefu.BotDecision
		var detail string
		var created int64
		err := row.Scan(&d.ID, &d.WorkspaceID, &d.ConversationID, &d.MessageID, &d.Question, &d.Outcome, &d.Source, &d.Confidence, &detail, &created)
		if err == nil {
			if json.Unmarshal([]byte(detail), &d.Detail) != nil || d.Detail == nil {
				d.Detail = map[string]any{}
			}
		}
		d.CreatedAt = fromMicros(created)
		return &d, err
	}, `SELECT id, workspace_id, conversation_id, message_id, question, outcome, source, confidence, detail, created_at FROM bot_decisions
		WHERE workspace_id = ? AND conversation_id = ? ORDER BY id`, workspaceID, conversationID)
}
