package channel_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/store"
)

// TestMessage checks what an admin or staff member reads of the channel
// errors, in both languages, through the error's own Message and through
// channel.Message of the error wrapped.
func TestMessage(t *testing.T) {
	t.Parallel()
	missing := func(status string, names ...string) *channel.PermissionError {
		e := &channel.PermissionError{}
		for _, p := range channel.Permissions {
			for _, n := range names {
				if p.Name == n {
					e.Missing = append(e.Missing, channel.MissingPermission{Permission: p, Status: status})
				}
			}
		}
		return e
	}
	tests := []struct {
		name string
		err  interface {
			Message(autoreply.Language) string
		}
		en, zh string
	}{
		{"name too long", channel.ValidateName(strings.Repeat("名", 41)).(*channel.ValidationError),
			"The channel name is 41 characters; the limit is 40.",
			"頻道名稱有 41 個字元，上限為 40 個字元。"},
		{"name required", channel.ValidateName(" ").(*channel.ValidationError),
			"The channel name is required.",
			"頻道名稱為必填。"},
		{"name on two lines", channel.ValidateName("a\nb").(*channel.ValidationError),
			"The channel name has a line break or another control character.",
			"頻道名稱含有換行或其他控制字元。"},
		{"custom info too long", channel.ValidateCustomInfo(store.CustomInfo{On: true, Text: strings.Repeat("x", 10001)}).(*channel.ValidationError),
			"The custom info is 10,001 characters; the limit is 10,000.",
			"頻道客製資訊有 10,001 個字元，上限為 10,000 個字元。"},
		{"custom info on but empty", channel.ValidateCustomInfo(store.CustomInfo{On: true}).(*channel.ValidationError),
			"The custom info is on but has no text.",
			"頻道客製資訊已啟用，但沒有內容。"},
		{"dispatch target", channel.ValidateDispatch(store.Dispatch{Group: "g", StaffIDs: []string{"amy"}}).(*channel.ValidationError),
			"The dispatch target names both a staff group and named staff; choose one.",
			"客服分派對象同時指定了客服群組和個別員工；請只選其一。"},
		{"dispatch mode", channel.ValidateDispatch(store.Dispatch{Mode: "fastest"}).(*channel.ValidationError),
			`The dispatch mode "fastest" is not one of "" (offer to all at once), "round_robin" and "least_busy".`,
			"客服分派方式「fastest」無效：請選擇同時分派給所有員工、輪流分派或分派給最空閒的員工。"},
		{"dispatch staff repeated", channel.ValidateDispatch(store.Dispatch{StaffIDs: []string{"amy", "amy"}}).(*channel.ValidationError),
			`The dispatch staff id 2 repeats "amy".`,
			"第 2 位指定員工的 ID重複了「amy」。"},
		{"dispatch staff too many", channel.ValidateDispatch(store.Dispatch{StaffIDs: make([]string, channel.MaxStaffIDs+1)}).(*channel.ValidationError),
			"The dispatch staff names 1001 staff; the limit is 1000.",
			"指定員工有 1,001 位，上限為 1,000 位。"},
		{"a field without Chinese", &channel.ValidationError{Field: "channel.Config.Store", Problem: "is required"},
			"The channel.Config.Store is required.",
			"The channel.Config.Store is required."},
		{"one permission", missing("declined", "pages_messaging"),
			"Facebook Login did not grant pages_messaging (manage and access Page conversations in Messenger). Log in again and allow every permission asked for.",
			"Facebook 登入未授予以下權限：pages_messaging（在 Messenger 管理並存取粉絲專頁對話）。請重新登入並允許所有要求的權限。"},
		{"every permission", missing("missing", "pages_messaging", "pages_show_list", "pages_read_engagement", "pages_manage_metadata"),
			"Facebook Login did not grant pages_messaging (manage and access Page conversations in Messenger); " +
				"pages_show_list (show the list of Pages you manage); pages_read_engagement (read content posted on the Page); " +
				"pages_manage_metadata (manage accounts, settings and webhooks for a Page). Log in again and allow every permission asked for.",
			"Facebook 登入未授予以下權限：pages_messaging（在 Messenger 管理並存取粉絲專頁對話）、" +
				"pages_show_list（顯示你管理的粉絲專頁）、pages_read_engagement（閱讀此粉絲專頁發佈的內容）、" +
				"pages_manage_metadata（為粉絲專頁管理帳號、設定和 Webhooks）。請重新登入並允許所有要求的權限。"},
		{"a permission of the host", &channel.PermissionError{Missing: []channel.MissingPermission{
			{Permission: channel.Permission{Name: "business_management", Description: "manage your business"}, Status: "missing"}}},
			"Facebook Login did not grant business_management (manage your business). Log in again and allow every permission asked for.",
			"Facebook 登入未授予以下權限：business_management（manage your business）。請重新登入並允許所有要求的權限。"},
		{"paused", &channel.StatusError{ChannelID: "c", Status: store.ChannelPaused},
			"This channel is paused: nothing is sent until an admin resumes it.",
			"此頻道已暫停：管理員恢復前不會發送任何訊息。"},
		{"disconnected", &channel.StatusError{ChannelID: "c", Status: store.ChannelDisconnected},
			"This channel lost its connection to the Facebook Page: an admin must connect the Page again.",
			"此頻道與 Facebook 專頁的連接已中斷：管理員須重新連接專頁。"},
		{"disconnected with a reason", &channel.StatusError{ChannelID: "c", Status: store.ChannelDisconnected, Reason: "the app was removed from the Page on Facebook."},
			"This channel lost its connection to the Facebook Page: an admin must connect the Page again. Reason: the app was removed from the Page on Facebook.",
			"此頻道與 Facebook 專頁的連接已中斷：管理員須重新連接專頁。原因：the app was removed from the Page on Facebook."},
		{"deleted", &channel.StatusError{ChannelID: "c", Status: store.ChannelDeleted},
			"This channel was deleted: nothing can be sent through it.",
			"此頻道已被刪除：無法透過它發送訊息。"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.en, tt.err.Message(autoreply.English))
			assert.Equal(t, tt.zh, tt.err.Message(autoreply.TraditionalChinese))
			wrapped := fmt.Errorf("settings: %w", tt.err.(error))
			for lang, want := range map[autoreply.Language]string{
				autoreply.English: tt.en, autoreply.TraditionalChinese: tt.zh, "zh-TW": tt.zh, "zh-Hant-HK": tt.zh,
				"": tt.en, "ja": tt.en, "zh-CN": tt.en,
			} {
				assert.Equal(t, want, channel.Message(wrapped, lang), "language %q", lang)
			}
		})
	}
}

// TestMessageSettings checks that every problem of a channel's settings,
// the auto-replies' included, is explained, in order.
func TestMessageSettings(t *testing.T) {
	t.Parallel()
	err := channel.Settings{
		Name:       strings.Repeat("名", 41),
		CustomInfo: store.CustomInfo{On: true, Text: strings.Repeat("x", 10001)},
		AutoReply:  autoreply.Settings{Welcome: autoreply.Message{On: true, Text: strings.Repeat("字", 2001)}},
	}.Validate()
	require.Error(t, err)
	assert.Equal(t, "頻道名稱有 41 個字元，上限為 40 個字元。頻道客製資訊有 10,001 個字元，上限為 10,000 個字元。"+
		"歡迎訊息有 2,001 個字元，上限為 2,000 個字元。", channel.Message(err, autoreply.TraditionalChinese))
	assert.Equal(t, "The channel name is 41 characters; the limit is 40. The custom info is 10,001 characters; the limit is 10,000."+
		" The welcome text is 2,001 characters; the limit is 2,000.", channel.Message(err, autoreply.English))
}

// TestMessageSentinels checks the plain sentinels and the fallback.
func TestMessageSentinels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		en, zh string
	}{
		{channel.ErrPageAlreadyConnected,
			"This Facebook Page is already connected to a service; disconnect it there first.",
			"此 Facebook 專頁已連接到一個服務；請先在該處中斷連接。"},
		{channel.ErrNotAPage,
			"This is not a Facebook Page that you manage: only Pages can be connected, not personal profiles.",
			"這不是您管理的 Facebook 專頁：只可連接專頁，不可連接個人帳號。"},
		{channel.ErrNoMessagingTask,
			"Your role on this Facebook Page does not allow messaging, so you cannot connect it.",
			"您在此 Facebook 專頁的角色不允許傳送訊息，因此無法連接此專頁。"},
		{channel.ErrMissingPermissions,
			"Facebook Login did not grant every permission the connection needs. Log in again and allow every permission asked for.",
			"Facebook 登入未授予連接所需的所有權限。請重新登入並允許所有要求的權限。"},
		{channel.ErrInvalidState, "The Facebook Login has expired or is not valid. Start Facebook Login again.", "Facebook 登入已逾時或無效。請重新開始 Facebook 登入。"},
		{channel.ErrLoginCancelled, "Facebook Login was cancelled.", "Facebook 登入已取消。"},
		{channel.ErrWrongApp, "Facebook Login gave a token of another app. Start Facebook Login again.", "Facebook 登入提供的權杖不屬於此應用程式。請重新開始 Facebook 登入。"},
		{channel.ErrPaused, "This channel is paused: nothing is sent until an admin resumes it.", "此頻道已暫停：管理員恢復前不會發送任何訊息。"},
		{channel.ErrDisconnected,
			"This channel lost its connection to the Facebook Page: an admin must connect the Page again.",
			"此頻道與 Facebook 專頁的連接已中斷：管理員須重新連接專頁。"},
		{channel.ErrDeleted, "This channel was deleted: nothing can be sent through it.", "此頻道已被刪除：無法透過它發送訊息。"},
		{channel.ErrNoEcho,
			"The test message was sent, but Facebook did not send it back as a webhook: check the app's webhook subscription.",
			"測試訊息已發送，但 Facebook 未以 Webhook 傳回：請檢查應用程式的 Webhook 訂閱。"},
		{store.ErrNotFound, "The channel was not found.", "找不到此頻道。"},
		{store.ErrConflict, "Someone else changed this first; reload and try again.", "其他人已先作出更改；請重新載入後再試。"},
		{errors.New("dial tcp: refused"), "op: dial tcp: refused", "op: dial tcp: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.en, func(t *testing.T) {
			t.Parallel()
			err := fmt.Errorf("op: %w", tt.err)
			assert.Equal(t, tt.en, channel.Message(err, autoreply.English))
			assert.Equal(t, tt.en, channel.Message(err, "es"), "an unknown language falls back to English")
			assert.Equal(t, tt.zh, channel.Message(err, autoreply.TraditionalChinese))
		})
	}
	assert.Empty(t, channel.Message(nil, autoreply.TraditionalChinese))
}

// A host shows an admin every problem of the settings they entered, in
// their language.
func ExampleMessage() {
	err := channel.Settings{Name: "", Dispatch: store.Dispatch{Group: "sales", StaffIDs: []string{"amy"}}}.Validate()
	fmt.Println(channel.Message(err, autoreply.English))
	fmt.Println(channel.Message(err, "zh-HK"))
	// Output:
	// The channel name is required. The dispatch target names both a staff group and named staff; choose one.
	// 頻道名稱為必填。客服分派對象同時指定了客服群組和個別員工；請只選其一。
}
