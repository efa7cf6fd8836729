// Package web holds what the REST and SOAP faces share: the one table that
// maps every kind of error to an HTTP status, a problem type and a SOAP
// fault, the per-request log annotations, and identifier masking.
package web

import (
	"errors"
	"net/http"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Kind is a kind of error as the caller sees it.
type Kind struct {
	Status  int    // HTTP status over REST
	Type    string // stable problem type, the last segment of the problem's type URI
	Title   string // the problem's title
	Client  bool   // a soap:Client fault (the caller's fault) rather than soap:Server
	SOAPKey string // stable code in the SOAP fault detail
}

// The kinds of error. Every error a handler returns becomes one of them.
var (
	InvalidInput     = Kind{http.StatusBadRequest, "invalid-input", "Invalid input", true, "INVALID_INPUT"}
	MalformedBody    = Kind{http.StatusBadRequest, "malformed-body", "Malformed request body", true, "MALFORMED_REQUEST"}
	Unauthorized     = Kind{http.StatusUnauthorized, "unauthorized", "Authentication required", true, "UNAUTHORIZED"}
	Forbidden        = Kind{http.StatusForbidden, "forbidden", "Forbidden", true, "FORBIDDEN"}
	NotFound         = Kind{http.StatusNotFound, "not-found", "Not found", true, "NOT_FOUND"}
	Conflict         = Kind{http.StatusConflict, "conflict", "Conflict", true, "CONFLICT"}
	MethodNotAllowed = Kind{http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", true, "METHOD_NOT_ALLOWED"}
	NotAcceptable    = Kind{http.StatusNotAcceptable, "not-acceptable", "Not acceptable", true, "NOT_ACCEPTABLE"}
	TooLarge         = Kind{http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large", true, "BODY_TOO_LARGE"}
	UnsupportedMedia = Kind{http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", true, "UNSUPPORTED_MEDIA_TYPE"}
	TooManyRequests  = Kind{http.StatusTooManyRequests, "too-many-requests", "Too many requests", true, "TOO_MANY_REQUESTS"}
	Unavailable      = Kind{http.StatusServiceUnavailable, "unavailable", "Service temporarily unavailable", false, "UNAVAILABLE"}
	Internal         = Kind{http.StatusInternalServerError, "internal", "Internal error", false, "INTERNAL"}
)

// ProblemBase is the prefix of every problem type URI.
const ProblemBase = "urn:aglae-connector:problem:"

// Error is an error of the transport: a malformed body, a wrong content
// type... Detail is safe to show to the caller.
type Error struct {
	Kind   Kind
	Detail string
}

func (e *Error) Error() string { return e.Kind.Type + ": " + e.Detail }

// Errorf returns a transport error of kind k.
func Errorf(k Kind, detail string) *Error { return &Error{Kind: k, Detail: detail} }

// Classify returns the kind of err and the detail the caller may read. An
// error of no known kind is Internal with a generic detail: its text may
// hold internals and goes to the operator's log only.
func Classify(err error) (Kind, string) {
	var we *Error
	var be *bourse.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &we):
		return we.Kind, we.Detail
	case errors.As(err, &mbe):
		return TooLarge, "the request body is larger than the limit of " + itoa(mbe.Limit) + " bytes"
	case errors.As(err, &be):
		switch be.Kind {
		case bourse.KindInvalid:
			if be.Field != "" {
				return InvalidInput, be.Field + ": " + be.Message
			}
			return InvalidInput, be.Message
		case bourse.KindNotFound:
			return NotFound, be.Message
		case bourse.KindConflict:
			return Conflict, be.Message
		case bourse.KindForbidden:
			return Forbidden, be.Message
		case bourse.KindUnavailable:
			return Unavailable, "the service is temporarily unavailable, retry later"
		}
	}
	return Internal, "internal error; the request id identifies it in the service's log"
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
