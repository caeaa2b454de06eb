package enquiry_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// TestMessage checks what a staff member reads of every error they can
// meet, in both languages, through the error's own Message and through
// enquiry.Message of the error wrapped.
func TestMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		en, zh string
	}{
		{"too long", &enquiry.TooLongError{Chars: 2001, Limit: 2000},
			"The message is 2,001 characters; the limit is 2,000.",
			"訊息有 2,001 個字元，上限為 2,000 個字元。"},
		{"too large", &enquiry.TooLargeError{Name: "manual.pdf", Size: 26_214_400, Limit: 25_000_000},
			`The file "manual.pdf" is 26.2 MB; the limit is 25 MB.`,
			"檔案「manual.pdf」大小為 26.2 MB，上限為 25 MB。"},
		{"too large by a byte", &enquiry.TooLargeError{Name: "big.bin", Size: 25_000_001, Limit: 25_000_000},
			`The file "big.bin" is 25.000001 MB; the limit is 25 MB.`,
			"檔案「big.bin」大小為 25.000001 MB，上限為 25 MB。"},
		{"too large, whole MB, no name", &enquiry.TooLargeError{Size: 30_000_000, Limit: 25_000_000},
			"The file is 30 MB; the limit is 25 MB.",
			"檔案大小為 30 MB，上限為 25 MB。"},
		{"serving limit", &enquiry.LimitError{ServiceID: "svc", Limit: 200},
			"Your service already serves 200 visitors at once, the limit. Close an enquiry before taking another.",
			"貴服務已同時服務 200 位訪客，已達上限。請先關閉一個查詢，再接手新的查詢。"},
		{"window", &enquiry.WindowError{}, enquiry.WindowTextEnglish, enquiry.WindowTextTraditionalChinese},
		{"taken", &enquiry.TakenError{EnquiryID: "e1", StaffID: "wing"},
			"wing took this enquiry first.",
			"wing 已先接手此查詢。"},
		{"taken by someone unnamed", &enquiry.TakenError{EnquiryID: "e1"},
			"Another staff member took this enquiry first.",
			"其他員工已先接手此查詢。"},
		{"held by another", &enquiry.NotHolderError{EnquiryID: "e1", StaffID: "amy", Holder: "wing"},
			"This enquiry is held by wing.",
			"此查詢由 wing 負責。"},
		{"held by nobody", &enquiry.NotHolderError{EnquiryID: "e1", StaffID: "amy"},
			"Nobody has taken this enquiry yet: take it first.",
			"此查詢尚未有人接手：請先接手。"},
		{"channel paused", &enquiry.ChannelError{ChannelID: "c", Status: store.ChannelPaused},
			"This channel is paused: nothing is sent until an admin resumes it.",
			"此頻道已暫停：管理員恢復前不會發送任何訊息。"},
		{"channel disconnected", &enquiry.ChannelError{ChannelID: "c", Status: store.ChannelDisconnected},
			"This channel lost its connection to the Facebook Page: an admin must connect the Page again.",
			"此頻道與 Facebook 專頁的連接已中斷：管理員須重新連接專頁。"},
		{"channel disconnected with a reason", &enquiry.ChannelError{ChannelID: "c", Status: store.ChannelDisconnected, Reason: "token revoked"},
			"This channel lost its connection to the Facebook Page: an admin must connect the Page again. Reason: token revoked.",
			"此頻道與 Facebook 專頁的連接已中斷：管理員須重新連接專頁。原因：token revoked"},
		{"channel disconnected with a reason in Chinese", &enquiry.ChannelError{ChannelID: "c", Status: store.ChannelDisconnected, Reason: "專頁管理員移除了應用程式"},
			"This channel lost its connection to the Facebook Page: an admin must connect the Page again. Reason: 專頁管理員移除了應用程式.",
			"此頻道與 Facebook 專頁的連接已中斷：管理員須重新連接專頁。原因：專頁管理員移除了應用程式。"},
		{"channel deleted", &enquiry.ChannelError{ChannelID: "c", Status: store.ChannelDeleted},
			"This channel was deleted: nothing can be sent through it.",
			"此頻道已被刪除：無法透過它發送訊息。"},
		{"send uncertain", &enquiry.SendError{MessageID: "m", Uncertain: true, Err: messenger.ErrMaybeDelivered},
			"Facebook did not answer in time: the message may have been delivered. It will not be sent again.",
			"Facebook 未及時回應：訊息可能已送達，系統不會重新發送。"},
		{"send failed", &enquiry.SendError{MessageID: "m", Err: errors.New("graph: 500")},
			"The message was not sent: Facebook refused it.",
			"訊息未能發送：Facebook 拒絕了此訊息。"},
	}
	type messager interface {
		Message(autoreply.Language) string
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, ok := tt.err.(messager)
			if assert.True(t, ok, "%T has a Message method", tt.err) {
				assert.Equal(t, tt.en, m.Message(autoreply.English))
				assert.Equal(t, tt.zh, m.Message(autoreply.TraditionalChinese))
			}
			wrapped := fmt.Errorf("reply: %w", tt.err)
			for lang, want := range map[autoreply.Language]string{
				autoreply.English: tt.en, autoreply.TraditionalChinese: tt.zh,
				"zh-TW": tt.zh, "zh-hk": tt.zh, "ZH-HANT-MO": tt.zh,
				"": tt.en, "fr": tt.en, "zh-Hans": tt.en, "zh": tt.en,
			} {
				assert.Equal(t, want, enquiry.Message(wrapped, lang), "language %q", lang)
			}
		})
	}
}

// TestMessageSentinels checks the plain sentinels, the same meanings of
// other packages, the errors of package channel, and the fallback.
func TestMessageSentinels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		en, zh string
	}{
		{"empty", enquiry.ErrEmpty, "There is nothing to send.", "沒有可發送的內容。"},
		{"closed", fmt.Errorf("%w: e1: %w", enquiry.ErrClosed, store.ErrClosed), "This enquiry is closed.", "此查詢已關閉。"},
		{"store closed", store.ErrClosed, "This enquiry is closed.", "此查詢已關閉。"},
		{"not found", fmt.Errorf("%w: enquiry e9", enquiry.ErrNotFound), "The enquiry or channel was not found.", "找不到此查詢或頻道。"},
		{"unknown staff", enquiry.ErrUnknownStaff, "Unknown staff member.", "不明的員工。"},
		{"too long", messenger.ErrTooLong, "The message is over 2,000 characters.", "訊息超過 2,000 個字元。"},
		{"too large", enquiry.ErrTooLarge, "The file is over 25 MB.", "檔案超過 25 MB。"},
		{"limit", store.ErrLimit,
			"Your service already serves as many visitors at once as it may. Close an enquiry before taking another.",
			"貴服務同時服務的訪客已達上限。請先關閉一個查詢，再接手新的查詢。"},
		{"window", messenger.ErrOutsideWindow, enquiry.WindowTextEnglish, enquiry.WindowTextTraditionalChinese},
		{"taken", store.ErrAlreadyTaken, "Another staff member took this enquiry first.", "其他員工已先接手此查詢。"},
		{"not holder", enquiry.ErrNotHolder, "You do not hold this enquiry.", "此查詢並非由您負責。"},
		{"paused", enquiry.ErrChannelPaused,
			"This channel is paused: nothing is sent until an admin resumes it.",
			"此頻道已暫停：管理員恢復前不會發送任何訊息。"},
		{"disconnected", enquiry.ErrChannelDisconnected,
			"This channel lost its connection to the Facebook Page: an admin must connect the Page again.",
			"此頻道與 Facebook 專頁的連接已中斷：管理員須重新連接專頁。"},
		{"uncertain", messenger.ErrMaybeDelivered,
			"Facebook did not answer in time: the message may have been delivered. It will not be sent again.",
			"Facebook 未及時回應：訊息可能已送達，系統不會重新發送。"},
		{"failed", enquiry.ErrSendFailed, "The message was not sent: Facebook refused it.", "訊息未能發送：Facebook 拒絕了此訊息。"},
		{"a channel error", fmt.Errorf("connect: %w", channel.ErrPageAlreadyConnected),
			"This Facebook Page is already connected to a service; disconnect it there first.",
			"此 Facebook 專頁已連接到一個服務；請先在該處中斷連接。"},
		{"unknown", errors.New("pq: connection refused"), "pq: connection refused", "pq: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.en, enquiry.Message(tt.err, autoreply.English))
			assert.Equal(t, tt.en, enquiry.Message(tt.err, "de"), "an unknown language falls back to English")
			assert.Equal(t, tt.zh, enquiry.Message(tt.err, autoreply.TraditionalChinese))
		})
	}
	assert.Empty(t, enquiry.Message(nil, autoreply.English))
}

// A host answers a refused reply with the text in the staff member's
// language.
func ExampleMessage() {
	err := fmt.Errorf("reply: %w", &enquiry.TooLongError{Chars: 2001, Limit: 2000})
	fmt.Println(enquiry.Message(err, autoreply.English))
	fmt.Println(enquiry.Message(err, autoreply.TraditionalChinese))
	// Output:
	// The message is 2,001 characters; the limit is 2,000.
	// 訊息有 2,001 個字元，上限為 2,000 個字元。
}
