package main

import (
	"context"
	"errors"
	"net/http"

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
// reads, in lang (en or zh-Hant): the status and code come from the error's
// kind, the text from the SDK (enquiry.Message, which hands the errors of
// package channel to channel.Message). Errors it does not know become a 500
// whose message says nothing of the internals (the details go to the log).
func explain(err error, lang string) apiError {
	e := classify(err)
	switch e.Code {
	case "internal":
		e.Message = pickLang(lang, "Something went wrong on the server; it has been logged.", "伺服器發生錯誤，已記錄。")
	case "timeout":
		e.Message = pickLang(lang, "The request took too long.", "請求逾時。")
	default:
		e.Message = enquiry.Message(err, autoreply.Language(lang))
	}
	return e
}

// classify gives an error its status, code and rule; the message is left
// to explain.
func classify(err error) apiError {
	var (
		chErr   *enquiry.ChannelError
		send    *enquiry.SendError
		status  *channel.StatusError
		reply   *autoreply.Error
		invalid *channel.ValidationError
	)
	switch {
	case errors.Is(err, enquiry.ErrTooLong):
		return apiError{Status: http.StatusUnprocessableEntity, Code: "too_long", Rule: "RULE-1"}
	case errors.Is(err, enquiry.ErrTooLarge):
		return apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Rule: "RULE-3"}
	case errors.Is(err, enquiry.ErrServingLimit):
		return apiError{Status: http.StatusConflict, Code: "serving_limit", Rule: "RULE-4"}
	case errors.Is(err, enquiry.ErrOutsideWindow):
		return apiError{Status: http.StatusConflict, Code: "outside_window", Rule: "RULE-5"}
	case errors.Is(err, enquiry.ErrAlreadyTaken):
		return apiError{Status: http.StatusConflict, Code: "already_taken", Rule: "ENQ-2"}
	case errors.Is(err, enquiry.ErrNotHolder):
		return apiError{Status: http.StatusConflict, Code: "not_holder", Rule: "ENQ-2"}
	case errors.Is(err, enquiry.ErrClosed):
		return apiError{Status: http.StatusConflict, Code: "closed"}
	case errors.As(err, &chErr) && chErr.Status == store.ChannelPaused,
		errors.As(err, &status) && status.Status == store.ChannelPaused:
		return apiError{Status: http.StatusConflict, Code: "channel_paused", Rule: "CHAN-6"}
	case errors.As(err, &chErr),
		errors.As(err, &status) && status.Status == store.ChannelDisconnected:
		return apiError{Status: http.StatusConflict, Code: "channel_disconnected", Rule: "CONN-7"}
	case errors.As(err, &send) && send.Uncertain:
		return apiError{Status: http.StatusBadGateway, Code: "uncertain"}
	case errors.As(err, &send):
		return apiError{Status: http.StatusBadGateway, Code: "send_failed"}
	case errors.Is(err, enquiry.ErrEmpty):
		return apiError{Status: http.StatusUnprocessableEntity, Code: "empty"}
	case errors.As(err, &invalid):
		return apiError{Status: http.StatusUnprocessableEntity, Code: "invalid"}
	case errors.As(err, &reply):
		return apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Rule: "CHAN-3"}
	case errors.Is(err, channel.ErrInvalid):
		return apiError{Status: http.StatusUnprocessableEntity, Code: "invalid"}
	case errors.Is(err, channel.ErrMissingPermissions):
		return apiError{Status: http.StatusForbidden, Code: "missing_permissions", Rule: "CONN-3"}
	case errors.Is(err, channel.ErrPageAlreadyConnected):
		return apiError{Status: http.StatusConflict, Code: "page_taken", Rule: "CONN-6"}
	case errors.Is(err, enquiry.ErrUnknownStaff):
		return apiError{Status: http.StatusForbidden, Code: "unknown_staff"}
	case errors.Is(err, enquiry.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return apiError{Status: http.StatusNotFound, Code: "not_found"}
	case errors.Is(err, store.ErrConflict):
		return apiError{Status: http.StatusConflict, Code: "conflict"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return apiError{Status: http.StatusServiceUnavailable, Code: "timeout"}
	}
	return apiError{Status: http.StatusInternalServerError, Code: "internal"}
}
