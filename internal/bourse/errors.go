package bourse

import (
	"errors"
	"fmt"
)

// Kind is one of the few kinds of error the connector knows. The web layer
// maps each kind to one HTTP status and one SOAP fault code.
type Kind int

// The kinds of error.
const (
	KindInternal    Kind = iota // a bug or an unexpected failure: details stay in the log
	KindInvalid                 // bad input from the caller
	KindNotFound                // a resource that does not exist
	KindUnavailable             // the database is down or too slow: retry later
	KindConflict                // the request contradicts what is stored (an event id sent again with other content)
	KindForbidden               // the caller may not act on this resource
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not_found"
	case KindUnavailable:
		return "unavailable"
	case KindConflict:
		return "conflict"
	case KindForbidden:
		return "forbidden"
	default:
		return "internal"
	}
}

// Error is an error of a known kind. Message is safe to show to the caller;
// Field names the input at fault when there is one; Err is the cause, for
// the operator's log only.
type Error struct {
	Kind    Kind
	Field   string
	Message string
	Err     error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Invalid returns a KindInvalid error about field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps err as a KindUnavailable error of operation op.
func Unavailable(op string, err error) *Error {
	return &Error{Kind: KindUnavailable, Message: op + ": service temporarily unavailable", Err: err}
}

// Internal wraps err as a KindInternal error of operation op.
func Internal(op string, err error) *Error {
	return &Error{Kind: KindInternal, Message: op, Err: err}
}

// KindOf returns the kind of err: KindInternal for any error that is not an
// *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
