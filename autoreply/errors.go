package autoreply

import (
	"errors"
	"fmt"
)

// MaxTextChars is the most characters (runes, not bytes) a message may carry
// (RULE-1). It applies to every auto-reply's text and to the rendered text.
const MaxTextChars = 2000

// The kinds of validation error, matchable with errors.Is on an *Error.
var (
	// ErrTooLong: a text has more characters than its limit.
	ErrTooLong = errors.New("autoreply: text too long")
	// ErrEmpty: a text renders to nothing, so there would be nothing to send.
	ErrEmpty = errors.New("autoreply: text is empty")
	// ErrPlaceholder: a text holds an unknown placeholder or a stray brace.
	ErrPlaceholder = errors.New("autoreply: bad placeholder")
	// ErrUnsupported: a setting holds a value the SDK does not know
	// (a display-name format, a language or a kind).
	ErrUnsupported = errors.New("autoreply: unsupported value")
)

// Error is a validation error. It names the field and, for a length, the
// limit and the value's length in characters, in words an admin can act on:
//
//	welcome text is 2001 characters; the limit is 2000
//
// errors.Is(err, ErrTooLong) (or ErrEmpty, ErrPlaceholder, ErrUnsupported)
// tells the kind.
type Error struct {
	// Field names what is wrong, as an admin sees it: "welcome text",
	// "rendered away text", "display-name format", "auto-reply language".
	Field string
	// Length is the value's length in characters (for ErrTooLong and ErrEmpty).
	Length int
	// Limit is the most (ErrTooLong) or the fewest (ErrEmpty) characters allowed.
	Limit int
	// Err is the kind: ErrTooLong, ErrEmpty, ErrPlaceholder or ErrUnsupported.
	Err error
	// Detail says what was found, for ErrPlaceholder and ErrUnsupported.
	Detail string
}

// Error names the field and, for a length, the limit and the length.
func (e *Error) Error() string {
	switch e.Err {
	case ErrTooLong:
		return fmt.Sprintf("%s is %d characters; the limit is %d", e.Field, e.Length, e.Limit)
	case ErrEmpty:
		return fmt.Sprintf("%s is %d characters; it needs at least %d", e.Field, e.Length, e.Limit)
	default:
		return e.Field + " " + e.Detail
	}
}

// Unwrap returns the kind of error.
func (e *Error) Unwrap() error { return e.Err }
