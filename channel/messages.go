package channel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/store"
)

// Message returns what an admin or a staff member should read about err,
// in lang: Traditional Chinese for autoreply.TraditionalChinese (or a tag
// such as "zh-TW", "zh-HK" or "zh-Hant-HK"), English for any other
// language.
//
// It finds the typed errors of this package (and the *autoreply.Error of a
// channel's auto-reply settings) with errors.As and uses their Message
// method, then the plain sentinels with errors.Is. The problems of
// Settings.Validate, returned all at once, are explained one after the
// other. An error it does not know gives err.Error(): English, and it may
// name internals, so a host that must not show those should check the
// error first.
func Message(err error, lang autoreply.Language) string {
	if err == nil {
		return ""
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var parts []string
		for _, e := range j.Unwrap() {
			if e != nil && e != ErrInvalid { // ErrInvalid sits beside the real problem
				parts = append(parts, Message(e, lang))
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, lang.Pick(" ", "")) // Chinese puts no space between sentences
		}
	}
	var (
		invalid *ValidationError
		perms   *PermissionError
		status  *StatusError
		reply   *autoreply.Error
	)
	switch {
	case errors.As(err, &invalid):
		return invalid.Message(lang)
	case errors.As(err, &perms):
		return perms.Message(lang)
	case errors.As(err, &status):
		return status.Message(lang)
	case errors.As(err, &reply):
		return autoReplyMessage(reply, lang)
	}
	for _, s := range sentinelTexts {
		if errors.Is(err, s.err) {
			return lang.Pick(s.en, s.zh)
		}
	}
	return err.Error()
}

// sentinelTexts explain the sentinels, in the order Message tries them.
var sentinelTexts = []struct {
	err    error
	en, zh string
}{
	{ErrPageAlreadyConnected,
		"This Facebook Page is already connected to a service; disconnect it there first.",
		"此 Facebook 專頁已連接到一個服務；請先在該處中斷連接。"},
	{ErrNotAPage,
		"This is not a Facebook Page that you manage: only Pages can be connected, not personal profiles.",
		"這不是您管理的 Facebook 專頁：只可連接專頁，不可連接個人帳號。"},
	{ErrNoMessagingTask,
		"Your role on this Facebook Page does not allow messaging, so you cannot connect it.",
		"您在此 Facebook 專頁的角色不允許傳送訊息，因此無法連接此專頁。"},
	{ErrMissingPermissions,
		"Facebook Login did not grant every permission the connection needs. Log in again and allow every permission asked for.",
		"Facebook 登入未授予連接所需的所有權限。請重新登入並允許所有要求的權限。"},
	{ErrInvalidState,
		"The Facebook Login has expired or is not valid. Start Facebook Login again.",
		"Facebook 登入已逾時或無效。請重新開始 Facebook 登入。"},
	{ErrLoginCancelled,
		"Facebook Login was cancelled.",
		"Facebook 登入已取消。"},
	{ErrWrongApp,
		"Facebook Login gave a token of another app. Start Facebook Login again.",
		"Facebook 登入提供的權杖不屬於此應用程式。請重新開始 Facebook 登入。"},
	{ErrPaused, pausedEnglish, pausedChinese},
	{ErrDisconnected, disconnectedEnglish, disconnectedChinese},
	{ErrDeleted, deletedEnglish, deletedChinese},
	{ErrNoEcho,
		"The test message was sent, but Facebook did not send it back as a webhook: check the app's webhook subscription.",
		"測試訊息已發送，但 Facebook 未以 Webhook 傳回：請檢查應用程式的 Webhook 訂閱。"},
	{ErrNotFound,
		"The channel was not found.",
		"找不到此頻道。"},
	{ErrConflict,
		"Someone else changed this first; reload and try again.",
		"其他人已先作出更改；請重新載入後再試。"},
}

// The texts of a channel's status, shared by StatusError and the sentinels.
const (
	pausedEnglish       = "This channel is paused: nothing is sent until an admin resumes it."
	pausedChinese       = "此頻道已暫停：管理員恢復前不會發送任何訊息。"
	disconnectedEnglish = "This channel lost its connection to the Facebook Page: an admin must connect the Page again."
	disconnectedChinese = "此頻道與 Facebook 專頁的連接已中斷：管理員須重新連接專頁。"
	deletedEnglish      = "This channel was deleted: nothing can be sent through it."
	deletedChinese      = "此頻道已被刪除：無法透過它發送訊息。"
)

// Message says in lang why the channel cannot send and who can change
// that, with the recorded reason of a disconnection as it was written
// (the SDK writes its reasons in English).
func (e *StatusError) Message(lang autoreply.Language) string {
	switch e.Status {
	case store.ChannelPaused:
		return lang.Pick(pausedEnglish, pausedChinese)
	case store.ChannelDisconnected:
		if e.Reason == "" {
			return lang.Pick(disconnectedEnglish, disconnectedChinese)
		}
		return lang.Pick(disconnectedEnglish+" Reason: ", disconnectedChinese+"原因：") + autoreply.Sentence(e.Reason, lang)
	case store.ChannelDeleted:
		return lang.Pick(deletedEnglish, deletedChinese)
	}
	return lang.Pick("Nothing can be sent through this channel.", "無法透過此頻道發送訊息。")
}

// permissionsChinese are the descriptions of the four permissions (CONN-3)
// in Traditional Chinese, as the product document words them.
var permissionsChinese = map[string]string{
	"pages_messaging":       "在 Messenger 管理並存取粉絲專頁對話",
	"pages_show_list":       "顯示你管理的粉絲專頁",
	"pages_read_engagement": "閱讀此粉絲專頁發佈的內容",
	"pages_manage_metadata": "為粉絲專頁管理帳號、設定和 Webhooks",
}

// Message names in lang every permission Facebook Login did not grant and
// what it is for (CONN-3). A permission this package does not know keeps
// its own Description.
func (e *PermissionError) Message(lang autoreply.Language) string {
	var b strings.Builder
	if chinese(lang) {
		b.WriteString("Facebook 登入未授予以下權限：")
		for i, m := range e.Missing {
			if i > 0 {
				b.WriteString("、")
			}
			desc := permissionsChinese[m.Name]
			if desc == "" {
				desc = m.Description
			}
			fmt.Fprintf(&b, "%s（%s）", m.Name, desc)
		}
		b.WriteString("。請重新登入並允許所有要求的權限。")
		return b.String()
	}
	b.WriteString("Facebook Login did not grant ")
	for i, m := range e.Missing {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s)", m.Name, m.Description)
	}
	b.WriteString(". Log in again and allow every permission asked for.")
	return b.String()
}

// fieldsChinese name the fields of ValidationError in Traditional Chinese,
// in the product document's words where it has them.
var fieldsChinese = map[string]string{
	"channel name":               "頻道名稱",
	"custom info":                "頻道客製資訊",
	"dispatch mode":              "客服分派方式",
	"dispatch target":            "客服分派對象",
	"dispatch group":             "客服群組",
	"dispatch staff":             "指定員工",
	"page id":                    "專頁 ID",
	"login":                      "Facebook 登入",
	"login callback code":        "Facebook 登入的回傳代碼",
	"self-test recipient (psid)": "自我測試的收件人（PSID）",
	"service and admin ids":      "服務及管理員 ID",
	"service and channel ids":    "服務及頻道 ID",
}

// problemsChinese say the fixed problems of ValidationError in Traditional
// Chinese; %s is the field.
var problemsChinese = map[string]string{
	"is required":  "%s為必填。",
	"are required": "%s為必填。",
	"is missing":   "缺少%s。",
	"is required: finish Facebook Login first (Exchange)":  "請先完成 Facebook 登入。",
	"has a line break or another control character":        "%s含有換行或其他控制字元。",
	"is not valid UTF-8":                                   "%s不是有效的 UTF-8 文字。",
	"is on but has no text":                                "%s已啟用，但沒有內容。",
	"names both a staff group and named staff; choose one": "%s同時指定了客服群組和個別員工；請只選其一。",
	"is only spaces":                                       "%s只有空格。",
	"is empty":                                             "%s是空的。",
}

// Message says in lang which setting breaks which rule: for a length, the
// value's length and the limit in characters (CHAN-1, CHAN-5). A field or
// problem this package has no Traditional Chinese for is given in English.
func (e *ValidationError) Message(lang autoreply.Language) string {
	en := e.english()
	if !chinese(lang) {
		return en
	}
	field, ok := fieldChinese(e.Field)
	if !ok {
		return en
	}
	if e.Problem == "" {
		return fmt.Sprintf("%s有 %s 個字元，上限為 %s 個字元。", field, autoreply.FormatCount(int64(e.Length)), autoreply.FormatCount(int64(e.Limit)))
	}
	if f, ok := problemsChinese[e.Problem]; ok {
		if strings.Contains(f, "%s") {
			return fmt.Sprintf(f, field)
		}
		return f
	}
	if id, ok := strings.CutPrefix(e.Problem, "repeats "); ok {
		if s, err := strconv.Unquote(id); err == nil {
			id = s
		}
		return fmt.Sprintf("%s重複了「%s」。", field, id)
	}
	var n, limit int
	if _, err := fmt.Sscanf(e.Problem, "names %d staff; the limit is %d", &n, &limit); err == nil {
		return fmt.Sprintf("%s有 %s 位，上限為 %s 位。", field, autoreply.FormatCount(int64(n)), autoreply.FormatCount(int64(limit)))
	}
	if q, err := strconv.QuotedPrefix(e.Problem); err == nil && strings.HasPrefix(e.Problem[len(q):], " is not one of") {
		mode, _ := strconv.Unquote(q)
		return fmt.Sprintf("%s「%s」無效：請選擇同時分派給所有員工、輪流分派或分派給最空閒的員工。", field, mode)
	}
	return en
}

// english is the error as a sentence: "The channel name is required."
func (e *ValidationError) english() string {
	if e.Problem != "" {
		return "The " + e.Field + " " + autoreply.Sentence(e.Problem, autoreply.English)
	}
	return fmt.Sprintf("The %s is %s characters; the limit is %s.", e.Field, autoreply.FormatCount(int64(e.Length)), autoreply.FormatCount(int64(e.Limit)))
}

// fieldChinese names a field in Traditional Chinese, numbering the staff
// of a dispatch ("dispatch staff id 2" is 第 2 位指定員工的 ID).
func fieldChinese(field string) (string, bool) {
	if f, ok := fieldsChinese[field]; ok {
		return f, true
	}
	var n int
	if _, err := fmt.Sscanf(field, "dispatch staff id %d", &n); err == nil {
		return fmt.Sprintf("第 %d 位指定員工的 ID", n), true
	}
	return "", false
}

// autoReplyFieldsChinese name the fields of the auto-replies' errors.
var autoReplyFieldsChinese = map[string]string{
	"welcome text":               "歡迎訊息",
	"away text":                  "離開訊息",
	"close text":                 "關閉諮詢訊息",
	"rendered welcome text":      "歡迎訊息（填入名稱後）",
	"rendered away text":         "離開訊息（填入名稱後）",
	"rendered close text":        "關閉諮詢訊息（填入名稱後）",
	"welcome text without names": "歡迎訊息（沒有名稱時）",
	"away text without names":    "離開訊息（沒有名稱時）",
	"close text without names":   "關閉諮詢訊息（沒有名稱時）",
	"display-name format":        "顯示名稱格式",
	"auto-reply language":        "自動回應訊息的語言",
	"auto-reply kind":            "自動回應訊息的種類",
}

// autoReplyMessage explains an auto-reply setting that breaks a rule
// (CHAN-3; its text is a message, so RULE-1 holds).
func autoReplyMessage(e *autoreply.Error, lang autoreply.Language) string {
	field := autoReplyFieldsChinese[e.Field]
	zh := chinese(lang) && field != ""
	switch {
	case errors.Is(e, autoreply.ErrTooLong) && zh:
		return fmt.Sprintf("%s有 %s 個字元，上限為 %s 個字元。", field, autoreply.FormatCount(int64(e.Length)), autoreply.FormatCount(int64(e.Limit)))
	case errors.Is(e, autoreply.ErrTooLong):
		return fmt.Sprintf("The %s is %s characters; the limit is %s.", e.Field, autoreply.FormatCount(int64(e.Length)), autoreply.FormatCount(int64(e.Limit)))
	case errors.Is(e, autoreply.ErrEmpty) && zh:
		return field + "沒有內容，無法發送。"
	case errors.Is(e, autoreply.ErrEmpty):
		return "The " + e.Field + " is empty: there would be nothing to send."
	case zh:
		return field + "無效：" + autoreply.Sentence(e.Detail, autoreply.TraditionalChinese)
	}
	return "The " + autoreply.Sentence(e.Error(), autoreply.English)
}

// chinese reports whether lang asks for Traditional Chinese (see autoreply.Match).
func chinese(lang autoreply.Language) bool {
	return autoreply.Match(string(lang)) == autoreply.TraditionalChinese
}
