package channel

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// Store is what the channel service needs of storage: the channels, and
// ForgetVisitor for Facebook's data-deletion callback. Any store.Store
// (memstore, sqlstore) satisfies it.
type Store interface {
	store.Channels
	// ForgetVisitor anonymises every trace of a Page-scoped id (see
	// store.Visitors).
	ForgetVisitor(ctx context.Context, psid string) (int, error)
}

// DefaultStateTTL is how long a Facebook Login state stays valid when
// Config.StateTTL is zero.
const DefaultStateTTL = 15 * time.Minute

// Config configures a Service. Fields marked required must be set; the
// zero value of every other field is a sensible default.
type Config struct {
	// Store keeps the channels. Required.
	Store Store
	// Graph is the Graph API client. Required. Give it the app's AppID and
	// AppSecret: /debug_token and the data-deletion callback's ID matching
	// lookup are called with the app token.
	Graph *messenger.Client
	// AppID and AppSecret are the Facebook app's. Required: the secret
	// signs the login state (unless StateKey is set) and verifies
	// Facebook's signed_request callbacks. It is never logged.
	AppID     string
	AppSecret string
	// RedirectURL is where Facebook Login sends the admin back, with the
	// code and state (an absolute http or https URL, registered in the app
	// as a valid OAuth redirect URI). Required.
	RedirectURL string
	// StateKey signs the login state and the data-deletion confirmation
	// codes. Empty means a key derived from AppSecret. If set, at least 32
	// bytes.
	StateKey []byte
	// StateTTL is how long a login state stays valid. Zero means
	// DefaultStateTTL.
	StateTTL time.Duration
	// DeletionStatusURL is the page where a person can look up a
	// data-deletion request by its confirmation code; the data-deletion
	// callback answers Facebook with it and "?code=..." appended (see
	// DeletionStatusHandler). Required: Facebook asks every app with
	// Facebook Login for a data-deletion callback.
	DeletionStatusURL string
	// Services lists every service (tenant) id. It is used only when
	// Facebook's deauthorize callback names a user and no Page, to find
	// the channels whose tokens that user's removal of the app revoked
	// (see DeauthorizeHandler). Nil: such callbacks are reported to the
	// Notifier and the channels are disconnected at their next failed
	// Graph call or diagnosis.
	Services func(ctx context.Context) ([]string, error)
	// Language is the language of a new channel's auto-replies. Zero means
	// English.
	Language autoreply.Language
	// HTTPClient makes the OAuth code exchange. Nil means
	// http.DefaultClient. Other Graph calls go through Graph.
	HTTPClient *http.Client
	// Notifier hears of every change of a channel's connection or
	// settings. Nil means nobody is told.
	Notifier Notifier
	// Logger gets ids and outcomes, never a token, a secret or a message
	// text. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// NewID makes channel ids. Nil means 16 random bytes in hex.
	NewID func() string
}

// Service connects Pages as channels and keeps them (see the package doc).
// It is safe for concurrent use; all its state but the running self-tests
// is in the Store, so any number of processes may share one store.
type Service struct {
	store      Store
	graph      *messenger.Client
	appID      string
	appSecret  string
	oauth      oauth2.Config
	stateKey   []byte
	stateTTL   time.Duration
	statusURL  *url.URL
	services   func(ctx context.Context) ([]string, error)
	lang       autoreply.Language
	httpClient *http.Client
	notifier   Notifier
	log        *slog.Logger
	now        func() time.Time
	newID      func() string
	echoes     echoWaiters
}

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	var errs []error
	bad := func(field, problem string) {
		errs = append(errs, &ValidationError{Field: "channel.Config." + field, Problem: problem})
	}
	if cfg.Store == nil {
		bad("Store", "is required")
	}
	if cfg.Graph == nil {
		bad("Graph", "is required")
	}
	if cfg.AppID == "" {
		bad("AppID", "is required")
	}
	if cfg.AppSecret == "" {
		bad("AppSecret", "is required")
	}
	if err := checkURL(cfg.RedirectURL); err != "" {
		bad("RedirectURL", err)
	}
	statusURL, _ := url.Parse(cfg.DeletionStatusURL)
	if err := checkURL(cfg.DeletionStatusURL); err != "" {
		bad("DeletionStatusURL", err)
	}
	if cfg.StateKey != nil && len(cfg.StateKey) < 32 {
		bad("StateKey", "is shorter than 32 bytes")
	}
	if cfg.StateTTL < 0 {
		bad("StateTTL", "is negative")
	}
	if !cfg.Language.Valid() {
		bad("Language", "is not one of \"en\" and \"zh-Hant\"")
	}
	if err := join(errs); err != nil {
		return nil, err
	}
	s := &Service{
		store:      cfg.Store,
		graph:      cfg.Graph,
		appID:      cfg.AppID,
		appSecret:  cfg.AppSecret,
		stateKey:   cfg.StateKey,
		stateTTL:   cfg.StateTTL,
		statusURL:  statusURL,
		services:   cfg.Services,
		lang:       cfg.Language,
		httpClient: cfg.HTTPClient,
		notifier:   cfg.Notifier,
		log:        cfg.Logger,
		now:        cfg.Now,
		newID:      cfg.NewID,
	}
	s.oauth = oauth2.Config{
		ClientID:     cfg.AppID,
		ClientSecret: cfg.AppSecret,
		Endpoint:     cfg.Graph.OAuth2Endpoint(),
		RedirectURL:  cfg.RedirectURL,
		Scopes:       scopes(),
	}
	if s.stateKey == nil {
		m := hmac.New(sha256.New, []byte(cfg.AppSecret))
		m.Write([]byte("pagedesk/channel: state and confirmation codes"))
		s.stateKey = m.Sum(nil)
	}
	if s.lang == "" {
		s.lang = autoreply.English
	}
	if s.stateTTL == 0 {
		s.stateTTL = DefaultStateTTL
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = randomID
	}
	s.echoes.waiters = map[string]*echoWaiter{}
	return s, nil
}

func checkURL(raw string) string {
	if raw == "" {
		return "is required"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "is not an absolute http or https URL"
	}
	return ""
}

func scopes() []string {
	out := make([]string, len(Permissions))
	for i, p := range Permissions {
		out[i] = p.Name
	}
	return out
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// PageClient returns the Graph API handle for a channel's Page, with the
// channel's stored Page token. It does not check the channel's status; see
// CanSend.
func (s *Service) PageClient(ch *store.Channel) *messenger.Page {
	return s.graph.Page(ch.PageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: ch.PageToken}))
}

// CanSend reports whether anything may be sent through the channel: nil for
// an active channel, else a *StatusError matching ErrPaused,
// ErrDisconnected or ErrDeleted. The enquiry service calls it before every
// send.
func (s *Service) CanSend(ch *store.Channel) error {
	if ch.Status == store.ChannelActive {
		return nil
	}
	return &StatusError{ChannelID: ch.ID, Status: ch.Status, Reason: ch.DisconnectReason}
}

// NoticeKind names a change of a channel.
type NoticeKind string

// The changes the Notifier hears of.
const (
	NoticeConnected    NoticeKind = "channel.connected"    // a Page was connected as a new channel
	NoticeReconnected  NoticeKind = "channel.reconnected"  // a Page was connected again; its channel kept its settings
	NoticeUpdated      NoticeKind = "channel.updated"      // an admin changed the settings
	NoticePaused       NoticeKind = "channel.paused"       // the channel was paused
	NoticeResumed      NoticeKind = "channel.resumed"      // the channel was resumed
	NoticeDisconnected NoticeKind = "channel.disconnected" // the channel lost its rights on the Page (CONN-7)
	NoticeDeleted      NoticeKind = "channel.deleted"      // the channel was deleted
	// NoticeDeauthorized: Facebook said a user removed the app, and no
	// channel of theirs could be told (Config.Services is nil). UserID says who.
	NoticeDeauthorized NoticeKind = "channel.deauthorized"
)

// Notice tells the host of a change of a channel.
type Notice struct {
	Kind      NoticeKind
	ServiceID string
	ChannelID string
	PageID    string
	// Reason says why, for NoticeDisconnected.
	Reason string
	// UserID is the admin's Facebook user id (app-scoped), when known:
	// the one who connected, for NoticeConnected and NoticeReconnected, or
	// who removed the app, for NoticeDeauthorized and NoticeDisconnected
	// from a deauthorize callback.
	UserID string
	At     time.Time
}

// Notifier hears of changes of channels, so the host can update its admin
// UI. Notify is called after the change is stored, on the caller's
// goroutine: keep it quick.
type Notifier interface {
	Notify(ctx context.Context, n Notice)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, n Notice)

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n Notice) { f(ctx, n) }

func (s *Service) notify(ctx context.Context, n Notice) {
	if s.notifier == nil {
		return
	}
	if n.At.IsZero() {
		n.At = s.now()
	}
	s.notifier.Notify(ctx, n)
}

// channel returns a channel of a service that is not deleted, or an error
// matching ErrNotFound.
func (s *Service) channel(ctx context.Context, serviceID, channelID string) (*store.Channel, error) {
	if serviceID == "" || channelID == "" {
		return nil, &ValidationError{Field: "service and channel ids", Problem: "are required"}
	}
	ch, err := s.store.Channel(ctx, channelID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound(channelID)
		}
		return nil, err
	}
	if ch.ServiceID != serviceID || ch.Status == store.ChannelDeleted {
		return nil, notFound(channelID)
	}
	return ch, nil
}

func notFound(channelID string) error {
	return &notFoundError{id: channelID}
}

type notFoundError struct{ id string }

func (e *notFoundError) Error() string { return "channel " + e.id + " not found" }
func (e *notFoundError) Unwrap() error { return ErrNotFound }
