package main

import (
	"net/http"
	"strings"

	"github.com/pagedesk/pagedesk/autoreply"
)

// The languages of the console and of the errors shown to staff.
const (
	langEnglish = "en"
	langChinese = "zh-Hant"
)

// requestLanguage picks the language of a request from Accept-Language
// (the console sends the language chosen in its header), or "" if it names
// neither English nor Traditional Chinese.
func requestLanguage(r *http.Request) string {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(tag)
		switch {
		case autoreply.Match(tag) == autoreply.TraditionalChinese:
			return langChinese
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			return langEnglish
		}
	}
	return ""
}

// uiStrings are the console's labels, handed to the page as JSON. The keys
// are used by ui/app.js (data-t attributes and t(...) calls).
var uiStrings = map[string]map[string]string{
	langEnglish: {
		"staff": "Staff", "language": "Language", "connect": "Connect a Page", "live": "live", "offline": "offline",
		"demoClock": "Demo clock:", "visitorEn": "Visitor writes (English)", "visitorZh": "Visitor writes (中文)",
		"advance": "+25 hours", "tabOpen": "Open", "tabTaken": "Taken", "tabClosed": "Closed",
		"empty": "No enquiries here yet.", "channels": "Channels", "diagnose": "Diagnose",
		"pick": "Pick an enquiry from the queue.", "take": "Take", "transfer": "Transfer to", "close": "Close",
		"customInfo": "Channel info for staff", "send": "Send", "sendFile": "Send a file", "long": "Paste 2,001 characters",
		"placeholder": "Reply to the visitor…", "count": "{n} / {max} characters", "visitor": "Visitor",
		"windowLeft": "reply window: {h} h {m} min left", "windowClosed": "the 24-hour window has passed",
		"status_queued": "waiting", "status_offered": "offered", "status_taken": "taken", "status_closed": "closed",
		"ch_active": "active", "ch_paused": "paused", "ch_disconnected": "disconnected", "ch_deleted": "deleted",
		"author_visitor": "Visitor", "author_staff": "Staff", "author_autoreply": "Auto-reply", "author_page_admin": "Page admin", "author_system": "System",
		"state_pending": "sending", "state_sent": "sent", "state_delivered": "delivered", "state_read": "read",
		"state_uncertain": "may not have been delivered", "state_failed": "not sent", "state_received": "received",
		"unreact":  "(reaction removed)",
		"settings": "Settings", "settingsOf": "Channel settings:", "channelName": "Channel name",
		"autoReplies": "Auto-replies", "welcome": "Welcome", "away": "Away", "closeReply": "Close",
		"nameFormat": "Name staff as", "nameNone": "no name", "nameFirst": "first name", "nameFull": "first and last name",
		"replyLanguage": "Default texts in", "defaultText": "(the default text)", "pause": "Pause", "resume": "Resume",
		"cancel": "Cancel", "save": "Save",
	},
	langChinese: {
		"staff": "職員", "language": "語言", "connect": "連接專頁", "live": "即時", "offline": "離線",
		"demoClock": "示範時鐘:", "visitorEn": "訪客留言(English)", "visitorZh": "訪客留言(中文)",
		"advance": "+25 小時", "tabOpen": "進行中", "tabTaken": "已接手", "tabClosed": "已關閉",
		"empty": "暫時沒有查詢。", "channels": "頻道", "diagnose": "診斷",
		"pick": "請從佇列中選擇一個查詢。", "take": "接手", "transfer": "轉交給", "close": "關閉",
		"customInfo": "頻道客製資訊(只供職員)", "send": "發送", "sendFile": "發送檔案", "long": "貼上 2,001 個字元",
		"placeholder": "回覆訪客…", "count": "{n} / {max} 個字元", "visitor": "訪客",
		"windowLeft": "回覆時限:尚餘 {h} 小時 {m} 分鐘", "windowClosed": "24 小時訊息發送時限已過",
		"status_queued": "等候中", "status_offered": "已派發", "status_taken": "已接手", "status_closed": "已關閉",
		"ch_active": "運作中", "ch_paused": "已暫停", "ch_disconnected": "已中斷連接", "ch_deleted": "已刪除",
		"author_visitor": "訪客", "author_staff": "職員", "author_autoreply": "自動回覆", "author_page_admin": "專頁管理員", "author_system": "系統",
		"state_pending": "發送中", "state_sent": "已發送", "state_delivered": "已送達", "state_read": "已讀",
		"state_uncertain": "可能未送達", "state_failed": "未能發送", "state_received": "已收到",
		"unreact":  "(已移除心情)",
		"settings": "設定", "settingsOf": "頻道設定:", "channelName": "頻道名稱",
		"autoReplies": "自動回覆", "welcome": "歡迎訊息", "away": "離開訊息", "closeReply": "結束訊息",
		"nameFormat": "職員稱呼", "nameNone": "不顯示名稱", "nameFirst": "名字", "nameFull": "名字及姓氏",
		"replyLanguage": "預設文字語言", "defaultText": "(預設文字)", "pause": "暫停", "resume": "恢復",
		"cancel": "取消", "save": "儲存",
	},
}
