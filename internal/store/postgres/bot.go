package postgres

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// The bot's tables (migration 0005). Records whose shape is only read
// back whole (intent definitions, settings) are kept as JSON documents.

// affected turns an UPDATE or DELETE that matched no row (missing, or
// another workspace's) into ENotFound.
func affected(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return wrap(err, what)
	}
	if tag.RowsAffected() == 0 {
		return kefu.Errorf(kefu.ENotFound, "%s not found", what)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("postgres: marshal: " + err.Error())
	}
	return b
}

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

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

const faqCols = `id, workspace_id, category, answer, questions, enabled, created_at, updated_at`

func scanFAQ(row scanner) (*kefu.FAQ, error) {
	var f kefu.FAQ
	var qs []byte
	if err := row.Scan(&f.ID, &f.WorkspaceID, &f.Category, &f.Answer, &qs, &f.Enabled, &f.CreatedAt, &f.UpdatedAt); err != nil {
		return nil, err
	}
	var err error
	if f.Questions, err = decodeStrings(qs); err != nil {
		return nil, err
	}
	f.CreatedAt, f.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	return &f, nil
}

func (s *Store) CreateFAQ(ctx context.Context, f *kefu.FAQ) error {
	return s.CreateFAQs(ctx, []*kefu.FAQ{f})
}

func (s *Store) CreateFAQs(ctx context.Context, fs []*kefu.FAQ) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		for _, f := range fs {
			f.CreatedAt = orNow(f.CreatedAt)
			f.UpdatedAt = f.CreatedAt
			f.Questions = orEmpty(f.Questions)
			if err := tx.QueryRow(ctx, `INSERT INTO kb_faqs (workspace_id, category, answer, questions, enabled, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, f.WorkspaceID, f.Category, f.Answer, mustJSON(f.Questions), f.Enabled, f.CreatedAt, f.UpdatedAt).Scan(&f.ID); err != nil {
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
	return wrap(err, "faq")
}

func (s *Store) GetFAQ(ctx context.Context, workspaceID, id int64) (*kefu.FAQ, error) {
	f, err := scanFAQ(s.pool.QueryRow(ctx, `SELECT `+faqCols+` FROM kb_faqs WHERE id = $1 AND workspace_id = $2`, id, workspaceID))
	return f, wrap(err, "faq")
}

func (s *Store) UpdateFAQ(ctx context.Context, f *kefu.FAQ) error {
	f.UpdatedAt = kefu.Now()
	f.Questions = orEmpty(f.Questions)
	tag, err := s.pool.Exec(ctx, `UPDATE kb_faqs SET category = $1, answer = $2, questions = $3, enabled = $4, updated_at = $5
		WHERE id = $6 AND workspace_id = $7`, f.Category, f.Answer, mustJSON(f.Questions), f.Enabled, f.UpdatedAt, f.ID, f.WorkspaceID)
	return affected(tag, err, "faq")
}

func (s *Store) DeleteFAQ(ctx context.Context, workspaceID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM kb_faqs WHERE id = $1 AND workspace_id = $2`, id, workspaceID)
	return affected(tag, err, "faq")
}

func (s *Store) ListFAQs(ctx context.Context, workspaceID int64) ([]*kefu.FAQ, error) {
	return queryAll(ctx, s, "faq", scanFAQ, `SELECT `+faqCols+` FROM kb_faqs WHERE workspace_id = $1 ORDER BY id`, workspaceID)
}

// queryAll runs a read and scans every row.
func queryAll[T any](ctx context.Context, s *Store, what string, scan func(scanner) (*T, error), q string, args ...any) ([]*T, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, what)
	}
	out, err := collect(rows, scan)
	return out, wrap(err, what)
}

func (s *Store) CreateDocument(ctx context.Context, d *kefu.Document, passages []*kefu.Passage) error {
	d.CreatedAt = orNow(d.CreatedAt)
	d.Passages = len(passages)
	return wrap(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO kb_documents (workspace_id, title, format, passages, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			d.WorkspaceID, d.Title, d.Format, d.Passages, d.CreatedAt).Scan(&d.ID); err != nil {
			return err
		}
		for i, p := range passages {
			p.WorkspaceID, p.DocumentID, p.Seq = d.WorkspaceID, d.ID, i
			if err := tx.QueryRow(ctx, `INSERT INTO kb_passages (workspace_id, document_id, seq, title, text, embedding) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
				p.WorkspaceID, p.DocumentID, p.Seq, p.Title, p.Text, encodeEmbedding(p.Embedding)).Scan(&p.ID); err != nil {
				return err
			}
		}
		return nil
	}), "document")
}

func (s *Store) ListDocuments(ctx context.Context, workspaceID int64) ([]*kefu.Document, error) {
	return queryAll(ctx, s, "document", func(row scanner) (*kefu.Document, error) {
		var d kefu.Document
		err := row.Scan(&d.ID, &d.WorkspaceID, &d.Title, &d.Format, &d.Passages, &d.CreatedAt)
		d.CreatedAt = d.CreatedAt.UTC()
		return &d, err
	}, `SELECT id, workspace_id, title, format, passages, created_at FROM kb_documents WHERE workspace_id = $1 ORDER BY id`, workspaceID)
}

func (s *Store) DeleteDocument(ctx context.Context, workspaceID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM kb_documents WHERE id = $1 AND workspace_id = $2`, id, workspaceID)
	return affected(tag, err, "document")
}

func (s *Store) ListPassages(ctx context.Context, workspaceID int64) ([]*kefu.Passage, error) {
	return queryAll(ctx, s, "passage", func(row scanner) (*kefu.Passage, error) {
		var p kefu.Passage
		var emb []byte
		err := row.Scan(&p.ID, &p.WorkspaceID, &p.DocumentID, &p.Seq, &p.Title, &p.Text, &emb)
		p.Embedding = decodeEmbedding(emb)
		return &p, err
	}, `SELECT id, workspace_id, document_id, seq, title, text, embedding FROM kb_passages WHERE workspace_id = $1 ORDER BY id`, workspaceID)
}

func (s *Store) GetSynonyms(ctx context.Context, workspaceID int64) ([][]string, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT groups FROM kb_synonyms WHERE workspace_id = $1`, workspaceID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return [][]string{}, nil
	}
	if err != nil {
		return nil, wrap(err, "synonyms")
	}
	out := [][]string{}
	if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		return [][]string{}, nil
	}
	return out, nil
}

func (s *Store) SetSynonyms(ctx context.Context, workspaceID int64, groups [][]string) error {
	if groups == nil {
		groups = [][]string{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO kb_synonyms (workspace_id, groups) VALUES ($1, $2)
		ON CONFLICT (workspace_id) DO UPDATE SET groups = excluded.groups`, workspaceID, mustJSON(groups))
	return wrap(err, "synonyms")
}

func (s *Store) SaveKBIndex(ctx context.Context, workspaceID int64, fingerprint string, data []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO kb_index (workspace_id, fingerprint, data) VALUES ($1, $2, $3)
		ON CONFLICT (workspace_id) DO UPDATE SET fingerprint = excluded.fingerprint, data = excluded.data`, workspaceID, fingerprint, data)
	return wrap(err, "kb index")
}

func (s *Store) LoadKBIndex(ctx context.Context, workspaceID int64) (string, []byte, error) {
	var fp string
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT fingerprint, data FROM kb_index WHERE workspace_id = $1`, workspaceID).Scan(&fp, &data)
	return fp, data, wrap(err, "kb index")
}

// intentDefinition is the intent's JSON document: everything but id,
// workspace, name and enabled flag; the action's secret is stored with it
// (the API never returns it).
func intentDefinition(in *kefu.Intent) []byte {
	return mustJSON(struct {
		Examples []string           `json:"examples"`
		Keywords []string           `json:"keywords"`
		Patterns []string           `json:"patterns"`
		Entities []string           `json:"entities"`
		Reply    string             `json:"reply"`
		Action   *kefu.IntentAction `json:"action,omitempty"`
		Handoff  bool               `json:"handoff"`
	}{orEmpty(in.Examples), orEmpty(in.Keywords), orEmpty(in.Patterns), orEmpty(in.Entities), in.Reply, in.Action, in.Handoff})
}

func scanIntent(row scanner) (*kefu.Intent, error) {
	var in kefu.Intent
	var def []byte
	var id, ws int64
	var name string
	var enabled bool
	if err := row.Scan(&id, &ws, &name, &def, &enabled, &in.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(def, &in); err != nil {
		return nil, err
	}
	in.ID, in.WorkspaceID, in.Name, in.Enabled, in.UpdatedAt = id, ws, name, enabled, in.UpdatedAt.UTC()
	return &in, nil
}

func (s *Store) CreateIntent(ctx context.Context, in *kefu.Intent) error {
	in.UpdatedAt = kefu.Now()
	err := s.pool.QueryRow(ctx, `INSERT INTO bot_intents (workspace_id, name, definition, enabled, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		in.WorkspaceID, in.Name, intentDefinition(in), in.Enabled, in.UpdatedAt).Scan(&in.ID)
	return wrap(err, "intent")
}

func (s *Store) UpdateIntent(ctx context.Context, in *kefu.Intent) error {
	in.UpdatedAt = kefu.Now()
	tag, err := s.pool.Exec(ctx, `UPDATE bot_intents SET name = $1, definition = $2, enabled = $3, updated_at = $4 WHERE id = $5 AND workspace_id = $6`,
		in.Name, intentDefinition(in), in.Enabled, in.UpdatedAt, in.ID, in.WorkspaceID)
	return affected(tag, err, "intent")
}

func (s *Store) DeleteIntent(ctx context.Context, workspaceID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM bot_intents WHERE id = $1 AND workspace_id = $2`, id, workspaceID)
	return affected(tag, err, "intent")
}

func (s *Store) ListIntents(ctx context.Context, workspaceID int64) ([]*kefu.Intent, error) {
	return queryAll(ctx, s, "intent", scanIntent, `SELECT id, workspace_id, name, definition, enabled, updated_at FROM bot_intents WHERE workspace_id = $1 ORDER BY id`, workspaceID)
}

func (s *Store) CreatePlugin(ctx context.Context, p *kefu.BotPlugin) error {
	p.CreatedAt = orNow(p.CreatedAt)
	err := s.pool.QueryRow(ctx, `INSERT INTO bot_plugins (workspace_id, name, url, secret, priority, timeout_ms, enabled, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		p.WorkspaceID, p.Name, p.URL, p.Secret, p.Priority, p.TimeoutMS, p.Enabled, p.CreatedAt).Scan(&p.ID)
	return wrap(err, "plugin")
}

func (s *Store) UpdatePlugin(ctx context.Context, p *kefu.BotPlugin) error {
	tag, err := s.pool.Exec(ctx, `UPDATE bot_plugins SET name = $1, url = $2, secret = $3, priority = $4, timeout_ms = $5, enabled = $6 WHERE id = $7 AND workspace_id = $8`,
		p.Name, p.URL, p.Secret, p.Priority, p.TimeoutMS, p.Enabled, p.ID, p.WorkspaceID)
	return affected(tag, err, "plugin")
}

func (s *Store) DeletePlugin(ctx context.Context, workspaceID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM bot_plugins WHERE id = $1 AND workspace_id = $2`, id, workspaceID)
	return affected(tag, err, "plugin")
}

func (s *Store) ListPlugins(ctx context.Context, workspaceID int64) ([]*kefu.BotPlugin, error) {
	return queryAll(ctx, s, "plugin", func(row scanner) (*kefu.BotPlugin, error) {
		var p kefu.BotPlugin
		err := row.Scan(&p.ID, &p.WorkspaceID, &p.Name, &p.URL, &p.Secret, &p.Priority, &p.TimeoutMS, &p.Enabled, &p.CreatedAt)
		p.CreatedAt = p.CreatedAt.UTC()
		return &p, err
	}, `SELECT id, workspace_id, name, url, secret, priority, timeout_ms, enabled, created_at FROM bot_plugins WHERE workspace_id = $1 ORDER BY id`, workspaceID)
}

func (s *Store) GetBotSettings(ctx context.Context, workspaceID, inboxID int64) (*kefu.BotSettings, error) {
	var raw []byte
	var bs kefu.BotSettings
	err := s.pool.QueryRow(ctx, `SELECT settings, updated_at FROM bot_settings WHERE workspace_id = $1 AND inbox_id = $2`, workspaceID, inboxID).Scan(&raw, &bs.UpdatedAt)
	if err != nil {
		return nil, wrap(err, "bot settings")
	}
	updated := bs.UpdatedAt.UTC()
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, wrap(err, "bot settings")
	}
	bs.WorkspaceID, bs.InboxID, bs.UpdatedAt = workspaceID, inboxID, updated
	bs.QuickReplies = orEmpty(bs.QuickReplies)
	return &bs, nil
}

func (s *Store) PutBotSettings(ctx context.Context, bs *kefu.BotSettings) error {
	bs.UpdatedAt = kefu.Now()
	bs.QuickReplies = orEmpty(bs.QuickReplies)
	// The inbox must be the workspace's own: the foreign key alone would
	// accept another tenant's inbox id.
	tag, err := s.pool.Exec(ctx, `INSERT INTO bot_settings (workspace_id, inbox_id, settings, updated_at)
		SELECT $1, id, $2, $3 FROM inboxes WHERE id = $4 AND workspace_id = $1
		ON CONFLICT (workspace_id, inbox_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
		bs.WorkspaceID, mustJSON(bs), bs.UpdatedAt, bs.InboxID)
	return affected(tag, err, "inbox")
}

func (s *Store) GetLLMSettings(ctx context.Context, workspaceID int64) (*kefu.LLMSettings, error) {
	var raw, key []byte
	var ls kefu.LLMSettings
	err := s.pool.QueryRow(ctx, `SELECT settings, api_key_enc, updated_at FROM llm_settings WHERE workspace_id = $1`, workspaceID).Scan(&raw, &key, &ls.UpdatedAt)
	if err != nil {
		return nil, wrap(err, "llm settings")
	}
	updated := ls.UpdatedAt.UTC()
	if err := json.Unmarshal(raw, &ls); err != nil {
		return nil, wrap(err, "llm settings")
	}
	ls.WorkspaceID, ls.APIKeyEnc, ls.UpdatedAt = workspaceID, key, updated
	return &ls, nil
}

func (s *Store) PutLLMSettings(ctx context.Context, ls *kefu.LLMSettings) error {
	ls.UpdatedAt = kefu.Now()
	var key any
	if len(ls.APIKeyEnc) > 0 {
		key = ls.APIKeyEnc
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO llm_settings (workspace_id, settings, api_key_enc, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (workspace_id) DO UPDATE SET settings = excluded.settings, api_key_enc = excluded.api_key_enc, updated_at = excluded.updated_at`,
		ls.WorkspaceID, mustJSON(ls), key, ls.UpdatedAt)
	return wrap(err, "llm settings")
}

func (s *Store) AddLLMUsage(ctx context.Context, u *kefu.LLMUsage) (*kefu.LLMUsage, error) {
	out := kefu.LLMUsage{WorkspaceID: u.WorkspaceID, Day: u.Day}
	err := s.pool.QueryRow(ctx, `INSERT INTO llm_usage AS t (workspace_id, day, requests, prompt_tokens, completion_tokens, cost) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (workspace_id, day) DO UPDATE SET requests = t.requests + excluded.requests, prompt_tokens = t.prompt_tokens + excluded.prompt_tokens,
			completion_tokens = t.completion_tokens + excluded.completion_tokens, cost = t.cost + excluded.cost
		RETURNING requests, prompt_tokens, completion_tokens, cost`,
		u.WorkspaceID, u.Day, u.Requests, u.PromptTokens, u.CompletionTokens, u.Cost).Scan(&out.Requests, &out.PromptTokens, &out.CompletionTokens, &out.Cost)
	if err != nil {
		return nil, wrap(err, "llm usage")
	}
	return &out, nil
}

func (s *Store) GetLLMUsage(ctx context.Context, workspaceID int64, day string) (*kefu.LLMUsage, error) {
	out := kefu.LLMUsage{WorkspaceID: workspaceID, Day: day}
	err := s.pool.QueryRow(ctx, `SELECT requests, prompt_tokens, completion_tokens, cost FROM llm_usage WHERE workspace_id = $1 AND day = $2`,
		workspaceID, day).Scan(&out.Requests, &out.PromptTokens, &out.CompletionTokens, &out.Cost)
	if errors.Is(err, pgx.ErrNoRows) {
		return &out, nil
	}
	if err != nil {
		return nil, wrap(err, "llm usage")
	}
	return &out, nil
}

func (s *Store) PutBotFeedback(ctx context.Context, f *kefu.BotFeedback) error {
	f.CreatedAt = orNow(f.CreatedAt)
	// Only a bot message of the workspace's conversation can be rated.
	tag, err := s.pool.Exec(ctx, `INSERT INTO bot_feedback (workspace_id, conversation_id, message_id, helpful, created_at)
		SELECT $1, conversation_id, id, $2, $3 FROM messages WHERE id = $4 AND conversation_id = $5 AND workspace_id = $1 AND sender_type = 'bot'
		ON CONFLICT (workspace_id, message_id) DO UPDATE SET helpful = excluded.helpful, created_at = excluded.created_at`,
		f.WorkspaceID, f.Helpful, f.CreatedAt, f.MessageID, f.ConversationID)
	return affected(tag, err, "bot message")
}

func (s *Store) ListBotFeedback(ctx context.Context, workspaceID int64, limit int) ([]*kefu.BotFeedback, error) {
	return queryAll(ctx, s, "feedback", func(row scanner) (*kefu.BotFeedback, error) {
		var f kefu.BotFeedback
		err := row.Scan(&f.WorkspaceID, &f.ConversationID, &f.MessageID, &f.Helpful, &f.CreatedAt)
		f.CreatedAt = f.CreatedAt.UTC()
		return &f, err
	}, `SELECT workspace_id, conversation_id, message_id, helpful, created_at FROM bot_feedback WHERE workspace_id = $1 ORDER BY created_at DESC, message_id DESC LIMIT $2`, workspaceID, limit)
}

func (s *Store) CreateUnanswered(ctx context.Context, u *kefu.Unanswered) error {
	u.CreatedAt = orNow(u.CreatedAt)
	err := s.pool.QueryRow(ctx, `INSERT INTO bot_unanswered (workspace_id, conversation_id, question, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		u.WorkspaceID, u.ConversationID, u.Question, u.CreatedAt).Scan(&u.ID)
	return wrap(err, "unanswered question")
}

func (s *Store) ListUnanswered(ctx context.Context, workspaceID int64, limit int) ([]*kefu.Unanswered, error) {
	return queryAll(ctx, s, "unanswered question", func(row scanner) (*kefu.Unanswered, error) {
		var u kefu.Unanswered
		err := row.Scan(&u.ID, &u.WorkspaceID, &u.ConversationID, &u.Question, &u.CreatedAt)
		u.CreatedAt = u.CreatedAt.UTC()
		return &u, err
	}, `SELECT id, workspace_id, conversation_id, question, created_at FROM bot_unanswered WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2`, workspaceID, limit)
}

func (s *Store) CreateBotDecision(ctx context.Context, d *kefu.BotDecision) error {
	d.CreatedAt = orNow(d.CreatedAt)
	if d.Detail == nil {
		d.Detail = map[string]any{}
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO bot_decisions (workspace_id, conversation_id, message_id, question, outcome, source, confidence, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		d.WorkspaceID, d.ConversationID, d.MessageID, d.Question, d.Outcome, d.Source, d.Confidence, mustJSON(d.Detail), d.CreatedAt).Scan(&d.ID)
	return wrap(err, "bot decision")
}

func (s *Store) ListBotDecisions(ctx context.Context, workspaceID, conversationID int64) ([]*kefu.BotDecision, error) {
	return queryAll(ctx, s, "bot decision", func(row scanner) (*kefu.BotDecision, error) {
		var d kefu.BotDecision
		var detail []byte
		err := row.Scan(&d.ID, &d.WorkspaceID, &d.ConversationID, &d.MessageID, &d.Question, &d.Outcome, &d.Source, &d.Confidence, &detail, &d.CreatedAt)
		if err == nil && (json.Unmarshal(detail, &d.Detail) != nil || d.Detail == nil) {
			d.Detail = map[string]any{}
		}
		d.CreatedAt = d.CreatedAt.UTC()
		return &d, err
	}, `SELECT id, workspace_id, conversation_id, message_id, question, outcome, source, confidence, detail, created_at FROM bot_decisions
		WHERE workspace_id = $1 AND conversation_id = $2 ORDER BY id`, workspaceID, conversationID)
}
