package kefu

import (
	"context"
	"time"
)

// The bot (issue 7) keeps its knowledge base, behaviour settings and
// records per workspace. These types are the stored shapes; retrieval,
// the answer pipeline and the language-model connector live in
// internal/kb, internal/bot and internal/llm.

// FAQ is one knowledge-base entry: one answer reached by several
// phrasings of the question.
type FAQ struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	Category    string    `json:"category"`
	Answer      string    `json:"answer"`
	Questions   []string  `json:"questions"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Document is an uploaded text (Markdown, plain text or HTML) split into
// passages for retrieval.
type Document struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	Title       string    `json:"title"`
	Format      string    `json:"format"` // markdown, text or html
	Passages    int       `json:"passages"`
	CreatedAt   time.Time `json:"created_at"`
}

// Passage is one searchable piece of a document. Embedding is set when a
// language model with an embeddings endpoint is configured.
type Passage struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	DocumentID  int64     `json:"document_id"`
	Seq         int       `json:"seq"`
	Title       string    `json:"title"`
	Text        string    `json:"text"`
	Embedding   []float32 `json:"-"`
}

// Intent is recognised from example phrases, keywords and regular
// expressions; it may call a business endpoint (Action) and answer from a
// template, reply with fixed text, or hand the conversation to a person.
type Intent struct {
	ID          int64         `json:"id"`
	WorkspaceID int64         `json:"workspace_id"`
	Name        string        `json:"name"`
	Examples    []string      `json:"examples"`
	Keywords    []string      `json:"keywords"`
	Patterns    []string      `json:"patterns"`
	Entities    []string      `json:"entities"` // required entity kinds, e.g. "order_number"
	Reply       string        `json:"reply"`    // answer when there is no action
	Action      *IntentAction `json:"action,omitempty"`
	Handoff     bool          `json:"handoff"`
	Enabled     bool          `json:"enabled"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

// IntentAction calls a business endpoint with the extracted entities and
// answers from Template filled with its JSON reply ({{.field.sub}}).
type IntentAction struct {
	URL         string `json:"url"`
	Secret      string `json:"secret,omitempty"` // HMAC key; the API reports only secret_set
	SecretSet   bool   `json:"secret_set"`
	Template    string `json:"template"`
	MissingText string `json:"missing_text"` // asked when a required entity is absent
	FailureText string `json:"failure_text"` // said when the endpoint fails
	TimeoutMS   int    `json:"timeout_ms"`
}

// BotPlugin is an HTTP answer source the business runs.
type BotPlugin struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	Secret      string    `json:"-"`
	Priority    int       `json:"priority"`
	TimeoutMS   int       `json:"timeout_ms"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
}

// Bot modes of an inbox.
const (
	BotOff          = "off"
	BotFirst        = "bot_first"
	BotOutsideHours = "outside_hours"
)

// BotSettings is the bot's behaviour in one inbox.
type BotSettings struct {
	WorkspaceID  int64     `json:"workspace_id"`
	InboxID      int64     `json:"inbox_id"`
	Mode         string    `json:"mode"`
	Greeting     string    `json:"greeting"`
	QuickReplies []string  `json:"quick_replies"`
	Threshold    float64   `json:"threshold"`     // 0: the knowledge base's default
	HandoffAfter int       `json:"handoff_after"` // low-confidence turns before hand-off; 0: never
	UpdatedAt    time.Time `json:"updated_at"`
}

// LLMSettings configure the workspace's language model. APIKeyEnc is the
// API key sealed with the server's key; it never leaves the server.
type LLMSettings struct {
	WorkspaceID          int64     `json:"workspace_id"`
	Enabled              bool      `json:"enabled"`
	BaseURL              string    `json:"base_url"`
	Model                string    `json:"model"`
	EmbeddingModel       string    `json:"embedding_model"`
	APIKeyEnc            []byte    `json:"-"`
	Grounded             bool      `json:"grounded"`
	SystemPrompt         string    `json:"system_prompt"`
	Temperature          float64   `json:"temperature"`
	MaxTokens            int       `json:"max_tokens"`
	TimeoutMS            int       `json:"timeout_ms"`
	DailyTokenCap        int64     `json:"daily_token_cap"`     // 0: no cap
	PromptPricePer1K     float64   `json:"prompt_price_per_1k"` // currency units
	CompletionPricePer1K float64   `json:"completion_price_per_1k"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// LLMUsage is a workspace's language-model consumption on one UTC day.
type LLMUsage struct {
	WorkspaceID      int64   `json:"workspace_id"`
	Day              string  `json:"day"` // YYYY-MM-DD
	Requests         int64   `json:"requests"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	Cost             float64 `json:"cost"`
}

// BotFeedback is a visitor's verdict on one bot message.
type BotFeedback struct {
	WorkspaceID    int64     `json:"workspace_id"`
	ConversationID int64     `json:"conversation_id"`
	MessageID      int64     `json:"message_id"`
	Helpful        bool      `json:"helpful"`
	CreatedAt      time.Time `json:"created_at"`
}

// Unanswered is a visitor question the bot could not answer.
type Unanswered struct {
	ID             int64     `json:"id"`
	WorkspaceID    int64     `json:"workspace_id"`
	ConversationID int64     `json:"conversation_id"`
	Question       string    `json:"question"`
	CreatedAt      time.Time `json:"created_at"`
}

// BotDecision records how the bot answered (or did not) one visitor turn.
type BotDecision struct {
	ID             int64          `json:"id"`
	WorkspaceID    int64          `json:"workspace_id"`
	ConversationID int64          `json:"conversation_id"`
	MessageID      int64          `json:"message_id"` // the visitor message
	Question       string         `json:"question"`
	Outcome        string         `json:"outcome"` // answered, unanswered, handoff, greeting, dropped
	Source         string         `json:"source"`
	Confidence     float64        `json:"confidence"`
	Detail         map[string]any `json:"detail"`
	CreatedAt      time.Time      `json:"created_at"`
}

// KnowledgeStore keeps the knowledge base and a snapshot of its index.
type KnowledgeStore interface {
	CreateFAQ(ctx context.Context, f *FAQ) error
	// CreateFAQs stores every entry or none (an import), in one transaction.
	CreateFAQs(ctx context.Context, fs []*FAQ) error
	GetFAQ(ctx context.Context, workspaceID, id int64) (*FAQ, error)
	UpdateFAQ(ctx context.Context, f *FAQ) error // by f.WorkspaceID and f.ID
	DeleteFAQ(ctx context.Context, workspaceID, id int64) error
	ListFAQs(ctx context.Context, workspaceID int64) ([]*FAQ, error) // by id
	// CreateDocument stores d and its passages in one transaction.
	CreateDocument(ctx context.Context, d *Document, passages []*Passage) error
	ListDocuments(ctx context.Context, workspaceID int64) ([]*Document, error)
	DeleteDocument(ctx context.Context, workspaceID, id int64) error
	ListPassages(ctx context.Context, workspaceID int64) ([]*Passage, error) // by id
	GetSynonyms(ctx context.Context, workspaceID int64) ([][]string, error)
	SetSynonyms(ctx context.Context, workspaceID int64, groups [][]string) error
	// SaveKBIndex keeps a serialised index under the fingerprint of the
	// knowledge base it was built from; LoadKBIndex returns ENotFound
	// when there is none.
	SaveKBIndex(ctx context.Context, workspaceID int64, fingerprint string, data []byte) error
	LoadKBIndex(ctx context.Context, workspaceID int64) (fingerprint string, data []byte, err error)
}

// BotStore keeps the bot's configuration and records.
type BotStore interface {
	KnowledgeStore
	CreateIntent(ctx context.Context, in *Intent) error
	UpdateIntent(ctx context.Context, in *Intent) error
	DeleteIntent(ctx context.Context, workspaceID, id int64) error
	ListIntents(ctx context.Context, workspaceID int64) ([]*Intent, error)
	CreatePlugin(ctx context.Context, p *BotPlugin) error
	UpdatePlugin(ctx context.Context, p *BotPlugin) error
	DeletePlugin(ctx context.Context, workspaceID, id int64) error
	ListPlugins(ctx context.Context, workspaceID int64) ([]*BotPlugin, error)
	// GetBotSettings returns ENotFound when the inbox has none (bot off).
	GetBotSettings(ctx context.Context, workspaceID, inboxID int64) (*BotSettings, error)
	PutBotSettings(ctx context.Context, s *BotSettings) error
	// GetLLMSettings returns ENotFound when no model is configured.
	GetLLMSettings(ctx context.Context, workspaceID int64) (*LLMSettings, error)
	PutLLMSettings(ctx context.Context, s *LLMSettings) error
	// AddLLMUsage adds u to the day's totals and returns them.
	AddLLMUsage(ctx context.Context, u *LLMUsage) (*LLMUsage, error)
	GetLLMUsage(ctx context.Context, workspaceID int64, day string) (*LLMUsage, error) // zero totals when none
	// PutBotFeedback records (or replaces) the verdict on one message.
	PutBotFeedback(ctx context.Context, f *BotFeedback) error
	ListBotFeedback(ctx context.Context, workspaceID int64, limit int) ([]*BotFeedback, error)
	CreateUnanswered(ctx context.Context, u *Unanswered) error
	ListUnanswered(ctx context.Context, workspaceID int64, limit int) ([]*Unanswered, error) // newest first
	CreateBotDecision(ctx context.Context, d *BotDecision) error
	ListBotDecisions(ctx context.Context, workspaceID, conversationID int64) ([]*BotDecision, error) // oldest first
}
