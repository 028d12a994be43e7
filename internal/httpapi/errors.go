package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-chat/kefu/internal/files"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// statusOf maps an error code to its HTTP status. The codes are the same
// ones WebSocket error frames carry (docs/protocol.md).
func statusOf(code string) int {
	switch code {
	case kefu.EInvalid, protocol.EBadJSON:
		return http.StatusBadRequest
	case kefu.EUnauthorized:
		return http.StatusUnauthorized
	case kefu.EForbidden:
		return http.StatusForbidden
	case kefu.ENotFound:
		return http.StatusNotFound
	case methodNotAllowed:
		return http.StatusMethodNotAllowed
	case kefu.EConflict:
		return http.StatusConflict
	case kefu.EGone:
		return http.StatusGone
	case kefu.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case kefu.EUnsupported:
		return http.StatusUnsupportedMediaType
	case kefu.ERateLimited:
		return http.StatusTooManyRequests
	case kefu.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// methodNotAllowed exists only in HTTP: the path is known, the method not.
const methodNotAllowed = "method_not_allowed"

// errorBody is the one error shape the API returns.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// retryAfter is attached to rate-limit errors so the writer can tell the
// client when to come back.
type retryAfter struct {
	err   *kefu.Error
	after time.Duration
}

func (e *retryAfter) Error() string { return e.err.Error() }
func (e *retryAfter) Unwrap() error { return e.err }

// classify turns errors from the standard library and our own packages
// into kefu errors; anything it does not recognise stays internal.
func classify(r *http.Request, err error) error {
	var mbe *http.MaxBytesError
	var re *files.ReadError
	switch {
	case errors.As(err, &mbe):
		return kefu.Errorf(kefu.ETooLarge, "request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &re):
		return kefu.Errorf(kefu.EInvalid, "could not read the upload")
	case r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// The client went away or timed out; there is nobody to tell and
		// nothing to fix.
		return kefu.Errorf(kefu.EUnavailable, "request canceled")
	}
	return err
}

// writeError is the single place an error becomes a response. Internal
// errors are logged with the request id and shown to the client only as
// "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	err = classify(r, err)
	code := kefu.ErrorCode(err)
	msg := kefu.ErrorMessage(err)
	status := statusOf(code)
	if code == kefu.EInternal {
		s.metrics.Errors.WithLabelValues("http").Inc()
		s.log.ErrorContext(r.Context(), "internal error", "request_id", requestID(r.Context()),
			"method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	switch code {
	case kefu.EUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="kefu"`)
	case kefu.ERateLimited:
		var ra *retryAfter
		if errors.As(err, &ra) {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int((ra.after+time.Second-1)/time.Second))))
		}
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

// WriteError writes err in the API's error shape. It is exported for the
// WebSocket endpoints, whose refusals before the upgrade are plain HTTP
// responses and should look like every other API error.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeError(w, r, err)
}
