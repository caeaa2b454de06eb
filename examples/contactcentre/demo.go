package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

// The demo's fixed Facebook objects. The fake Graph API knows them; nothing
// leaves the machine.
const (
	demoVerifyToken  = "pagedesk-demo-verify-token"
	demoAdminID      = "demo-admin" // the host's id of the admin who connects Pages
	demoFacebookUser = "2000000000000001"
	demoUserToken    = "demo-admin-user-token"
	demoPageID       = "1000000000000077"
	demoPageName     = "Harbour Parcels 海港速遞"
	demoPageToken    = "demo-page-token"
	demoOtherPageID  = "1000000000000078"
	demoOtherName    = "Harbour Parcels Careers"
	demoOtherToken   = "demo-other-page-token"
)

// demoCustomInfo is the demo channel's note for staff (CHAN-5).
const demoCustomInfo = "Opening hours 09:00–18:00 HKT. Ask for the tracking number (HP-xxxxx). " +
	"Damaged parcels: ask for a photo, then open a claim within 7 days.\n" +
	"辦公時間 09:00–18:00。請先索取追蹤編號(HP-xxxxx)。包裹損壞:請訪客提供相片,並於 7 日內提出索償。"

// The demo channel's welcome and close auto-replies, in both languages
// (CHAN-3); the placeholders are filled by package autoreply.
const (
	demoWelcome = "Hi {visitor}, thanks for messaging Harbour Parcels! Someone from our team will be with you shortly. " +
		"{visitor}您好!多謝您聯絡海港速遞,我們的客服人員將盡快回覆您。"
	demoClose = "Thanks for chatting with us, {visitor}![ {staff}, Harbour Parcels] " +
		"感謝您的聯絡!如需其他協助,歡迎再傳訊息給我們。"
)

// demoVisitor is a simulated person writing to the demo Page: a PSID, a
// profile the fake Graph API gives out, and a script of messages. The first
// line is sent when the demo starts; each staff reply (and each press of
// the console's "visitor writes" button) sends the next one.
type demoVisitor struct {
	psid    string
	lang    string
	profile messenger.Profile
	script  []demoLine
}

type demoLine struct {
	text    string
	picture bool
}

var demoVisitors = []demoVisitor{
	{
		psid: "7000000000000001", lang: langEnglish,
		profile: messenger.Profile{FirstName: "Alice", LastName: "Lee"},
		script: []demoLine{
			{text: "Hi! My parcel HP-20431 should have arrived yesterday, but nothing came. Can you check?"},
			{text: "Thanks. The other box I got last week arrived damaged, here is a photo.", picture: true},
			{text: "Great, thank you for your help!"},
			{text: "Hello again, is anyone there?"},
		},
	},
	{
		psid: "7000000000000002", lang: langChinese,
		profile: messenger.Profile{FirstName: "大文", LastName: "陳"},
		script: []demoLine{
			{text: "你好,我想查詢訂單 HP-88812 幾時送到?"},
			{text: "個盒送到嘅時候已經爛咗,相片喺度,請問點處理?", picture: true},
			{text: "唔該晒!"},
			{text: "你好,請問有冇人喺度?"},
		},
	},
}

// demo runs PageDesk against messengertest's fake Graph API, with a demo
// Page connected through the real connect flow and visitors who write to
// it through signed webhook deliveries, exactly as Facebook would send them.
type demo struct {
	s       *server
	fake    *messengertest.Server
	picture []byte
	client  *http.Client
	admin   messengertest.User

	mu      sync.Mutex
	base    string         // the running server's URL
	step    map[string]int // psid -> next line of the script
	stopped bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newDemo(s *server) *demo {
	ctx, cancel := context.WithCancel(context.Background())
	return &demo{
		s:      s,
		fake:   messengertest.New(),
		client: &http.Client{Timeout: 30 * time.Second},
		step:   map[string]int{},
		ctx:    ctx,
		cancel: cancel,
	}
}

// graphConfig points the Graph client at the fake, keeping the logger and
// the demo clock.
func (d *demo) graphConfig(base messenger.Config) messenger.Config {
	c := d.fake.Config()
	c.Logger, c.Now = base.Logger, base.Now
	return c
}

// setup teaches the fake about the demo admin, their Pages and the
// visitors, and connects the demo Page through Facebook Login as an admin
// would: LoginURL, the code exchange, the permission check, Connect.
func (d *demo) setup(ctx context.Context) error {
	pic, err := parcelPNG()
	if err != nil {
		return err
	}
	d.picture = pic
	granted := map[string]string{}
	for _, p := range channel.Permissions {
		granted[p.Name] = "granted"
	}
	d.admin = messengertest.User{
		ID: demoFacebookUser, Name: "Demo Admin", Token: demoUserToken, Permissions: granted,
		Pages: []messenger.Account{
			{ID: demoPageID, Name: demoPageName, Category: "Shipping service", AccessToken: demoPageToken,
				Tasks: []string{"ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"}},
			{ID: demoOtherPageID, Name: demoOtherName, Category: "Company", AccessToken: demoOtherToken,
				Tasks: []string{"ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"}},
		},
	}
	d.fake.AddUser(d.admin)
	for _, v := range demoVisitors {
		d.fake.AddProfile(v.psid, v.profile)
	}
	d.fake.OnSend(d.onSend)

	login, err := d.login(ctx)
	if err != nil {
		return err
	}
	replies := autoreply.DefaultSettings(autoreply.English)
	replies.Welcome.Text = demoWelcome
	replies.Close.Text = demoClose
	set := channel.Settings{
		Name:       "Harbour Parcels",
		AutoReply:  replies,
		CustomInfo: store.CustomInfo{On: true, Text: demoCustomInfo},
	}
	// With -postgres the Page may be a channel already, from an earlier run:
	// connecting it again restores it with its settings, as for any admin.
	ch, err := d.s.channels.Connect(ctx, channel.ConnectRequest{Login: login, PageID: demoPageID, Settings: &set})
	if err != nil {
		return err
	}
	d.s.log.Info("demo page connected", "channel", ch.ID, "page", ch.PageID)
	return nil
}

// login runs Facebook Login against the fake: the code Facebook's dialog
// would hand back, and the state LoginURL made.
func (d *demo) login(ctx context.Context) (*channel.Login, error) {
	loginURL, err := d.s.channels.LoginURL(d.s.cfg.ServiceID, demoAdminID)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(loginURL)
	if err != nil {
		return nil, err
	}
	return d.s.channels.Exchange(ctx, d.s.cfg.ServiceID, demoAdminID,
		url.Values{"code": {d.newCode()}, "state": {u.Query().Get("state")}})
}

// newCode registers a fresh one-time OAuth code for the demo admin, as
// Facebook's login dialog would issue.
func (d *demo) newCode() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	code := "demo-code-" + hex.EncodeToString(b[:])
	// The fake takes codes with the user: adding the user again with a new
	// code keeps their tokens, permissions and Pages.
	u := d.admin
	u.Code = code
	d.fake.AddUser(u)
	return code
}

// start begins the visitors' conversations: unless -demo-auto=false, each
// visitor's first message arrives shortly after the server is up, so that
// the newcomer sees enquiries appear in the console.
func (d *demo) start(_ context.Context, base string) {
	d.mu.Lock()
	d.base = base
	d.mu.Unlock()
	if !d.s.cfg.DemoAuto {
		return
	}
	for i, v := range demoVisitors {
		d.later(time.Duration(1+3*i)*time.Second, func() { d.write(v.psid) })
	}
}

// stop ends the simulated visitors and waits for them.
func (d *demo) stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}

// later runs f after delay, unless the demo stops first.
func (d *demo) later(delay time.Duration, f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-d.ctx.Done():
		case <-t.C:
			f()
		}
	}()
}

// write sends the visitor's next scripted message to the webhook, signed
// with the app secret and stamped with the demo clock.
func (d *demo) write(psid string) {
	var v *demoVisitor
	for i := range demoVisitors {
		if demoVisitors[i].psid == psid {
			v = &demoVisitors[i]
		}
	}
	if v == nil {
		return
	}
	d.mu.Lock()
	n := d.step[psid]
	d.step[psid] = n + 1
	base := d.base
	d.mu.Unlock()
	line := v.script[min(n, len(v.script)-1)]
	// Messenger delivers a text and a picture sent together as two messages.
	b := messengertest.Delivery(d.fake.AppSecret).At(d.s.clock.Now()).Text(demoPageID, psid, line.text)
	if line.picture {
		b.Attachment(demoPageID, psid, "image", base+"/demo/picture.png")
	}
	d.deliver(b)
}

// deliver posts a delivery to the webhook as Facebook would. Facebook
// retries failed deliveries; the demo logs them instead.
func (d *demo) deliver(b *messengertest.DeliveryBuilder) {
	d.mu.Lock()
	base := d.base
	d.mu.Unlock()
	req := b.Request(base + "/webhook").WithContext(d.ctx)
	res, err := d.client.Do(req)
	if err != nil {
		if d.ctx.Err() == nil {
			d.s.log.Warn("demo: webhook delivery failed", "err", err)
		}
		return
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		d.s.log.Warn("demo: webhook delivery refused", "status", res.StatusCode)
	}
}

// onSend plays Facebook after the Page sends a message: the echo at once,
// then delivery and read receipts a little later, as Messenger reports them.
func (d *demo) onSend(m messengertest.SentMessage) {
	at := d.s.clock.Now()
	d.later(0, func() {
		d.deliver(messengertest.Delivery(d.fake.AppSecret).At(at).Echo(m.PageID, m.RecipientID, m.Text, d.fake.AppID, m.Metadata).MID(m.MessageID))
	})
	// A watermark says "everything up to now": Facebook's clock when it
	// reports, in milliseconds, some time after the send.
	d.later(time.Second, func() {
		now := d.s.clock.Now()
		d.deliver(messengertest.Delivery(d.fake.AppSecret).At(now).Delivered(m.PageID, m.RecipientID, now, m.MessageID))
	})
	d.later(2*time.Second, func() {
		now := d.s.clock.Now()
		d.deliver(messengertest.Delivery(d.fake.AppSecret).At(now).Read(m.PageID, m.RecipientID, now))
	})
}

// staffReplied makes the visitor answer a staff reply a few seconds later,
// as a person would (unless -demo-auto=false).
func (d *demo) staffReplied(psid string) {
	if !d.s.cfg.DemoAuto {
		return
	}
	d.later(4*time.Second, func() { d.write(psid) })
}

// routes are the demo's own endpoints: the clock, the visitors' buttons,
// the visitor's photo, and a stand-in for Facebook's login dialog.
func (d *demo) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /demo/clock", func(w http.ResponseWriter, r *http.Request) {
		d.s.ok(w, map[string]any{"now": d.s.clock.Now()})
	})
	mux.HandleFunc("POST /demo/advance", d.advance)
	mux.HandleFunc("POST /demo/visitor", d.visitor)
	mux.HandleFunc("GET /demo/picture.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(d.picture)
	})
	mux.HandleFunc("GET /demo/dialog/oauth", d.dialog)
}

// maxAdvance bounds one move of the demo clock.
const maxAdvance = 30 * 24 * time.Hour

// advance moves the demo clock forward: POST /demo/advance?d=25h.
func (d *demo) advance(w http.ResponseWriter, r *http.Request) {
	lang := d.s.language(r)
	dur, err := time.ParseDuration(r.URL.Query().Get("d"))
	if err != nil || dur <= 0 || dur > maxAdvance {
		d.s.fail(w, r, apiError{Status: http.StatusBadRequest, Code: "bad_duration", Message: pickLang(lang,
			"d must be a duration between 1s and 720h, like 25h.", "d 必須是 1s 至 720h 之間的時間長度,例如 25h。")})
		return
	}
	now := d.s.clock.Advance(dur)
	d.s.log.Info("demo clock moved forward", "by", dur, "now", now)
	d.s.hub.publish(liveEvent{Type: "clock", Now: now})
	d.s.ok(w, map[string]any{"now": now})
}

// visitor makes a visitor write their next line: POST /demo/visitor?lang=en.
func (d *demo) visitor(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("lang")
	for _, v := range demoVisitors {
		if v.lang == lang {
			d.write(v.psid)
			d.s.ok(w, map[string]any{"now": d.s.clock.Now(), "psid": v.psid})
			return
		}
	}
	d.s.fail(w, r, apiError{Status: http.StatusBadRequest, Code: "bad_lang", Message: "lang must be en or zh-Hant"})
}

// dialog stands in for Facebook's login dialog, which the fake Graph API
// does not serve: it shows what Facebook would ask, and "Continue" hands a
// fresh code back to the redirect URI with the state, as Facebook does.
func (d *demo) dialog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("redirect_uri") != d.s.cfg.BaseURL+"/connect/callback" {
		http.Error(w, "redirect_uri must be this server's /connect/callback", http.StatusBadRequest)
		return
	}
	v := back.Query()
	v.Set("code", d.newCode())
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err = d.s.connect.pages.ExecuteTemplate(w, "dialog", struct {
		Scope    string
		Continue string
	}{q.Get("scope"), back.String()})
	if err != nil {
		d.s.log.Error("render demo dialog", "err", err)
	}
}
