package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// The staff JSON API. Every call names its staff member in X-Staff-ID and
// its language in Accept-Language (en or zh-Hant); refusals come back as
// {"error": {"code", "rule", "message"}} with the message in that language.
func (s *server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/me", s.staffOnly(s.apiMe))
	mux.HandleFunc("GET /api/channels", s.staffOnly(s.apiChannels))
	mux.HandleFunc("GET /api/channels/{id}", s.staffOnly(s.apiChannel))
	mux.HandleFunc("PUT /api/channels/{id}", s.staffOnly(s.apiUpdateChannel))
	mux.HandleFunc("POST /api/channels/{id}/pause", s.staffOnly(s.apiPauseChannel))
	mux.HandleFunc("POST /api/channels/{id}/resume", s.staffOnly(s.apiResumeChannel))
	mux.HandleFunc("POST /api/channels/{id}/diagnose", s.staffOnly(s.apiDiagnose))
	mux.HandleFunc("GET /api/enquiries", s.staffOnly(s.apiEnquiries))
	mux.HandleFunc("GET /api/enquiries/{id}", s.staffOnly(s.apiEnquiry))
	mux.HandleFunc("POST /api/enquiries/{id}/take", s.staffOnly(s.apiTake))
	mux.HandleFunc("POST /api/enquiries/{id}/reply", s.staffOnly(s.apiReply))
	mux.HandleFunc("POST /api/enquiries/{id}/file", s.staffOnly(s.apiFile))
	mux.HandleFunc("POST /api/enquiries/{id}/transfer", s.staffOnly(s.apiTransfer))
	mux.HandleFunc("POST /api/enquiries/{id}/close", s.staffOnly(s.apiClose))
}

// staffHandler is an API handler that knows who is calling.
type staffHandler func(w http.ResponseWriter, r *http.Request, who staffMember)

// staffOnly resolves the caller from X-Staff-ID. This example trusts the
// header; a real backend replaces authStaff with its own sign-in (a session
// cookie, an identity proxy) and keeps the rest.
func (s *server) staffOnly(h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := s.authStaff(r)
		if !ok {
			s.fail(w, r, apiError{Status: http.StatusUnauthorized, Code: "unknown_staff",
				Message: pickLang(s.language(r), "Choose a staff member (X-Staff-ID).", "請選擇職員(X-Staff-ID)。")})
			return
		}
		h(w, r, who)
	}
}

func (s *server) authStaff(r *http.Request) (staffMember, bool) {
	m, ok := s.staff[r.Header.Get("X-Staff-ID")]
	return m, ok
}

// language is the language of the errors and labels a request gets: the
// one it asks for, else its staff member's, else English.
func (s *server) language(r *http.Request) string {
	if l := requestLanguage(r); l != "" {
		return l
	}
	if m, ok := s.authStaff(r); ok {
		return m.Language
	}
	return langEnglish
}

func pickLang(lang, en, hant string) string {
	if lang == langChinese {
		return hant
	}
	return en
}

// The JSON shapes of the API.
type (
	channelJSON struct {
		ID               string         `json:"id"`
		PageID           string         `json:"page_id"`
		PageName         string         `json:"page_name"`
		Name             string         `json:"name"`
		Status           string         `json:"status"`
		DisconnectReason string         `json:"disconnect_reason,omitempty"`
		Dispatch         dispatchJSON   `json:"dispatch"`
		AutoReply        autoReplyJSON  `json:"auto_reply"`
		CustomInfo       customInfoJSON `json:"custom_info"`
		HumanAgent       bool           `json:"human_agent"`
		LastWebhookAt    time.Time      `json:"last_webhook_at,omitzero"`
		Version          int64          `json:"version"`
	}
	dispatchJSON struct {
		Mode     string   `json:"mode"`
		Group    string   `json:"group,omitempty"`
		StaffIDs []string `json:"staff_ids,omitempty"`
	}
	autoReplyJSON struct {
		Welcome    replyJSON `json:"welcome"`
		Away       replyJSON `json:"away"`
		Close      replyJSON `json:"close"`
		NameFormat string    `json:"name_format"`
		Language   string    `json:"language"`
	}
	replyJSON struct {
		On   bool   `json:"on"`
		Text string `json:"text"` // empty: the default text
		// Default is the SDK's text in the channel's language, shown when
		// Text is empty (read only).
		Default string `json:"default,omitempty"`
	}
	customInfoJSON struct {
		On   bool   `json:"on"`
		Text string `json:"text"`
	}
	visitorJSON struct {
		FirstName  string `json:"first_name,omitempty"`
		LastName   string `json:"last_name,omitempty"`
		ProfilePic string `json:"profile_pic,omitempty"`
	}
	enquiryJSON struct {
		ID             string      `json:"id"`
		ChannelID      string      `json:"channel_id"`
		ChannelName    string      `json:"channel_name,omitempty"`
		PSID           string      `json:"psid"`
		Visitor        visitorJSON `json:"visitor"`
		Status         string      `json:"status"`
		StaffID        string      `json:"staff_id,omitempty"`
		OfferedTo      []string    `json:"offered_to,omitempty"`
		OpenedAt       time.Time   `json:"opened_at"`
		TakenAt        time.Time   `json:"taken_at,omitzero"`
		ClosedAt       time.Time   `json:"closed_at,omitzero"`
		LastInboundAt  time.Time   `json:"last_inbound_at,omitzero"`
		LastOutboundAt time.Time   `json:"last_outbound_at,omitzero"`
		WindowEndsAt   time.Time   `json:"window_ends_at,omitzero"`
		Preview        string      `json:"preview,omitempty"`
	}
	attachmentJSON struct {
		Type string `json:"type"`
		URL  string `json:"url,omitempty"`
		Name string `json:"name,omitempty"`
		Size int64  `json:"size,omitempty"`
	}
	messageJSON struct {
		ID          string           `json:"id"`
		Kind        string           `json:"kind"`
		Direction   string           `json:"direction"`
		Author      string           `json:"author"`
		StaffID     string           `json:"staff_id,omitempty"`
		Text        string           `json:"text,omitempty"`
		Attachments []attachmentJSON `json:"attachments,omitempty"`
		Payload     string           `json:"payload,omitempty"`
		Reaction    string           `json:"reaction,omitempty"`
		State       string           `json:"state"`
		Error       string           `json:"error,omitempty"`
		CreatedAt   time.Time        `json:"created_at"`
	}
)

func toChannelJSON(c *store.Channel) channelJSON {
	a := c.AutoReply
	return channelJSON{
		ID: c.ID, PageID: c.PageID, PageName: c.PageName, Name: c.Name, Status: string(c.Status),
		DisconnectReason: c.DisconnectReason,
		Dispatch:         dispatchJSON{Mode: string(c.Dispatch.Mode), Group: c.Dispatch.Group, StaffIDs: c.Dispatch.StaffIDs},
		AutoReply: autoReplyJSON{
			Welcome:    replyJSON{On: a.Welcome.On, Text: a.Welcome.Text, Default: autoreply.Default(autoreply.Welcome, a.Language)},
			Away:       replyJSON{On: a.Away.On, Text: a.Away.Text, Default: autoreply.Default(autoreply.Away, a.Language)},
			Close:      replyJSON{On: a.Close.On, Text: a.Close.Text, Default: autoreply.Default(autoreply.Close, a.Language)},
			NameFormat: string(a.NameFormat), Language: string(a.Language),
		},
		CustomInfo: customInfoJSON(c.CustomInfo), HumanAgent: c.HumanAgent,
		LastWebhookAt: c.LastWebhookAt, Version: c.Version,
	}
}

func toEnquiryJSON(e *store.Enquiry) enquiryJSON {
	j := enquiryJSON{
		ID: e.ID, ChannelID: e.ChannelID, PSID: e.PSID, Status: string(e.Status), StaffID: e.StaffID,
		OfferedTo: e.OfferedTo, OpenedAt: e.OpenedAt, TakenAt: e.TakenAt, ClosedAt: e.ClosedAt,
		LastInboundAt: e.LastInboundAt, LastOutboundAt: e.LastOutboundAt,
	}
	if !e.LastInboundAt.IsZero() {
		j.WindowEndsAt = e.LastInboundAt.Add(enquiry.Window)
	}
	return j
}

func toMessageJSON(m *store.Message) messageJSON {
	j := messageJSON{
		ID: m.ID, Kind: string(m.Kind), Direction: string(m.Direction), Author: string(m.Author),
		StaffID: m.StaffID, Text: m.Text, Payload: m.Payload, Reaction: m.Reaction,
		State: string(m.State), Error: m.Error, CreatedAt: m.CreatedAt,
	}
	for _, a := range m.Attachments {
		j.Attachments = append(j.Attachments, attachmentJSON{Type: a.Type, URL: a.URL, Name: a.Name, Size: a.Size})
	}
	return j
}

func (s *server) apiMe(w http.ResponseWriter, r *http.Request, who staffMember) {
	s.ok(w, map[string]any{"staff": who, "now": s.clock.Now()})
}

func (s *server) apiChannels(w http.ResponseWriter, r *http.Request, _ staffMember) {
	out := []channelJSON{}
	for c, err := range store.All(r.Context(), func(ctx context.Context, o store.ListOptions) (store.Page[store.Channel], error) {
		return s.store.ListChannels(ctx, s.cfg.ServiceID, o)
	}) {
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		out = append(out, toChannelJSON(&c))
	}
	s.ok(w, map[string]any{"channels": out})
}

// serviceChannel returns a channel of this service.
func (s *server) serviceChannel(ctx context.Context, id string) (*store.Channel, error) {
	c, err := s.store.Channel(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.ServiceID != s.cfg.ServiceID || c.Status == store.ChannelDeleted {
		return nil, store.ErrNotFound
	}
	return c, nil
}

func (s *server) apiChannel(w http.ResponseWriter, r *http.Request, _ staffMember) {
	c, err := s.serviceChannel(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, toChannelJSON(c))
}

// maxListed caps one queue listing: a console shows the oldest first, and
// a queue longer than this is a staffing problem, not a paging one.
const maxListed = 200

func (s *server) apiEnquiries(w http.ResponseWriter, r *http.Request, _ staffMember) {
	status := store.EnquiryStatus(r.URL.Query().Get("status"))
	switch status {
	case "", store.EnquiryQueued, store.EnquiryOffered, store.EnquiryTaken, store.EnquiryClosed:
	default:
		s.fail(w, r, apiError{Status: http.StatusBadRequest, Code: "bad_status",
			Message: fmt.Sprintf("status %q is none of queued, offered, taken, closed", status)})
		return
	}
	ctx := r.Context()
	var list []store.Enquiry
	for e, err := range s.desk.Enquiries(ctx, s.cfg.ServiceID, status) {
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		list = append(list, e)
		if status != store.EnquiryClosed && len(list) == maxListed {
			break
		}
	}
	if status == store.EnquiryClosed {
		// The most recently opened first: what a staff member looks for.
		list = list[max(0, len(list)-maxListed):]
		slices.Reverse(list)
	}
	// Two reads per enquiry (the visitor, the opening message): fine for a
	// queue of a few hundred; a busy centre would keep a summary table, or
	// cache visitors, instead.
	names := map[string]string{} // channel id -> name
	out := make([]enquiryJSON, 0, len(list))
	for i := range list {
		e := &list[i]
		j := toEnquiryJSON(e)
		if _, ok := names[e.ChannelID]; !ok {
			if c, err := s.store.Channel(ctx, e.ChannelID); err == nil {
				names[e.ChannelID] = c.Name
			}
		}
		j.ChannelName = names[e.ChannelID]
		if v, err := s.store.Visitor(ctx, e.ChannelID, e.PSID); err == nil {
			j.Visitor = visitorJSON{FirstName: v.FirstName, LastName: v.LastName, ProfilePic: v.ProfilePic}
		}
		// The visitor's opening message is the enquiry's subject line.
		if p, err := s.store.ListMessages(ctx, e.ID, store.ListOptions{Limit: 1}); err == nil && len(p.Items) > 0 {
			j.Preview = preview(&p.Items[0])
		}
		out = append(out, j)
	}
	s.ok(w, map[string]any{"now": s.clock.Now(), "enquiries": out})
}

// preview is a one-line summary of a message, at most 80 characters.
func preview(m *store.Message) string {
	t := m.Text
	if t == "" && len(m.Attachments) > 0 {
		t = "[" + m.Attachments[0].Type + "]"
	}
	if r := []rune(t); len(r) > 80 {
		t = string(r[:79]) + "…"
	}
	return t
}

func (s *server) apiEnquiry(w http.ResponseWriter, r *http.Request, _ staffMember) {
	v, err := s.desk.View(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if v.Enquiry.ServiceID != s.cfg.ServiceID {
		s.failErr(w, r, store.ErrNotFound)
		return
	}
	e := toEnquiryJSON(&v.Enquiry)
	e.ChannelName = v.Channel.Name
	e.Visitor = visitorJSON{FirstName: v.Visitor.FirstName, LastName: v.Visitor.LastName, ProfilePic: v.Visitor.ProfilePic}
	if !v.ReplyBy.IsZero() {
		e.WindowEndsAt = v.ReplyBy
		if v.HumanAgentReplyBy.After(v.ReplyBy) {
			e.WindowEndsAt = v.HumanAgentReplyBy
		}
	}
	msgs := make([]messageJSON, 0, len(v.Messages))
	for i := range v.Messages {
		msgs = append(msgs, toMessageJSON(&v.Messages[i]))
	}
	s.ok(w, map[string]any{
		"now":            s.clock.Now(),
		"enquiry":        e,
		"messages":       msgs,
		"custom_info":    v.CustomInfo,
		"channel_status": v.Channel.Status,
		"can_reply":      v.CanReply(s.clock.Now()),
	})
}

// ownEnquiry checks that an enquiry id is of this service, so that staff of
// one service never act on another's enquiries.
func (s *server) ownEnquiry(ctx context.Context, id string) error {
	e, err := s.store.Enquiry(ctx, id)
	if err != nil {
		return err
	}
	if e.ServiceID != s.cfg.ServiceID {
		return store.ErrNotFound
	}
	return nil
}

func (s *server) apiTake(w http.ResponseWriter, r *http.Request, who staffMember) {
	id := r.PathValue("id")
	if err := s.ownEnquiry(r.Context(), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	e, err := s.desk.Take(r.Context(), id, who.ID)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, toEnquiryJSON(e))
}

// maxReplyBody bounds a reply's JSON body: a little over what 2,000
// characters can take, so that RULE-1 is judged by the enquiry service
// (with both counts) and not cut short here.
const maxReplyBody = 64 << 10

func (s *server) apiReply(w http.ResponseWriter, r *http.Request, who staffMember) {
	var body struct {
		Text string `json:"text"`
	}
	if !s.decode(w, r, &body, maxReplyBody) {
		return
	}
	id := r.PathValue("id")
	if err := s.ownEnquiry(r.Context(), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	m, err := s.desk.Reply(r.Context(), id, who.ID, body.Text)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, toMessageJSON(m))
}

// apiFile sends a file: POST /api/enquiries/{id}/file with the file as the
// body, its MIME type as Content-Type, its length as Content-Length and its
// name, URL-encoded, in X-File-Name. RULE-3 is judged from the declared
// length before a byte of the body is read, so a 30 MB file is refused at
// once; the body is then cut off at the declared length.
func (s *server) apiFile(w http.ResponseWriter, r *http.Request, who staffMember) {
	lang := s.language(r)
	if r.ContentLength < 0 {
		s.fail(w, r, apiError{Status: http.StatusLengthRequired, Code: "length_required",
			Message: pickLang(lang, "Send the file with its Content-Length.", "請連同 Content-Length 發送檔案。")})
		return
	}
	name, err := url.QueryUnescape(r.Header.Get("X-File-Name"))
	if err != nil || name == "" {
		name = "file"
	}
	id := r.PathValue("id")
	if err := s.ownEnquiry(r.Context(), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	m, err := s.desk.ReplyFile(r.Context(), id, who.ID, enquiry.File{
		Name:        name,
		ContentType: r.Header.Get("Content-Type"),
		Size:        r.ContentLength,
		Body:        http.MaxBytesReader(w, r.Body, messenger.MaxFileBytes+1),
	})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, toMessageJSON(m))
}

func (s *server) apiTransfer(w http.ResponseWriter, r *http.Request, who staffMember) {
	var body struct {
		To string `json:"to"`
	}
	if !s.decode(w, r, &body, 4<<10) {
		return
	}
	id := r.PathValue("id")
	if err := s.ownEnquiry(r.Context(), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	e, err := s.desk.Transfer(r.Context(), id, who.ID, body.To)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, toEnquiryJSON(e))
}

func (s *server) apiClose(w http.ResponseWriter, r *http.Request, who staffMember) {
	id := r.PathValue("id")
	if err := s.ownEnquiry(r.Context(), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	e, err := s.desk.Close(r.Context(), id, who.ID)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, toEnquiryJSON(e))
}

// decode reads a JSON body of at most limit bytes into v.
func (s *server) decode(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.fail(w, r, apiError{Status: http.StatusBadRequest, Code: "bad_request",
			Message: pickLang(s.language(r), "The request body is not valid JSON for this call: ", "請求內容不是此操作可接受的 JSON:") + err.Error()})
		return false
	}
	return true
}

func (s *server) ok(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Warn("write response", "err", err)
	}
}

// failErr answers with what err means for the staff member, and logs the
// errors that are the server's fault.
func (s *server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	e := explain(err, s.language(r))
	if e.Status >= 500 && !errors.Is(err, context.Canceled) {
		s.log.ErrorContext(r.Context(), "api", "path", r.URL.Path, "err", err)
	}
	s.fail(w, r, e)
}

func (s *server) fail(w http.ResponseWriter, _ *http.Request, e apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]apiError{"error": e})
}

// settingsJSON is what an admin may change of a channel (CHAN-1..5), with
// the version they read, for the optimistic update.
type settingsJSON struct {
	Version    int64          `json:"version"`
	Name       string         `json:"name"`
	Dispatch   dispatchJSON   `json:"dispatch"`
	AutoReply  autoReplyJSON  `json:"auto_reply"`
	CustomInfo customInfoJSON `json:"custom_info"`
	HumanAgent bool           `json:"human_agent"`
}

// apiUpdateChannel replaces a channel's settings: PUT /api/channels/{id}
// with the channel's JSON as read (version included). A stale version gets
// 409 and nothing is written.
func (s *server) apiUpdateChannel(w http.ResponseWriter, r *http.Request, _ staffMember) {
	var b settingsJSON
	if !s.decodeLoose(w, r, &b, 64<<10) {
		return
	}
	set := channel.Settings{
		Name: b.Name,
		Dispatch: store.Dispatch{Mode: store.DispatchMode(b.Dispatch.Mode), Group: b.Dispatch.Group,
			StaffIDs: b.Dispatch.StaffIDs},
		AutoReply: autoreply.Settings{
			Welcome:    autoreply.Message{On: b.AutoReply.Welcome.On, Text: b.AutoReply.Welcome.Text},
			Away:       autoreply.Message{On: b.AutoReply.Away.On, Text: b.AutoReply.Away.Text},
			Close:      autoreply.Message{On: b.AutoReply.Close.On, Text: b.AutoReply.Close.Text},
			NameFormat: autoreply.NameFormat(b.AutoReply.NameFormat),
			Language:   autoreply.Language(b.AutoReply.Language),
		},
		CustomInfo: store.CustomInfo(b.CustomInfo),
		HumanAgent: b.HumanAgent,
	}
	c, err := s.channels.Update(r.Context(), s.cfg.ServiceID, r.PathValue("id"), b.Version, set)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, toChannelJSON(c))
}

func (s *server) apiPauseChannel(w http.ResponseWriter, r *http.Request, _ staffMember) {
	c, err := s.channels.Pause(r.Context(), s.cfg.ServiceID, r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, toChannelJSON(c))
}

func (s *server) apiResumeChannel(w http.ResponseWriter, r *http.Request, _ staffMember) {
	c, err := s.channels.Resume(r.Context(), s.cfg.ServiceID, r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, toChannelJSON(c))
}

type checkJSON struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Hint   string `json:"hint,omitempty"`
}

// apiDiagnose runs the channel's diagnosis (CONN-8): token, permissions,
// webhook subscription, last webhook.
func (s *server) apiDiagnose(w http.ResponseWriter, r *http.Request, _ staffMember) {
	rep, err := s.channels.Diagnose(r.Context(), s.cfg.ServiceID, r.PathValue("id"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	checks := make([]checkJSON, 0, len(rep.Checks))
	for _, c := range rep.Checks {
		checks = append(checks, checkJSON(c))
	}
	s.ok(w, map[string]any{"ok": rep.OK(), "at": rep.At, "disconnected": rep.Disconnected, "checks": checks})
}

// decodeLoose is decode without the unknown-field check, so that a client
// can send back the channel JSON it read (with its read-only fields).
func (s *server) decodeLoose(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(v); err != nil {
		s.fail(w, r, apiError{Status: http.StatusBadRequest, Code: "bad_request",
			Message: pickLang(s.language(r), "The request body is not valid JSON for this call: ", "請求內容不是此操作可接受的 JSON:") + err.Error()})
		return false
	}
	return true
}
