package enquiry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/store"
)

// failOutbound is a store whose next AppendOutbound calls fail: after
// writing (the commit went through, its answer was lost) or before.
type failOutbound struct {
	store.Store
	mu     sync.Mutex
	n      int
	commit bool
}

var errOutbound = errors.New("connection lost")

func (s *failOutbound) arm(n int, commit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n, s.commit = n, commit
}

func (s *failOutbound) AppendOutbound(ctx context.Context, m *store.Message) error {
	s.mu.Lock()
	fail, commit := s.n > 0, s.commit
	s.n--
	s.mu.Unlock()
	if !fail {
		return s.Store.AppendOutbound(ctx, m)
	}
	if commit {
		if err := s.Store.AppendOutbound(ctx, m); err != nil {
			return err
		}
	}
	return errOutbound
}

// Found by the load test (enquiry/loadtest): a staff reply whose recording
// committed but answered with an error was never sent and stayed pending
// for ever, so the staff member's transcript showed it twice (the ghost
// pending one and the one they sent again). It is now marked failed; an
// auto-reply's record never is, since its id is derived from its trigger
// and the record may be another attempt's, already sent.
func TestUnsentRecordMarkedFailed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		newStore newStoreFunc
	}{
		{"memstore", newMemstore},
		{"sqlstore", newSQLStore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var st *failOutbound
			e := newEnv(t, tc.newStore, options{wrap: func(s store.Store) store.Store {
				st = &failOutbound{Store: s}
				return st
			}})
			d := e.delivery().Text(pageID, "psid-1", "hello")
			require.Equal(t, 200, e.post(d))
			id := e.open("psid-1").ID
			require.Len(t, e.sent("psid-1"), 1, "the welcome")

			// The redelivery tries the welcome again and its recording fails
			// (before writing): the record under its id is the first
			// attempt's, sent, and stays so.
			st.arm(1, false)
			assert.GreaterOrEqual(t, e.post(d), 500)
			require.Equal(t, 200, e.post(d))
			msgs := e.messages(id)
			require.Len(t, msgs, 2)
			assert.Equal(t, store.AuthorAutoReply, msgs[1].Author)
			assert.Equal(t, store.StateSent, msgs[1].State, "another attempt's record is never marked")

			// A staff reply's record: committed, then the error.
			e.take("psid-1", "alice")
			st.arm(1, true)
			_, err := e.svc.Reply(e.ctx, id, "alice", "Hi, Alice here")
			require.ErrorIs(t, err, errOutbound)
			m, err := e.svc.Reply(e.ctx, id, "alice", "Hi, Alice here")
			require.NoError(t, err, "sent again by the staff member")
			msgs = e.messages(id)
			require.Len(t, msgs, 4)
			assert.Equal(t, "Hi, Alice here", msgs[2].Text)
			assert.Equal(t, store.StateFailed, msgs[2].State, "the first try is not shown as still going out")
			assert.Contains(t, msgs[2].Error, "not sent")
			assert.Equal(t, m.ID, msgs[3].ID)
			assert.Equal(t, store.StateSent, msgs[3].State)
			assert.Len(t, e.sent("psid-1"), 2, "the welcome and the reply, once each")

			// Failing before anything was written marks nothing.
			st.arm(1, false)
			_, err = e.svc.Reply(e.ctx, id, "alice", "One more thing")
			require.ErrorIs(t, err, errOutbound)
			assert.Len(t, e.messages(id), 4)
		})
	}
}

// lossy is a store whose armed calls fail: a write after it committed
// (its answer lost, as a connection lost after COMMIT gives) or before
// writing anything.
type lossy struct {
	store.Store
	mu     sync.Mutex
	armed  map[string]int // method -> calls still to fail
	commit bool
}

func (s *lossy) arm(method string, n int, commit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.armed == nil {
		s.armed = map[string]int{}
	}
	s.armed[method], s.commit = n, commit
}

// fail reports whether this call of method fails, and whether after the
// write committed.
func (s *lossy) fail(method string) (fail, commit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.armed[method] <= 0 {
		return false, false
	}
	s.armed[method]--
	return true, s.commit
}

func (s *lossy) RecordInbound(ctx context.Context, in store.Inbound) (store.InboundResult, error) {
	fail, commit := s.fail("RecordInbound")
	if !fail {
		return s.Store.RecordInbound(ctx, in)
	}
	if commit {
		if _, err := s.Store.RecordInbound(ctx, in); err != nil {
			return store.InboundResult{}, err
		}
	}
	return store.InboundResult{}, errOutbound
}

// Found by the load test (enquiry/loadtest): an inbound item recorded by a
// RecordInbound whose answer was lost was never announced. The webhook
// answered 500, Facebook delivered the item again, the redelivery found it
// recorded, and duplicates were not announced, so the host's staff UI
// never heard of the visitor's message. Notices of inbound items are now
// at least once: a duplicate is announced again.
func TestLostInboundAnswerAnnounced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		newStore newStoreFunc
	}{
		{"memstore", newMemstore},
		{"sqlstore", newSQLStore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var st *lossy
			e := newEnv(t, tc.newStore, options{wrap: func(s store.Store) store.Store {
				st = &lossy{Store: s}
				return st
			}})

			// A visitor's first message: recorded, its answer lost.
			d := e.delivery().Text(pageID, "psid-1", "hello")
			st.arm("RecordInbound", 1, true)
			assert.GreaterOrEqual(t, e.post(d), 500, "the store failed: Facebook will deliver again")
			assert.Empty(t, e.notices.all, "the failed call announced nothing")
			require.Equal(t, 200, e.post(d), "the redelivery")
			enq := e.open("psid-1")
			msgs := e.messages(enq.ID)
			require.Equal(t, []store.Author{store.AuthorVisitor, store.AuthorAutoReply}, authors(msgs), "recorded once, welcomed")
			in := e.notices.of(enquiry.NoticeMessageIn)
			require.Len(t, in, 1, "the host hears of the message")
			assert.Equal(t, msgs[0].ID, in[0].Message.ID)
			assert.Equal(t, "hello", in[0].Message.Text)
			assert.Equal(t, enq.ID, in[0].Enquiry.ID)
			opened := e.notices.of(enquiry.NoticeOpened)
			require.Len(t, opened, 1, "and of the enquiry it opened")
			assert.Equal(t, enq.ID, opened[0].Enquiry.ID)
			assert.Len(t, e.notices.of(enquiry.NoticeOffered), 1, "dispatched on the redelivery")

			// A Page admin's message from the Page inbox: the same.
			e.clock.Advance(time.Second)
			admin := e.delivery().Echo(pageID, "psid-1", "This is the manager", "", "")
			st.arm("RecordInbound", 1, true)
			assert.GreaterOrEqual(t, e.post(admin), 500)
			require.Len(t, e.notices.of(enquiry.NoticeMessageIn), 1, "nothing new announced by the failed call")
			require.Equal(t, 200, e.post(admin))
			msgs = e.messages(enq.ID)
			require.Len(t, msgs, 3)
			require.Equal(t, store.AuthorPageAdmin, msgs[2].Author)
			in = e.notices.of(enquiry.NoticeMessageIn)
			require.Len(t, in, 2)
			assert.Equal(t, msgs[2].ID, in[1].Message.ID, "the host hears of the Page admin's message")
			assert.Len(t, e.notices.of(enquiry.NoticeOpened), 1, "an echo opens no enquiry")
		})
	}
}

func (s *lossy) Close(ctx context.Context, id string, t time.Time) (*store.Enquiry, error) {
	fail, commit := s.fail("Close")
	if !fail {
		return s.Store.Close(ctx, id, t)
	}
	if commit {
		if _, err := s.Store.Close(ctx, id, t); err != nil {
			return nil, err
		}
	}
	return nil, errOutbound
}

func (s *lossy) Visitor(ctx context.Context, channelID, psid string) (*store.Visitor, error) {
	if fail, _ := s.fail("Visitor"); fail {
		return nil, errOutbound
	}
	return s.Store.Visitor(ctx, channelID, psid)
}

func (s *lossy) AppendOutbound(ctx context.Context, m *store.Message) error {
	fail, commit := s.fail("AppendOutbound")
	if !fail {
		return s.Store.AppendOutbound(ctx, m)
	}
	if commit {
		if err := s.Store.AppendOutbound(ctx, m); err != nil {
			return err
		}
	}
	return errOutbound
}

// Found by the load test (enquiry/loadtest): when the store failed during
// Close after the enquiry was closed (the close's answer lost, or a read or
// write on the way to the close auto-reply failing), trying Close again got
// ErrClosed and the close auto-reply never went out. Close is now
// idempotent: it returns the closed enquiry and sees to the close
// auto-reply on every call, which its derived id keeps to at most once.
func TestCloseRetrySendsCloseReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string // the store call that fails during the first Close
		commit bool   // after it committed
		// wantReply: the close auto-reply went out on the retry. Not when
		// its record committed and answered with an error: the service
		// cannot tell that record from another attempt's, which may be
		// sending it, so it goes out at most once, here never.
		wantReply bool
		// again: the visitor writes again before the retry.
		again bool
	}{
		{name: "close answer lost", method: "Close", commit: true, wantReply: true},
		{name: "close fails", method: "Close", wantReply: true},
		{name: "visitor read fails", method: "Visitor", wantReply: true},
		{name: "reply record fails", method: "AppendOutbound", wantReply: true},
		{name: "reply record answer lost", method: "AppendOutbound", commit: true},
		{name: "visitor wrote again", method: "Close", commit: true, again: true},
	}
	for _, s := range []struct {
		name     string
		newStore newStoreFunc
	}{
		{"memstore", newMemstore},
		{"sqlstore", newSQLStore},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					var st *lossy
					e := newEnv(t, s.newStore, options{wrap: func(s store.Store) store.Store {
						st = &lossy{Store: s}
						return st
					}})
					e.say("psid-1", "hi")
					id := e.take("psid-1", "alice").ID
					require.Len(t, e.sent("psid-1"), 1, "the welcome")
					closeText := e.render(autoreply.Close, autoreply.Values{StaffFirstName: "Alice", StaffLastName: "Wong"})

					st.arm(tt.method, 1, tt.commit)
					_, err := e.svc.Close(e.ctx, id, "alice")
					require.ErrorIs(t, err, errOutbound, "the store failure is returned: the caller tries again")
					assert.Len(t, e.sent("psid-1"), 1, "no close reply yet")
					if tt.again {
						e.clock.Advance(time.Minute)
						e.say("psid-1", "one more thing")
						assert.NotEqual(t, id, e.open("psid-1").ID, "a new enquiry")
					}

					for range 2 { // the retry, and one more
						closed, err := e.svc.Close(e.ctx, id, "alice")
						require.NoError(t, err, "Close is idempotent")
						assert.Equal(t, id, closed.ID)
						assert.Equal(t, store.EnquiryClosed, closed.Status)
					}
					var closes []string
					for _, m := range e.sent("psid-1") {
						if m.Text == closeText {
							closes = append(closes, m.Text)
						}
					}
					if tt.wantReply {
						assert.Len(t, closes, 1, "the close reply, once")
					} else {
						assert.Empty(t, closes)
					}
					var replies int
					for _, m := range e.messages(id) {
						if m.Payload == enquiry.AutoReplyPayloadPrefix+"close" {
							replies++
						}
					}
					if tt.again {
						assert.Zero(t, replies, "no goodbye on the old enquiry of a visitor who wrote again")
					} else {
						assert.Equal(t, 1, replies, "the close reply recorded once")
					}
					notices := e.notices.of(enquiry.NoticeClosed)
					require.NotEmpty(t, notices, "the host hears of the close")
					for _, n := range notices {
						assert.Equal(t, id, n.Enquiry.ID)
						assert.Equal(t, store.EnquiryClosed, n.Enquiry.Status)
					}
				})
			}
		})
	}
}
