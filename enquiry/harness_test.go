package enquiry_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
	"github.com/pagedesk/pagedesk/store/sqlstore"
)

// The flows run on memstore always, and on sqlstore when SQLSTORE_DSN names
// a PostgreSQL (each test in a schema of its own, dropped afterwards).
const sqlSkip = "SQLSTORE_DSN not set: skipping the enquiry flows on PostgreSQL (sqlstore); set it to a PostgreSQL connection string to run them"

// newStoreFunc makes a fresh, empty store for one test.
type newStoreFunc func(t testing.TB) store.Store

func newMemstore(testing.TB) store.Store { return memstore.New() }

var (
	poolOnce sync.Once
	pool     *pgxpool.Pool
	poolErr  error
)

// newSQLStore returns a migrated sqlstore in a fresh schema, or skips.
func newSQLStore(t testing.TB) store.Store {
	t.Helper()
	dsn := os.Getenv("SQLSTORE_DSN")
	if dsn == "" {
		t.Skip(sqlSkip)
	}
	poolOnce.Do(func() {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			poolErr = err
			return
		}
		cfg.MaxConns = 24
		pool, poolErr = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	require.NoError(t, poolErr, "SQLSTORE_DSN")
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "enquiry_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	s, err := sqlstore.New(context.Background(), sqlstore.Config{Pool: pool, Schema: schema})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

// clock is an injectable clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// directory is a StaffDirectory whose staff can change during a test.
type directory struct {
	mu    sync.Mutex
	staff []enquiry.Staff
	group map[string][]string
	calls atomic.Int64
}

func (d *directory) set(staff ...enquiry.Staff) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.staff = slices.Clone(staff)
}

func (d *directory) Group(ctx context.Context, serviceID, group string) ([]enquiry.Staff, error) {
	d.calls.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if group == "" {
		return slices.Clone(d.staff), nil
	}
	return d.lookup(d.group[group]), nil
}

func (d *directory) Lookup(ctx context.Context, serviceID string, ids []string) ([]enquiry.Staff, error) {
	d.calls.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lookup(ids), nil
}

func (d *directory) lookup(ids []string) []enquiry.Staff {
	var out []enquiry.Staff
	for _, id := range ids {
		for _, s := range d.staff {
			if s.ID == id {
				out = append(out, s)
			}
		}
	}
	return out
}

// notices records what the Notifier hears.
type notices struct {
	mu  sync.Mutex
	all []enquiry.Notice
}

func (n *notices) Notify(_ context.Context, x enquiry.Notice) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.all = append(n.all, x)
}

func (n *notices) kinds() []enquiry.NoticeKind {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []enquiry.NoticeKind
	for _, x := range n.all {
		out = append(out, x.Kind)
	}
	return out
}

func (n *notices) of(k enquiry.NoticeKind) []enquiry.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []enquiry.Notice
	for _, x := range n.all {
		if x.Kind == k {
			out = append(out, x)
		}
	}
	return out
}

const (
	serviceID = "svc-1"
	channelID = "ch-1"
	pageID    = "1000001"
	pageName  = "Acme Support"
	pageToken = "page-token-1"
	webhookTo = "https://pagedesk.test/webhook"
)

// env is one enquiry service on a fresh store, a fake Graph API, the real
// webhook, an injected clock, a staff directory and a notice recorder.
type env struct {
	t       testing.TB
	ctx     context.Context
	store   store.Store
	fb      *messengertest.Server
	svc     *enquiry.Service
	webhook http.Handler
	clock   *clock
	staff   *directory
	notices *notices
	ch      *store.Channel
	ids     atomic.Int64

	channels       *channel.Service // when options.channels
	channelNotices []channel.Notice
	mu             sync.Mutex
}

// options adjust an env before its service is made.
type options struct {
	channel    func(*store.Channel)
	maxServing int
	wrap       func(store.Store) store.Store
	// channels: disconnect and observe echoes through a real channel.Service.
	channels bool
	// notifier replaces the notice recorder (benchmarks keep nothing).
	notifier enquiry.Notifier
}

func newEnv(t testing.TB, newStore newStoreFunc, opt options) *env {
	t.Helper()
	e := &env{
		t:       t,
		ctx:     context.Background(),
		store:   newStore(t),
		fb:      messengertest.NewServer(t),
		clock:   newClock(),
		staff:   &directory{group: map[string][]string{}},
		notices: &notices{},
	}
	e.staff.set(
		enquiry.Staff{ID: "alice", FirstName: "Alice", LastName: "Wong", Available: true},
		enquiry.Staff{ID: "bob", FirstName: "Bob", LastName: "Chan", Available: true},
	)
	e.fb.AddPage(pageID, pageName, pageToken)
	now := e.clock.Now()
	e.ch = &store.Channel{
		ID: channelID, ServiceID: serviceID, PageID: pageID, PageName: pageName, Name: "Support",
		Status: store.ChannelActive, PageToken: pageToken,
		AutoReply: autoreply.Settings{
			Welcome: autoreply.Message{On: true},
			Away:    autoreply.Message{On: true},
			Close:   autoreply.Message{On: true},
		},
		CreatedAt: now, UpdatedAt: now,
	}
	if opt.channel != nil {
		opt.channel(e.ch)
	}
	status := e.ch.Status
	e.ch.Status = store.ChannelActive
	require.NoError(t, e.store.CreateChannel(e.ctx, e.ch))
	if status != store.ChannelActive {
		e.setStatus(status, "the Page token was revoked")
	}
	st := e.store
	if opt.wrap != nil {
		st = opt.wrap(st)
	}
	var channels enquiry.Channels
	if opt.channels {
		cs, err := channel.New(channel.Config{
			Store: e.store, Graph: e.fb.Client(t), AppID: e.fb.AppID, AppSecret: e.fb.AppSecret,
			RedirectURL: "https://pagedesk.test/callback", DeletionStatusURL: "https://pagedesk.test/deletion",
			Now: e.clock.Now,
			Notifier: channel.NotifierFunc(func(_ context.Context, n channel.Notice) {
				e.mu.Lock()
				defer e.mu.Unlock()
				e.channelNotices = append(e.channelNotices, n)
			}),
		})
		require.NoError(t, err)
		e.channels, channels = cs, cs
	}
	var notifier enquiry.Notifier = e.notices
	if opt.notifier != nil {
		notifier = opt.notifier
	}
	svc, err := enquiry.New(enquiry.Config{
		Store:      st,
		Channels:   channels,
		Graph:      e.fb.Client(t),
		Staff:      e.staff,
		Notifier:   notifier,
		MaxServing: opt.maxServing,
		Now:        e.clock.Now,
		NewID:      func() string { return "id-" + strconv.FormatInt(e.ids.Add(1), 10) },
	})
	require.NoError(t, err)
	e.svc = svc
	wh, err := messenger.NewWebhook(messenger.WebhookConfig{AppSecret: e.fb.AppSecret, VerifyToken: "verify-me", Handler: svc})
	require.NoError(t, err)
	e.webhook = wh
	return e
}

func (e *env) setStatus(status store.ChannelStatus, reason string) {
	e.t.Helper()
	ch, err := e.store.SetChannelStatus(e.ctx, channelID, status, reason, e.clock.Now())
	require.NoError(e.t, err)
	e.ch = ch
}

// update changes the stored channel's settings.
func (e *env) update(f func(*store.Channel)) {
	e.t.Helper()
	ch, err := e.store.Channel(e.ctx, channelID)
	require.NoError(e.t, err)
	f(ch)
	require.NoError(e.t, e.store.UpdateChannel(e.ctx, ch))
	e.ch = ch
}

// delivery starts a webhook delivery stamped with the clock's time.
func (e *env) delivery() *messengertest.DeliveryBuilder {
	return messengertest.Delivery(e.fb.AppSecret).At(e.clock.Now())
}

// post sends a delivery through the real webhook and returns the status.
func (e *env) post(b *messengertest.DeliveryBuilder) int {
	rec := httptest.NewRecorder()
	e.webhook.ServeHTTP(rec, b.Request(webhookTo))
	return rec.Code
}

// say delivers one text message from psid and requires a 200.
func (e *env) say(psid, text string) {
	e.t.Helper()
	require.Equal(e.t, http.StatusOK, e.post(e.delivery().Text(pageID, psid, text)))
}

// open returns the visitor's open enquiry.
func (e *env) open(psid string) *store.Enquiry {
	e.t.Helper()
	enq, err := e.store.OpenEnquiry(e.ctx, channelID, psid)
	require.NoError(e.t, err)
	return enq
}

// messages returns an enquiry's recorded conversation.
func (e *env) messages(enquiryID string) []store.Message {
	e.t.Helper()
	var out []store.Message
	for m, err := range e.svc.Messages(e.ctx, enquiryID) {
		require.NoError(e.t, err)
		out = append(out, m)
	}
	return out
}

// sent returns what the Page sent to psid through the fake Graph API.
func (e *env) sent(psid string) []messengertest.SentMessage {
	var out []messengertest.SentMessage
	for _, m := range e.fb.Sent(pageID) {
		if m.RecipientID == psid {
			out = append(out, m)
		}
	}
	return out
}

// take makes staffID take psid's open enquiry.
func (e *env) take(psid, staffID string) *store.Enquiry {
	e.t.Helper()
	enq, err := e.svc.Take(e.ctx, e.open(psid).ID, staffID)
	require.NoError(e.t, err)
	return enq
}

// render is an auto-reply's text as the channel's settings render it.
func (e *env) render(k autoreply.Kind, v autoreply.Values) string {
	e.t.Helper()
	ch, err := e.store.Channel(e.ctx, channelID)
	require.NoError(e.t, err)
	v.PageName = ch.PageName
	text, on, err := autoreply.Render(ch.AutoReply, k, v)
	require.NoError(e.t, err)
	require.True(e.t, on)
	return text
}

func texts(ms []messengertest.SentMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

func authors(ms []store.Message) []store.Author {
	var out []store.Author
	for _, m := range ms {
		out = append(out, m.Author)
	}
	return out
}
