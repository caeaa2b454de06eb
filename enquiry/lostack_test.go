package enquiry_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
