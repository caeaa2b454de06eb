package store

import (
	"errors"
	"fmt"
)

// The errors every store returns, matchable with errors.Is. A store wraps
// its driver's errors; none leaks unwrapped.
var (
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: the record changed since it was read (a stale Version, or
	// a transfer from someone who no longer holds the enquiry).
	ErrConflict = errors.New("store: conflict: the record was changed by someone else")
	// ErrDuplicate: a record with that id already exists.
	ErrDuplicate = errors.New("store: duplicate id")
	// ErrPageTaken: the Page is already connected to a channel (CONN-6).
	ErrPageTaken = errors.New("store: the page is already connected to a channel")
	// ErrAlreadyTaken: the enquiry is taken by someone else; see TakenError.
	ErrAlreadyTaken = errors.New("store: enquiry already taken")
	// ErrClosed: the enquiry is closed.
	ErrClosed = errors.New("store: enquiry is closed")
	// ErrLimit: taking the enquiry would exceed the service's limit of
	// enquiries served at once (RULE-4).
	ErrLimit = errors.New("store: limit of enquiries served at once reached")
	// ErrInvalid: a required argument is missing or malformed.
	ErrInvalid = errors.New("store: invalid argument")
)

// TakenError says who holds an enquiry that another staff member tried to take.
type TakenError struct {
	EnquiryID string
	StaffID   string // the winner
}

// Error names the enquiry and who holds it.
func (e *TakenError) Error() string {
	return fmt.Sprintf("store: enquiry %s is already taken by %s", e.EnquiryID, e.StaffID)
}

// Is makes errors.Is(err, ErrAlreadyTaken) true.
func (e *TakenError) Is(target error) bool { return target == ErrAlreadyTaken }

// Invalid returns an error wrapping ErrInvalid that names the field.
func Invalid(field, problem string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalid, field, problem)
}
