package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/store"
)

// Racers is how many goroutines the suite's races start at once.
const Racers = 32

// Run checks that the stores made by newStore keep every promise written
// in package store. It calls newStore once per subtest, with that subtest's
// t, so newStore may register cleanups; it may also return the same store
// every time (a shared database, say): every subtest works on ids, Pages,
// services and PSIDs of its own, made unique with a random suffix, so
// subtests run in parallel against one store, and so do several runs of
// the suite against one database.
//
// Subtests are grouped (Channels, Visitors, Inbound, Enquiries, Messages,
// Lists, Arguments, Copies); select some with go test -run, for example
// -run 'TestMyStore/Enquiries/Take'.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Channels", channelTests},
		{"Visitors", visitorTests},
		{"Inbound", inboundTests},
		{"Enquiries", enquiryTests},
		{"Messages", messageTests},
		{"Lists", listTests},
		{"Arguments", argumentTests},
		{"Copies", copyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, newFixture(t, newStore(t)))
				})
			}
		})
	}
}

// test is one subtest of the suite.
type test struct {
	name string
	fn   func(t *testing.T, f *fixture)
}

// fixture is a subtest's store, context, clock and id maker.
type fixture struct {
	t      *testing.T
	s      store.Store
	ctx    context.Context
	suffix string
	n      atomic.Int64
	base   time.Time
}

func newFixture(t *testing.T, s store.Store) *fixture {
	require.NotNil(t, s, "newStore returned nil")
	return &fixture{
		t:      t,
		s:      s,
		ctx:    t.Context(),
		suffix: strings.ToLower(rand.Text()[:12]),
		// Whole microseconds in UTC: what every database keeps exactly.
		base: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

// id returns an id no other subtest or run uses.
func (f *fixture) id(kind string) string {
	return fmt.Sprintf("%s-%s-%d", kind, f.suffix, f.n.Add(1))
}

// at returns the subtest's clock: the base time plus sec seconds.
func (f *fixture) at(sec int) time.Time {
	return f.base.Add(time.Duration(sec) * time.Second)
}

// channelOf returns an unsaved channel of service with every field set.
func (f *fixture) channelOf(service string) *store.Channel {
	return &store.Channel{
		ID:        f.id("ch"),
		ServiceID: service,
		PageID:    f.id("page"),
		PageName:  "Acme Page",
		Name:      "Acme support",
		PageToken: "EAAB-token-" + f.suffix,
		Dispatch: store.Dispatch{
			Mode:     store.DispatchRoundRobin,
			StaffIDs: []string{"staff-a", "staff-b"},
		},
		AutoReply: autoreply.Settings{
			Welcome:    autoreply.Message{On: true, Text: "Hello {visitor}"},
			Close:      autoreply.Message{On: true},
			NameFormat: autoreply.NameFirst,
			Language:   autoreply.TraditionalChinese,
		},
		CustomInfo: store.CustomInfo{On: true, Text: "VIP customers first"},
		HumanAgent: true,
		CreatedAt:  f.at(0),
		UpdatedAt:  f.at(0),
	}
}

// channel creates a channel of a new service.
func (f *fixture) channel() *store.Channel {
	f.t.Helper()
	c := f.channelOf(f.id("svc"))
	require.NoError(f.t, f.s.CreateChannel(f.ctx, c))
	return c
}

// inbound returns an inbound text message from psid on ch at sec that
// opens an enquiry and moves the window.
func (f *fixture) inbound(ch *store.Channel, psid string, sec int) store.Inbound {
	mid := f.id("mid")
	return store.Inbound{
		ServiceID: ch.ServiceID,
		ChannelID: ch.ID,
		PSID:      psid,
		Message: store.Message{
			ID:        f.id("msg"),
			Key:       "m:" + mid,
			Kind:      store.KindMessage,
			Direction: store.DirectionIn,
			Author:    store.AuthorVisitor,
			MID:       mid,
			Text:      "hello at " + fmt.Sprint(sec),
			State:     store.StateReceived,
			CreatedAt: f.at(sec),
		},
		EnquiryID: f.id("enq"),
		Open:      true,
		Window:    true,
	}
}

// record records in and fails the test on error.
func (f *fixture) record(in store.Inbound) store.InboundResult {
	f.t.Helper()
	r, err := f.s.RecordInbound(f.ctx, in)
	require.NoError(f.t, err)
	return r
}

// enquiry opens an enquiry for a new visitor on ch.
func (f *fixture) enquiry(ch *store.Channel) store.Enquiry {
	f.t.Helper()
	r := f.record(f.inbound(ch, f.id("psid"), 0))
	require.True(f.t, r.NewEnquiry)
	return r.Enquiry
}

// outbound returns an unsaved staff message on enquiry e at sec.
func (f *fixture) outbound(e store.Enquiry, sec int) *store.Message {
	return &store.Message{
		ID:        f.id("out"),
		EnquiryID: e.ID,
		Kind:      store.KindMessage,
		Direction: store.DirectionOut,
		Author:    store.AuthorStaff,
		StaffID:   "staff-a",
		Text:      "reply at " + fmt.Sprint(sec),
		State:     store.StatePending,
		CreatedAt: f.at(sec),
	}
}

func (f *fixture) getChannel(id string) store.Channel {
	f.t.Helper()
	c, err := f.s.Channel(f.ctx, id)
	require.NoError(f.t, err)
	return normChannel(*c)
}

func (f *fixture) getEnquiry(id string) store.Enquiry {
	f.t.Helper()
	e, err := f.s.Enquiry(f.ctx, id)
	require.NoError(f.t, err)
	return normEnquiry(*e)
}

func (f *fixture) getVisitor(channelID, psid string) store.Visitor {
	f.t.Helper()
	v, err := f.s.Visitor(f.ctx, channelID, psid)
	require.NoError(f.t, err)
	return normVisitor(*v)
}

// messages returns every message of an enquiry, page by page.
func (f *fixture) messages(enquiryID string) []store.Message {
	f.t.Helper()
	var out []store.Message
	for m, err := range store.All(f.ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Message], error) {
		return f.s.ListMessages(ctx, enquiryID, o)
	}) {
		require.NoError(f.t, err)
		out = append(out, normMessage(m))
	}
	return out
}

// race runs fn(0) ... fn(n-1) on n goroutines released at the same moment
// and waits for them all. fn must not call t.FailNow (require); it should
// store its outcome for the test to check afterwards.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// The norm functions make records comparable whatever the store does with
// what no promise covers: the location of times (a database may return
// them in time.Local) and nil versus empty slices.

func normTime(t time.Time) time.Time { return t.UTC() }

func normSlice[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func normChannel(c store.Channel) store.Channel {
	c.Dispatch.StaffIDs = normSlice(c.Dispatch.StaffIDs)
	c.DisconnectedAt = normTime(c.DisconnectedAt)
	c.LastWebhookAt = normTime(c.LastWebhookAt)
	c.CreatedAt = normTime(c.CreatedAt)
	c.UpdatedAt = normTime(c.UpdatedAt)
	return c
}

func normVisitor(v store.Visitor) store.Visitor {
	v.ProfileFetchedAt = normTime(v.ProfileFetchedAt)
	v.FirstSeenAt = normTime(v.FirstSeenAt)
	v.LastInboundAt = normTime(v.LastInboundAt)
	return v
}

func normEnquiry(e store.Enquiry) store.Enquiry {
	e.OfferedTo = normSlice(e.OfferedTo)
	e.OpenedAt = normTime(e.OpenedAt)
	e.TakenAt = normTime(e.TakenAt)
	e.ClosedAt = normTime(e.ClosedAt)
	e.LastInboundAt = normTime(e.LastInboundAt)
	e.LastOutboundAt = normTime(e.LastOutboundAt)
	return e
}

func normMessage(m store.Message) store.Message {
	m.Attachments = normSlice(m.Attachments)
	m.CreatedAt = normTime(m.CreatedAt)
	return m
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func channelID(c store.Channel) string { return c.ID }
func enquiryID(e store.Enquiry) string { return e.ID }
func messageID(m store.Message) string { return m.ID }
