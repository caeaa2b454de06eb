package messenger

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateTextCountsCharactersNotBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		text   string
		err    error
		actual int64
	}{
		{"empty", "", ErrEmpty, 0},
		{"one ASCII", "a", nil, 0},
		{"2,000 ASCII", strings.Repeat("a", 2000), nil, 0},
		{"2,001 ASCII", strings.Repeat("a", 2001), ErrTooLong, 2001},
		{"2,000 CJK (6,000 bytes)", strings.Repeat("中", 2000), nil, 0},
		{"2,001 CJK", strings.Repeat("中", 2001), ErrTooLong, 2001},
		{"2,000 emoji (8,000 bytes)", strings.Repeat("😀", 2000), nil, 0},
		{"2,001 emoji", strings.Repeat("😀", 2001), ErrTooLong, 2001},
		{"1,999 CJK and 1 ASCII", strings.Repeat("字", 1999) + "x", nil, 0},
		{"mixed 2,001", strings.Repeat("é", 1000) + strings.Repeat("a", 1001), ErrTooLong, 2001},
		{"30,000 CJK", strings.Repeat("中", 30000), ErrTooLong, 30000},
		{"2,000 Korean (ED lead)", strings.Repeat("한힣", 1000), nil, 0},
		{"2,000 Thai (E0 lead)", strings.Repeat("ก", 2000), nil, 0},
		{"2,000 mixed", strings.Repeat("aé中😀", 500), nil, 0},
		{"invalid: 3,000 stray continuation bytes", strings.Repeat("\x80", 3000), ErrInvalidMessage, 0},
		{"invalid: short", "a\xffb", ErrInvalidMessage, 0},
		{"invalid: one stray byte", "\x80", ErrInvalidMessage, 0},
		{"invalid: stray byte in 2,000 CJK", strings.Repeat("中", 1000) + "\x80" + strings.Repeat("中", 999), ErrInvalidMessage, 0},
		{"invalid: 2,000 CJK cut in the last one", strings.Repeat("中", 2000)[:5999], ErrInvalidMessage, 0},
		{"invalid: a lead byte for a continuation", strings.Repeat("中", 700)[:2099] + "中", ErrInvalidMessage, 0},
		{"invalid: overlong C0 80", strings.Repeat("中", 1000) + "\xc0\x80", ErrInvalidMessage, 0},
		{"invalid: overlong E0 80 80", strings.Repeat("中", 1000) + "\xe0\x80\x80", ErrInvalidMessage, 0},
		{"invalid: surrogate ED A0 80", strings.Repeat("中", 1000) + "\xed\xa0\x80", ErrInvalidMessage, 0},
		{"invalid: overlong F0 80 80 80", strings.Repeat("中", 1000) + "\xf0\x80\x80\x80", ErrInvalidMessage, 0},
		{"invalid: over U+10FFFF", strings.Repeat("中", 1000) + "\xf4\x90\x80\x80", ErrInvalidMessage, 0},
		{"invalid: F5", strings.Repeat("中", 1000) + "\xf5\x80\x80\x80", ErrInvalidMessage, 0},
		{"invalid and too long", strings.Repeat("中", 3000) + "\xff", ErrInvalidMessage, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateText(tt.text)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, "Text", ve.Field)
			if tt.err == ErrInvalidMessage {
				assert.Equal(t, "messenger: Text is not valid UTF-8", err.Error())
			}
			if tt.err == ErrTooLong {
				assert.Equal(t, int64(MaxTextChars), ve.Limit)
				assert.Equal(t, tt.actual, ve.Actual)
				assert.Equal(t, "messenger: Text is "+thousands(tt.actual)+" characters; the limit is 2,000", err.Error())
			}
		})
	}
}

func TestValidateTextDoesNotAllocate(t *testing.T) {
	cjk := strings.Repeat("中", MaxTextChars)
	allocs := testing.AllocsPerRun(100, func() {
		if ValidateText(cjk) != nil {
			t.Fatal("valid text refused")
		}
	})
	assert.Zero(t, allocs)
}

func TestValidateOutgoing(t *testing.T) {
	t.Parallel()
	img := func(a Attachment) *Attachment { return &a }
	ok := OutgoingMessage{Recipient: "1", Text: "hi"}
	tests := []struct {
		name  string
		m     OutgoingMessage
		err   error
		field string
	}{
		{"text", ok, nil, ""},
		{"missing recipient", OutgoingMessage{Text: "hi"}, ErrInvalidMessage, "Recipient"},
		{"empty", OutgoingMessage{Recipient: "1"}, ErrEmpty, "Text"},
		{"text and attachment", OutgoingMessage{Recipient: "1", Text: "hi", Attachment: img(Attachment{Type: AttachmentImage, URL: "https://x/y.png"})}, ErrInvalidMessage, "Attachment"},
		{"too long", OutgoingMessage{Recipient: "1", Text: strings.Repeat("中", 2001)}, ErrTooLong, "Text"},
		{"invalid UTF-8", OutgoingMessage{Recipient: "1", Text: "a\xffb"}, ErrInvalidMessage, "Text"},
		{"image by URL", OutgoingMessage{Recipient: "1", Attachment: img(Attachment{Type: AttachmentImage, URL: "https://x/y.png", Reusable: true})}, nil, ""},
		{"file by id", OutgoingMessage{Recipient: "1", Attachment: img(Attachment{Type: AttachmentFile, ID: "123"})}, nil, ""},
		{"video", OutgoingMessage{Recipient: "1", Attachment: img(Attachment{Type: AttachmentVideo, ID: "123"})}, nil, ""},
		{"audio", OutgoingMessage{Recipient: "1", Attachment: img(Attachment{Type: AttachmentAudio, ID: "123"})}, nil, ""},
		{"unknown attachment type", OutgoingMessage{Recipient: "1", Attachment: img(Attachment{Type: "sticker", URL: "https://x"})}, ErrInvalidMessage, "Attachment.Type"},
		{"empty attachment type", OutgoingMessage{Recipient: "1", Attachment: img(Attachment{URL: "https://x"})}, ErrInvalidMessage, "Attachment.Type"},
		{"attachment without source", OutgoingMessage{Recipient: "1", Attachment: img(Attachment{Type: AttachmentImage})}, ErrEmpty, "Attachment"},
		{"attachment with URL and ID", OutgoingMessage{Recipient: "1", Attachment: img(Attachment{Type: AttachmentImage, URL: "u", ID: "1"})}, ErrInvalidMessage, "Attachment"},
		{"reusable id", OutgoingMessage{Recipient: "1", Attachment: img(Attachment{Type: AttachmentImage, ID: "1", Reusable: true})}, ErrInvalidMessage, "Attachment.Reusable"},
		{"update", OutgoingMessage{Recipient: "1", Text: "hi", Type: Update}, nil, ""},
		{"human agent", OutgoingMessage{Recipient: "1", Text: "hi", Type: MessageTag, Tag: HumanAgent}, nil, ""},
		{"tag missing", OutgoingMessage{Recipient: "1", Text: "hi", Type: MessageTag}, ErrInvalidMessage, "Tag"},
		{"tag without MESSAGE_TAG", OutgoingMessage{Recipient: "1", Text: "hi", Tag: HumanAgent}, ErrInvalidMessage, "Tag"},
		{"unknown type", OutgoingMessage{Recipient: "1", Text: "hi", Type: "PROMO"}, ErrInvalidMessage, "Type"},
		{"quick replies", OutgoingMessage{Recipient: "1", Text: "hi", QuickReplies: []QuickReply{{Title: "Yes", Payload: "Y"}, {ImageURL: "https://x/i.png", Payload: "I"}}}, nil, ""},
		{"14 quick replies", OutgoingMessage{Recipient: "1", Text: "hi", QuickReplies: make([]QuickReply, 14)}, ErrInvalidMessage, "QuickReplies"},
		{"quick reply title too long", OutgoingMessage{Recipient: "1", Text: "hi", QuickReplies: []QuickReply{{Title: strings.Repeat("題", 21), Payload: "p"}}}, ErrTooLong, "QuickReplies[0].Title"},
		{"quick reply without payload", OutgoingMessage{Recipient: "1", Text: "hi", QuickReplies: []QuickReply{{Title: "t"}}}, ErrEmpty, "QuickReplies[0].Payload"},
		{"quick reply empty", OutgoingMessage{Recipient: "1", Text: "hi", QuickReplies: []QuickReply{{Title: "a", Payload: "b"}, {Payload: "p"}}}, ErrEmpty, "QuickReplies[1].Title"},
		{"metadata too long", OutgoingMessage{Recipient: "1", Text: "hi", Metadata: strings.Repeat("m", 1001)}, ErrInvalidMessage, "Metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateOutgoing(tt.m)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			var ve *ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, tt.field, ve.Field)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestValidateUploadSizeBoundary(t *testing.T) {
	t.Parallel()
	body := strings.NewReader("x")
	tests := []struct {
		name string
		u    Upload
		err  error
		want string
	}{
		{"exactly 25,000,000 bytes (MB = 10^6)", Upload{Type: AttachmentFile, Size: 25_000_000, Body: body}, nil, ""},
		{"25,000,001 bytes", Upload{Type: AttachmentFile, Size: 25_000_001, Body: body}, ErrTooLarge,
			"messenger: Upload.Size is 25,000,001 bytes; the limit is 25,000,000"},
		{"25 MiB", Upload{Type: AttachmentVideo, Size: 25 << 20, Body: body}, ErrTooLarge,
			"messenger: Upload.Size is 26,214,400 bytes; the limit is 25,000,000"},
		{"unknown size", Upload{Type: AttachmentImage, Body: body}, nil, ""},
		{"negative size", Upload{Type: AttachmentImage, Size: -1, Body: body}, ErrInvalidMessage, "messenger: Upload.Size is negative"},
		{"no body", Upload{Type: AttachmentImage}, ErrEmpty, "messenger: Upload.Body is nil"},
		{"unknown type", Upload{Type: "gif", Body: body}, ErrInvalidMessage, `messenger: Upload.Type is "gif"; want image, video, audio or file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := validateUpload(tt.u)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

// seekFails is a Seeker that cannot seek (like a pipe).
type seekFails struct{ io.Reader }

func (seekFails) Seek(int64, int) (int64, error) { return 0, errors.New("illegal seek") }

// endFails can tell its position but not seek to its end.
type endFails struct{ seekFails }

func (endFails) Seek(_ int64, whence int) (int64, error) {
	if whence == io.SeekEnd {
		return 0, errors.New("no end")
	}
	return 3, nil
}

func TestRemainingLength(t *testing.T) {
	t.Parallel()
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { pr.Close(); pw.Close() })
	tests := []struct {
		name  string
		body  io.Reader
		n     int64
		known bool
	}{
		{"*strings.Reader", strings.NewReader("hello"), 5, true},
		{"*bytes.Buffer", bytes.NewBufferString("hello!"), 6, true},
		{"plain reader", io.LimitReader(strings.NewReader("hello"), 5), 0, false},
		{"pipe", pr, 0, false},
		{"seek fails", seekFails{strings.NewReader("x")}, 0, false},
		{"end fails", endFails{seekFails{strings.NewReader("x")}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, known, err := remainingLength(tt.body)
			require.NoError(t, err)
			assert.Equal(t, tt.known, known)
			assert.Equal(t, tt.n, n)
		})
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 2001: "2,001", 25_000_000: "25,000,000", -1234: "-1,234"} {
		assert.Equal(t, want, thousands(n))
	}
}

// FuzzCountChars checks the eight-bytes-at-a-time count against
// utf8.RuneCountInString on valid UTF-8, and ValidateText against the plain
// rule: invalid UTF-8 is refused.
func FuzzCountChars(f *testing.F) {
	f.Add("hello")
	f.Add(strings.Repeat("中", 2001))
	f.Add(strings.Repeat("a😀", 700) + "é")
	f.Add(strings.Repeat("\x80", 3000))
	f.Add(strings.Repeat("中", 20) + "\xed\xa0\x80" + strings.Repeat("中", 20))
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateText(s)
		if !utf8.ValidString(s) {
			if s != "" && !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("invalid UTF-8 %q: %v", s, err)
			}
			return
		}
		n := utf8.RuneCountInString(s)
		if got := countChars(s); got != n {
			t.Fatalf("countChars = %d, want %d", got, n)
		}
		switch {
		case n == 0 && !errors.Is(err, ErrEmpty):
			t.Fatalf("empty text: %v", err)
		case n > MaxTextChars && !errors.Is(err, ErrTooLong):
			t.Fatalf("%d characters passed", n)
		case n > 0 && n <= MaxTextChars && err != nil:
			t.Fatalf("%d characters refused: %v", n, err)
		}
	})
}

var sinkErr error

func BenchmarkValidateText2000CJK(b *testing.B) {
	text := strings.Repeat("中", MaxTextChars)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		sinkErr = ValidateText(text)
	}
	if sinkErr != nil {
		b.Fatal(sinkErr)
	}
}
