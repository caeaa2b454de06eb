package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"strconv"
	"strings"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/store"
)

// apiError is what the staff API answers when it refuses something:
// a stable code for programs, the rule it enforces, and a message for the
// staff member in their language.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

// explain turns an error of the PageDesk services into what the staff member
// reads, in lang (en or zh-Hant). Errors it does not know become a 500 whose
// message says nothing of the internals (the details go to the log).
func explain(err error, lang string) apiError {
	zh := lang == langChinese
	// Settings are validated all at once: explain every problem.
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var parts []apiError
		for _, e := range j.Unwrap() {
			if e == channel.ErrInvalid {
				continue // the sentinel beside the real problem
			}
			parts = append(parts, explain(e, lang))
		}
		if len(parts) == 1 {
			return parts[0]
		}
		if len(parts) > 1 && parts[0].Code != "internal" {
			out := parts[0]
			for _, p := range parts[1:] {
				out.Message += " " + p.Message
			}
			return out
		}
	}
	pick := func(en, hant string) string {
		if zh {
			return hant
		}
		return en
	}
	var (
		tooLong  *enquiry.TooLongError
		tooLarge *enquiry.TooLargeError
		limit    *enquiry.LimitError
		window   *enquiry.WindowError
		taken    *enquiry.TakenError
		holder   *enquiry.NotHolderError
		chErr    *enquiry.ChannelError
		send     *enquiry.SendError
		invalid  *channel.ValidationError
		perms    *channel.PermissionError
		status   *channel.StatusError
		reply    *autoreply.Error
	)
	switch {
	case errors.As(err, &tooLong):
		return apiError{http.StatusUnprocessableEntity, "too_long", "RULE-1", pick(
			fmt.Sprintf("The message is %s characters; the limit is %s.", group(int64(tooLong.Chars)), group(int64(tooLong.Limit))),
			fmt.Sprintf("訊息有 %s 個字元,上限為 %s 個字元。", group(int64(tooLong.Chars)), group(int64(tooLong.Limit))))}
	case errors.As(err, &tooLarge):
		return apiError{http.StatusRequestEntityTooLarge, "too_large", "RULE-3", pick(
			fmt.Sprintf("The file %q is %s bytes; the limit is 25 MB (%s bytes).", tooLarge.Name, group(tooLarge.Size), group(tooLarge.Limit)),
			fmt.Sprintf("檔案「%s」大小為 %s 位元組,上限為 25 MB(%s 位元組)。", tooLarge.Name, group(tooLarge.Size), group(tooLarge.Limit)))}
	case errors.As(err, &limit):
		return apiError{http.StatusConflict, "serving_limit", "RULE-4", pick(
			fmt.Sprintf("Your service already serves %s visitors at once, the limit. Close an enquiry before taking another.", group(int64(limit.Limit))),
			fmt.Sprintf("貴服務已同時服務 %s 位訪客,已達上限。請先關閉一個查詢,再接手新的查詢。", group(int64(limit.Limit))))}
	case errors.As(err, &window):
		l := autoreply.English
		if zh {
			l = autoreply.TraditionalChinese
		}
		return apiError{http.StatusConflict, "outside_window", "RULE-5", window.Message(l)}
	case errors.As(err, &taken):
		return apiError{http.StatusConflict, "already_taken", "ENQ-2", pick(
			fmt.Sprintf("%s took this enquiry first.", taken.StaffID),
			fmt.Sprintf("%s 已先接手此查詢。", taken.StaffID))}
	case errors.As(err, &holder):
		if holder.Holder == "" {
			return apiError{http.StatusConflict, "not_holder", "ENQ-2", pick(
				"Take this enquiry before you reply to it.", "請先接手此查詢,才可回覆。")}
		}
		return apiError{http.StatusConflict, "not_holder", "ENQ-2", pick(
			fmt.Sprintf("This enquiry is held by %s.", holder.Holder),
			fmt.Sprintf("此查詢由 %s 負責。", holder.Holder))}
	case errors.Is(err, enquiry.ErrClosed):
		return apiError{http.StatusConflict, "closed", "", pick("This enquiry is closed.", "此查詢已關閉。")}
	case errors.As(err, &chErr) && chErr.Status == store.ChannelPaused:
		return apiError{http.StatusConflict, "channel_paused", "CHAN-6", pick(
			"This channel is paused: nothing is sent until an admin resumes it.",
			"此渠道已暫停:管理員恢復前不會發送任何訊息。")}
	case errors.As(err, &chErr):
		return apiError{http.StatusConflict, "channel_disconnected", "CONN-7", pick(
			"This channel lost its connection to the Facebook Page: an admin must connect the Page again.",
			"此渠道與 Facebook 專頁的連接已中斷:管理員須重新連接專頁。")}
	case errors.As(err, &send) && send.Uncertain:
		return apiError{http.StatusBadGateway, "uncertain", "", pick(
			"Facebook did not answer in time: the message may or may not have been delivered. It will not be sent again.",
			"Facebook 未及時回應:訊息可能已送達,也可能未送達。系統不會重新發送。")}
	case errors.As(err, &send):
		return apiError{http.StatusBadGateway, "send_failed", "", pick(
			"Facebook refused the message; it was not sent.", "Facebook 拒絕了此訊息,訊息未有發送。")}
	case errors.Is(err, enquiry.ErrEmpty):
		return apiError{http.StatusUnprocessableEntity, "empty", "", pick("There is nothing to send.", "沒有可發送的內容。")}
	case errors.As(err, &invalid):
		return apiError{http.StatusUnprocessableEntity, "invalid", "", validationText(invalid, zh)}
	case errors.As(err, &reply):
		return apiError{http.StatusUnprocessableEntity, "invalid", "CHAN-3", autoReplyText(reply, zh)}
	case errors.As(err, &status) && status.Status == store.ChannelPaused:
		return apiError{http.StatusConflict, "channel_paused", "CHAN-6", pick(
			"This channel is paused: nothing is sent until an admin resumes it.",
			"此渠道已暫停:管理員恢復前不會發送任何訊息。")}
	case errors.As(err, &status) && status.Status == store.ChannelDisconnected:
		return apiError{http.StatusConflict, "channel_disconnected", "CONN-7", pick(
			"This channel lost its connection to the Facebook Page: an admin must connect the Page again.",
			"此渠道與 Facebook 專頁的連接已中斷:管理員須重新連接專頁。")}
	case errors.Is(err, channel.ErrInvalid):
		return apiError{http.StatusUnprocessableEntity, "invalid", "", err.Error()}
	case errors.As(err, &perms):
		return apiError{http.StatusForbidden, "missing_permissions", "CONN-3", permissionsText(perms, zh)}
	case errors.Is(err, channel.ErrPageAlreadyConnected):
		return apiError{http.StatusConflict, "page_taken", "CONN-6", pick(
			"This Facebook Page is already connected to a service; disconnect it there first.",
			"此 Facebook 專頁已連接到一個服務;請先在該處中斷連接。")}
	case errors.Is(err, enquiry.ErrUnknownStaff):
		return apiError{http.StatusForbidden, "unknown_staff", "", pick("Unknown staff member.", "不明的職員。")}
	case errors.Is(err, enquiry.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return apiError{http.StatusNotFound, "not_found", "", pick("Not found.", "找不到。")}
	case errors.Is(err, store.ErrConflict):
		return apiError{http.StatusConflict, "conflict", "", pick(
			"Someone else changed this first; reload and try again.", "其他人已先作出更改;請重新載入後再試。")}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return apiError{http.StatusServiceUnavailable, "timeout", "", pick("The request took too long.", "請求逾時。")}
	}
	return apiError{http.StatusInternalServerError, "internal", "", pick(
		"Something went wrong on the server; it has been logged.", "伺服器發生錯誤,已記錄。")}
}

// autoReplyText explains an auto-reply that breaks a rule (CHAN-3; its
// text is a message, so RULE-1 holds).
func autoReplyText(e *autoreply.Error, zh bool) string {
	field := map[string]string{
		"welcome text": "歡迎訊息", "away text": "離開訊息", "close text": "結束訊息",
		"rendered welcome text": "歡迎訊息(填入名稱後)", "rendered away text": "離開訊息(填入名稱後)",
		"rendered close text": "結束訊息(填入名稱後)",
	}[e.Field]
	switch {
	case errors.Is(e, autoreply.ErrTooLong) && zh && field != "":
		return fmt.Sprintf("%s有 %s 個字元,上限為 %s 個字元。", field, group(int64(e.Length)), group(int64(e.Limit)))
	case errors.Is(e, autoreply.ErrTooLong):
		return fmt.Sprintf("The %s is %s characters; the limit is %s.", e.Field, group(int64(e.Length)), group(int64(e.Limit)))
	case zh && field != "":
		return field + "無效:" + e.Error()
	}
	return e.Error()
}

// permissionZh are the four permissions' descriptions in Traditional
// Chinese (package channel gives them in English).
var permissionZh = map[string]string{
	"pages_messaging":       "管理及存取專頁的 Messenger 對話",
	"pages_show_list":       "顯示您管理的專頁清單",
	"pages_read_engagement": "讀取專頁上發佈的內容",
	"pages_manage_metadata": "管理專頁的帳戶、設定及 Webhook",
}

// permissionsText names every permission Facebook Login did not grant and
// what it is for (CONN-3).
func permissionsText(e *channel.PermissionError, zh bool) string {
	var b strings.Builder
	for i, m := range e.Missing {
		desc := m.Description
		if zh && permissionZh[m.Name] != "" {
			desc = permissionZh[m.Name]
		}
		switch {
		case i > 0 && zh:
			b.WriteString("、")
		case i > 0:
			b.WriteString("; ")
		}
		if zh {
			fmt.Fprintf(&b, "%s(%s)", m.Name, desc)
		} else {
			fmt.Fprintf(&b, "%s (%s)", m.Name, desc)
		}
	}
	if zh {
		return "Facebook 登入未授予以下權限:" + b.String() + "。請重新登入並允許所有要求的權限。"
	}
	return "Facebook Login did not grant " + b.String() + ". Log in again and allow every permission asked for."
}

// validationText says which setting breaks which limit (CHAN-1, CHAN-5).
func validationText(v *channel.ValidationError, zh bool) string {
	field := map[string]string{"channel name": "渠道名稱", "custom info": "渠道備註"}[v.Field]
	switch {
	case v.Problem == "is required" && v.Field == "channel name":
		return pickText(zh, "The channel name is required.", "渠道名稱為必填。")
	case v.Limit == 0 || v.Problem != "" || field == "":
		return v.Error()
	case zh:
		return fmt.Sprintf("%s有 %s 個字元,上限為 %s 個字元。", field, group(int64(v.Length)), group(int64(v.Limit)))
	}
	return fmt.Sprintf("The %s is %s characters; the limit is %s.", v.Field, group(int64(v.Length)), group(int64(v.Limit)))
}

func pickText(zh bool, en, hant string) string {
	if zh {
		return hant
	}
	return en
}

// group writes n with thousands separators (2,001), as people read
// numbers in both languages.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
