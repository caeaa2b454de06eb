package channel

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pagedesk/pagedesk/store"
)

// The errors of the channel service, matchable with errors.Is.
var (
	// ErrInvalid: a setting or argument breaks a rule. The error is a
	// *ValidationError (or joins several, or is an *autoreply.Error) naming
	// the field, the limit and the length.
	ErrInvalid = errors.New("channel: invalid")
	// ErrNotFound: no such channel in the service. It is store.ErrNotFound,
	// so either matches. A channel of another service is not found either.
	ErrNotFound = store.ErrNotFound
	// ErrConflict: the channel changed since it was read (a stale Version).
	// It is store.ErrConflict. Read the channel again and reapply the edit.
	ErrConflict = store.ErrConflict

	// ErrInvalidState: the Facebook Login callback's state is missing,
	// forged, expired, or was made for another service or admin (CONN-1).
	ErrInvalidState = errors.New("channel: the login state is invalid or expired; start Facebook Login again")
	// ErrLoginCancelled: the admin cancelled Facebook Login or refused the app.
	ErrLoginCancelled = errors.New("channel: Facebook Login was cancelled")
	// ErrWrongApp: the token Facebook Login gave is not of this app or not
	// a user token.
	ErrWrongApp = errors.New("channel: the token is not a user token of this app")
	// ErrMissingPermissions: permissions the SDK needs were not granted
	// (CONN-3). The error is a *PermissionError naming every one.
	ErrMissingPermissions = errors.New("channel: permissions missing")
	// ErrNotAPage: the id is not a Facebook Page the admin manages: a
	// personal profile, another kind of account, or a Page of someone else
	// (CONN-5).
	ErrNotAPage = errors.New("channel: not a Facebook Page that you manage")
	// ErrNoMessagingTask: the admin's role on the Page does not allow
	// messaging (the MESSAGING task), so they cannot connect it.
	ErrNoMessagingTask = errors.New("channel: your role on the Page does not allow messaging")
	// ErrPageAlreadyConnected: the Page is already connected (CONN-6).
	// It never says to which service.
	ErrPageAlreadyConnected = errors.New("channel: this Facebook Page is already connected to a service; disconnect it there first")

	// ErrPaused: the channel is paused; it sends nothing until resumed.
	ErrPaused = errors.New("channel: the channel is paused")
	// ErrDisconnected: the channel lost its rights on the Page (CONN-7); it
	// sends nothing until the Page is connected again.
	ErrDisconnected = errors.New("channel: the channel is disconnected")
	// ErrDeleted: the channel was deleted.
	ErrDeleted = errors.New("channel: the channel was deleted")

	// ErrNoEcho: a self-test message was sent but its echo webhook did not
	// come back before the context ended (CONN-8).
	ErrNoEcho = errors.New("channel: the self-test message's echo webhook did not arrive")
	// ErrBadSignedRequest: a Facebook callback's signed_request is missing,
	// malformed or not signed with the app secret.
	ErrBadSignedRequest = errors.New("channel: bad signed_request")
	// ErrBadConfirmationCode: a data-deletion confirmation code that this
	// service did not issue.
	ErrBadConfirmationCode = errors.New("channel: unknown confirmation code")
)

// ValidationError is a setting that breaks a rule. It names the field and,
// for a length, the limit and the value's length in characters:
//
//	channel name is 41 characters; the limit is 40
type ValidationError struct {
	Field  string // as an admin knows it: "channel name", "custom info", "dispatch group"
	Length int    // the value's length in characters, for a length rule
	Limit  int    // the rule's limit, for a length rule
	// Problem says what is wrong when it is not a length over the limit,
	// e.g. "is required" or "names both a group and staff".
	Problem string
}

// Error names the field and, for a length, the limit and the length.
func (e *ValidationError) Error() string {
	if e.Problem != "" {
		if e.Limit > 0 {
			return fmt.Sprintf("%s %s (%s; the limit is %d)", e.Field, e.Problem, characters(e.Length), e.Limit)
		}
		return e.Field + " " + e.Problem
	}
	return fmt.Sprintf("%s is %s; the limit is %d", e.Field, characters(e.Length), e.Limit)
}

// characters words a length in characters: "1 character", "41 characters".
func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// joined is errors.Join with the problems on one line.
type joined []error

func (j joined) Error() string {
	parts := make([]string, len(j))
	for i, e := range j {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func (j joined) Unwrap() []error { return j }

func join(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return joined(errs)
}

// Permission is one Facebook permission the SDK needs, with what it is for
// (CONN-3).
type Permission struct {
	Name        string
	Description string
}

// Permissions are the four permissions Facebook Login asks for (CONN-3),
// in the order the SPEC lists them.
var Permissions = []Permission{
	{"pages_messaging", "manage and access Page conversations in Messenger"},
	{"pages_show_list", "show the list of Pages you manage"},
	{"pages_read_engagement", "read content posted on the Page"},
	{"pages_manage_metadata", "manage accounts, settings and webhooks for a Page"},
}

// MissingPermission is a needed permission that is not granted, and its
// status: "declined", "expired" or "missing" (never asked or not listed).
type MissingPermission struct {
	Permission
	Status string
}

// PermissionError names every needed permission that is not granted and
// what it is for. errors.Is(err, ErrMissingPermissions) is true.
type PermissionError struct {
	Missing []MissingPermission
}

// Error names every missing permission, what it is for and its status.
func (e *PermissionError) Error() string {
	var b strings.Builder
	b.WriteString("channel: Facebook Login did not grant ")
	if len(e.Missing) == 1 {
		b.WriteString("a permission the Page connection needs: ")
	} else {
		fmt.Fprintf(&b, "%d permissions the Page connection needs: ", len(e.Missing))
	}
	for i, m := range e.Missing {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s) is %s", m.Name, m.Description, m.Status)
	}
	b.WriteString(". Log in again and allow every permission asked for")
	return b.String()
}

// Unwrap makes errors.Is(err, ErrMissingPermissions) true.
func (e *PermissionError) Unwrap() error { return ErrMissingPermissions }

// StatusError says why a channel cannot send: it is paused, disconnected
// or deleted. errors.Is matches ErrPaused, ErrDisconnected or ErrDeleted.
type StatusError struct {
	ChannelID string
	Status    store.ChannelStatus
	Reason    string // why it was disconnected, for ChannelDisconnected
}

// Error says why the channel cannot send and what to do about it.
func (e *StatusError) Error() string {
	switch e.Status {
	case store.ChannelPaused:
		return fmt.Sprintf("channel %s is paused: it sends nothing until it is resumed", e.ChannelID)
	case store.ChannelDisconnected:
		if e.Reason != "" {
			return fmt.Sprintf("channel %s is disconnected (%s): connect its Page again", e.ChannelID, e.Reason)
		}
		return fmt.Sprintf("channel %s is disconnected: connect its Page again", e.ChannelID)
	case store.ChannelDeleted:
		return fmt.Sprintf("channel %s was deleted", e.ChannelID)
	default:
		return fmt.Sprintf("channel %s has the unknown status %q", e.ChannelID, e.Status)
	}
}

// Unwrap returns the sentinel of the status.
func (e *StatusError) Unwrap() error {
	switch e.Status {
	case store.ChannelPaused:
		return ErrPaused
	case store.ChannelDisconnected:
		return ErrDisconnected
	case store.ChannelDeleted:
		return ErrDeleted
	}
	return nil
}
