package messengertest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/pagedesk/pagedesk/messenger"
)

// Fixed credentials of the fake app.
const (
	AppID     = "100000000000001"
	AppSecret = "messengertest-app-secret"
)

// Version is the Graph API version the fake serves.
const Version = messenger.DefaultVersion

// Server is a fake Graph API for tests: the Send API, attachment upload,
// profiles, webhook subscriptions, Facebook Login's token exchange,
// /me/accounts, /me/permissions, /debug_token and the ID matching API
// (/{app-scoped-user-id}/ids_for_pages), under /v25.0. It checks
// the access token (Authorization: Bearer, or access_token) and, unless
// turned off, appsecret_proof, and records every request. It is safe for
// concurrent use; everything it knows is set through its methods.
type Server struct {
	// URL is the base URL, for messenger.Config.BaseURL.
	URL string
	// AppID and AppSecret are the fake app's credentials.
	AppID, AppSecret string

	srv       *httptest.Server
	closing   chan struct{}
	closeOnce sync.Once

	mu           sync.Mutex
	pages        map[string]*fakePage
	users        map[string]*fakeUser
	tokens       map[string]tokenRef
	codes        map[string]string // OAuth code -> user id
	usedCodes    map[string]bool
	profiles     map[string]messenger.Profile
	attachments  map[string]Uploaded
	unavailable  map[string]bool
	debug        map[string]messenger.TokenInfo
	idsForPages  map[string][]pageScopedID // app-scoped user id -> PSIDs, in the order added
	requests     []Request
	sent         []SentMessage
	actions      []SentAction
	faults       []fault
	onSend       []func(SentMessage)
	onRequest    []func(Request)
	usage        http.Header
	requireProof bool
	pageSize     int
	seq          int
}

type fault struct {
	kind  string // "fail", "stall", "drop"
	graph GraphError
}

type fakePage struct {
	id, name, category, token string
	owner                     string // user id, if added through AddUser
	revoked                   int    // 190 subcode once revoked; 0 while valid
	subscribed                []string
}

type pageScopedID struct{ pageID, psid string }

type fakeUser struct {
	User
	revoked bool
}

type tokenRef struct {
	kind string // "page", "user", "short"
	id   string
}

// User is a Facebook user known to the fake: their long-lived token, an
// OAuth code that Facebook Login would hand the app, their permissions
// and the Pages they manage.
type User struct {
	ID   string
	Name string
	// Token is the long-lived user token (what ExchangeLongLived returns).
	Token string
	// Code is an OAuth code: /oauth/access_token exchanges it (once) for
	// ShortLivedToken.
	Code string
	// ShortLivedToken is what Code gives; empty means "short-" + Token.
	ShortLivedToken string
	// Permissions maps a permission to "granted", "declined" or "expired".
	Permissions map[string]string
	// Pages the user manages, each with its Page access token and the
	// user's tasks; they are added as by AddPage.
	Pages []messenger.Account
}

// GraphError is an error the fake answers with, as Facebook would.
type GraphError struct {
	HTTPStatus int // zero means 500 for codes 1 and 2, else 400
	Code       int
	Subcode    int
	Type       string // zero means "OAuthException"
	Message    string // zero means a message naming the code
	UserTitle  string
	UserMsg    string
	// RetryAfter, if positive, is sent as the Retry-After header.
	RetryAfter time.Duration
	// Transient sets is_transient.
	Transient bool
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string // with the version, e.g. /v25.0/123/messages
	Query  url.Values
	Header http.Header
	Body   []byte
	// Token is the access token the request carried (header or
	// parameter), AppSecretProof its appsecret_proof.
	Token          string
	AppSecretProof string
}

// SentMessage is a message a Page sent through the fake.
type SentMessage struct {
	PageID        string
	RecipientID   string
	MessageID     string
	MessagingType string
	Tag           string
	Text          string
	Metadata      string
	Attachment    *SentAttachment
	QuickReplies  []messenger.QuickReply
}

// SentAttachment is the attachment of a SentMessage.
type SentAttachment struct {
	Type     string
	URL      string
	ID       string // attachment_id, when sent by id
	Reusable bool
}

// SentAction is a sender action a Page sent.
type SentAction struct {
	PageID, RecipientID, Action string
}

// Uploaded is a file uploaded to /{page-id}/message_attachments.
type Uploaded struct {
	ID, PageID, Type, Filename, ContentType string
	Data                                    []byte
}

// NewServer starts a fake Graph API, closed by t.Cleanup.
func NewServer(t testing.TB) *Server {
	s := New()
	t.Cleanup(s.Close)
	return s
}

// New starts a fake Graph API outside a test (a demo, an Example); Close
// stops it. In tests, NewServer closes it for you.
func New() *Server {
	s := &Server{
		AppID: AppID, AppSecret: AppSecret,
		closing:      make(chan struct{}),
		pages:        map[string]*fakePage{},
		users:        map[string]*fakeUser{},
		tokens:       map[string]tokenRef{},
		codes:        map[string]string{},
		usedCodes:    map[string]bool{},
		profiles:     map[string]messenger.Profile{},
		attachments:  map[string]Uploaded{},
		unavailable:  map[string]bool{},
		debug:        map[string]messenger.TokenInfo{},
		idsForPages:  map[string][]pageScopedID{},
		usage:        http.Header{},
		requireProof: true,
		pageSize:     25,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close releases stalled calls and stops the server. It may be called
// more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.srv.Close()
}

// Config is a messenger.Config for the fake: its URL, app id and secret,
// its HTTP client, no rate limit and no retries (so that each FailNext
// fails exactly one call). Change what you need and call messenger.New.
func (s *Server) Config() messenger.Config {
	return messenger.Config{
		AppID: s.AppID, AppSecret: s.AppSecret, BaseURL: s.URL,
		HTTPClient: s.srv.Client(), RateLimit: rate.Inf,
		Retry: messenger.RetryPolicy{MaxAttempts: 1},
	}
}

// Client is a messenger.Client made from Config.
func (s *Server) Client(t testing.TB) *messenger.Client {
	t.Helper()
	c, err := messenger.New(s.Config())
	if err != nil {
		t.Fatalf("messengertest: %v", err)
	}
	return c
}

// AddPage adds a Page with its Page access token, or updates its name and
// token (the old token stops working). A revoked Page becomes valid again.
func (s *Server) AddPage(pageID, name, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addPage(messenger.Account{ID: pageID, Name: name, AccessToken: token, Category: "Business"}, "")
}

func (s *Server) addPage(a messenger.Account, owner string) {
	p, ok := s.pages[a.ID]
	if !ok {
		p = &fakePage{id: a.ID}
		s.pages[a.ID] = p
	}
	if p.token != "" && p.token != a.AccessToken {
		delete(s.tokens, p.token)
	}
	p.name, p.category, p.token, p.revoked = a.Name, a.Category, a.AccessToken, 0
	if owner != "" {
		p.owner = owner
	}
	s.tokens[a.AccessToken] = tokenRef{kind: "page", id: a.ID}
}

// AddUser adds a user with their tokens, OAuth code, permissions and
// Pages (each added as by AddPage).
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ShortLivedToken == "" && u.Token != "" {
		u.ShortLivedToken = "short-" + u.Token
	}
	u.Permissions = maps.Clone(u.Permissions)
	u.Pages = slices.Clone(u.Pages)
	s.users[u.ID] = &fakeUser{User: u}
	if u.Token != "" {
		s.tokens[u.Token] = tokenRef{kind: "user", id: u.ID}
	}
	if u.ShortLivedToken != "" {
		s.tokens[u.ShortLivedToken] = tokenRef{kind: "short", id: u.ID}
	}
	if u.Code != "" {
		s.codes[u.Code] = u.ID
	}
	for _, a := range u.Pages {
		s.addPage(a, u.ID)
	}
}

// SetPermission sets one permission of a user: "granted", "declined" or
// "expired"; an empty status removes it.
func (s *Server) SetPermission(userID, permission, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return
	}
	if u.Permissions == nil {
		u.Permissions = map[string]string{}
	}
	if status == "" {
		delete(u.Permissions, permission)
		return
	}
	u.Permissions[permission] = status
}

// RevokePageToken invalidates the Page's token as Facebook does when the
// admin changes their password or removes the app: later calls with it
// fail with code 190, subcode 460, and /debug_token says it is invalid.
func (s *Server) RevokePageToken(pageID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pages[pageID]; ok {
		p.revoked = 460
	}
}

// RevokeUserToken invalidates a user's tokens (code 190, subcode 460).
func (s *Server) RevokeUserToken(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[userID]; ok {
		u.revoked = true
	}
}

// AddProfile makes psid known, with the profile GET /{psid} answers.
func (s *Server) AddProfile(psid string, p messenger.Profile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profiles[psid] = p
}

// AddPageScopedID says that the person the app knows by the app-scoped
// user id asid is psid on pageID: GET /{asid}/ids_for_pages, called with
// the app token, lists it, in the order added, with the Page's name if
// the Page was added. Adding another psid for the same Page replaces it.
// An app-scoped id with none added has none (an empty list), as for a
// person who never messaged the business's Pages.
func (s *Server) AddPageScopedID(asid, pageID, psid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.idsForPages[asid]
	for i, id := range ids {
		if id.pageID == pageID {
			ids[i].psid = psid
			return
		}
	}
	s.idsForPages[asid] = append(ids, pageScopedID{pageID: pageID, psid: psid})
}

// SetUnavailable makes sends to psid fail with code 551 ("This person
// isn't available right now"), or succeed again.
func (s *Server) SetUnavailable(psid string, unavailable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unavailable[psid] = unavailable
}

// SetDebugToken fixes what /debug_token answers for token.
func (s *Server) SetDebugToken(token string, info messenger.TokenInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.debug[token] = info
}

// SetUsage sets a header the fake sends with every answer, such as
// X-Page-Usage: {"call_count":95,"total_cputime":10,"total_time":10}. An
// empty value removes it.
func (s *Server) SetUsage(header, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == "" {
		s.usage.Del(header)
		return
	}
	s.usage.Set(header, value)
}

// RequireAppSecretProof says whether calls without appsecret_proof are
// refused (the default, as with the app setting "Require App Secret").
// A wrong proof is always refused.
func (s *Server) RequireAppSecretProof(require bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requireProof = require
}

// SetPageSize sets how many items a page of /me/accounts and of
// ids_for_pages holds (25 by default, as on Facebook).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = max(1, n)
}

// FailNext makes the next n calls, of any kind, fail with e.
func (s *Server) FailNext(n int, e GraphError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{kind: "fail", graph: e})
	}
}

// Stall makes the next n calls block until the request's context ends
// (the client gave up) or the server closes; nothing is answered.
func (s *Server) Stall(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{kind: "stall"})
	}
}

// Drop makes the next n calls read the whole request and close the
// connection without an answer: for the client, the request may have
// reached Facebook.
func (s *Server) Drop(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{kind: "drop"})
	}
}

// OnSend adds a hook called with each message sent, before the send is
// answered (for example to deliver the echo webhook). Hooks run without
// the server's lock held and may call the server.
func (s *Server) OnSend(f func(SentMessage)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onSend = append(s.onSend, f)
}

// OnRequest adds a hook called with each request as it arrives, before it
// is answered, stalled or dropped.
func (s *Server) OnRequest(f func(Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRequest = append(s.onRequest, f)
}

// Requests is every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Sent is the messages sent by pageID, in order; all messages if pageID
// is empty.
func (s *Server) Sent(pageID string) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ofPage(s.sent, pageID, func(m SentMessage) string { return m.PageID })
}

// SenderActions is the sender actions sent by pageID, in order; all
// actions if pageID is empty.
func (s *Server) SenderActions(pageID string) []SentAction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ofPage(s.actions, pageID, func(a SentAction) string { return a.PageID })
}

// ofPage copies the items of pageID (every item if pageID is empty).
func ofPage[T any](items []T, pageID string, page func(T) string) []T {
	var out []T
	for _, it := range items {
		if pageID == "" || page(it) == pageID {
			out = append(out, it)
		}
	}
	return out
}

// Attachment is an uploaded file by its attachment id.
func (s *Server) Attachment(id string) (Uploaded, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.attachments[id]
	return u, ok
}

// Subscribed is the webhook fields the app is subscribed to on the Page;
// nil when it is not subscribed.
func (s *Server) Subscribed(pageID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pages[pageID]; ok {
		return slices.Clone(p.subscribed)
	}
	return nil
}

// ---- serving -------------------------------------------------------------

// maxBody bounds a request body (an upload of MaxFileBytes plus room).
const maxBody = messenger.MaxFileBytes + 1<<20

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeGraphError(w, GraphError{Code: 100, Message: "(#100) Request body too large or unreadable"})
		return
	}
	token, proof := credentials(r, body)
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(),
		Body: body, Token: token, AppSecretProof: proof}

	s.mu.Lock()
	s.requests = append(s.requests, rec)
	hooks := slices.Clone(s.onRequest)
	var f *fault
	if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	usage := s.usage.Clone()
	s.mu.Unlock()
	for _, h := range hooks {
		h(rec)
	}
	for k, v := range usage {
		w.Header()[k] = v
	}
	if f != nil {
		switch f.kind {
		case "stall":
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			return
		case "drop":
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		default:
			writeGraphError(w, f.graph)
			return
		}
	}

	rest, ok := strings.CutPrefix(r.URL.Path, "/"+Version+"/")
	if !ok {
		writeGraphError(w, GraphError{Code: 100, Type: "GraphMethodException",
			Message: fmt.Sprintf("Unsupported request: the fake serves Graph API %s; path %q", Version, r.URL.Path)})
		return
	}
	if rest == "oauth/access_token" {
		s.oauthToken(w, r, body)
		return
	}
	if ge := s.checkProof(token, proof); ge != nil {
		writeGraphError(w, *ge)
		return
	}
	parts := strings.Split(rest, "/")
	switch {
	case rest == "debug_token" && r.Method == "GET":
		s.debugToken(w, r, token)
	case rest == "me/accounts" && r.Method == "GET":
		s.accounts(w, r, token)
	case rest == "me/permissions" && r.Method == "GET":
		s.permissions(w, token)
	case len(parts) == 2 && parts[1] == "messages" && r.Method == "POST":
		s.messages(w, r, parts[0], token, body)
	case len(parts) == 2 && parts[1] == "message_attachments" && r.Method == "POST":
		s.upload(w, r, parts[0], token, body)
	case len(parts) == 2 && parts[1] == "subscribed_apps":
		s.subscribedApps(w, r, parts[0], token, body)
	case len(parts) == 2 && parts[1] == "ids_for_pages" && r.Method == "GET":
		s.pageScopedIDs(w, r, parts[0], token)
	case len(parts) == 1 && r.Method == "GET":
		s.object(w, parts[0], token)
	default:
		writeGraphError(w, GraphError{Code: 100, Type: "GraphMethodException",
			Message: fmt.Sprintf("Unsupported %s request. Unknown path components: /%s", r.Method, rest)})
	}
}

// credentials finds the access token and appsecret_proof of a request.
func credentials(r *http.Request, body []byte) (token, proof string) {
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = a
	} else if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "OAuth "); ok {
		token = a
	}
	q := r.URL.Query()
	var form url.Values
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		form, _ = url.ParseQuery(string(body))
	}
	if token == "" {
		token = q.Get("access_token")
	}
	if token == "" && form != nil {
		token = form.Get("access_token")
	}
	proof = q.Get("appsecret_proof")
	if proof == "" && form != nil {
		proof = form.Get("appsecret_proof")
	}
	return token, proof
}

func (s *Server) checkProof(token, proof string) *GraphError {
	s.mu.Lock()
	require := s.requireProof
	s.mu.Unlock()
	if token == "" {
		return nil // the endpoint reports the missing token
	}
	if proof == "" {
		if require {
			return &GraphError{Code: 100, Type: "GraphMethodException", Message: "API calls from the server require an appsecret_proof argument"}
		}
		return nil
	}
	m := hmac.New(sha256.New, []byte(s.AppSecret))
	m.Write([]byte(token))
	want := hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(proof)) {
		return &GraphError{Code: 100, Type: "GraphMethodException", Message: "Invalid appsecret_proof provided in the API argument"}
	}
	return nil
}

var errNoToken = GraphError{Code: 2500, Message: "An active access token must be used to query information about the current user."}
var errBadToken = GraphError{Code: 190, Message: "Invalid OAuth access token - Cannot parse access token"}

func revokedError(subcode int) GraphError {
	return GraphError{Code: 190, Subcode: subcode, Message: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."}
}

// pageFor checks that token is pageID's Page token; s.mu must be held.
func (s *Server) pageFor(pageID, token string) (*fakePage, *GraphError) {
	if token == "" {
		return nil, &errNoToken
	}
	ref, ok := s.tokens[token]
	if !ok {
		return nil, &errBadToken
	}
	if ref.kind != "page" || ref.id != pageID {
		return nil, &GraphError{Code: 200, Message: fmt.Sprintf("(#200) The access token cannot act as Page %s", pageID)}
	}
	p := s.pages[pageID]
	if p.revoked != 0 {
		e := revokedError(p.revoked)
		return nil, &e
	}
	return p, nil
}

// anyPage checks that token is a valid Page token and returns its Page.
func (s *Server) anyPage(token string) (*fakePage, *GraphError) {
	if token == "" {
		return nil, &errNoToken
	}
	ref, ok := s.tokens[token]
	if !ok || ref.kind != "page" {
		return nil, &errBadToken
	}
	return s.pageFor(ref.id, token)
}

// userFor checks a user token (long- or short-lived).
func (s *Server) userFor(token string) (*fakeUser, *GraphError) {
	if token == "" {
		return nil, &errNoToken
	}
	ref, ok := s.tokens[token]
	if !ok || (ref.kind != "user" && ref.kind != "short") {
		return nil, &errBadToken
	}
	u := s.users[ref.id]
	if u.revoked {
		e := revokedError(460)
		return nil, &e
	}
	return u, nil
}

// authorizePage checks that token is pageID's Page token, answering the
// Graph error itself when it is not.
func (s *Server) authorizePage(w http.ResponseWriter, pageID, token string) bool {
	s.mu.Lock()
	_, ge := s.pageFor(pageID, token)
	s.mu.Unlock()
	if ge != nil {
		writeGraphError(w, *ge)
		return false
	}
	return true
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return prefix + strconv.Itoa(s.seq)
}

// sendBody is the Send API request, as JSON or as form fields whose
// values are JSON.
type sendBody struct {
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	MessagingType string `json:"messaging_type"`
	Tag           string `json:"tag"`
	SenderAction  string `json:"sender_action"`
	Message       *struct {
		Text       string `json:"text"`
		Metadata   string `json:"metadata"`
		Attachment *struct {
			Type    string `json:"type"`
			Payload struct {
				URL          string `json:"url"`
				IsReusable   bool   `json:"is_reusable"`
				AttachmentID string `json:"attachment_id"`
			} `json:"payload"`
		} `json:"attachment"`
		QuickReplies []struct {
			ContentType string `json:"content_type"`
			Title       string `json:"title"`
			Payload     string `json:"payload"`
			ImageURL    string `json:"image_url"`
		} `json:"quick_replies"`
	} `json:"message"`
}

func decodeSend(r *http.Request, body []byte) (sendBody, error) {
	var b sendBody
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return b, err
		}
		obj := map[string]json.RawMessage{}
		for _, k := range []string{"recipient", "message"} {
			if v := form.Get(k); v != "" {
				obj[k] = json.RawMessage(v)
			}
		}
		for _, k := range []string{"messaging_type", "tag", "sender_action"} {
			if v := form.Get(k); v != "" {
				q, _ := json.Marshal(v)
				obj[k] = q
			}
		}
		body, _ = json.Marshal(obj)
	}
	err := json.Unmarshal(body, &b)
	return b, err
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request, pageID, token string, body []byte) {
	if !s.authorizePage(w, pageID, token) {
		return
	}
	b, err := decodeSend(r, body)
	if err != nil {
		writeGraphError(w, GraphError{Code: 100, Message: "(#100) The request body is not valid JSON: " + err.Error()})
		return
	}
	if b.Recipient.ID == "" {
		writeGraphError(w, GraphError{Code: 100, Message: "(#100) The parameter recipient is required"})
		return
	}
	s.mu.Lock()
	unavailable := s.unavailable[b.Recipient.ID]
	s.mu.Unlock()
	if unavailable {
		writeGraphError(w, GraphError{Code: 551, Subcode: 1545041, Message: "(#551) This person isn't available right now."})
		return
	}
	if b.SenderAction != "" {
		switch b.SenderAction {
		case "typing_on", "typing_off", "mark_seen":
		default:
			writeGraphError(w, GraphError{Code: 100, Message: "(#100) Param sender_action must be one of {MARK_SEEN, TYPING_ON, TYPING_OFF, REACT, UNREACT}"})
			return
		}
		s.mu.Lock()
		s.actions = append(s.actions, SentAction{PageID: pageID, RecipientID: b.Recipient.ID, Action: b.SenderAction})
		s.mu.Unlock()
		writeGraphJSON(w, map[string]string{"recipient_id": b.Recipient.ID})
		return
	}
	if ge := checkMessage(b); ge != nil {
		writeGraphError(w, *ge)
		return
	}
	m := SentMessage{PageID: pageID, RecipientID: b.Recipient.ID, MessagingType: b.MessagingType, Tag: b.Tag,
		Text: b.Message.Text, Metadata: b.Message.Metadata}
	if m.MessagingType == "" {
		m.MessagingType = "RESPONSE"
	}
	for _, q := range b.Message.QuickReplies {
		m.QuickReplies = append(m.QuickReplies, messenger.QuickReply{Title: q.Title, Payload: q.Payload, ImageURL: q.ImageURL})
	}
	answer := map[string]string{"recipient_id": b.Recipient.ID}
	s.mu.Lock()
	if a := b.Message.Attachment; a != nil {
		m.Attachment = &SentAttachment{Type: a.Type, URL: a.Payload.URL, ID: a.Payload.AttachmentID, Reusable: a.Payload.IsReusable}
		if id := a.Payload.AttachmentID; id != "" {
			if up, ok := s.attachments[id]; !ok || up.PageID != pageID {
				s.mu.Unlock()
				writeGraphError(w, GraphError{Code: 100, Subcode: 2018047, Message: "(#100) Upload attachment failure: the attachment id is invalid for this Page"})
				return
			}
		} else if a.Payload.IsReusable {
			id := s.nextID("att-")
			s.attachments[id] = Uploaded{ID: id, PageID: pageID, Type: a.Type}
			answer["attachment_id"] = id
		}
	}
	m.MessageID = s.nextID("m_")
	answer["message_id"] = m.MessageID
	s.sent = append(s.sent, m)
	hooks := slices.Clone(s.onSend)
	s.mu.Unlock()
	for _, h := range hooks {
		h(m)
	}
	writeGraphJSON(w, answer)
}

// checkMessage refuses what Facebook refuses.
func checkMessage(b sendBody) *GraphError {
	switch b.MessagingType {
	case "", "RESPONSE", "UPDATE":
	case "MESSAGE_TAG":
		if b.Tag == "" {
			return &GraphError{Code: 100, Message: "(#100) Param tag is required when messaging_type is MESSAGE_TAG"}
		}
	default:
		return &GraphError{Code: 100, Message: "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}"}
	}
	if b.Message == nil || (b.Message.Text == "" && b.Message.Attachment == nil) {
		return &GraphError{Code: 100, Message: "(#100) Must send either message or state"}
	}
	if b.Message.Text != "" && b.Message.Attachment != nil {
		return &GraphError{Code: 100, Message: "(#100) Only one of text or attachment can be specified"}
	}
	if n := utf8.RuneCountInString(b.Message.Text); n > messenger.MaxTextChars {
		return &GraphError{Code: 100, Message: "(#100) Length of param message[text] must be less than or equal to 2000"}
	}
	if a := b.Message.Attachment; a != nil {
		switch a.Type {
		case "image", "video", "audio", "file":
		default:
			return &GraphError{Code: 100, Message: "(#100) Param message[attachment][type] must be one of {IMAGE, VIDEO, AUDIO, FILE, TEMPLATE}"}
		}
		if a.Payload.URL == "" && a.Payload.AttachmentID == "" {
			return &GraphError{Code: 100, Message: "(#100) Param message[attachment][payload] must have a url or an attachment_id"}
		}
	}
	if len(b.Message.QuickReplies) > 13 {
		return &GraphError{Code: 100, Message: "(#100) param message[quick_replies] must have a maximum of 13 elements"}
	}
	return nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, pageID, token string, body []byte) {
	if !s.authorizePage(w, pageID, token) {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	mr, err := r.MultipartReader()
	if err != nil {
		writeGraphError(w, GraphError{Code: 100, Message: "(#100) Upload attachment failure: expected a multipart body"})
		return
	}
	up := Uploaded{PageID: pageID}
	var msg struct {
		Attachment struct {
			Type    string `json:"type"`
			Payload struct {
				IsReusable bool `json:"is_reusable"`
			} `json:"payload"`
		} `json:"attachment"`
	}
	haveFile := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeGraphError(w, GraphError{Code: 100, Message: "(#100) Upload attachment failure: malformed multipart body"})
			return
		}
		data, _ := io.ReadAll(part)
		switch part.FormName() {
		case "message":
			if err := json.Unmarshal(data, &msg); err != nil {
				writeGraphError(w, GraphError{Code: 100, Message: "(#100) Param message must be JSON"})
				return
			}
		case "filedata":
			haveFile = true
			up.Filename, up.ContentType, up.Data = part.FileName(), part.Header.Get("Content-Type"), data
		}
	}
	switch {
	case !haveFile:
		writeGraphError(w, GraphError{Code: 100, Message: "(#100) Upload attachment failure: filedata is required"})
		return
	case len(up.Data) > messenger.MaxFileBytes:
		writeGraphError(w, GraphError{Code: 100, Subcode: 2018294, Message: "(#100) Upload attachment failure: the file is larger than 25 MB"})
		return
	}
	switch msg.Attachment.Type {
	case "image", "video", "audio", "file":
	default:
		writeGraphError(w, GraphError{Code: 100, Message: "(#100) Param message[attachment][type] must be one of {IMAGE, VIDEO, AUDIO, FILE}"})
		return
	}
	up.Type = msg.Attachment.Type
	s.mu.Lock()
	up.ID = s.nextID("att-")
	s.attachments[up.ID] = up
	s.mu.Unlock()
	writeGraphJSON(w, map[string]string{"attachment_id": up.ID})
}

func (s *Server) subscribedApps(w http.ResponseWriter, r *http.Request, pageID, token string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ge := s.pageFor(pageID, token)
	if ge != nil {
		writeGraphError(w, *ge)
		return
	}
	switch r.Method {
	case "GET":
		data := []map[string]any{}
		if p.subscribed != nil {
			data = append(data, map[string]any{"id": s.AppID, "name": "messengertest", "link": "https://example.com/messengertest",
				"category": "Business", "subscribed_fields": p.subscribed})
		}
		writeGraphJSON(w, map[string]any{"data": data})
	case "POST":
		fields := r.URL.Query().Get("subscribed_fields")
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("subscribed_fields") != "" {
			fields = form.Get("subscribed_fields")
		}
		if fields == "" {
			writeGraphError(w, GraphError{Code: 100, Message: "(#100) The parameter subscribed_fields is required"})
			return
		}
		p.subscribed = strings.Split(fields, ",")
		writeGraphJSON(w, map[string]bool{"success": true})
	case "DELETE":
		p.subscribed = nil
		writeGraphJSON(w, map[string]bool{"success": true})
	default:
		writeGraphError(w, GraphError{Code: 100, Message: "(#100) Unsupported method on subscribed_apps"})
	}
}

// object answers GET /{id}: a profile for a PSID, or the Page itself.
func (s *Server) object(w http.ResponseWriter, id, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "me" {
		if u, ge := s.userFor(token); ge == nil {
			writeGraphJSON(w, map[string]string{"id": u.ID, "name": u.Name})
			return
		}
		p, ge := s.anyPage(token)
		if ge != nil {
			writeGraphError(w, *ge)
			return
		}
		writeGraphJSON(w, map[string]string{"id": p.id, "name": p.name})
		return
	}
	if _, ge := s.anyPage(token); ge != nil {
		writeGraphError(w, *ge)
		return
	}
	if prof, ok := s.profiles[id]; ok {
		writeGraphJSON(w, map[string]string{"first_name": prof.FirstName, "last_name": prof.LastName, "profile_pic": prof.ProfilePic, "id": id})
		return
	}
	if p, ok := s.pages[id]; ok {
		writeGraphJSON(w, map[string]string{"id": p.id, "name": p.name, "category": p.category})
		return
	}
	writeGraphError(w, GraphError{Code: 100, Subcode: 33, Type: "GraphMethodException",
		Message: fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id)})
}

func (s *Server) accounts(w http.ResponseWriter, r *http.Request, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ge := s.userFor(token)
	if ge != nil {
		writeGraphError(w, *ge)
		return
	}
	s.writePaged(w, r, token, "/me/accounts", len(u.Pages), func(i int) any {
		a := u.Pages[i]
		tok := a.AccessToken
		if p, ok := s.pages[a.ID]; ok {
			tok = p.token
		}
		return map[string]any{"id": a.ID, "name": a.Name, "category": a.Category,
			"access_token": tok, "tasks": a.Tasks}
	})
}

// pageScopedIDs answers GET /{asid}/ids_for_pages, which takes the app
// token.
func (s *Server) pageScopedIDs(w http.ResponseWriter, r *http.Request, asid, token string) {
	if token != s.AppID+"|"+s.AppSecret {
		writeGraphError(w, GraphError{Code: 190, Message: "Invalid OAuth access token signature."})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.idsForPages[asid]
	s.writePaged(w, r, token, "/"+url.PathEscape(asid)+"/ids_for_pages", len(ids), func(i int) any {
		page := map[string]string{"id": ids[i].pageID}
		if p, ok := s.pages[ids[i].pageID]; ok {
			page["name"] = p.name
		}
		return map[string]any{"id": ids[i].psid, "page": page}
	})
}

// writePaged answers one page of an edge of n items, from the after
// cursor of the request, with paging as Facebook shapes it; item(i) is
// the i-th item. s.mu must be held.
func (s *Server) writePaged(w http.ResponseWriter, r *http.Request, token, path string, n int, item func(i int) any) {
	start := 0
	if after := r.URL.Query().Get("after"); after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		k, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || k < 0 || k > n {
			writeGraphError(w, GraphError{Code: 100, Message: "(#100) Invalid cursor"})
			return
		}
		start = k
	}
	end := min(start+s.pageSize, n)
	data := []any{}
	for i := start; i < end; i++ {
		data = append(data, item(i))
	}
	out := map[string]any{"data": data}
	if len(data) > 0 {
		cur := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
		pg := map[string]any{"cursors": map[string]string{"before": cur(start), "after": cur(end)}}
		if end < n {
			// Facebook puts the access token in the next URL; so does the fake.
			q := url.Values{"access_token": {token}, "after": {cur(end)}, "limit": {strconv.Itoa(s.pageSize)}}
			pg["next"] = s.URL + "/" + Version + path + "?" + q.Encode()
		}
		out["paging"] = pg
	}
	writeGraphJSON(w, out)
}

func (s *Server) permissions(w http.ResponseWriter, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ge := s.userFor(token)
	if ge != nil {
		writeGraphError(w, *ge)
		return
	}
	data := []map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(u.Permissions)) {
		data = append(data, map[string]string{"permission": name, "status": u.Permissions[name]})
	}
	writeGraphJSON(w, map[string]any{"data": data})
}

func (s *Server) debugToken(w http.ResponseWriter, r *http.Request, token string) {
	if token != s.AppID+"|"+s.AppSecret {
		writeGraphError(w, GraphError{Code: 190, Message: "Invalid OAuth access token signature."})
		return
	}
	input := r.URL.Query().Get("input_token")
	if input == "" {
		writeGraphError(w, GraphError{Code: 100, Message: "(#100) The parameter input_token is required"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := map[string]any{"app_id": s.AppID, "application": "messengertest", "scopes": []string{}}
	if info, ok := s.debug[input]; ok {
		d["is_valid"], d["type"], d["scopes"] = info.Valid, info.Type, info.Scopes
		if info.AppID != "" {
			d["app_id"] = info.AppID
		}
		if info.ProfileID != "" {
			d["profile_id"] = info.ProfileID
		}
		if info.UserID != "" {
			d["user_id"] = info.UserID
		}
		if !info.ExpiresAt.IsZero() {
			d["expires_at"] = info.ExpiresAt.Unix()
		}
		if info.ErrorCode != 0 {
			d["error"] = map[string]any{"code": info.ErrorCode, "subcode": info.ErrorSubcode, "message": info.ErrorMessage}
		}
		writeGraphJSON(w, map[string]any{"data": d})
		return
	}
	ref, ok := s.tokens[input]
	if !ok {
		d["is_valid"] = false
		d["error"] = map[string]any{"code": 190, "message": "Invalid OAuth access token."}
		writeGraphJSON(w, map[string]any{"data": d})
		return
	}
	var owner *fakeUser
	d["is_valid"] = true
	switch ref.kind {
	case "page":
		p := s.pages[ref.id]
		d["type"], d["profile_id"], d["expires_at"] = "PAGE", p.id, 0
		owner = s.users[p.owner]
		if p.revoked != 0 {
			d["is_valid"] = false
			d["error"] = map[string]any{"code": 190, "subcode": p.revoked, "message": revokedError(p.revoked).Message}
		}
	default:
		owner = s.users[ref.id]
		d["type"] = "USER"
		exp := 60 * 24 * time.Hour
		if ref.kind == "short" {
			exp = 2 * time.Hour
		}
		d["expires_at"] = time.Now().Add(exp).Unix()
		if owner.revoked {
			d["is_valid"] = false
			d["error"] = map[string]any{"code": 190, "subcode": 460, "message": revokedError(460).Message}
		}
	}
	if owner != nil {
		d["user_id"] = owner.ID
		var scopes []string
		for _, name := range slices.Sorted(maps.Keys(owner.Permissions)) {
			if owner.Permissions[name] == "granted" {
				scopes = append(scopes, name)
			}
		}
		d["scopes"] = append([]string{}, scopes...)
	}
	writeGraphJSON(w, map[string]any{"data": d})
}

func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request, body []byte) {
	params := r.URL.Query()
	if form, err := url.ParseQuery(string(body)); err == nil && r.Method == "POST" {
		for k, v := range form {
			params[k] = v
		}
	}
	if params.Get("client_id") != s.AppID {
		writeGraphError(w, GraphError{Code: 101, Message: "Error validating application. Invalid application ID."})
		return
	}
	if params.Get("client_secret") != s.AppSecret {
		writeGraphError(w, GraphError{Code: 1, HTTPStatus: 400, Message: "Error validating client secret."})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if params.Get("grant_type") == "fb_exchange_token" {
		u, ge := s.userFor(params.Get("fb_exchange_token"))
		if ge != nil {
			writeGraphError(w, *ge)
			return
		}
		writeGraphJSON(w, map[string]any{"access_token": u.Token, "token_type": "bearer", "expires_in": 5183944})
		return
	}
	code := params.Get("code")
	id, ok := s.codes[code]
	switch {
	case code == "":
		writeGraphError(w, GraphError{Code: 100, Message: "(#100) Missing authorization code"})
		return
	case !ok:
		writeGraphError(w, GraphError{Code: 100, Subcode: 36007, Message: "Invalid verification code format."})
		return
	case s.usedCodes[code]:
		writeGraphError(w, GraphError{Code: 100, Subcode: 36009, Message: "This authorization code has been used."})
		return
	}
	s.usedCodes[code] = true
	writeGraphJSON(w, map[string]any{"access_token": s.users[id].ShortLivedToken, "token_type": "bearer", "expires_in": 7200})
}

func writeGraphJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

// writeGraphError answers with a Graph API error body, as Facebook shapes it.
func writeGraphError(w http.ResponseWriter, e GraphError) {
	status := e.HTTPStatus
	if status == 0 {
		status = http.StatusBadRequest
		if e.Code == 1 || e.Code == 2 {
			status = http.StatusInternalServerError
		}
	}
	typ := e.Type
	if typ == "" {
		typ = "OAuthException"
	}
	msg := e.Message
	if msg == "" {
		msg = fmt.Sprintf("(#%d) messengertest error", e.Code)
	}
	body := map[string]any{"message": msg, "type": typ, "code": e.Code, "fbtrace_id": "AmessengertestTrace"}
	if e.Subcode != 0 {
		body["error_subcode"] = e.Subcode
	}
	if e.UserTitle != "" {
		body["error_user_title"] = e.UserTitle
	}
	if e.UserMsg != "" {
		body["error_user_msg"] = e.UserMsg
	}
	if e.Transient {
		body["is_transient"] = true
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_request"`)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}
