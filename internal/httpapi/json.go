package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// writeJSON writes v with the given status. Encoding our own types cannot
// fail short of a bug, and by then the status line is gone, so an encoding
// error is only visible as a truncated body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// list is the shape of every paginated response.
type list[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func newList[T any](data []T, next string) list[T] {
	if data == nil {
		data = []T{}
	}
	return list[T]{Data: data, NextCursor: next}
}

// decode reads a JSON object into v: the body must be application/json, at
// most MaxJSONBytes, one object with only known fields and nothing after
// it. Decoding failures are bad_json; over-size bodies too_large.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	return s.decodeBody(w, r, v, false)
}

// decodeOptional is decode for endpoints whose body may be left out
// entirely; an absent body leaves v untouched.
func (s *Server) decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	return s.decodeBody(w, r, v, true)
}

func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.limits.MaxJSONBytes))
	if err != nil {
		return err // classify turns *http.MaxBytesError into too_large
	}
	if optional && len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := requireJSON(r); err != nil {
		return err
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return kefu.Errorf(protocol.EBadJSON, "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return kefu.Errorf(protocol.EBadJSON, "%s", jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return kefu.Errorf(protocol.EBadJSON, "unexpected data after the JSON object")
	}
	return nil
}

func requireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return kefu.Errorf(kefu.EUnsupported, "Content-Type must be application/json")
	}
	return nil
}

// jsonError describes a decoding failure without echoing the input.
func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "malformed JSON at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		if te.Field != "" {
			return "field " + strconv.Quote(truncate(te.Field, 64)) + " must be " + jsonKind(te.Type.Kind().String())
		}
		return "a value has the wrong type"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON object is incomplete"
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown field " + truncate(strings.TrimPrefix(msg, "json: unknown field "), 70)
	}
	return "the body is not valid JSON for this endpoint"
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// nullable is a JSON field that distinguishes "absent" (Set false), null
// (Set true, Null true) and a value, which PATCH needs for fields where
// null means "clear".
type nullable[T any] struct {
	Set   bool
	Null  bool
	Value T
}

func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// pathID parses a positive integer path parameter. Anything else is
// invalid: an id that cannot exist is a client bug worth naming.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != v {
		return 0, kefu.Errorf(kefu.EInvalid, "%s must be a positive integer", name)
	}
	return id, nil
}

// queryInt parses an optional integer query parameter within [lo, hi].
func queryInt(r *http.Request, name string, def, lo, hi int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, kefu.Errorf(kefu.EInvalid, "%s must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

// Page sizes for list endpoints.
const (
	defaultLimit    = 25
	maxLimit        = 100
	defaultMsgLimit = 50
	maxMsgLimit     = 200
)

func limitParam(r *http.Request) (int, error) {
	n, err := queryInt(r, "limit", defaultLimit, 1, maxLimit)
	return int(n), err
}

// Cursors are opaque to clients: base64url of fixed-width binary, so a
// cursor from one list can't be mistaken for anything meaningful, and a
// mangled one is reliably invalid.

func encodeConversationCursor(c *kefu.Conversation) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(c.LastActivityAt.UnixMicro()))
	binary.BigEndian.PutUint64(b[8:], uint64(c.ID))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func conversationCursor(r *http.Request) (*kefu.ConversationCursor, error) {
	v := r.URL.Query().Get("cursor")
	if v == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) != 16 {
		return nil, kefu.Errorf(kefu.EInvalid, "cursor is not valid")
	}
	micros, id := int64(binary.BigEndian.Uint64(b[:8])), int64(binary.BigEndian.Uint64(b[8:]))
	if id <= 0 || micros < 0 {
		return nil, kefu.Errorf(kefu.EInvalid, "cursor is not valid")
	}
	return &kefu.ConversationCursor{LastActivityAt: time.UnixMicro(micros).UTC(), ID: id}, nil
}

func encodeIDCursor(id int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(id))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func idCursor(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("cursor")
	if v == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) != 8 {
		return 0, kefu.Errorf(kefu.EInvalid, "cursor is not valid")
	}
	id := int64(binary.BigEndian.Uint64(b))
	if id <= 0 {
		return 0, kefu.Errorf(kefu.EInvalid, "cursor is not valid")
	}
	return id, nil
}

// deleted serves DELETE …/{id}: del removes the caller's workspace's record
// (ENotFound when there is none); success is 204 with no body.
func deleted(w http.ResponseWriter, r *http.Request, del func(ctx context.Context, id int64) error) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := del(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// optionalID is the {id} of a route that creates (no id: 0) or replaces.
func optionalID(r *http.Request) (int64, error) {
	if r.PathValue("id") == "" {
		return 0, nil
	}
	return pathID(r, "id")
}

// writeSaved answers a create (201) or a replace (200) with the record.
func writeSaved(w http.ResponseWriter, created bool, v any) {
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, v)
}
