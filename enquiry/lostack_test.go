package enquiry_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

// ackLostOutbound is a store whose next AppendOutbound calls (armed)
// write, then fail: the commit went through, its answer was lost.
type ackLostOutbound struct {
	store.Store
	armed atomic.Int64
}

var errAckLost = errors.New("connection lost after COMMIT")

func (s *ackLostOutbound) AppendOutbound(ctx context.Context, m *store.Message) error {
	if s.armed.Add(-1) >= 0 {
		if err := s.Store.AppendOutbound(ctx, m); err != nil {
			return err
		}
		return errAckLost
	}
	return s.Store.AppendOutbound(ctx, m)
}

// Found by the load test (enquiry/loadtest): a message whose recording
// committed but answered with an error was never sent and stayed pending
// for ever, so a staff member's transcript showed their reply twice (the
// ghost pending one and the one they sent again) and an auto-reply's
// record claimed it was still going out.
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
			var wrapped *ackLostOutbound
			e := newEnv(t, tc.newStore, options{wrap: func(s store.Store) store.Store {
				wrapped = &ackLostOutbound{Store: s}
				return wrapped
			}})

			// The welcome's record: committed, then the error.
			wrapped.armed.Store(1)
			d := e.delivery().Text(pageID, "psid-1", "hello")
			assert.GreaterOrEqual(t, e.post(d), 500, "a store failure is a non-2xx")
			wrapped.armed.Store(0)
			require.Equal(t, 200, e.post(d), "the redelivery")
			id := e.open("psid-1").ID
			msgs := e.messages(id)
			require.Len(t, msgs, 2)
			assert.Equal(t, store.AuthorAutoReply, msgs[1].Author)
			assert.Equal(t, store.StateFailed, msgs[1].State, "the welcome never went out, and never will")
			assert.NotEmpty(t, msgs[1].Error)
			assert.Empty(t, e.sent("psid-1"), "at most once: not sent")

			// A staff reply's record: committed, then the error.
			e.take("psid-1", "alice")
			wrapped.armed.Store(1)
			_, err := e.svc.Reply(e.ctx, id, "alice", "Hi, Alice here")
			require.ErrorIs(t, err, errAckLost)
			m, err := e.svc.Reply(e.ctx, id, "alice", "Hi, Alice here")
			require.NoError(t, err, "sent again by the staff member")
			msgs = e.messages(id)
			require.Len(t, msgs, 4)
			assert.Equal(t, store.StateFailed, msgs[2].State, "the first try is not shown as still going out")
			assert.Equal(t, "Hi, Alice here", msgs[2].Text)
			assert.Equal(t, m.ID, msgs[3].ID)
			assert.Equal(t, store.StateSent, msgs[3].State)
			assert.Len(t, e.sent("psid-1"), 1, "the visitor got the reply once")
		})
	}
}
