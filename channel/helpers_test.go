package channel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
)

// clock is a settable clock for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// notices records what the Notifier heard.
type notices struct {
	mu   sync.Mutex
	list []channel.Notice
}

func (n *notices) Notify(_ context.Context, x channel.Notice) {
	n.mu.Lock()
	n.list = append(n.list, x)
	n.mu.Unlock()
}

func (n *notices) kinds() []channel.NoticeKind {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []channel.NoticeKind
	for _, x := range n.list {
		out = append(out, x.Kind)
	}
	return out
}

func (n *notices) last() channel.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.list) == 0 {
		return channel.Notice{}
	}
	return n.list[len(n.list)-1]
}

var allGranted = map[string]string{
	"pages_messaging": "granted", "pages_show_list": "granted",
	"pages_read_engagement": "granted", "pages_manage_metadata": "granted",
}

const (
	redirectURL = "https://desk.example/fb/callback"
	statusURL   = "https://desk.example/fb/deletion"
)

type env struct {
	fb      *messengertest.Server
	graph   *messenger.Client
	st      *memstore.Store
	svc     *channel.Service
	clock   *clock
	notices *notices

	mu        sync.Mutex
	logins    map[string]*channel.Login
	afterSend func() // called once a send's answer has been read
}

// sendHook calls env.afterSend when the answer to a send has been read and
// closed: the send has returned (or is about to), with nothing left to cancel.
type sendHook struct {
	base http.RoundTripper
	e    *env
}

func (h sendHook) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/messages") {
		return resp, err
	}
	h.e.mu.Lock()
	f := h.e.afterSend
	h.e.mu.Unlock()
	if f != nil {
		resp.Body = &hookedBody{ReadCloser: resp.Body, after: f}
	}
	return resp, nil
}

type hookedBody struct {
	io.ReadCloser
	after func()
	once  sync.Once
}

func (b *hookedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.after)
	return err
}

// onSent sets what happens once a send has been answered.
func (e *env) onSent(f func()) {
	e.mu.Lock()
	e.afterSend = f
	e.mu.Unlock()
}

type option func(*channel.Config)

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	fb := messengertest.NewServer(t)
	e := &env{
		fb:      fb,
		st:      memstore.New(),
		clock:   &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)},
		notices: &notices{},
	}
	gcfg := fb.Config()
	gcfg.HTTPClient = &http.Client{Transport: sendHook{base: gcfg.HTTPClient.Transport, e: e}}
	graph, err := messenger.New(gcfg)
	require.NoError(t, err)
	e.graph = graph
	// Admin u1 manages p1 (Acme) and p2, on which their role does not
	// allow messaging.
	fb.AddUser(messengertest.User{
		ID: "u1", Name: "Ada Admin", Token: "user-token-1", Code: "code-1",
		Permissions: allGranted,
		Pages: []messenger.Account{
			{ID: "p1", Name: "Acme", Category: "Shop", AccessToken: "page-token-1", Tasks: []string{"MANAGE", "MESSAGING", "MODERATE"}},
			{ID: "p2", Name: "Analytics only", Category: "Shop", AccessToken: "page-token-2", Tasks: []string{"ANALYZE"}},
		},
	})
	// Admin u2, of another service, also manages p1.
	fb.AddUser(messengertest.User{
		ID: "u2", Name: "Bo Admin", Token: "user-token-2", Code: "code-2",
		Permissions: allGranted,
		Pages: []messenger.Account{
			{ID: "p1", Name: "Acme", Category: "Shop", AccessToken: "page-token-1", Tasks: []string{"MESSAGING"}},
			{ID: "p3", Name: "Bo's Bakery", Category: "Food", AccessToken: "page-token-3", Tasks: []string{"MESSAGING"}},
		},
	})
	cfg := channel.Config{
		Store: e.st, Graph: e.graph,
		AppID: fb.AppID, AppSecret: fb.AppSecret,
		RedirectURL: redirectURL, DeletionStatusURL: statusURL,
		HTTPClient: fb.Config().HTTPClient,
		Notifier:   e.notices,
		Now:        e.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := channel.New(cfg)
	require.NoError(t, err)
	e.svc = svc
	return e
}

// login runs Facebook Login for an admin: LoginURL, then the callback
// Facebook would make with code. A code is good once, as on Facebook, so
// the Login is kept for the next call with the same arguments.
func (e *env) login(t *testing.T, serviceID, adminID, code string) *channel.Login {
	t.Helper()
	key := serviceID + "|" + adminID + "|" + code
	e.mu.Lock()
	l := e.logins[key]
	e.mu.Unlock()
	if l != nil {
		return l
	}
	l, err := e.svc.Exchange(t.Context(), serviceID, adminID, e.callback(t, serviceID, adminID, code))
	require.NoError(t, err)
	e.mu.Lock()
	if e.logins == nil {
		e.logins = map[string]*channel.Login{}
	}
	e.logins[key] = l
	e.mu.Unlock()
	return l
}

// callback returns the query Facebook redirects the admin back with.
func (e *env) callback(t *testing.T, serviceID, adminID, code string) url.Values {
	t.Helper()
	raw, err := e.svc.LoginURL(serviceID, adminID)
	require.NoError(t, err)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return url.Values{"code": {code}, "state": {u.Query().Get("state")}}
}

// connect logs u1 in for service svc-a and connects p1.
func (e *env) connect(t *testing.T) *store.Channel {
	t.Helper()
	ch, err := e.svc.Connect(t.Context(), channel.ConnectRequest{Login: e.login(t, "svc-a", "admin-a", "code-1"), PageID: "p1"})
	require.NoError(t, err)
	return ch
}

// post posts a form with a signed_request to a handler.
func post(h http.Handler, signedRequest string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/fb/callback", strings.NewReader(url.Values{"signed_request": {signedRequest}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// racingStore makes the first two ChannelByPage calls wait for each other,
// so that two connections of one Page both find it free and the store alone
// decides (CONN-6).
type racingStore struct {
	*memstore.Store
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func (r *racingStore) ChannelByPage(ctx context.Context, pageID string) (*store.Channel, error) {
	r.mu.Lock()
	r.waiting++
	n := r.waiting
	r.mu.Unlock()
	if n <= 2 {
		if n == 2 {
			close(r.release)
		}
		select {
		case <-r.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return r.Store.ChannelByPage(ctx, pageID)
}

func messengerText(psid, text string) messenger.OutgoingMessage {
	return messenger.OutgoingMessage{Recipient: psid, Text: text}
}

// errInvalidToken is the error a Graph call gets once the token is revoked.
func errInvalidToken() error {
	return &messenger.Error{HTTPStatus: 400, Code: 190, Subcode: 460, Type: "OAuthException",
		Message: "Error validating access token: The session has been invalidated because the user changed their password."}
}

// decline makes both admins of p1 decline a permission, so that p1's token
// loses it.
func (e *env) decline(permission string) {
	for _, u := range []string{"u1", "u2"} {
		e.fb.SetPermission(u, permission, "declined")
	}
}
