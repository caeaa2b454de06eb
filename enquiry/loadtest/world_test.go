package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
	"github.com/pagedesk/pagedesk/store/sqlstore"
)

var (
	flagLong        = flag.Bool("loadtest.long", false, "run the long form: 10,000 events from 500 visitors (unless -loadtest.events or -loadtest.visitors say otherwise)")
	flagEvents      = flag.Int("loadtest.events", 0, "events to deliver; 0 means 2,000 (10,000 with -loadtest.long)")
	flagVisitors    = flag.Int("loadtest.visitors", 0, "visitors sending them; 0 means 100 (500 with -loadtest.long)")
	flagPages       = flag.Int("loadtest.pages", 20, "Pages (channels) the visitors message")
	flagServices    = flag.Int("loadtest.services", 4, "services (tenants) the Pages belong to")
	flagConcurrency = flag.Int("loadtest.concurrency", 32, "deliveries in flight at once")
	flagRedeliver   = flag.Float64("loadtest.redeliver", 0.2, "share of deliveries Facebook delivers again after they were accepted")
	flagStoreFaults = flag.Float64("loadtest.storefaults", 0.05, "share of store writes that fail (half of them after the write committed)")
	flagReadFaults  = flag.Float64("loadtest.readfaults", 0.01, "share of store reads that fail")
	flagGraphFaults = flag.Float64("loadtest.graphfaults", 0.1, "share of Graph API sends and profile fetches that fail")
	flagLimit       = flag.Int("loadtest.limit", 20, "RULE-4 limit of enquiries taken at once per service")
	flagStaff       = flag.Int("loadtest.staff", 3, "staff members working at once per service")
	flagLoopback    = flag.Bool("loadtest.loopback", false, "deliver over loopback HTTP instead of calling the handler's ServeHTTP")
	flagSeed        = flag.Uint64("loadtest.seed", 0, "seed of the traffic plan; 0 means a random one (logged)")
)

// config is the shape of one run.
type config struct {
	events, visitors, pages, services   int
	concurrency, limit, staff           int
	redeliver, storeFaults, graphFaults float64
	readFaults                          float64
	loopback                            bool
	seed                                uint64

	// existing: the channels are already in the store (another process
	// made them); they are not created again.
	existing bool
	// noPlan: no traffic is planned; the caller queues its own deliveries.
	noPlan bool
	// quiet: the fake Graph API sends no echoes and checks nothing, for
	// benchmarks.
	quiet bool
}

func configFromFlags() config {
	c := config{
		events: 2000, visitors: 100, pages: *flagPages, services: *flagServices,
		concurrency: *flagConcurrency, limit: *flagLimit, staff: *flagStaff,
		redeliver: *flagRedeliver, storeFaults: *flagStoreFaults, graphFaults: *flagGraphFaults, readFaults: *flagReadFaults,
		loopback: *flagLoopback, seed: *flagSeed,
	}
	if *flagLong {
		c.events, c.visitors = 10_000, 500
	}
	if *flagEvents > 0 {
		c.events = *flagEvents
	}
	if *flagVisitors > 0 {
		c.visitors = *flagVisitors
	}
	c.pages = max(1, c.pages)
	c.services = max(1, min(c.services, c.pages))
	c.concurrency = max(1, c.concurrency)
	if c.seed == 0 {
		c.seed = mrand.Uint64()
	}
	return c
}

// The service's clock starts here and moves only when the test says.
var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is an injected clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// directory is the host's staff directory: per service, some staff on
// duty and one off duty (named by the channels whose enquiries must wait).
type directory struct {
	staff map[string][]enquiry.Staff // service id -> staff
}

func (d *directory) Group(_ context.Context, serviceID, _ string) ([]enquiry.Staff, error) {
	return slices.Clone(d.staff[serviceID]), nil
}

func (d *directory) Lookup(_ context.Context, serviceID string, ids []string) ([]enquiry.Staff, error) {
	var out []enquiry.Staff
	for _, s := range d.staff[serviceID] {
		if slices.Contains(ids, s.ID) {
			out = append(out, s)
		}
	}
	return out, nil
}

func staffID(service string, i int) string { return service + "-staff" + strconv.Itoa(i) }
func offDutyID(service string) string      { return service + "-offduty" }

// newStoreFunc makes a fresh, empty store for one run.
type newStoreFunc func(t testing.TB) store.Store

func newMemstore(testing.TB) store.Store { return memstore.New() }

const sqlSkip = "SQLSTORE_DSN not set: skipping the load test on PostgreSQL (sqlstore); set it to a PostgreSQL connection string to run it (see store/sqlstore's package doc)"

var (
	poolOnce sync.Once
	pool     *pgxpool.Pool
	poolErr  error
)

// sqlPool is one pool for the test process.
func sqlPool(t testing.TB) *pgxpool.Pool {
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
		cfg.MaxConns = 48
		pool, poolErr = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	require.NoError(t, poolErr, "SQLSTORE_DSN")
	return pool
}

// newSchema names a fresh schema, dropped when the test ends.
func newSchema(t testing.TB, p *pgxpool.Pool) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "loadtest_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		if _, err := p.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// newSQLStore returns a migrated sqlstore in a fresh schema, or skips.
func newSQLStore(t testing.TB) store.Store {
	t.Helper()
	p := sqlPool(t)
	s := sqlStoreIn(t, newSchema(t, p))
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

// sqlStoreIn returns a sqlstore on schema, or skips.
func sqlStoreIn(t testing.TB, schema string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(context.Background(), sqlstore.Config{Pool: sqlPool(t), Schema: schema})
	require.NoError(t, err)
	return s
}

// world is one PageDesk deployment under test: channels of several
// services in a store (wrapped to fail writes), the fake Graph API (and a
// second one serving faults), an enquiry.Service behind the real webhook,
// and Facebook delivering to it.
type world struct {
	t      testing.TB
	cfg    config
	ctx    context.Context
	clock  *clock
	clock0 time.Time   // the clock while the traffic came
	base   store.Store // the store itself, for checks
	st     *faultStore // what the service uses
	fake   *messengertest.Server
	graph  *graphFaults
	svc    *enquiry.Service
	client *messenger.Client // the service's Graph client
	post   func(ctx context.Context, d *delivery) (int, error)
	fb     *facebook
	rng    *mrand.Rand
	plan   *plan
	staff  *directory
	pages  []string                  // Page ids
	chans  map[string]*store.Channel // by Page id
	svcIDs []string
	pokes  map[string]chan struct{} // per service: something may be waiting for staff

	heard sync.Map // keys of the inbound items the Notifier heard of

	mu         sync.Mutex
	violations []string // RULE-5 breaches seen by the fake as they happened
}

// newWorld builds a world on a fresh store.
func newWorld(t testing.TB, cfg config, newStore newStoreFunc) *world {
	t.Helper()
	w := &world{
		t: t, cfg: cfg, ctx: context.Background(),
		clock: &clock{now: epoch}, clock0: epoch,
		base:  newStore(t),
		fake:  messengertest.NewServer(t),
		rng:   mrand.New(mrand.NewPCG(cfg.seed, 0x10ad7e57)),
		staff: &directory{staff: map[string][]enquiry.Staff{}},
		chans: map[string]*store.Channel{},
		pokes: map[string]chan struct{}{},
	}
	w.st = newFaultStore(w.base, cfg.storeFaults, cfg.readFaults)
	for s := range cfg.services {
		id := "svc-" + strconv.Itoa(s+1)
		w.svcIDs = append(w.svcIDs, id)
		w.pokes[id] = make(chan struct{}, 1)
		var staff []enquiry.Staff
		for i := range cfg.staff {
			staff = append(staff, enquiry.Staff{ID: staffID(id, i), FirstName: "Staff" + strconv.Itoa(i), LastName: "Member", Available: true})
		}
		staff = append(staff, enquiry.Staff{ID: offDutyID(id), FirstName: "Off", LastName: "Duty"})
		w.staff.staff[id] = staff
	}
	for i := range cfg.pages {
		pageID := strconv.Itoa(1_000_000_000 + i)
		token := "page-token-" + pageID
		w.pages = append(w.pages, pageID)
		w.fake.AddPage(pageID, "Page "+pageID, token)
		svc := w.svcIDs[i%len(w.svcIDs)]
		ch := &store.Channel{
			ID: "ch-" + pageID, ServiceID: svc, PageID: pageID, PageName: "Page " + pageID,
			Name: "Channel " + strconv.Itoa(i), Status: store.ChannelActive, PageToken: token,
			AutoReply:  autoreply.DefaultSettings(autoreply.Language([]autoreply.Language{autoreply.English, autoreply.TraditionalChinese}[i%2])),
			HumanAgent: i%5 == 1,
			CreatedAt:  epoch, UpdatedAt: epoch,
		}
		switch i % 4 {
		case 1:
			ch.Dispatch.Mode = store.DispatchRoundRobin
		case 2:
			ch.Dispatch.Mode = store.DispatchLeastBusy
		case 3:
			// Named staff who are off duty: the enquiry waits, with the
			// away reply.
			ch.Dispatch.StaffIDs = []string{offDutyID(svc)}
		}
		if !cfg.existing {
			require.NoError(t, w.base.CreateChannel(w.ctx, ch))
		}
		w.chans[pageID] = ch
	}

	faulty := messengertest.NewServer(t)
	base := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128}
	t.Cleanup(base.CloseIdleConnections)
	w.graph = newGraphFaults(base, faulty, cfg.graphFaults)
	client, err := messenger.New(messenger.Config{
		AppID: w.fake.AppID, AppSecret: w.fake.AppSecret, BaseURL: w.fake.URL,
		HTTPClient: &http.Client{Transport: w.graph},
		RateLimit:  rate.Inf,
		Retry:      messenger.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	})
	require.NoError(t, err)
	w.client = client
	w.svc, err = enquiry.New(enquiry.Config{
		Store: w.st, Graph: client, Staff: w.staff, Notifier: enquiry.NotifierFunc(w.notify),
		MaxServing: cfg.limit, Now: w.clock.Now,
	})
	require.NoError(t, err)
	wh, err := messenger.NewWebhook(messenger.WebhookConfig{AppSecret: w.fake.AppSecret, VerifyToken: "loadtest", Handler: w.svc})
	require.NoError(t, err)

	post := inProcess(wh)
	if cfg.loopback {
		srv := httptest.NewServer(wh)
		t.Cleanup(srv.Close)
		hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128}}
		post = overHTTP(hc, srv.URL+"/webhook")
	}
	w.post = post
	w.fb = newFacebook(post)

	if !cfg.noPlan {
		w.plan, err = newPlan(w.rng, w.fake.AppSecret, w.pages, cfg.visitors, cfg.events, cfg.redeliver, epoch)
		require.NoError(t, err)
		for _, v := range w.plan.visitors {
			w.fake.AddProfile(v.psid, messenger.Profile{FirstName: v.first, LastName: "Visitor"})
		}
	}
	if !cfg.quiet {
		w.fake.OnSend(w.onSend)
	}
	return w
}

// notify wakes the staff of a service when an enquiry may wait for them.
func (w *world) notify(_ context.Context, n enquiry.Notice) {
	if n.Kind == enquiry.NoticeMessageIn && n.Message != nil {
		w.heard.Store(n.Message.Key, true)
	}
	switch n.Kind {
	case enquiry.NoticeOffered, enquiry.NoticeQueued, enquiry.NoticeOpened, enquiry.NoticeClosed:
		select {
		case w.pokes[n.ServiceID] <- struct{}{}:
		default:
		}
	}
}

// onSend runs in the fake Graph API as it accepts a send: it checks RULE-5
// at that moment against what the store holds, and queues the echo that
// Facebook would deliver (now and then with a read receipt).
func (w *world) onSend(m messengertest.SentMessage) {
	now := w.clock.Now()
	ch := w.chans[m.PageID]
	if ch == nil {
		w.violate("a send through Page %s, which no channel holds", m.PageID)
		return
	}
	limit := enquiry.Window
	if m.MessagingType == string(messenger.MessageTag) && m.Tag == string(messenger.HumanAgent) {
		limit = enquiry.HumanAgentWindow
	}
	v, err := w.base.Visitor(context.Background(), ch.ID, m.RecipientID)
	switch {
	case err != nil:
		w.violate("a send to %s on %s, a visitor the store does not know: %v", m.RecipientID, ch.ID, err)
	case v.LastInboundAt.IsZero() || now.Sub(v.LastInboundAt) >= limit:
		w.violate("RULE-5: a %s %s send to %s on %s at %v, %v after their last message (%v)",
			m.MessagingType, m.Tag, m.RecipientID, ch.ID, now, now.Sub(v.LastInboundAt), v.LastInboundAt)
	}
	b := messengertest.Delivery(w.fake.AppSecret).At(now).
		Echo(m.PageID, m.RecipientID, m.Text, w.fake.AppID, m.Metadata).MID(m.MessageID)
	if mrand.IntN(3) == 0 {
		b.Read(m.PageID, m.RecipientID, now)
	}
	body := b.Body()
	w.fb.addEcho(&delivery{body: body, sig: messengertest.Sign(w.fake.AppSecret, body), redeliver: mrand.Float64() < w.cfg.redeliver})
}

func (w *world) violate(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.violations = append(w.violations, fmt.Sprintf(format, args...))
}

// visitorsOf lists the plan's visitors by channel id.
func (w *world) channelOf(v visitor) *store.Channel { return w.chans[w.pages[v.page]] }

// faultsOff stops every injected fault, for the checks.
func (w *world) faultsOff() {
	w.st.off.Store(true)
	w.graph.off.Store(true)
}

// graphFaultSummary words the Graph faults met, by kind.
func (w *world) graphFaultSummary() string {
	var parts []string
	for k := range gfKinds {
		parts = append(parts, fmt.Sprintf("%s=%d", gfNames[k], w.graph.counts[k].Load()))
	}
	return strings.Join(parts, " ")
}
