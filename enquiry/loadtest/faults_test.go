package loadtest

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

// errInjected is the store fault: a plain error, as a broken connection
// gives (never a store sentinel, so the service cannot mistake it for a
// refusal such as store.ErrInvalid).
var errInjected = errors.New("loadtest: injected store fault (connection lost)")

// faultStore wraps a store and fails a share of its writes: half of them
// before the write (nothing written), half after the real write committed
// (the caller cannot tell it happened); and a smaller share of its reads.
type faultStore struct {
	store.Store
	rate     float64 // share of writes that fail
	readRate float64 // share of reads that fail
	off      atomic.Bool
	before   atomic.Int64 // faults with nothing written
	after    atomic.Int64 // faults after the write committed
	reads    atomic.Int64 // failed reads

	// listFailed: enquiries whose conversation a read failed to list.
	listFailed sync.Map
	// lostAck: keys of inbound items whose RecordInbound committed and
	// then failed.
	lostAck sync.Map

	mu sync.Mutex
	// lastStateDropped: per message id, whether the last SetState of the
	// message failed with nothing written. Such a message may rightly be
	// left in a state its fate contradicts (nothing may come to repair it).
	lastStateDropped map[string]bool
}

func newFaultStore(s store.Store, rate, readRate float64) *faultStore {
	return &faultStore{Store: s, rate: rate, readRate: readRate, lastStateDropped: map[string]bool{}}
}

// faults is how many writes and reads failed.
func (f *faultStore) faults() int64 { return f.before.Load() + f.after.Load() + f.reads.Load() }

// readFault decides whether a read fails.
func (f *faultStore) readFault() bool {
	if f.off.Load() || f.readRate <= 0 || rand.Float64() >= f.readRate {
		return false
	}
	f.reads.Add(1)
	return true
}

// read runs one read under the fault decision.
func read[T any](f *faultStore, do func() (T, error)) (T, error) {
	if f.readFault() {
		var zero T
		return zero, errInjected
	}
	return do()
}

func (f *faultStore) Channel(ctx context.Context, id string) (*store.Channel, error) {
	return read(f, func() (*store.Channel, error) { return f.Store.Channel(ctx, id) })
}

func (f *faultStore) ChannelByPage(ctx context.Context, pageID string) (*store.Channel, error) {
	return read(f, func() (*store.Channel, error) { return f.Store.ChannelByPage(ctx, pageID) })
}

func (f *faultStore) Visitor(ctx context.Context, channelID, psid string) (*store.Visitor, error) {
	return read(f, func() (*store.Visitor, error) { return f.Store.Visitor(ctx, channelID, psid) })
}

func (f *faultStore) Enquiry(ctx context.Context, id string) (*store.Enquiry, error) {
	return read(f, func() (*store.Enquiry, error) { return f.Store.Enquiry(ctx, id) })
}

func (f *faultStore) OpenEnquiry(ctx context.Context, channelID, psid string) (*store.Enquiry, error) {
	return read(f, func() (*store.Enquiry, error) { return f.Store.OpenEnquiry(ctx, channelID, psid) })
}

func (f *faultStore) ListEnquiries(ctx context.Context, serviceID string, status store.EnquiryStatus, opt store.ListOptions) (store.Page[store.Enquiry], error) {
	return read(f, func() (store.Page[store.Enquiry], error) { return f.Store.ListEnquiries(ctx, serviceID, status, opt) })
}

func (f *faultStore) VisitorEnquiries(ctx context.Context, channelID, psid string, opt store.ListOptions) (store.Page[store.Enquiry], error) {
	return read(f, func() (store.Page[store.Enquiry], error) { return f.Store.VisitorEnquiries(ctx, channelID, psid, opt) })
}

func (f *faultStore) CountTaken(ctx context.Context, serviceID string) (int, error) {
	return read(f, func() (int, error) { return f.Store.CountTaken(ctx, serviceID) })
}

func (f *faultStore) MessageByMID(ctx context.Context, channelID, mid string) (*store.Message, error) {
	return read(f, func() (*store.Message, error) { return f.Store.MessageByMID(ctx, channelID, mid) })
}

func (f *faultStore) ListMessages(ctx context.Context, enquiryID string, opt store.ListOptions) (store.Page[store.Message], error) {
	if f.readFault() {
		f.listFailed.Store(enquiryID, true)
		return store.Page[store.Message]{}, errInjected
	}
	return f.Store.ListMessages(ctx, enquiryID, opt)
}

// listDropped reports whether a read of an enquiry's conversation failed.
func (f *faultStore) listDropped(enquiryID string) bool {
	_, ok := f.listFailed.Load(enquiryID)
	return ok
}

// fault decides the fate of one write: 0 none, 1 fail before, 2 fail after.
func (f *faultStore) fault() int {
	if f.off.Load() || f.rate <= 0 || rand.Float64() >= f.rate {
		return 0
	}
	if rand.IntN(2) == 0 {
		f.before.Add(1)
		return 1
	}
	f.after.Add(1)
	return 2
}

// write runs one write under the fault decision.
func write[T any](f *faultStore, do func() (T, error)) (T, error) {
	switch f.fault() {
	case 1:
		var zero T
		return zero, errInjected
	case 2:
		v, err := do()
		if err != nil {
			return v, err
		}
		var zero T
		return zero, errInjected
	}
	return do()
}

func write0(f *faultStore, do func() error) error {
	_, err := write(f, func() (struct{}, error) { return struct{}{}, do() })
	return err
}

func (f *faultStore) CreateChannel(ctx context.Context, c *store.Channel) error {
	return write0(f, func() error { return f.Store.CreateChannel(ctx, c) })
}

func (f *faultStore) UpdateChannel(ctx context.Context, c *store.Channel) error {
	return write0(f, func() error { return f.Store.UpdateChannel(ctx, c) })
}

func (f *faultStore) SetChannelStatus(ctx context.Context, id string, status store.ChannelStatus, reason string, at time.Time) (*store.Channel, error) {
	return write(f, func() (*store.Channel, error) { return f.Store.SetChannelStatus(ctx, id, status, reason, at) })
}

func (f *faultStore) TouchWebhook(ctx context.Context, channelID string, t time.Time) error {
	return write0(f, func() error { return f.Store.TouchWebhook(ctx, channelID, t) })
}

func (f *faultStore) NextTurn(ctx context.Context, channelID string) (int64, error) {
	return write(f, func() (int64, error) { return f.Store.NextTurn(ctx, channelID) })
}

func (f *faultStore) SetProfile(ctx context.Context, channelID, psid string, p store.Profile, t time.Time) error {
	return write0(f, func() error { return f.Store.SetProfile(ctx, channelID, psid, p, t) })
}

func (f *faultStore) ForgetVisitor(ctx context.Context, psid string) (int, error) {
	return write(f, func() (int, error) { return f.Store.ForgetVisitor(ctx, psid) })
}

func (f *faultStore) Offer(ctx context.Context, id string, staffIDs []string) (*store.Enquiry, error) {
	return write(f, func() (*store.Enquiry, error) { return f.Store.Offer(ctx, id, staffIDs) })
}

func (f *faultStore) Take(ctx context.Context, id, staffID string, limit int, t time.Time) (*store.Enquiry, error) {
	return write(f, func() (*store.Enquiry, error) { return f.Store.Take(ctx, id, staffID, limit, t) })
}

func (f *faultStore) Transfer(ctx context.Context, id, from, to string) (*store.Enquiry, error) {
	return write(f, func() (*store.Enquiry, error) { return f.Store.Transfer(ctx, id, from, to) })
}

func (f *faultStore) Close(ctx context.Context, id string, t time.Time) (*store.Enquiry, error) {
	return write(f, func() (*store.Enquiry, error) { return f.Store.Close(ctx, id, t) })
}

func (f *faultStore) MarkAwaySent(ctx context.Context, id string) (bool, error) {
	return write(f, func() (bool, error) { return f.Store.MarkAwaySent(ctx, id) })
}

func (f *faultStore) RecordInbound(ctx context.Context, in store.Inbound) (store.InboundResult, error) {
	recorded := false // this call recorded the item
	res, err := write(f, func() (store.InboundResult, error) {
		r, err := f.Store.RecordInbound(ctx, in)
		recorded = err == nil && !r.Duplicate
		return r, err
	})
	if recorded && errors.Is(err, errInjected) {
		f.lostAck.Store(in.Message.Key, true)
	}
	return res, err
}

// lostAckCount is how many inbound items were recorded by a call that
// answered with an error.
func (f *faultStore) lostAckCount() int {
	n := 0
	f.lostAck.Range(func(any, any) bool { n++; return true })
	return n
}

// ackLost reports whether a RecordInbound of the key committed and
// answered with an error.
func (f *faultStore) ackLost(key string) bool {
	_, ok := f.lostAck.Load(key)
	return ok
}

func (f *faultStore) AppendOutbound(ctx context.Context, m *store.Message) error {
	return write0(f, func() error { return f.Store.AppendOutbound(ctx, m) })
}

func (f *faultStore) SetState(ctx context.Context, messageID string, state store.DeliveryState, mid, errText string) error {
	wrote := false
	err := write0(f, func() error {
		wrote = true
		return f.Store.SetState(ctx, messageID, state, mid, errText)
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastStateDropped[messageID] = !wrote
	return err
}

// stateDropped reports whether the last SetState of a message wrote nothing.
func (f *faultStore) stateDropped(messageID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastStateDropped[messageID]
}

func (f *faultStore) MarkWatermark(ctx context.Context, channelID, psid string, watermark time.Time, state store.DeliveryState) (int, error) {
	return write(f, func() (int, error) { return f.Store.MarkWatermark(ctx, channelID, psid, watermark, state) })
}

// The kinds of Graph fault.
const (
	gfRateLimit  = iota // refused with a rate limit: the client retries it
	gfTransient         // a 5xx: for a send, it may have gone through
	gfDrop              // the connection closed after the request was read, unprocessed
	gfLostAnswer        // processed by the fake, then the answer is lost (a time-out)
	gfKinds
)

var gfNames = [gfKinds]string{"rate-limit", "5xx", "dropped", "answer-lost"}

// errLostAnswer is what the client sees when the answer of a call that
// reached the fake is lost: a time-out after the request was written.
type errLostAnswer struct{}

func (errLostAnswer) Error() string   { return "loadtest: i/o timeout waiting for the answer" }
func (errLostAnswer) Timeout() bool   { return true }
func (errLostAnswer) Temporary() bool { return true }

// graphFaults is the HTTP transport of the service's messenger.Client. It
// passes most calls to the fake Graph API, and fails a share of the sends
// and profile fetches: rate limits and 5xx answers and dropped connections
// are served by a second fake (messengertest's FailNext and Drop, each
// armed and met under one lock so that the call it was armed for meets
// it), and lost answers are made here after the real fake processed the
// call.
type graphFaults struct {
	base http.RoundTripper
	// toFaulty carries the calls to the faulty fake, without keep-alive:
	// net/http replays an idempotent request (a profile GET) that met a
	// dropped reused connection, and the replay must not reach the faulty
	// fake unarmed.
	toFaulty http.RoundTripper
	faulty   *url.URL
	fs       *messengertest.Server
	rate     float64
	off      atomic.Bool

	mu     sync.Mutex // arms and meets one fault of fs at a time
	counts [gfKinds]atomic.Int64
}

func newGraphFaults(base http.RoundTripper, faulty *messengertest.Server, rate float64) *graphFaults {
	u, err := url.Parse(faulty.URL)
	if err != nil {
		panic(err)
	}
	return &graphFaults{base: base, toFaulty: &http.Transport{DisableKeepAlives: true}, faulty: u, fs: faulty, rate: rate}
}

// total is how many calls met a fault.
func (g *graphFaults) total() int64 {
	var n int64
	for i := range g.counts {
		n += g.counts[i].Load()
	}
	return n
}

func (g *graphFaults) RoundTrip(req *http.Request) (*http.Response, error) {
	send := req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/messages")
	profile := req.Method == http.MethodGet && strings.Count(strings.Trim(req.URL.Path, "/"), "/") == 1
	if g.off.Load() || (!send && !profile) || rand.Float64() >= g.rate {
		return g.base.RoundTrip(req)
	}
	kind := rand.IntN(gfKinds)
	g.counts[kind].Add(1)
	switch kind {
	case gfLostAnswer:
		resp, err := g.base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errLostAnswer{}
	case gfRateLimit:
		e := messengertest.GraphError{HTTPStatus: 400, Code: 613, Message: "(#613) Calls to this api have exceeded the rate limit."}
		if rand.IntN(2) == 0 {
			e = messengertest.GraphError{HTTPStatus: 429, Code: 4, Message: "(#4) Application request limit reached"}
		}
		return g.viaFaulty(req, func() { g.fs.FailNext(1, e) })
	case gfTransient:
		e := messengertest.GraphError{Code: 2, Message: "An unexpected error has occurred. Please retry your request later.", Transient: true}
		if rand.IntN(2) == 0 {
			e = messengertest.GraphError{HTTPStatus: 503, Code: 1, Message: "An unknown error occurred"}
		}
		return g.viaFaulty(req, func() { g.fs.FailNext(1, e) })
	default:
		return g.viaFaulty(req, func() { g.fs.Drop(1) })
	}
}

// viaFaulty sends req to the faulty fake with one fault armed for it.
func (g *graphFaults) viaFaulty(req *http.Request, arm func()) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = g.faulty.Scheme, g.faulty.Host, ""
	g.mu.Lock()
	defer g.mu.Unlock()
	arm()
	return g.toFaulty.RoundTrip(r)
}
