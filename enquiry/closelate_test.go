package enquiry_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

// A Close repeated after the channel changed (resumed, its close reply
// switched on) does not send the goodbye that the first Close rightly
// skipped.
func TestRepeatedCloseSendsNoLateGoodbye(t *testing.T) {
	t.Parallel()
	for name, newStore := range map[string]newStoreFunc{"memstore": newMemstore, "sqlstore": newSQLStore} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, newStore, options{})
			e.say("psid-1", "hello")
			id := e.take("psid-1", "alice").ID
			e.clock.Advance(time.Minute)
			e.setStatus(store.ChannelPaused, "")
			_, err := e.svc.Close(e.ctx, id, "alice")
			require.NoError(t, err)
			sent := len(e.sent("psid-1"))

			e.clock.Advance(time.Minute)
			e.setStatus(store.ChannelActive, "")
			closed, err := e.svc.Close(e.ctx, id, "alice")
			require.NoError(t, err, "Close is idempotent")
			assert.Equal(t, store.EnquiryClosed, closed.Status)
			assert.Len(t, e.sent("psid-1"), sent, "no goodbye after the resume")
		})
	}
}
