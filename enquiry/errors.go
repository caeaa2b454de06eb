package enquiry

import (
	"errors"
	"fmt"
	"time"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// The errors of the enquiry service, matchable with errors.Is. Each rule has
// its own sentinel; the typed errors below carry the details and also match
// the messenger or store sentinel of the same meaning, so a caller may test
// either.
var (
	// ErrTooLong: a reply has more than 2,000 characters (RULE-1). See
	// [TooLongError]. Also matches messenger.ErrTooLong.
	ErrTooLong = errors.New("enquiry: message too long (RULE-1)")
	// ErrTooLarge: a file is larger than 25,000,000 bytes (RULE-3). See
	// [TooLargeError]. Also matches messenger.ErrTooLarge.
	ErrTooLarge = errors.New("enquiry: file too large (RULE-3)")
	// ErrServingLimit: the service already serves its limit of visitors at
	// once (RULE-4). See [LimitError]. Also matches store.ErrLimit.
	ErrServingLimit = errors.New("enquiry: limit of visitors served at once reached (RULE-4)")
	// ErrOutsideWindow: the visitor's last message is too old for the Page
	// to message them (RULE-5). See [WindowError]. Also matches
	// messenger.ErrOutsideWindow.
	ErrOutsideWindow = errors.New("enquiry: the messaging window has passed (RULE-5)")
	// ErrEmpty: a reply has nothing to send.
	ErrEmpty = errors.New("enquiry: nothing to send")
	// ErrAlreadyTaken: another staff member took the enquiry first. See
	// [TakenError]. Also matches store.ErrAlreadyTaken.
	ErrAlreadyTaken = errors.New("enquiry: already taken by another staff member")
	// ErrNotHolder: the staff member does not hold the enquiry (to reply to
	// it or transfer it). See [NotHolderError].
	ErrNotHolder = errors.New("enquiry: the staff member does not hold the enquiry")
	// ErrClosed: the enquiry is closed. Also matches store.ErrClosed.
	ErrClosed = errors.New("enquiry: the enquiry is closed")
	// ErrNotFound: no such enquiry or channel. Also matches store.ErrNotFound.
	ErrNotFound = errors.New("enquiry: not found")
	// ErrUnknownStaff: the staff directory does not know the staff member in
	// the enquiry's service.
	ErrUnknownStaff = errors.New("enquiry: unknown staff member")
	// ErrChannelPaused: the channel is paused (CHAN-6); nothing is sent
	// through it until it is resumed. See [ChannelError].
	ErrChannelPaused = errors.New("enquiry: the channel is paused")
	// ErrChannelDisconnected: the channel lost its rights on the Page
	// (CONN-7); nothing is sent through it until it is connected again. See
	// [ChannelError].
	ErrChannelDisconnected = errors.New("enquiry: the channel is disconnected")
	// ErrUncertain: a send may or may not have reached the visitor (a
	// timeout after the request was written). The message is recorded as
	// store.StateUncertain and never sent again by the SDK. See [SendError].
	// Also matches messenger.ErrMaybeDelivered.
	ErrUncertain = errors.New("enquiry: the message may or may not have been delivered")
	// ErrSendFailed: Facebook refused a send. See [SendError].
	ErrSendFailed = errors.New("enquiry: the message could not be sent")
)

// The texts of the RULE-5 error, exactly as the product specification gives
// them.
const (
	// WindowTextTraditionalChinese is the RULE-5 text in Traditional Chinese.
	WindowTextTraditionalChinese = "抱歉,您的訊息無法再發送; 24小時訊息發送時限已過去。關閉此查詢,或等訪客再次發送訊息。"
	// WindowTextEnglish is the RULE-5 text in English.
	WindowTextEnglish = "Sorry, your message can no longer be sent; the 24-hour messaging window has passed. Close this enquiry or wait for the visitor to send a message again."
)

// TooLongError refuses a text over the RULE-1 limit. It names both counts,
// in characters (runes), not bytes.
type TooLongError struct {
	Chars int // the text's length in characters
	Limit int // 2,000
}

// Error gives both counts, in English for logs; Message gives the staff text.
func (e *TooLongError) Error() string {
	return fmt.Sprintf("enquiry: message is %d characters; the limit is %d (RULE-1)", e.Chars, e.Limit)
}

// Is makes errors.Is match ErrTooLong and messenger.ErrTooLong.
func (e *TooLongError) Is(target error) bool {
	return target == ErrTooLong || target == messenger.ErrTooLong
}

// TooLargeError refuses a file over the RULE-3 limit.
type TooLargeError struct {
	Name  string // the file's name
	Size  int64  // its size in bytes (or, for a body longer than declared, the bytes read so far)
	Limit int64  // 25,000,000
}

// Error gives the size and the limit, in English for logs; Message gives the staff text.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("enquiry: file %q is %d bytes; the limit is %d bytes (25 MB, RULE-3)", e.Name, e.Size, e.Limit)
}

// Is makes errors.Is match ErrTooLarge and messenger.ErrTooLarge.
func (e *TooLargeError) Is(target error) bool {
	return target == ErrTooLarge || target == messenger.ErrTooLarge
}

// LimitError refuses taking one more enquiry when the service already serves
// its limit of visitors at once (RULE-4). Inbound messages are never
// refused: they wait in the queue.
type LimitError struct {
	ServiceID string
	Limit     int // Config.MaxServing
}

// Error names the limit, in English for logs; Message gives the staff text.
func (e *LimitError) Error() string {
	return fmt.Sprintf("enquiry: service %s already serves %d visitors at once; the limit is %d (RULE-4): close an enquiry first", e.ServiceID, e.Limit, e.Limit)
}

// Is makes errors.Is match ErrServingLimit and store.ErrLimit.
func (e *LimitError) Is(target error) bool {
	return target == ErrServingLimit || target == store.ErrLimit
}

// WindowError refuses a message to a visitor whose last message is older
// than the messaging window (RULE-5): 24 hours, or 7 days for human staff on
// a channel that opted in to the HUMAN_AGENT tag. Facebook's refusal of a
// send for the same reason (code 10, subcode 2018278) is reported as a
// WindowError too, with the Graph error as Err.
//
// Error gives the specification's text in both languages; Message picks one.
type WindowError struct {
	LastInboundAt time.Time     // the visitor's last message
	Window        time.Duration // the window that applied
	At            time.Time     // when the send was judged
	Err           error         // the Graph error, when Facebook refused the send; nil when judged locally
}

// Error gives RULE-5's text in English and in Traditional Chinese; Message picks one.
func (e *WindowError) Error() string {
	return WindowTextEnglish + " " + WindowTextTraditionalChinese
}

// Message returns the RULE-5 text in a language: Traditional Chinese for
// autoreply.TraditionalChinese (or "zh-TW", "zh-HK", "zh-MO", "zh-Hant-HK"
// and the like, in any letter case), English otherwise.
func (e *WindowError) Message(lang autoreply.Language) string {
	return lang.Pick(WindowTextEnglish, WindowTextTraditionalChinese)
}

// Is makes errors.Is match ErrOutsideWindow and messenger.ErrOutsideWindow.
func (e *WindowError) Is(target error) bool {
	return target == ErrOutsideWindow || target == messenger.ErrOutsideWindow
}

// Unwrap returns the Graph error, if Facebook refused the send.
func (e *WindowError) Unwrap() error { return e.Err }

// TakenError tells the loser of a race to take an enquiry who won (ENQ-2).
type TakenError struct {
	EnquiryID string
	StaffID   string // the staff member who holds the enquiry
}

// Error names who took the enquiry, in English for logs; Message gives the staff text.
func (e *TakenError) Error() string {
	return fmt.Sprintf("enquiry: enquiry %s is already taken by %s", e.EnquiryID, e.StaffID)
}

// Is makes errors.Is match ErrAlreadyTaken and store.ErrAlreadyTaken.
func (e *TakenError) Is(target error) bool {
	return target == ErrAlreadyTaken || target == store.ErrAlreadyTaken
}

// NotHolderError refuses a reply or a transfer by a staff member who does not
// hold the enquiry.
type NotHolderError struct {
	EnquiryID string
	StaffID   string // who tried
	Holder    string // who holds it; empty if nobody took it yet
}

// Error names who holds the enquiry, in English for logs; Message gives the staff text.
func (e *NotHolderError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("enquiry: %s cannot act on enquiry %s: nobody has taken it yet", e.StaffID, e.EnquiryID)
	}
	return fmt.Sprintf("enquiry: %s cannot act on enquiry %s: it is held by %s", e.StaffID, e.EnquiryID, e.Holder)
}

// Is makes errors.Is match ErrNotHolder.
func (e *NotHolderError) Is(target error) bool { return target == ErrNotHolder }

// ChannelError refuses a send through a channel that is paused or
// disconnected, or reports that a send disconnected it (CONN-7): Facebook
// answered that the Page token is no longer valid or the app lost its
// permission on the Page. Reason says why in words a staff member can act on.
type ChannelError struct {
	ChannelID string
	Status    store.ChannelStatus
	Reason    string
	Err       error // the Graph error that disconnected the channel, if this send did
}

// Error says why nothing is sent through the channel, in English for logs; Message gives the staff text.
func (e *ChannelError) Error() string {
	switch e.Status {
	case store.ChannelPaused:
		return fmt.Sprintf("enquiry: channel %s is paused; nothing is sent until it is resumed", e.ChannelID)
	case store.ChannelDisconnected:
		if e.Reason == "" {
			return fmt.Sprintf("enquiry: channel %s is disconnected; an admin must connect its Page again", e.ChannelID)
		}
		return fmt.Sprintf("enquiry: channel %s is disconnected (%s); an admin must connect its Page again", e.ChannelID, e.Reason)
	default:
		return fmt.Sprintf("enquiry: channel %s is %s; nothing can be sent through it", e.ChannelID, e.Status)
	}
}

// Is matches ErrChannelPaused or ErrChannelDisconnected by the status.
func (e *ChannelError) Is(target error) bool {
	switch target {
	case ErrChannelPaused:
		return e.Status == store.ChannelPaused
	case ErrChannelDisconnected:
		return e.Status == store.ChannelDisconnected || e.Status == store.ChannelDeleted
	}
	return false
}

// Unwrap returns the Graph error that disconnected the channel, if any.
func (e *ChannelError) Unwrap() error { return e.Err }

// SendError reports a send that failed or whose fate is unknown. The message
// is recorded either way (MessageID), as store.StateFailed or
// store.StateUncertain; an uncertain message is never sent again by the SDK.
type SendError struct {
	MessageID string
	Uncertain bool
	Err       error // the Graph or transport error
}

// Error says whether the send failed or may have been delivered, with Facebook's error.
func (e *SendError) Error() string {
	if e.Uncertain {
		return fmt.Sprintf("enquiry: message %s may or may not have been delivered; it will not be sent again: %v", e.MessageID, e.Err)
	}
	return fmt.Sprintf("enquiry: message %s could not be sent: %v", e.MessageID, e.Err)
}

// Is matches ErrUncertain (and messenger.ErrMaybeDelivered) for an uncertain
// send, ErrSendFailed for a failed one.
func (e *SendError) Is(target error) bool {
	if e.Uncertain {
		return target == ErrUncertain || target == messenger.ErrMaybeDelivered
	}
	return target == ErrSendFailed
}

// Unwrap returns the Graph or transport error.
func (e *SendError) Unwrap() error { return e.Err }

// notFound wraps a store.ErrNotFound (or another store error) with the thing
// that was looked up, so that errors.Is matches both ErrNotFound and
// store.ErrNotFound.
func notFound(what, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s %s: %w", ErrNotFound, what, id, err)
	}
	return fmt.Errorf("enquiry: %s %s: %w", what, id, err)
}

// closedErr reports a closed enquiry, matching ErrClosed and store.ErrClosed.
func closedErr(id string) error {
	return fmt.Errorf("%w: %s: %w", ErrClosed, id, store.ErrClosed)
}
