// Package protocol defines Kefu's real-time wire format: JSON text frames
// over WebSocket, one object per frame with a "type" field. It decodes and
// validates client frames and encodes server frames; it knows nothing of
// sockets or storage. docs/protocol.md is the prose version of this file.
package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// MaxFrameSize is the largest client frame accepted, in bytes. It leaves
// room for a maximal message body after JSON escaping.
const MaxFrameSize = 64 * 1024

// Client frame types.
const (
	TypeSend        = "send"
	TypeTyping      = "typing"
	TypeRead        = "read"
	TypePresence    = "presence"
	TypeResume      = "resume"
	TypeSubscribe   = "subscribe"
	TypeUnsubscribe = "unsubscribe"
	TypePing        = "ping"
)

// Server frame types (besides typing, read and presence, which go both ways).
const (
	TypeWelcome      = "welcome"
	TypeAck          = "ack"
	TypeMessage      = "message"
	TypeConversation = "conversation"
	TypeQueue        = "queue"
	TypeReminder     = "reminder"
	TypeResumed      = "resumed"
	TypePong         = "pong"
	TypeError        = "error"
	TypeBotDelta     = "bot_delta"
)

// Error codes that exist only on the socket; the rest are kefu's.
const (
	EBadJSON     = "bad_json"     // the frame is not a JSON object
	EUnknownType = "unknown_type" // "type" is missing or not one we know
)

// Close codes (RFC 6455 private range) the server uses when it ends a
// connection on purpose, so clients can tell why without parsing text.
const (
	CloseNormal       = 1000
	CloseGoingAway    = 1001 // server shutting down: reconnect elsewhere or later
	ClosePolicy       = 1008 // origin refused
	CloseTooBig       = 1009 // frame over MaxFrameSize
	CloseUnauthorized = 4001 // token missing, expired or revoked
	CloseSlowConsumer = 4008 // the client did not read fast enough; resume on reconnect
	CloseIdle         = 4009 // no frame within the idle timeout
	CloseRateLimited  = 4029 // far over the frame rate limit
)

// Presence values.
const (
	PresenceOnline  = "online"
	PresenceAway    = "away"
	PresenceOffline = "offline"
)

// ClientFrame is every frame a client may send, flattened: each type uses
// the fields documented for it and ignores the rest. One flat struct keeps
// decoding to a single pass.
type ClientFrame struct {
	Type           string           `json:"type"`
	ID             string           `json:"id,omitempty"` // echoed in the ack or error
	ConversationID int64            `json:"conversation_id,omitempty"`
	ClientMsgID    string           `json:"client_msg_id,omitempty"`
	Kind           string           `json:"kind,omitempty"`
	Body           string           `json:"body,omitempty"`
	Attachments    []int64          `json:"attachments,omitempty"`
	Seq            int64            `json:"seq,omitempty"`
	On             bool             `json:"on,omitempty"`
	Status         string           `json:"status,omitempty"`
	Conversations  map[string]int64 `json:"conversations,omitempty"` // conversation id -> last seq seen
	All            bool             `json:"all,omitempty"`
}

// MaxIDLen bounds the client-chosen request id.
const MaxIDLen = 64

// MaxResumeConversations bounds one resume or subscribe frame.
const MaxResumeConversations = 1000

// Decode parses and validates one client frame. The returned error is a
// *kefu.Error whose code is suitable for an error frame; whatever the input,
// Decode never panics.
func Decode(data []byte) (*ClientFrame, error) {
	if len(data) > MaxFrameSize {
		return nil, kefu.Errorf(kefu.ETooLarge, "frame is larger than %d bytes", MaxFrameSize)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, kefu.Errorf(EBadJSON, "frame must be a JSON object")
	}
	var f ClientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, kefu.Errorf(EBadJSON, "frame is not valid JSON: %s", jsonErrText(err))
	}
	if err := f.Validate(); err != nil {
		return &f, err
	}
	return &f, nil
}

func jsonErrText(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return "field " + strconv.Quote(te.Field) + " has the wrong type"
	}
	return "syntax error"
}

// Validate checks the fields the frame's type requires.
func (f *ClientFrame) Validate() error {
	if len(f.ID) > MaxIDLen {
		return kefu.Errorf(kefu.EInvalid, "id is longer than %d bytes", MaxIDLen)
	}
	switch f.Type {
	case TypeSend:
		if f.ConversationID <= 0 {
			return kefu.Errorf(kefu.EInvalid, "conversation_id is required")
		}
		if f.Kind == "" {
			f.Kind = string(kefu.KindText)
		}
		switch kefu.MessageKind(f.Kind) {
		case kefu.KindText, kefu.KindAttachment, kefu.KindNote:
		default:
			return kefu.Errorf(kefu.EInvalid, "kind must be text, attachment or note")
		}
		if len(f.Body) > kefu.MaxBodyLen {
			return kefu.Errorf(kefu.ETooLarge, "body is longer than %d bytes", kefu.MaxBodyLen)
		}
		if !utf8.ValidString(f.Body) || strings.IndexByte(f.Body, 0) >= 0 {
			return kefu.Errorf(kefu.EInvalid, "body is not valid UTF-8 text")
		}
		if len(f.ClientMsgID) > kefu.MaxClientMsgIDLen {
			return kefu.Errorf(kefu.EInvalid, "client_msg_id is longer than %d bytes", kefu.MaxClientMsgIDLen)
		}
		if len(f.Attachments) > kefu.MaxAttachments {
			return kefu.Errorf(kefu.EInvalid, "at most %d attachments", kefu.MaxAttachments)
		}
		if isBlank(f.Body) && len(f.Attachments) == 0 {
			return kefu.Errorf(kefu.EInvalid, "a message needs a body or an attachment")
		}
	case TypeTyping:
		if f.ConversationID <= 0 {
			return kefu.Errorf(kefu.EInvalid, "conversation_id is required")
		}
	case TypeRead:
		if f.ConversationID <= 0 || f.Seq <= 0 {
			return kefu.Errorf(kefu.EInvalid, "conversation_id and seq are required")
		}
	case TypePresence:
		switch f.Status {
		case PresenceOnline, PresenceAway, PresenceOffline:
		default:
			return kefu.Errorf(kefu.EInvalid, "status must be online, away or offline")
		}
	case TypeResume, TypeSubscribe, TypeUnsubscribe:
		if len(f.Conversations) > MaxResumeConversations {
			return kefu.Errorf(kefu.EInvalid, "at most %d conversations per frame", MaxResumeConversations)
		}
		if _, err := f.ConversationSeqs(); err != nil {
			return err
		}
		if f.Type == TypeResume && len(f.Conversations) == 0 {
			return kefu.Errorf(kefu.EInvalid, "conversations is required")
		}
	case TypePing:
	case "":
		return kefu.Errorf(EUnknownType, "type is required")
	default:
		return kefu.Errorf(EUnknownType, "unknown frame type %q", truncate(f.Type, 32))
	}
	return nil
}

// ConversationSeqs returns the conversations map with parsed keys.
func (f *ClientFrame) ConversationSeqs() (map[int64]int64, error) {
	out := make(map[int64]int64, len(f.Conversations))
	for k, v := range f.Conversations {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil || id <= 0 {
			return nil, kefu.Errorf(kefu.EInvalid, "conversation id %q is not a positive integer", truncate(k, 32))
		}
		if v < 0 {
			return nil, kefu.Errorf(kefu.EInvalid, "seq for conversation %d is negative", id)
		}
		out[id] = v
	}
	return out, nil
}

func isBlank(s string) bool {
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Server frames. Each has its own struct so the JSON is exactly what the
// docs show, with no stray empty fields.

type Welcome struct {
	Type              string `json:"type"`
	Role              string `json:"role"` // "agent" or "visitor"
	WorkspaceID       int64  `json:"workspace_id"`
	AgentID           int64  `json:"agent_id,omitempty"`
	ContactID         int64  `json:"contact_id,omitempty"`
	HeartbeatInterval int    `json:"heartbeat_interval"` // seconds between client pings
	IdleTimeout       int    `json:"idle_timeout"`       // seconds without a frame before the server closes
	ServerTime        int64  `json:"server_time"`        // unix milliseconds
}

type Ack struct {
	Type           string    `json:"type"`
	ID             string    `json:"id,omitempty"`
	ConversationID int64     `json:"conversation_id"`
	MessageID      int64     `json:"message_id"`
	Seq            int64     `json:"seq"`
	ClientMsgID    string    `json:"client_msg_id,omitempty"`
	Duplicate      bool      `json:"duplicate"`
	CreatedAt      time.Time `json:"created_at"`
}

type MessageFrame struct {
	Type    string        `json:"type"`
	Message *kefu.Message `json:"message"`
}

type ConversationFrame struct {
	Type         string   `json:"type"`
	Event        string   `json:"event"` // created, updated, assigned, transferred
	Changed      []string `json:"changed,omitempty"`
	Conversation any      `json:"conversation"` // *kefu.Conversation, or *kefu.ContactConversation for visitors
	// Routing detail, for agents only: why an assignment was made
	// (sticky, least_loaded, round_robin, queue, manual, transfer), and
	// for a transfer where it came from and went, and the seq of the
	// private note that carries the transfer note.
	Reason      string `json:"reason,omitempty"`
	FromAgentID int64  `json:"from_agent_id,omitempty"`
	ToTeamID    int64  `json:"to_team_id,omitempty"`
	NoteSeq     int64  `json:"note_seq,omitempty"`
}

// QueueFrame tells a waiting visitor their place in the queue (Position,
// EstimatedWait in seconds, omitted while unknown), and agents the length
// of an inbox's queue (InboxID, Length).
type QueueFrame struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id,omitempty"`
	Position       int    `json:"position,omitempty"`
	EstimatedWait  *int   `json:"estimated_wait,omitempty"`
	InboxID        int64  `json:"inbox_id,omitempty"`
	Length         *int   `json:"length,omitempty"`
}

// ReminderFrame reminds an assignee that a contact has waited since
// WaitingSince for an answer.
type ReminderFrame struct {
	Type           string    `json:"type"`
	ConversationID int64     `json:"conversation_id"`
	WaitingSince   time.Time `json:"waiting_since"`
}

type TypingFrame struct {
	Type           string          `json:"type"`
	ConversationID int64           `json:"conversation_id"`
	SenderType     kefu.SenderType `json:"sender_type"`
	SenderID       int64           `json:"sender_id"`
	On             bool            `json:"on"`
}

// BotDeltaFrame is a piece of a bot answer being streamed from a language
// model. It is live-only (never stored or replayed): the final answer
// arrives as one ordinary message whose meta.stream_id names the stream.
type BotDeltaFrame struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	StreamID       string `json:"stream_id"`
	Text           string `json:"text"`
}

type ReadFrame struct {
	Type           string          `json:"type"`
	ConversationID int64           `json:"conversation_id"`
	ReaderType     kefu.SenderType `json:"reader_type"`
	ReaderID       int64           `json:"reader_id"`
	Seq            int64           `json:"seq"`
}

type PresenceFrame struct {
	Type    string `json:"type"`
	AgentID int64  `json:"agent_id"`
	Status  string `json:"status"`
}

type Resumed struct {
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id"`
	LastSeq        int64  `json:"last_seq"`
	Count          int    `json:"count"` // messages replayed
}

type Pong struct {
	Type       string `json:"type"`
	ServerTime int64  `json:"server_time"`
}

type ErrorFrame struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Encode marshals a server frame. Server frames are built from our own
// types, so a failure is a programming error; it panics rather than send a
// half-frame.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("protocol: encode: " + err.Error())
	}
	return b
}

// EncodeMessage is the hot path: one encoding per message, shared by every
// connection it fans out to.
func EncodeMessage(m *kefu.Message) []byte {
	return Encode(&MessageFrame{Type: TypeMessage, Message: m})
}

// EncodeError builds an error frame from any error, hiding internal detail.
func EncodeError(id string, err error) []byte {
	return Encode(&ErrorFrame{Type: TypeError, ID: id, Code: kefu.ErrorCode(err), Message: kefu.ErrorMessage(err)})
}
