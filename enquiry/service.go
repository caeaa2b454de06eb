package enquiry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// DefaultMaxServing is the most visitors a service serves at once when
// Config.MaxServing is zero (RULE-4).
const DefaultMaxServing = 200

// The messaging windows (RULE-5).
const (
	// Window is how long after a visitor's last message the Page may message
	// them: 24 hours.
	Window = 24 * time.Hour
	// HumanAgentWindow is how long human staff may answer on a channel that
	// opted in to the HUMAN_AGENT tag: 7 days. Auto-replies never use it.
	HumanAgentWindow = 7 * 24 * time.Hour
)

// Config configures a Service. Store, Graph and Staff are required; every
// other zero value means the documented default.
type Config struct {
	// Store keeps channels, visitors, enquiries and messages. Required.
	Store store.Store
	// Channels is package channel's service (*channel.Service), through
	// which a Graph error meaning lost rights disconnects a channel (CONN-7)
	// and echoes reach the channel self-test (CONN-8). Nil means the
	// channel is disconnected directly through Store and echoes are not
	// passed on.
	Channels Channels
	// Graph is the Messenger client used to send, upload and fetch
	// profiles. Required.
	Graph *messenger.Client
	// Staff is the host's staff directory, consulted by dispatch and to name
	// staff in auto-replies. Required.
	Staff StaffDirectory
	// Notifier hears what happens, for the host's staff UI. Nil hears nothing.
	Notifier Notifier
	// MaxServing is the most enquiries a service may have taken at once
	// (RULE-4), counted through the store across every process. 0 means
	// DefaultMaxServing (200); a negative value means no limit.
	MaxServing int
	// Now returns the current time. Nil means time.Now. The messaging window
	// (RULE-5) is judged with it.
	Now func() time.Time
	// NewID returns a new unique id for an enquiry or a message. Nil means a
	// random UUID (version 4).
	NewID func() string
	// Logger receives ids and outcomes, never tokens nor message texts. Nil
	// discards.
	Logger *slog.Logger
}

// Service turns a channel's webhook events into enquiries and carries staff
// replies back to visitors under every Messenger rule. It is safe for
// concurrent use; any number of processes may share one Store.
//
// *Service is a messenger.Handler: give it to messenger.NewWebhook.
type Service struct {
	store      store.Store
	channels   Channels
	graph      *messenger.Client
	staff      StaffDirectory
	notifier   Notifier
	maxServing int
	now        func() time.Time
	newID      func() string
	log        *slog.Logger

	// touched holds, per channel id, when this process last recorded a
	// webhook's arrival (unix nanoseconds, an *atomic.Int64).
	touched sync.Map
	// byPage caches, per Page id, the channel holding it (a *pageEntry),
	// for ChannelCacheTTL of real time.
	byPage sync.Map
	// disconnecting holds, per channel id, the *sync.Mutex that the calls
	// of this process disconnecting the channel take turns on.
	disconnecting sync.Map
}

// ChannelCacheTTL is how long a process trusts what it read of the channel
// holding a Page when a webhook delivery arrives. Only the channel's
// identity (id, service, Page) is taken from it, which never changes while
// the channel holds the Page; whatever depends on the channel's status or
// settings (auto-replies, dispatch, profile fetches) reads the channel
// afresh first. So a delivery usually costs no channel read, and a channel
// deleted less than this long ago may still have an event recorded on it.
// That no channel holds a Page is never cached: the Page may be connected
// a moment later.
const ChannelCacheTTL = time.Second

type pageEntry struct {
	ch    *store.Channel // nil: no channel holds the Page
	until time.Time      // real time, not Config.Now: a cache is not domain time
}

// TouchInterval is how often, at most, a process records a channel's
// last-webhook time (store.Channel.LastWebhookAt, used by diagnosis):
// writing it for every delivery would make every concurrent delivery of a
// channel wait for the same row lock in a shared database.
const TouchInterval = time.Second

var _ messenger.Handler = (*Service)(nil)

// New returns a Service, or an error naming the first missing required field.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("enquiry: Config.Store is required")
	case cfg.Graph == nil:
		return nil, errors.New("enquiry: Config.Graph is required")
	case cfg.Staff == nil:
		return nil, errors.New("enquiry: Config.Staff is required")
	}
	s := &Service{
		store:      cfg.Store,
		channels:   cfg.Channels,
		graph:      cfg.Graph,
		staff:      cfg.Staff,
		notifier:   cfg.Notifier,
		maxServing: cfg.MaxServing,
		now:        cfg.Now,
		newID:      cfg.NewID,
		log:        cfg.Logger,
	}
	if s.notifier == nil {
		s.notifier = nopNotifier{}
	}
	switch {
	case s.maxServing == 0:
		s.maxServing = DefaultMaxServing
	case s.maxServing < 0:
		s.maxServing = 0 // the store's "no limit"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = newUUID
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// MaxServing returns the RULE-4 limit in force (0 for none).
func (s *Service) MaxServing() int { return s.maxServing }

// newUUID returns a random version-4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return formatUUID(b, 4)
}

// derivedID returns an id fixed by its parts: the same parts give the same
// id in every process. Auto-replies are recorded under such ids, so that a
// store refusing a duplicate id makes each auto-reply go out at most once
// however many times its trigger is processed. The id is shaped as a UUID
// (version 8) so that stores keeping ids in a UUID column accept it.
func derivedID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var b [16]byte
	copy(b[:], h.Sum(nil))
	return formatUUID(b, 8)
}

func formatUUID(b [16]byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// notify hands a notice to the host's Notifier.
func (s *Service) notify(ctx context.Context, n Notice) {
	if n.At.IsZero() {
		n.At = s.now()
	}
	s.notifier.Notify(ctx, n)
}

func enquiryCopy(e *store.Enquiry) *store.Enquiry {
	if e == nil {
		return nil
	}
	c := *e
	c.OfferedTo = append([]string(nil), e.OfferedTo...)
	return &c
}

func messageCopy(m *store.Message) *store.Message {
	if m == nil {
		return nil
	}
	c := *m
	c.Attachments = append([]store.Attachment(nil), m.Attachments...)
	return &c
}

// enquiry loads an enquiry, wrapping ErrNotFound.
func (s *Service) enquiry(ctx context.Context, id string) (*store.Enquiry, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: enquiry id is empty", ErrNotFound)
	}
	e, err := s.store.Enquiry(ctx, id)
	if err != nil {
		return nil, notFound("enquiry", id, err)
	}
	return e, nil
}

// channel loads a channel, wrapping ErrNotFound.
func (s *Service) channel(ctx context.Context, id string) (*store.Channel, error) {
	c, err := s.store.Channel(ctx, id)
	if err != nil {
		return nil, notFound("channel", id, err)
	}
	return c, nil
}

// sendable reports why nothing may be sent through a channel, or nil.
func sendable(ch *store.Channel) error {
	if ch.Status == store.ChannelActive {
		return nil
	}
	return &ChannelError{ChannelID: ch.ID, Status: ch.Status, Reason: ch.DisconnectReason}
}

// touch records that a webhook for a channel arrived now, at most once per
// TouchInterval per process.
func (s *Service) touch(ctx context.Context, channelID string) error {
	now := s.now().UnixNano()
	v, ok := s.touched.Load(channelID)
	if !ok {
		v, _ = s.touched.LoadOrStore(channelID, new(atomic.Int64))
	}
	last := v.(*atomic.Int64)
	prev := last.Load()
	if prev != 0 && now >= prev && now-prev < int64(TouchInterval) {
		return nil
	}
	if !last.CompareAndSwap(prev, now) {
		return nil // another delivery is recording it
	}
	if err := s.store.TouchWebhook(ctx, channelID, time.Unix(0, now)); err != nil {
		last.CompareAndSwap(now, prev)
		return err
	}
	return nil
}

// channelByPage returns the channel holding a Page, nil if none does,
// through the cache (see ChannelCacheTTL).
func (s *Service) channelByPage(ctx context.Context, pageID string) (*store.Channel, error) {
	now := time.Now()
	if v, ok := s.byPage.Load(pageID); ok {
		if e := v.(*pageEntry); now.Before(e.until) {
			return e.ch, nil
		}
	}
	ch, err := s.store.ChannelByPage(ctx, pageID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Not cached: a Page connected a moment from now (Facebook delivers
		// as soon as the app is subscribed, before the channel is stored,
		// and another process may connect it) must not have its next
		// messages dropped as a stranger's.
		s.byPage.Delete(pageID)
		return nil, nil
	case err != nil:
		return nil, err
	}
	s.byPage.Store(pageID, &pageEntry{ch: ch, until: now.Add(ChannelCacheTTL)})
	return ch, nil
}

// forgetPage drops a Page's cached channel, after its status changed here.
func (s *Service) forgetPage(pageID string) { s.byPage.Delete(pageID) }
