package messenger

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// MaxTextChars is the most characters a message text may carry (RULE-1).
// Characters are Unicode code points, not bytes: 2,000 CJK characters
// (6,000 bytes of UTF-8) fit.
const MaxTextChars = 2000

// MaxFileBytes is the largest file that may be sent (RULE-3: 25 MB).
// MB is read as 10^6 bytes, the conservative reading: 25,000,000 bytes
// pass and 25,000,001 fail, although 25 MiB (26,214,400) might be
// accepted by Facebook.
const MaxFileBytes = 25_000_000

// Limits of the Send API checked before any network call.
const (
	maxQuickReplies      = 13
	maxQuickReplyTitle   = 20
	maxQuickReplyPayload = 1000
	maxMetadata          = 1000
)

// ValidateText checks RULE-1: text is not empty, is valid UTF-8 and has at
// most MaxTextChars characters. It reports ErrEmpty, ErrInvalidMessage for
// text that is not valid UTF-8, or ErrTooLong with the actual count and the
// limit, each as a *ValidationError naming the field. It does not allocate
// when text is valid.
//
// Characters are counted as code points of UTF-8 text.
func ValidateText(text string) error {
	return validateText("Text", text)
}

func validateText(field, text string) error {
	if text == "" {
		return &ValidationError{Field: field, Reason: "is empty", Err: ErrEmpty}
	}
	// utf8.ValidString costs about 4 µs for 2,000 CJK characters, five
	// times the count below; countChars cannot tell valid UTF-8 cheaply
	// (an exact eight-bytes-at-a-time check measured about as slow).
	if !utf8.ValidString(text) {
		return &ValidationError{Field: field, Reason: "is not valid UTF-8", Err: ErrInvalidMessage}
	}
	if len(text) <= MaxTextChars { // a code point takes at least one byte
		return nil
	}
	if n := countChars(text); n > MaxTextChars {
		return &ValidationError{Field: field, Limit: MaxTextChars,
			Actual: int64(n), Unit: "characters", Err: ErrTooLong}
	}
	return nil
}

// countChars counts the code points of valid UTF-8 text: every byte that
// is not a continuation byte (10xxxxxx) starts one. It reads eight bytes
// at a time, several times faster than utf8.RuneCountInString on CJK text.
func countChars(s string) int {
	const high = 0x8080808080808080
	cont := 0
	i := 0
	for ; i+32 <= len(s); i += 32 {
		w0 := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		w1 := binary.LittleEndian.Uint64([]byte(s[i+8 : i+16]))
		w2 := binary.LittleEndian.Uint64([]byte(s[i+16 : i+24]))
		w3 := binary.LittleEndian.Uint64([]byte(s[i+24 : i+32]))
		// bit 7 set and bit 6 clear: bit 6 is shifted into bit 7's place.
		cont += bits.OnesCount64(w0&^(w0<<1)&high) + bits.OnesCount64(w1&^(w1<<1)&high) +
			bits.OnesCount64(w2&^(w2<<1)&high) + bits.OnesCount64(w3&^(w3<<1)&high)
	}
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		cont += bits.OnesCount64(w &^ (w << 1) & high)
	}
	for ; i < len(s); i++ {
		if s[i]&0xC0 == 0x80 {
			cont++
		}
	}
	return len(s) - cont
}

// ValidateOutgoing checks a message before it is sent: a recipient, text
// or an attachment but not both, RULE-1 on the text, a known attachment
// type with exactly one of URL and ID, the quick replies, and a messaging
// type with its tag. Errors are *ValidationError naming the field.
func ValidateOutgoing(m OutgoingMessage) error {
	if m.Recipient == "" {
		return &ValidationError{Field: "Recipient", Reason: "is required (the PSID of the person)", Err: ErrInvalidMessage}
	}
	switch {
	case m.Text == "" && m.Attachment == nil:
		return &ValidationError{Field: "Text", Reason: "is empty and there is no Attachment", Err: ErrEmpty}
	case m.Text != "" && m.Attachment != nil:
		return &ValidationError{Field: "Attachment", Reason: "cannot be sent with Text in one message; send two messages", Err: ErrInvalidMessage}
	case m.Text != "":
		if err := ValidateText(m.Text); err != nil { // refuses invalid UTF-8 too
			return err
		}
	default:
		if err := validateAttachment(m.Attachment); err != nil {
			return err
		}
	}
	if err := validateQuickReplies(m.QuickReplies); err != nil {
		return err
	}
	if err := validateType(m.Type, m.Tag); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(m.Metadata); n > maxMetadata {
		return &ValidationError{Field: "Metadata", Limit: maxMetadata, Actual: int64(n), Unit: "characters", Err: ErrInvalidMessage}
	}
	return nil
}

func validateAttachment(a *Attachment) error {
	if !a.Type.valid() {
		return &ValidationError{Field: "Attachment.Type", Reason: "is " + quote(string(a.Type)) +
			"; want image, video, audio or file", Err: ErrInvalidMessage}
	}
	switch {
	case a.URL == "" && a.ID == "":
		return &ValidationError{Field: "Attachment", Reason: "needs a URL or an ID", Err: ErrEmpty}
	case a.URL != "" && a.ID != "":
		return &ValidationError{Field: "Attachment", Reason: "has both a URL and an ID; give one", Err: ErrInvalidMessage}
	case a.ID != "" && a.Reusable:
		return &ValidationError{Field: "Attachment.Reusable", Reason: "applies to a URL; an ID is already reusable", Err: ErrInvalidMessage}
	}
	return nil
}

func validateQuickReplies(qs []QuickReply) error {
	if len(qs) > maxQuickReplies {
		return &ValidationError{Field: "QuickReplies", Limit: maxQuickReplies, Actual: int64(len(qs)), Unit: "quick replies", Err: ErrInvalidMessage}
	}
	for i, q := range qs {
		field := "QuickReplies[" + itoa(i) + "]"
		if q.Title == "" && q.ImageURL == "" {
			return &ValidationError{Field: field + ".Title", Reason: "is empty and there is no ImageURL", Err: ErrEmpty}
		}
		if n := utf8.RuneCountInString(q.Title); n > maxQuickReplyTitle {
			return &ValidationError{Field: field + ".Title", Limit: maxQuickReplyTitle, Actual: int64(n), Unit: "characters", Err: ErrTooLong}
		}
		if q.Payload == "" {
			return &ValidationError{Field: field + ".Payload", Reason: "is required", Err: ErrEmpty}
		}
		if n := utf8.RuneCountInString(q.Payload); n > maxQuickReplyPayload {
			return &ValidationError{Field: field + ".Payload", Limit: maxQuickReplyPayload, Actual: int64(n), Unit: "characters", Err: ErrTooLong}
		}
	}
	return nil
}

func validateType(t MessagingType, tag Tag) error {
	switch t {
	case "", Response, Update:
		if tag != "" {
			return &ValidationError{Field: "Tag", Reason: "is set but Type is not MESSAGE_TAG", Err: ErrInvalidMessage}
		}
	case MessageTag:
		if tag == "" {
			return &ValidationError{Field: "Tag", Reason: "is required when Type is MESSAGE_TAG (e.g. HUMAN_AGENT)", Err: ErrInvalidMessage}
		}
	default:
		return &ValidationError{Field: "Type", Reason: "is " + quote(string(t)) + "; want RESPONSE, UPDATE or MESSAGE_TAG", Err: ErrInvalidMessage}
	}
	return nil
}

// validateUpload checks an upload before any byte is sent.
func validateUpload(u Upload) error {
	if !u.Type.valid() {
		return &ValidationError{Field: "Upload.Type", Reason: "is " + quote(string(u.Type)) +
			"; want image, video, audio or file", Err: ErrInvalidMessage}
	}
	if u.Body == nil {
		return &ValidationError{Field: "Upload.Body", Reason: "is nil", Err: ErrEmpty}
	}
	if u.Size < 0 {
		return &ValidationError{Field: "Upload.Size", Reason: "is negative", Err: ErrInvalidMessage}
	}
	if u.Size > MaxFileBytes {
		return &ValidationError{Field: "Upload.Size", Limit: MaxFileBytes, Actual: u.Size, Unit: "bytes", Err: ErrTooLarge}
	}
	return nil
}

// checkUploadLength refuses, before any byte is sent, a Body whose
// remaining length can be learnt without reading it and is over
// MaxFileBytes. Other bodies are capped while they stream (writeUpload).
func checkUploadLength(body io.Reader) error {
	n, known, err := remainingLength(body)
	if err != nil {
		return fmt.Errorf("messenger: measuring Upload.Body: %w", err)
	}
	if known && n > MaxFileBytes {
		return &ValidationError{Field: "Upload.Body", Limit: MaxFileBytes, Actual: n, Unit: "bytes", Err: ErrTooLarge}
	}
	return nil
}

// remainingLength reports how many bytes body has left from its current
// position, when that is cheap to learn: a Len() int method
// (*bytes.Reader, *strings.Reader, *bytes.Buffer), Stat for a regular file
// that can tell its position, else seeking to the end and back to where it
// was. known is false for any other body (a pipe, a network stream, a
// reader that only has Stat and so cannot tell how much was already read).
// err is set only when body could not be put back where it was.
func remainingLength(body io.Reader) (n int64, known bool, err error) {
	if l, ok := body.(interface{ Len() int }); ok {
		return int64(l.Len()), true, nil
	}
	s, ok := body.(io.Seeker)
	if !ok {
		return 0, false, nil
	}
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil || cur < 0 {
		return 0, false, nil // not seekable after all (a pipe, for one)
	}
	if f, ok := body.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			if size := fi.Size(); size >= cur {
				return size - cur, true, nil
			}
		}
	}
	end, endErr := s.Seek(0, io.SeekEnd)
	if endErr != nil {
		// Not measurable. Put the body back only if the failed seek moved it.
		if now, err := s.Seek(0, io.SeekCurrent); err == nil && now == cur {
			return 0, false, nil
		}
	}
	if back, err := s.Seek(cur, io.SeekStart); err != nil || back != cur {
		if err == nil {
			err = fmt.Errorf("seeking back to offset %d landed at %d", cur, back)
		}
		return 0, false, err
	}
	if endErr != nil || end < cur {
		return 0, false, nil
	}
	return end - cur, true, nil
}

func quote(s string) string {
	if s == "" {
		return "empty"
	}
	return `"` + s + `"`
}

func itoa(i int) string { return strconv.Itoa(i) }
