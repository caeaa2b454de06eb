package memstore

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/pagedesk/pagedesk/store"
)

// Cursors are opaque to callers: base64url of a short text naming the last
// item of the previous page. A list resumes after that item, so items
// added or changed between calls never make a page repeat or skip an item
// that existed when the first page was read.
//
//	time cursor: "t" sec "." nsec "." id   (channels, enquiries)
//	seq cursor:  "s" seq                   (messages)

// encodeTimeCursor names an item of a list ordered by (time, id).
func encodeTimeCursor(t time.Time, id string) string {
	b := make([]byte, 0, 32+len(id))
	b = append(b, 't')
	b = strconv.AppendInt(b, t.Unix(), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(t.Nanosecond()), 10)
	b = append(b, '.')
	b = append(b, id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeTimeCursor reverses encodeTimeCursor. The error wraps store.ErrInvalid.
func decodeTimeCursor(s string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) == 0 || raw[0] != 't' {
		return time.Time{}, "", badCursor()
	}
	secText, rest, ok := strings.Cut(string(raw[1:]), ".")
	if !ok {
		return time.Time{}, "", badCursor()
	}
	nsecText, id, ok := strings.Cut(rest, ".")
	if !ok {
		return time.Time{}, "", badCursor()
	}
	sec, err := strconv.ParseInt(secText, 10, 64)
	if err != nil {
		return time.Time{}, "", badCursor()
	}
	nsec, err := strconv.ParseInt(nsecText, 10, 64)
	if err != nil || nsec < 0 || nsec >= int64(time.Second) {
		return time.Time{}, "", badCursor()
	}
	return time.Unix(sec, nsec).UTC(), id, nil
}

// encodeSeqCursor names an item of a list ordered by recording sequence.
func encodeSeqCursor(seq uint64) string {
	b := make([]byte, 0, 21)
	b = append(b, 's')
	b = strconv.AppendUint(b, seq, 10)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeSeqCursor reverses encodeSeqCursor. The error wraps store.ErrInvalid.
func decodeSeqCursor(s string) (uint64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 2 || raw[0] != 's' {
		return 0, badCursor()
	}
	seq, err := strconv.ParseUint(string(raw[1:]), 10, 64)
	if err != nil {
		return 0, badCursor()
	}
	return seq, nil
}

func badCursor() error {
	return store.Invalid("ListOptions.After", "is not a cursor this list returned")
}
