package enquiry

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// Message returns what a staff member should read about err, in lang:
// Traditional Chinese for autoreply.TraditionalChinese (or a tag such as
// "zh-TW", "zh-HK" or "zh-Hant-HK"), English for any other language.
//
// It finds the typed errors of this package with errors.As and uses their
// Message method, then the plain sentinels (ErrEmpty, ErrClosed,
// ErrNotFound, ...) with errors.Is. An error of package channel is
// explained by [channel.Message], which falls back to err.Error() for an
// error it does not know: such a text is English and may name internals, so
// a host that must not show those should check the error first.
func Message(err error, lang autoreply.Language) string {
	if err == nil {
		return ""
	}
	var (
		tooLong  *TooLongError
		tooLarge *TooLargeError
		limit    *LimitError
		window   *WindowError
		taken    *TakenError
		holder   *NotHolderError
		chErr    *ChannelError
		send     *SendError
	)
	switch {
	case errors.As(err, &tooLong):
		return tooLong.Message(lang)
	case errors.As(err, &tooLarge):
		return tooLarge.Message(lang)
	case errors.As(err, &limit):
		return limit.Message(lang)
	case errors.As(err, &window):
		return window.Message(lang)
	case errors.As(err, &taken):
		return taken.Message(lang)
	case errors.As(err, &holder):
		return holder.Message(lang)
	case errors.As(err, &chErr):
		return chErr.Message(lang)
	case errors.As(err, &send):
		return send.Message(lang)
	}
	switch {
	case errors.Is(err, ErrChannelPaused):
		return (&ChannelError{Status: store.ChannelPaused}).Message(lang)
	case errors.Is(err, ErrChannelDisconnected):
		return (&ChannelError{Status: store.ChannelDisconnected}).Message(lang)
	}
	for _, s := range sentinelTexts {
		if errors.Is(err, s.err) || (s.alt != nil && errors.Is(err, s.alt)) {
			return lang.Pick(s.en, s.zh)
		}
	}
	return channel.Message(err, lang)
}

// sentinelTexts explain the sentinels met without their typed error, in
// the order Message tries them. alt is the same meaning in another
// package.
var sentinelTexts = []struct {
	err, alt error
	en, zh   string
}{
	{ErrTooLong, messenger.ErrTooLong,
		"The message is over 2,000 characters.",
		"訊息超過 2,000 個字元。"},
	{ErrTooLarge, messenger.ErrTooLarge,
		"The file is over 25 MB.",
		"檔案超過 25 MB。"},
	{ErrServingLimit, store.ErrLimit,
		"Your service already serves as many visitors at once as it may. Close an enquiry before taking another.",
		"貴服務同時服務的訪客已達上限。請先關閉一個查詢，再接手新的查詢。"},
	{ErrOutsideWindow, messenger.ErrOutsideWindow, WindowTextEnglish, WindowTextTraditionalChinese},
	{ErrAlreadyTaken, store.ErrAlreadyTaken,
		"Another staff member took this enquiry first.",
		"其他員工已先接手此查詢。"},
	{ErrNotHolder, nil,
		"You do not hold this enquiry.",
		"此查詢並非由您負責。"},
	{ErrUncertain, messenger.ErrMaybeDelivered, uncertainEnglish, uncertainChinese},
	{ErrSendFailed, nil, failedEnglish, failedChinese},
	{ErrEmpty, nil,
		"There is nothing to send.",
		"沒有可發送的內容。"},
	{ErrClosed, store.ErrClosed,
		"This enquiry is closed.",
		"此查詢已關閉。"},
	{ErrUnknownStaff, nil,
		"Unknown staff member.",
		"不明的員工。"},
	{ErrNotFound, nil,
		"The enquiry or channel was not found.",
		"找不到此查詢或頻道。"},
}

// The texts shared by a typed error and its sentinel.
const (
	uncertainEnglish = "Facebook did not answer in time: the message may have been delivered. It will not be sent again."
	uncertainChinese = "Facebook 未及時回應：訊息可能已送達，系統不會重新發送。"
	failedEnglish    = "The message was not sent: Facebook refused it."
	failedChinese    = "訊息未能發送：Facebook 拒絕了此訊息。"
)

// Message says in lang how long the message is and what the limit is
// (RULE-1), in characters: English, or Traditional Chinese for
// autoreply.TraditionalChinese and the tags Message accepts.
func (e *TooLongError) Message(lang autoreply.Language) string {
	if chinese(lang) {
		return fmt.Sprintf("訊息有 %s 個字元，上限為 %s 個字元。", autoreply.FormatCount(int64(e.Chars)), autoreply.FormatCount(int64(e.Limit)))
	}
	return fmt.Sprintf("The message is %s characters; the limit is %s.", autoreply.FormatCount(int64(e.Chars)), autoreply.FormatCount(int64(e.Limit)))
}

// Message says in lang how large the file is and what the limit is
// (RULE-3), in MB of 1,000,000 bytes, as the limit is documented.
func (e *TooLargeError) Message(lang autoreply.Language) string {
	size, limit := megabytes(e.Size, e.Limit), megabytes(e.Limit, 0)
	switch {
	case chinese(lang) && e.Name == "":
		return fmt.Sprintf("檔案大小為 %s MB，上限為 %s MB。", size, limit)
	case chinese(lang):
		return fmt.Sprintf("檔案「%s」大小為 %s MB，上限為 %s MB。", e.Name, size, limit)
	case e.Name == "":
		return fmt.Sprintf("The file is %s MB; the limit is %s MB.", size, limit)
	}
	return fmt.Sprintf("The file %q is %s MB; the limit is %s MB.", e.Name, size, limit)
}

// megabytes writes n bytes in MB (10^6 bytes) with one decimal, or with
// every decimal needed when one would not show n to be over limit
// (25,000,001 bytes is 25.000001 MB, not 25.0 MB); limit 0 means none.
func megabytes(n, limit int64) string {
	mb := float64(n) / 1e6
	s := strconv.FormatFloat(mb, 'f', 1, 64)
	if n == n/1e6*1e6 {
		s = autoreply.FormatCount(n / 1e6) // a whole number of MB: 25, not 25.0
	}
	if limit > 0 && n > limit {
		if r, _ := strconv.ParseFloat(s, 64); r*1e6 <= float64(limit) {
			s = strconv.FormatFloat(mb, 'f', -1, 64)
		}
	}
	return s
}

// Message says in lang that the service serves its limit of visitors at
// once (RULE-4) and what to do about it.
func (e *LimitError) Message(lang autoreply.Language) string {
	if chinese(lang) {
		return fmt.Sprintf("貴服務已同時服務 %s 位訪客，已達上限。請先關閉一個查詢，再接手新的查詢。", autoreply.FormatCount(int64(e.Limit)))
	}
	return fmt.Sprintf("Your service already serves %s visitors at once, the limit. Close an enquiry before taking another.", autoreply.FormatCount(int64(e.Limit)))
}

// Message says in lang who took the enquiry first (ENQ-2).
func (e *TakenError) Message(lang autoreply.Language) string {
	switch {
	case e.StaffID == "" && chinese(lang):
		return "其他員工已先接手此查詢。"
	case e.StaffID == "":
		return "Another staff member took this enquiry first."
	case chinese(lang):
		return e.StaffID + " 已先接手此查詢。"
	}
	return e.StaffID + " took this enquiry first."
}

// Message says in lang who holds the enquiry, or that nobody took it yet.
func (e *NotHolderError) Message(lang autoreply.Language) string {
	switch {
	case e.Holder == "" && chinese(lang):
		return "此查詢尚未有人接手：請先接手。"
	case e.Holder == "":
		return "Nobody has taken this enquiry yet: take it first."
	case chinese(lang):
		return "此查詢由 " + e.Holder + " 負責。"
	}
	return "This enquiry is held by " + e.Holder + "."
}

// Message says in lang why nothing can be sent through the channel and
// who can change that, with the recorded reason of a disconnection as it
// was written (the SDK writes its reasons in English).
func (e *ChannelError) Message(lang autoreply.Language) string {
	// Package channel words a channel that cannot send; staff read the same.
	return (&channel.StatusError{ChannelID: e.ChannelID, Status: e.Status, Reason: e.Reason}).Message(lang)
}

// Message says in lang that the send failed, or that it may have been
// delivered and will not be sent again.
func (e *SendError) Message(lang autoreply.Language) string {
	if e.Uncertain {
		return lang.Pick(uncertainEnglish, uncertainChinese)
	}
	return lang.Pick(failedEnglish, failedChinese)
}

// chinese reports whether lang asks for Traditional Chinese (see autoreply.Match).
func chinese(lang autoreply.Language) bool {
	return autoreply.Match(string(lang)) == autoreply.TraditionalChinese
}
