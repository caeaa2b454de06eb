package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
	"github.com/pagedesk/pagedesk/store/sqlstore"
)

//go:embed ui
var uiFiles embed.FS

// staffMember is a member of staff as this example knows them: from the
// -staff flag. A real host reads its own staff directory.
type staffMember struct {
	ID        string
	FirstName string
	LastName  string
	Language  string // en or zh-Hant: the language of their console and errors
}

// server is the contact centre: PageDesk's services and the HTTP around them.
type server struct {
	cfg   config
	log   *slog.Logger
	clock *clock
	hub   *hub
	// live hands a live event to every console: through the hub of this
	// process, or through PostgreSQL to the hubs of every process.
	live     func(liveEvent)
	store    store.Store
	graph    *messenger.Client
	channels *channel.Service
	desk     *enquiry.Service
	webhook  *messenger.Webhook
	staff    map[string]staffMember
	page     *template.Template
	connect  *connectFlow
	demo     *demo // nil unless -demo
	closers  []func()
}

// run starts the contact centre and serves until ctx ends, then shuts down
// gracefully: the listener closes, live streams end, and requests in flight
// (webhook deliveries above all) get cfg.ShutdownIn to finish. started, if
// not nil, is called with the console's URL once the server listens.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, started func(url string)) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil && cfg.Demo && !cfg.ListenSet && errors.Is(err, syscall.EADDRINUSE) {
		// A newcomer's port 8080 is often taken: the demo takes any free one.
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return fmt.Errorf("%w (choose another address with -listen)", err)
	}
	local := "http://" + ln.Addr().String()
	if cfg.BaseURL == "" {
		cfg.BaseURL = local
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s, err := newServer(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer s.close()

	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: the live event streams stay open.
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(s.hub.close)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	log.Info("contact centre listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "demo", cfg.Demo, "store", s.storeName())
	if cfg.Demo {
		fmt.Fprintf(stdout, "\nPageDesk demo: open %s/ in your browser.\n\n"+
			"Two simulated visitors write to the demo Page (in English and in Traditional Chinese);\n"+
			"take an enquiry and reply. \"Paste 2,001 characters\" and \"+25 hours\" show the rules refusing.\n"+
			"Nothing leaves this machine: Facebook is a fake. Press Ctrl+C to stop.\n\n", local)
		s.demo.start(ctx, local)
		defer s.demo.stop() // also when Serve fails; stopping twice is harmless
	} else {
		fmt.Fprintf(stdout, "PageDesk contact centre: staff console at %s/, webhook at %s/webhook\n", local, cfg.BaseURL)
	}
	if started != nil {
		started(local)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; waiting for requests in flight", "timeout", cfg.ShutdownIn)
	if s.demo != nil {
		s.demo.stop()
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownIn)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// newServer builds the services: the store, the Graph client, the channel
// and enquiry services, the webhook. In demo mode the Graph client talks to
// a fake Facebook and a demo Page is connected.
func newServer(ctx context.Context, cfg config, log *slog.Logger) (*server, error) {
	s := &server{cfg: cfg, log: log, clock: &clock{}, hub: newHub(log), staff: map[string]staffMember{}}
	s.live = s.hub.publish
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	for _, m := range cfg.Staff {
		s.staff[m.ID] = m
	}
	page, err := template.ParseFS(uiFiles, "ui/index.html")
	if err != nil {
		return nil, err
	}
	s.page = page

	if err := s.openStore(ctx); err != nil {
		return nil, err
	}
	graphCfg := messenger.Config{AppID: cfg.AppID, AppSecret: cfg.AppSecret, Logger: log.With("pkg", "messenger"), Now: s.clock.Now}
	if cfg.Demo {
		s.demo = newDemo(s)
		s.closers = append(s.closers, s.demo.fake.Close)
		graphCfg = s.demo.graphConfig(graphCfg)
		s.cfg.AppID, s.cfg.AppSecret, s.cfg.VerifyToken = s.demo.fake.AppID, s.demo.fake.AppSecret, demoVerifyToken
	}
	if s.graph, err = messenger.New(graphCfg); err != nil {
		return nil, err
	}
	s.channels, err = channel.New(channel.Config{
		Store:             s.store,
		Graph:             s.graph,
		AppID:             s.cfg.AppID,
		AppSecret:         s.cfg.AppSecret,
		RedirectURL:       s.cfg.BaseURL + "/connect/callback",
		DeletionStatusURL: s.cfg.BaseURL + "/facebook/data-deletion/status",
		Services:          func(context.Context) ([]string, error) { return []string{s.cfg.ServiceID}, nil },
		Notifier:          channel.NotifierFunc(s.channelNotice),
		Logger:            log.With("pkg", "channel"),
		Now:               s.clock.Now,
	})
	if err != nil {
		return nil, err
	}
	s.desk, err = enquiry.New(enquiry.Config{
		Store:      s.store,
		Channels:   s.channels,
		Graph:      s.graph,
		Staff:      s.directory(),
		Notifier:   enquiry.NotifierFunc(s.enquiryNotice),
		MaxServing: s.cfg.MaxServing,
		Now:        s.clock.Now,
		Logger:     log.With("pkg", "enquiry"),
	})
	if err != nil {
		return nil, err
	}
	s.webhook, err = messenger.NewWebhook(messenger.WebhookConfig{
		AppSecret:   s.cfg.AppSecret,
		VerifyToken: s.cfg.VerifyToken,
		Handler:     s.desk,
		Logger:      log.With("pkg", "webhook"),
	})
	if err != nil {
		return nil, err
	}
	if s.connect, err = newConnectFlow(s); err != nil {
		return nil, err
	}
	if s.demo != nil {
		if err := s.demo.setup(ctx); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	ok = true
	return s, nil
}

// openStore opens PostgreSQL (and migrates it) when -postgres is set, else
// an in-memory store.
func (s *server) openStore(ctx context.Context) error {
	if s.cfg.Postgres == "" {
		s.store = memstore.New()
		return nil
	}
	pool, err := pgxpool.New(ctx, s.cfg.Postgres)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	s.closers = append(s.closers, pool.Close)
	db, err := sqlstore.New(ctx, sqlstore.Config{Pool: pool, Schema: s.cfg.Schema, Logger: s.log.With("pkg", "sqlstore")})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	s.store = db
	// Several processes may share the database: live events go through it.
	bus, err := startPGBus(ctx, pool, s.cfg.Postgres, s.hub, s.log.With("pkg", "livebus"), s.cfg.ServiceID)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, bus.close)
	s.live = bus.publish
	return nil
}

func (s *server) storeName() string {
	if s.cfg.Postgres != "" {
		return "postgres"
	}
	return "memory"
}

// close releases what newServer opened, in reverse order.
func (s *server) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// directory is the staff directory dispatch consults: every staff member of
// the -staff flag, available, with no capacity of their own (the service's
// RULE-4 limit still holds).
func (s *server) directory() enquiry.StaffDirectory {
	d := &enquiry.StaticDirectory{}
	for _, m := range s.cfg.Staff {
		d.Staff = append(d.Staff, enquiry.Staff{ID: m.ID, FirstName: m.FirstName, LastName: m.LastName, Available: true})
	}
	return d
}

// enquiryNotice turns the enquiry service's notices into live events for
// the consoles. It runs on the webhook's or the staff request's goroutine,
// so it only hands the event over.
func (s *server) enquiryNotice(_ context.Context, n enquiry.Notice) {
	e := liveEvent{Type: string(n.Kind), ChannelID: n.ChannelID, StaffID: n.StaffID}
	if n.Enquiry != nil {
		e.EnquiryID, e.Status = n.Enquiry.ID, string(n.Enquiry.Status)
	} else if n.Message != nil {
		e.EnquiryID = n.Message.EnquiryID
	}
	s.live(e)
	if s.demo != nil && n.Kind == enquiry.NoticeMessageOut && n.Message != nil &&
		n.Message.Author == store.AuthorStaff && n.Message.State == store.StateSent {
		s.demo.staffReplied(n.Message.PSID)
	}
}

// channelNotice tells the consoles that a channel changed.
func (s *server) channelNotice(_ context.Context, n channel.Notice) {
	s.live(liveEvent{Type: string(n.Kind), ChannelID: n.ChannelID})
}

// testHookWebhook, when set by a test, is called as each webhook delivery
// starts, so that a test can hold a delivery in flight.
var testHookWebhook func(*http.Request)

// routes is the whole HTTP surface.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	// Facebook.
	var webhook http.Handler = s.webhook
	if hook := testHookWebhook; hook != nil {
		webhook = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hook(r)
			s.webhook.ServeHTTP(w, r)
		})
	}
	mux.Handle("/webhook", webhook)
	s.connect.routes(mux)
	// The staff console and its API.
	static, _ := fs.Sub(uiFiles, "ui")
	mux.Handle("GET /ui/", http.StripPrefix("/ui/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.console)
	mux.Handle("GET /api/events", s.hub)
	s.apiRoutes(mux)
	if s.demo != nil {
		s.demo.routes(mux)
	}
	return s.logRequests(mux)
}

// pageCSP keeps the pages to their own scripts and styles: a visitor's
// text is only ever set as text, and this is the second line of defence.
// Pictures may come from Facebook's CDN (https) or this server.
const pageCSP = "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// console serves the staff console's page.
func (s *server) console(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", pageCSP)
	err := s.page.Execute(w, struct {
		Lang    string
		Staff   []staffMember
		Demo    bool
		Strings map[string]map[string]string
	}{s.language(r), s.cfg.Staff, s.demo != nil, uiStrings})
	if err != nil {
		s.log.Error("render console", "err", err)
	}
}

// logRequests logs one line per request: method, path, status, duration.
// Never the query (an OAuth code or state travels there) nor the body.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelDebug
		if rec.status >= 500 {
			level = slog.LevelError
		} else if r.URL.Path == "/webhook" || r.Method != http.MethodGet {
			level = slog.LevelInfo
		}
		s.log.LogAttrs(r.Context(), level, "http", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("took", time.Since(start)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush through the recorder.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
