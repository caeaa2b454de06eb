package main

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pagedesk/pagedesk/channel"
)

// connectFlow is the admin's side of connecting Pages (CONN-1..6):
//
//	GET  /connect           -> Facebook Login (channel.Service.LoginURL)
//	GET  /connect/callback  <- Facebook, with code and state: Exchange, the
//	                           permission check, then the Page picker
//	POST /connect/pages     the picked Pages: channel.Service.Connect each
//
// and Facebook's callbacks for the app: deauthorize (CONN-7) and data
// deletion, both verified signed_requests handled by package channel.
//
// The finished login (a long-lived user token) stays on the server, keyed
// by a random session cookie, for the few minutes the admin needs to pick.
type connectFlow struct {
	s     *server
	pages *template.Template

	mu     sync.Mutex
	logins map[string]pendingLogin
}

type pendingLogin struct {
	login   *channel.Login
	expires time.Time
}

// loginTTL is how long a finished login waits for the admin to pick Pages.
const loginTTL = 15 * time.Minute

const (
	adminCookie   = "pagedesk_admin"
	sessionCookie = "pagedesk_login"
)

func newConnectFlow(s *server) (*connectFlow, error) {
	funcs := template.FuncMap{"split": func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	}}
	pages, err := template.New("connect").Funcs(funcs).ParseFS(uiFiles, "ui/connect.html")
	if err != nil {
		return nil, err
	}
	return &connectFlow{s: s, pages: pages, logins: map[string]pendingLogin{}}, nil
}

func (c *connectFlow) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /connect", c.start)
	mux.HandleFunc("GET /connect/callback", c.callback)
	mux.HandleFunc("POST /connect/pages", c.connect)
	mux.Handle("POST /facebook/deauthorize", c.s.channels.DeauthorizeHandler())
	mux.Handle("POST /facebook/data-deletion", c.s.channels.DataDeletionHandler())
	mux.Handle("GET /facebook/data-deletion/status", c.s.channels.DeletionStatusHandler())
}

// start sends the admin to Facebook Login. The admin is a staff member of
// the -staff list, named by ?admin= (the first one by default): a real host
// takes them from its own sign-in.
func (c *connectFlow) start(w http.ResponseWriter, r *http.Request) {
	admin := r.URL.Query().Get("admin")
	if admin == "" {
		admin = c.s.cfg.Staff[0].ID
	}
	if _, ok := c.s.staff[admin]; !ok {
		http.Error(w, "unknown admin", http.StatusForbidden)
		return
	}
	loginURL, err := c.s.channels.LoginURL(c.s.cfg.ServiceID, admin)
	if err != nil {
		c.failed(w, r, err)
		return
	}
	if c.s.demo != nil {
		// The fake Graph API has no login dialog: the demo serves one.
		u, _ := url.Parse(loginURL)
		loginURL = "/demo/dialog/oauth?" + u.RawQuery
	}
	http.SetCookie(w, c.cookie(adminCookie, admin, loginTTL))
	http.Redirect(w, r, loginURL, http.StatusFound)
}

// callback finishes Facebook Login and shows the Page picker.
func (c *connectFlow) callback(w http.ResponseWriter, r *http.Request) {
	admin, err := r.Cookie(adminCookie)
	if err != nil {
		c.failed(w, r, channel.ErrInvalidState)
		return
	}
	login, err := c.s.channels.Exchange(r.Context(), c.s.cfg.ServiceID, admin.Value, r.URL.Query())
	if err != nil {
		c.failed(w, r, err)
		return
	}
	if err := c.s.channels.CheckPermissions(r.Context(), login); err != nil {
		c.failed(w, r, err)
		return
	}
	id := newSessionID()
	c.mu.Lock()
	now := time.Now()
	for k, p := range c.logins {
		if now.After(p.expires) {
			delete(c.logins, k)
		}
	}
	c.logins[id] = pendingLogin{login: login, expires: now.Add(loginTTL)}
	c.mu.Unlock()
	http.SetCookie(w, c.cookie(sessionCookie, id, loginTTL))
	c.picker(w, r, login, "")
}

func (c *connectFlow) picker(w http.ResponseWriter, r *http.Request, login *channel.Login, problem string) {
	var pages []channel.Page
	for p, err := range c.s.channels.Pages(r.Context(), login) {
		if err != nil {
			c.failed(w, r, err)
			return
		}
		p.AccessToken = "" // never near a template
		pages = append(pages, p)
	}
	c.render(w, "picker", struct {
		UserID string
		Pages  []channel.Page
		Error  string
	}{login.UserID, pages, problem})
}

type connectResult struct {
	Name      string
	ChannelID string
	Err       string
}

// connect connects every picked Page and says how each went.
func (c *connectFlow) connect(w http.ResponseWriter, r *http.Request) {
	login := c.login(r)
	if login == nil {
		c.failed(w, r, channel.ErrInvalidState)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ids := r.PostForm["page_id"]
	if len(ids) == 0 {
		c.picker(w, r, login, "Pick at least one Page.")
		return
	}
	names := map[string]string{}
	for p, err := range c.s.channels.Pages(r.Context(), login) {
		if err != nil {
			break
		}
		names[p.ID] = p.Name
	}
	var out []connectResult
	for _, id := range ids {
		res := connectResult{Name: names[id]}
		if res.Name == "" {
			res.Name = id
		}
		ch, err := c.s.channels.Connect(r.Context(), channel.ConnectRequest{Login: login, PageID: id})
		if err != nil {
			res.Err = explain(err, langEnglish).Message
			c.s.log.Warn("connect page failed", "page", id, "err", err)
		} else {
			res.ChannelID = ch.ID
			c.s.log.Info("page connected", "page", id, "channel", ch.ID)
		}
		out = append(out, res)
	}
	c.render(w, "result", out)
}

func (c *connectFlow) login(r *http.Request) *channel.Login {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.logins[ck.Value]
	if !ok || time.Now().After(p.expires) {
		return nil
	}
	return p.login
}

func (c *connectFlow) failed(w http.ResponseWriter, r *http.Request, err error) {
	c.s.log.Warn("facebook login failed", "path", r.URL.Path, "err", err)
	msg := explain(err, langEnglish).Message
	if e := explain(err, langEnglish); e.Code == "internal" {
		msg = err.Error() // an admin needs the Graph API's words to act
	}
	w.WriteHeader(http.StatusBadRequest)
	c.render(w, "failed", msg)
}

func (c *connectFlow) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("Cache-Control", "no-store")
	if err := c.pages.ExecuteTemplate(w, name, data); err != nil {
		c.s.log.Error("render", "template", name, "err", err)
	}
}

func (c *connectFlow) cookie(name, value string, ttl time.Duration) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(ttl / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(c.s.cfg.BaseURL, "https://"),
	}
}

func newSessionID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
