package enquiry_test

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

// TestConcurrentSendsDisconnectOnce: two replies in flight when the Page
// token is revoked both fail with code 190. The channel is disconnected
// once: one write (the version moves by one, the first reason stays) and
// one notice, with or without package channel doing the write (CONN-7).
func TestConcurrentSendsDisconnectOnce(t *testing.T) {
	t.Parallel()
	for _, st := range []struct {
		name     string
		newStore newStoreFunc
	}{{"memstore", newMemstore}, {"sqlstore", newSQLStore}} {
		for _, viaChannels := range []bool{false, true} {
			name := st.name
			if viaChannels {
				name += "/through package channel"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, st.newStore, options{channels: viaChannels})
				e.say("psid-1", "hello")
				e.say("psid-2", "hello")
				ids := []string{e.take("psid-1", "alice").ID, e.take("psid-2", "alice").ID}
				before, err := e.store.Channel(e.ctx, channelID)
				require.NoError(t, err)

				// Both sends reach the fake Graph API before either is
				// answered, so both read the channel as active.
				var arrived atomic.Int32
				both := make(chan struct{})
				e.fb.OnRequest(func(r messengertest.Request) {
					if !strings.HasSuffix(r.Path, "/messages") || bytes.Contains(r.Body, []byte("sender_action")) {
						return
					}
					switch arrived.Add(1) {
					case 1:
						<-both
					case 2:
						close(both)
					}
				})
				e.fb.FailNext(2, messengertest.GraphError{HTTPStatus: 401, Code: 190, Subcode: 460, Message: "Error validating access token"})
				var wg sync.WaitGroup
				errs := make([]error, len(ids))
				for i, id := range ids {
					wg.Go(func() { _, errs[i] = e.svc.Reply(e.ctx, id, "alice", "hi") })
				}
				wg.Wait()
				require.EqualValues(t, 2, arrived.Load())
				for _, err := range errs {
					assert.ErrorIs(t, err, enquiry.ErrChannelDisconnected, "each staff member is told why")
				}

				ch, err := e.store.Channel(e.ctx, channelID)
				require.NoError(t, err)
				assert.Equal(t, store.ChannelDisconnected, ch.Status)
				assert.Equal(t, before.Version+1, ch.Version, "the disconnection is written once")
				assert.Len(t, e.notices.of(enquiry.NoticeChannelDisconnected), 1, "the host is told once")
				if viaChannels {
					e.mu.Lock()
					defer e.mu.Unlock()
					var kinds []channel.NoticeKind
					for _, n := range e.channelNotices {
						kinds = append(kinds, n.Kind)
					}
					assert.Equal(t, []channel.NoticeKind{channel.NoticeDisconnected}, kinds)
				}
			})
		}
	}
}
