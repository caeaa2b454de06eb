package messenger

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Match them with errors.Is; a *Error from the Graph API
// matches every sentinel its code, subcode and HTTP status stand for.
var (
	// ErrOutsideWindow: code 10 with subcode 2018278, or 2018065 (the
	// older wording, "sent outside of allowed window"). The person last
	// wrote more than 24 hours ago (RULE-5); only a tagged message may be
	// sent.
	ErrOutsideWindow = errors.New("messenger: outside the 24-hour messaging window")
	// ErrRecipientUnavailable: code 551, code 200 with subcode 1545041
	// ("This person isn't available right now") and code 10 with subcode
	// 2018108 ("This person isn't receiving messages from you right now").
	// The person cannot be messaged now (blocked the Page, deactivated,
	// ...); the Page's rights are intact.
	ErrRecipientUnavailable = errors.New("messenger: recipient is not available")
	// ErrInvalidToken: code 190 (any subcode) or 102. The token is expired,
	// revoked or was never valid; the connection lost its rights (CONN-7).
	ErrInvalidToken = errors.New("messenger: access token is invalid")
	// ErrPermission: code 10 and 200-299, except the subcodes above that
	// are about one person (ErrOutsideWindow, ErrRecipientUnavailable): the
	// app or the Page lacks a permission, which no other recipient fixes.
	ErrPermission = errors.New("messenger: permission denied")
	// ErrRateLimited: codes 4, 17, 32, 613, 80000-80014 and HTTP 429.
	// RetryAfter reports the delay when Facebook gave one.
	ErrRateLimited = errors.New("messenger: rate limited")
	// ErrTransient: codes 1 and 2, any error Facebook marks is_transient,
	// and HTTP 5xx.
	ErrTransient = errors.New("messenger: transient Graph API error")
	// ErrInvalidParameter: code 100.
	ErrInvalidParameter = errors.New("messenger: invalid parameter")

	// ErrTooLong: a text over MaxTextChars characters (RULE-1).
	ErrTooLong = errors.New("messenger: text too long")
	// ErrTooLarge: a file over MaxFileBytes bytes (RULE-3).
	ErrTooLarge = errors.New("messenger: file too large")
	// ErrEmpty: a message or upload with nothing to send.
	ErrEmpty = errors.New("messenger: nothing to send")
	// ErrInvalidMessage: a message, upload or argument that Messenger would
	// refuse (missing recipient, unknown attachment type, ...), caught
	// before any network call.
	ErrInvalidMessage = errors.New("messenger: invalid message")

	// ErrMaybeDelivered wraps the error of a send that may have reached
	// Facebook: the request was written and then the connection timed out
	// or broke, or Facebook answered 5xx. The SDK never retries such a send
	// (a visitor must never get a message twice, and there is no recall,
	// RULE-2); record the message as uncertain.
	ErrMaybeDelivered = errors.New("messenger: the message may have been delivered")
)

// Error is a Graph API error: any non-2xx answer from Facebook.
//
// Access tokens never appear in it: Facebook does not echo them, and the
// SDK redacts the token of the call from Message should it ever appear.
type Error struct {
	HTTPStatus  int    // HTTP status of the answer
	Code        int    // error.code
	Subcode     int    // error.error_subcode
	Type        string // error.type, e.g. "OAuthException"
	Message     string // error.message (for developers)
	UserTitle   string // error.error_user_title (for people), if any
	UserMessage string // error.error_user_msg (for people), if any
	TraceID     string // error.fbtrace_id: quote it to Facebook support
	// RetryAfter is how long Facebook asked to wait (the Retry-After
	// header, or estimated_time_to_regain_access of the usage headers);
	// zero when unknown.
	RetryAfter time.Duration
	// IsTransient is error.is_transient.
	IsTransient bool
}

// Error describes the error without any token.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("messenger: Graph API error")
	if e.Code != 0 {
		b.WriteString(" code ")
		b.WriteString(strconv.Itoa(e.Code))
		if e.Subcode != 0 {
			b.WriteString("/")
			b.WriteString(strconv.Itoa(e.Subcode))
		}
	}
	if e.Type != "" {
		b.WriteString(" (")
		b.WriteString(e.Type)
		b.WriteString(")")
	}
	if e.HTTPStatus != 0 {
		b.WriteString(", HTTP ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.TraceID != "" {
		b.WriteString(" (fbtrace_id ")
		b.WriteString(e.TraceID)
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether the error stands for target, one of the sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrOutsideWindow:
		return e.outsideWindow()
	case ErrRecipientUnavailable:
		return e.recipientUnavailable()
	case ErrInvalidToken:
		return e.Code == 190 || e.Code == 102
	case ErrPermission:
		return (e.Code == 10 || (e.Code >= 200 && e.Code <= 299)) && !e.outsideWindow() && !e.recipientUnavailable()
	case ErrRateLimited:
		return e.rateLimited()
	case ErrTransient:
		return e.transient()
	case ErrInvalidParameter:
		return e.Code == 100
	}
	return false
}

// Send API subcodes that are about one recipient, not the Page's rights:
// a host that takes ErrPermission for a lost connection (CONN-7) must not
// disconnect a whole channel because one person's window passed or one
// person blocked the Page.
const (
	subcodeOutsideWindow    = 2018278
	subcodeOutsideWindowOld = 2018065
	subcodeNotReceiving     = 2018108
	subcodeUnavailable      = 1545041
)

func (e *Error) outsideWindow() bool {
	return e.Code == 10 && (e.Subcode == subcodeOutsideWindow || e.Subcode == subcodeOutsideWindowOld)
}

func (e *Error) recipientUnavailable() bool {
	return e.Code == 551 || (e.Code == 10 && e.Subcode == subcodeNotReceiving) || (e.Code == 200 && e.Subcode == subcodeUnavailable)
}

func (e *Error) rateLimited() bool {
	switch e.Code {
	case 4, 17, 32, 613:
		return true
	}
	return (e.Code >= 80000 && e.Code <= 80014) || e.HTTPStatus == http.StatusTooManyRequests
}

func (e *Error) transient() bool {
	return e.Code == 1 || e.Code == 2 || e.IsTransient || e.HTTPStatus >= 500
}

// Retryable reports whether the same call may succeed later: a rate limit
// or a transient error. Whether the SDK itself retries also depends on the
// call: a send that may have reached Facebook is never retried.
func (e *Error) Retryable() bool {
	return e.rateLimited() || e.transient()
}

// RetryAfter reports the delay Facebook asked for before the call is tried
// again, if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// graphErrorBody is the JSON shape of a Graph API error.
type graphErrorBody struct {
	Error *struct {
		Message     string          `json:"message"`
		Type        string          `json:"type"`
		Code        json.RawMessage `json:"code"`
		Subcode     json.RawMessage `json:"error_subcode"`
		UserTitle   string          `json:"error_user_title"`
		UserMessage string          `json:"error_user_msg"`
		TraceID     string          `json:"fbtrace_id"`
		IsTransient bool            `json:"is_transient"`
	} `json:"error"`
}

// maxErrorText bounds the text kept from a body that is not a Graph error.
const maxErrorText = 200

// parseError turns a non-2xx answer into a *Error. It never fails: a body
// that is not a Graph error keeps the start of its text as Message. The
// secrets (tokens, the app secret) are redacted from every text field.
func parseError(status int, header http.Header, body []byte, secrets ...string) *Error {
	e := &Error{HTTPStatus: status}
	var g graphErrorBody
	if err := json.Unmarshal(body, &g); err == nil && g.Error != nil {
		e.Message = g.Error.Message
		e.Type = g.Error.Type
		e.Code = jsonInt(g.Error.Code)
		e.Subcode = jsonInt(g.Error.Subcode)
		e.UserTitle = g.Error.UserTitle
		e.UserMessage = g.Error.UserMessage
		e.TraceID = g.Error.TraceID
		e.IsTransient = g.Error.IsTransient
	} else {
		if err != nil { // not JSON: keep the start of the text
			e.Message = plainText(body)
		}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
	}
	if e.TraceID == "" && header != nil {
		e.TraceID = header.Get("X-Fb-Trace-Id")
	}
	for _, t := range secrets {
		e.Message = redact(e.Message, t)
		e.UserTitle = redact(e.UserTitle, t)
		e.UserMessage = redact(e.UserMessage, t)
	}
	if header != nil {
		e.RetryAfter = retryAfterHeader(header.Get("Retry-After"))
		if e.RetryAfter == 0 && e.rateLimited() {
			if u, err := ParseUsage(header); err == nil {
				e.RetryAfter = u.RegainAccessIn()
			}
		}
	}
	return e
}

// jsonInt reads a number or a numeric string; anything else is 0.
func jsonInt(raw json.RawMessage) int {
	if len(raw) == 0 {
		return 0
	}
	s := string(raw)
	if s[0] == '"' {
		if uq, err := strconv.Unquote(s); err == nil {
			s = uq
		}
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= -1e9 && f <= 1e9 {
		return int(f)
	}
	return 0
}

// plainText keeps the start of a non-JSON body as one printable line.
func plainText(body []byte) string {
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// redact hides token in s. Secrets shorter than 8 bytes are not real
// tokens and are left alone, so that "1" never blanks every digit.
func redact(s, token string) string {
	if len(token) < 8 || !strings.Contains(s, token) {
		return s
	}
	return strings.ReplaceAll(s, token, "[redacted]")
}

// retryAfterHeader reads Retry-After as seconds (HTTP dates are not used
// by the Graph API and are ignored).
func retryAfterHeader(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > 86400 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// ValidationError reports a message, upload or argument refused before any
// network call. It names the field and, for a limit, the limit and the
// actual value. It matches ErrTooLong, ErrTooLarge, ErrEmpty or
// ErrInvalidMessage with errors.Is.
type ValidationError struct {
	Field  string // e.g. "Text", "Attachment.Type", "Upload.Size"
	Reason string // what is wrong, when it is not a limit
	Limit  int64  // the limit, when a limit was exceeded
	Actual int64  // the actual value, when a limit was exceeded
	Unit   string // "characters", "bytes", "quick replies"
	Err    error  // the sentinel
}

// Error names the field and the limit: "messenger: Text is 2,001
// characters; the limit is 2,000".
func (e *ValidationError) Error() string {
	if e.Unit != "" {
		return fmt.Sprintf("messenger: %s is %s %s; the limit is %s", e.Field,
			thousands(e.Actual), e.Unit, thousands(e.Limit))
	}
	return "messenger: " + e.Field + " " + e.Reason
}

// Unwrap returns the sentinel.
func (e *ValidationError) Unwrap() error { return e.Err }

// thousands formats n with comma separators: 25,000,000.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	pre := len(s) % 3
	if pre == 0 {
		pre = 3
	}
	b.WriteString(s[:pre])
	for i := pre; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
