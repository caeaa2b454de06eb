package enquiry

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

func TestCheckTextRULE1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		chars int // 0: passes
	}{
		{"2000 CJK characters", strings.Repeat("訊", 2000), 0},
		{"2001 CJK characters", strings.Repeat("訊", 2001), 2001},
		{"2000 ASCII", strings.Repeat("a", 2000), 0},
		{"2001 ASCII", strings.Repeat("a", 2001), 2001},
		{"2000 emoji (4 bytes each)", strings.Repeat("😀", 2000), 0},
		{"one character", "好", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkText(tt.text)
			if tt.chars == 0 {
				assert.NoError(t, err)
				return
			}
			var tl *TooLongError
			require.ErrorAs(t, err, &tl)
			assert.Equal(t, tt.chars, tl.Chars)
			assert.Equal(t, 2000, tl.Limit)
			assert.ErrorIs(t, err, ErrTooLong)
			assert.ErrorIs(t, err, messenger.ErrTooLong)
			assert.Contains(t, err.Error(), "2001 characters; the limit is 2000")
		})
	}
	assert.ErrorIs(t, checkText("  \n"), ErrEmpty)
	assert.ErrorIs(t, checkText("\xff\xfe"), messenger.ErrInvalidMessage)
}

// The RULE-5 texts must be the specification's, character for character.
func TestWindowTextsMatchSpec(t *testing.T) {
	t.Parallel()
	spec, err := os.ReadFile("/work/shared/SPEC.md")
	if err != nil {
		t.Skip("the specification is not on this machine:", err)
	}
	s := string(spec)
	assert.Contains(t, s, "\n  "+WindowTextTraditionalChinese+"\n")
	// The English text is wrapped over lines in the specification.
	en := regexp.MustCompile(`\s+`).ReplaceAllString(WindowTextEnglish, `\s+`)
	assert.Regexp(t, `"`+strings.ReplaceAll(en, ".", `\.`)+`"`, s)
}

func TestWindowError(t *testing.T) {
	t.Parallel()
	var err error = &WindowError{LastInboundAt: time.Unix(0, 0), Window: Window}
	assert.ErrorIs(t, err, ErrOutsideWindow)
	assert.ErrorIs(t, err, messenger.ErrOutsideWindow)
	assert.NotErrorIs(t, err, ErrTooLong)
	var we *WindowError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, "抱歉,您的訊息無法再發送; 24小時訊息發送時限已過去。關閉此查詢,或等訪客再次發送訊息。", we.Message(autoreply.TraditionalChinese))
	assert.Equal(t, "Sorry, your message can no longer be sent; the 24-hour messaging window has passed. Close this enquiry or wait for the visitor to send a message again.", we.Message(autoreply.English))
	assert.Equal(t, WindowTextEnglish, we.Message(""))
	assert.Equal(t, WindowTextTraditionalChinese, we.Message("zh-TW"))
	assert.Contains(t, err.Error(), WindowTextEnglish)
	assert.Contains(t, err.Error(), WindowTextTraditionalChinese)

	graph := &messenger.Error{HTTPStatus: 400, Code: 10, Subcode: 2018278, Message: "outside window"}
	err = &WindowError{Err: graph}
	assert.ErrorIs(t, err, ErrOutsideWindow)
	var ge *messenger.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, 2018278, ge.Subcode)
}

func TestJudgeWindow(t *testing.T) {
	t.Parallel()
	last := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	plain := &store.Channel{}
	human := &store.Channel{HumanAgent: true}
	tests := []struct {
		name    string
		ch      *store.Channel
		elapsed time.Duration
		staff   bool
		wantTyp messenger.MessagingType
		wantTag messenger.Tag
		fails   bool
	}{
		{"23h59m passes", plain, 23*time.Hour + 59*time.Minute, true, messenger.Response, "", false},
		{"exactly 24h fails", plain, 24 * time.Hour, true, "", "", true},
		{"24h01m fails", plain, 24*time.Hour + time.Minute, true, "", "", true},
		{"HUMAN_AGENT day 6 staff passes tagged", human, 6 * 24 * time.Hour, true, messenger.MessageTag, messenger.HumanAgent, false},
		{"HUMAN_AGENT within 24h stays a response", human, time.Hour, true, messenger.Response, "", false},
		{"HUMAN_AGENT day 6 auto-reply fails", human, 6 * 24 * time.Hour, false, "", "", true},
		{"HUMAN_AGENT day 7 fails", human, 7 * 24 * time.Hour, true, "", "", true},
		{"no opt-in day 6 fails", plain, 6 * 24 * time.Hour, true, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			typ, tag, err := judgeWindow(tt.ch, last, last.Add(tt.elapsed), tt.staff)
			if tt.fails {
				var we *WindowError
				require.ErrorAs(t, err, &we)
				assert.Equal(t, last, we.LastInboundAt)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantTyp, typ)
			assert.Equal(t, tt.wantTag, tag)
		})
	}
	_, _, err := judgeWindow(plain, time.Time{}, last, true)
	assert.ErrorIs(t, err, ErrOutsideWindow, "a visitor who never wrote cannot be messaged")
}

func TestErrorsMatchTheirSentinels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		is   []error
		isnt []error
		text string
	}{
		{&TooLargeError{Name: "a.pdf", Size: 25_000_001, Limit: 25_000_000}, []error{ErrTooLarge, messenger.ErrTooLarge}, []error{ErrTooLong},
			`file "a.pdf" is 25000001 bytes; the limit is 25000000 bytes`},
		{&LimitError{ServiceID: "svc", Limit: 200}, []error{ErrServingLimit, store.ErrLimit}, []error{ErrAlreadyTaken},
			"already serves 200 visitors at once; the limit is 200"},
		{&TakenError{EnquiryID: "e1", StaffID: "alice"}, []error{ErrAlreadyTaken, store.ErrAlreadyTaken}, []error{ErrNotHolder},
			"already taken by alice"},
		{&NotHolderError{EnquiryID: "e1", StaffID: "bob", Holder: "alice"}, []error{ErrNotHolder}, []error{ErrAlreadyTaken},
			"held by alice"},
		{&ChannelError{ChannelID: "c1", Status: store.ChannelPaused}, []error{ErrChannelPaused}, []error{ErrChannelDisconnected},
			"paused"},
		{&ChannelError{ChannelID: "c1", Status: store.ChannelDisconnected, Reason: "the token is gone", Err: messenger.ErrInvalidToken},
			[]error{ErrChannelDisconnected, messenger.ErrInvalidToken}, []error{ErrChannelPaused}, "disconnected (the token is gone)"},
		{&SendError{MessageID: "m1", Uncertain: true, Err: messenger.ErrMaybeDelivered}, []error{ErrUncertain, messenger.ErrMaybeDelivered},
			[]error{ErrSendFailed}, "will not be sent again"},
		{&SendError{MessageID: "m1", Err: messenger.ErrRecipientUnavailable}, []error{ErrSendFailed, messenger.ErrRecipientUnavailable},
			[]error{ErrUncertain}, "could not be sent"},
		{closedErr("e1"), []error{ErrClosed, store.ErrClosed}, []error{ErrNotFound}, "closed"},
		{notFound("enquiry", "e1", store.ErrNotFound), []error{ErrNotFound, store.ErrNotFound}, []error{ErrClosed}, "enquiry e1"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			for _, target := range tt.is {
				assert.ErrorIs(t, tt.err, target)
			}
			for _, target := range tt.isnt {
				assert.NotErrorIs(t, tt.err, target)
			}
			assert.Contains(t, tt.err.Error(), tt.text)
		})
	}
}

func TestDerivedID(t *testing.T) {
	t.Parallel()
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[48][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a := derivedID("autoreply", "welcome", "c1", "psid")
	assert.Equal(t, a, derivedID("autoreply", "welcome", "c1", "psid"))
	assert.NotEqual(t, a, derivedID("autoreply", "welcome", "c1p", "sid"), "parts are separated")
	assert.Regexp(t, uuid, a)
	assert.Regexp(t, uuid, newUUID())
	assert.NotEqual(t, newUUID(), newUUID())
}

func TestAttachmentType(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]messenger.AttachmentType{
		"image/png": messenger.AttachmentImage, "video/mp4": messenger.AttachmentVideo,
		"audio/mpeg": messenger.AttachmentAudio, "application/pdf": messenger.AttachmentFile,
		"": messenger.AttachmentFile, "IMAGE/JPEG; q=1": messenger.AttachmentImage,
	} {
		assert.Equal(t, want, attachmentType(ct), ct)
	}
}

func TestSizedReader(t *testing.T) {
	t.Parallel()
	read := func(body string, size int64) error {
		_, err := io.ReadAll(&sizedReader{r: strings.NewReader(body), left: size, name: "f", size: size})
		return err
	}
	assert.NoError(t, read("hello", 5))
	assert.ErrorIs(t, read("hello!", 5), messenger.ErrInvalidMessage)
	assert.ErrorContains(t, read("hell", 5), "ended after 4 of its 5 bytes")
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	graph, err := messenger.New(messenger.Config{AppID: "1", AppSecret: "s"})
	require.NoError(t, err)
	st := memstoreForUnitTests{}
	dir := &StaticDirectory{}
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Graph: graph, Staff: dir}, "Config.Store is required"},
		{Config{Store: st, Staff: dir}, "Config.Graph is required"},
		{Config{Store: st, Graph: graph}, "Config.Staff is required"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		assert.ErrorContains(t, err, tt.want)
	}
	s, err := New(Config{Store: st, Graph: graph, Staff: dir})
	require.NoError(t, err)
	assert.Equal(t, 200, s.MaxServing(), "RULE-4 default")
	s, err = New(Config{Store: st, Graph: graph, Staff: dir, MaxServing: 5})
	require.NoError(t, err)
	assert.Equal(t, 5, s.MaxServing())
	s, err = New(Config{Store: st, Graph: graph, Staff: dir, MaxServing: -1})
	require.NoError(t, err)
	assert.Equal(t, 0, s.MaxServing(), "negative: no limit")
}

// memstoreForUnitTests stands for a store in tests that never call it.
type memstoreForUnitTests struct{ store.Store }
