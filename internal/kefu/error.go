// Package kefu holds Kefu's domain: the types every other package speaks
// (workspaces, agents, inboxes, contacts, conversations, messages), the
// error codes, and the small service interfaces the technology packages
// implement. It imports only the standard library.
package kefu

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the API and appears verbatim
// in WebSocket error frames, so clients can branch on them.
const (
	EInvalid      = "invalid"                // 400: the request is malformed or fails validation
	EUnauthorized = "unauthorized"           // 401: no or bad credentials
	EForbidden    = "forbidden"              // 403: authenticated, but not allowed
	ENotFound     = "not_found"              // 404: absent, or belongs to another tenant
	EConflict     = "conflict"               // 409: unique constraint, state conflict
	EGone         = "gone"                   // 410: a link that was used, revoked or has expired (invitations)
	ETooLarge     = "too_large"              // 413: body, frame or upload over the limit
	EUnsupported  = "unsupported_media_type" // 415: wrong content type
	ERateLimited  = "rate_limited"           // 429
	EInternal     = "internal"               // 500: a bug or an infrastructure fault; text never shown to clients
	EUnavailable  = "unavailable"            // 503: shutting down, dependency down
)

// Error is an error meant to be shown to the caller: Code is stable and
// machine readable, Message is for people.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EInternal otherwise: an error we did not classify is a bug by definition.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the human text of err, hiding internal detail.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// LastAdminError is what an agent update fails with when it would demote
// or deactivate the last active admin of a workspace: someone must always
// be able to manage it.
func LastAdminError() *Error {
	return &Error{Code: EConflict, Message: "the workspace needs at least one active admin"}
}

// IsNotFound reports whether err carries ENotFound.
func IsNotFound(err error) bool { return ErrorCode(err) == ENotFound }
