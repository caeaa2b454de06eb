package channel_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
)

func newStoredChannel(t *testing.T, st store.Store) *store.Channel {
	t.Helper()
	ch := &store.Channel{ID: "ch-1", ServiceID: "svc", PageID: "page-1", Name: "Page", PageToken: "tok"}
	require.NoError(t, st.CreateChannel(t.Context(), ch))
	return ch
}

func TestDisconnectOnceAmongConcurrentCallers(t *testing.T) {
	t.Parallel()
	st := memstore.New()
	newStoredChannel(t, st)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var moved atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			_, m, err := channel.Disconnect(t.Context(), st, "ch-1", "token revoked", at)
			assert.NoError(t, err)
			if m {
				moved.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), moved.Load(), "exactly one caller moves the channel")
	ch, err := st.Channel(t.Context(), "ch-1")
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDisconnected, ch.Status)
	assert.Equal(t, "token revoked", ch.DisconnectReason)
	assert.True(t, at.Equal(ch.DisconnectedAt))

	// Already disconnected: the first reason and time stay.
	_, m, err := channel.Disconnect(t.Context(), st, "ch-1", "later", at.Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, m)
	ch, err = st.Channel(t.Context(), "ch-1")
	require.NoError(t, err)
	assert.Equal(t, "token revoked", ch.DisconnectReason)
}

func TestDisconnectDeletedChannelStaysDeleted(t *testing.T) {
	t.Parallel()
	st := memstore.New()
	newStoredChannel(t, st)
	_, err := st.SetChannelStatus(t.Context(), "ch-1", store.ChannelDeleted, "", time.Now())
	require.NoError(t, err)
	ch, m, err := channel.Disconnect(t.Context(), st, "ch-1", "token revoked", time.Now())
	require.NoError(t, err)
	assert.False(t, m)
	assert.Equal(t, store.ChannelDeleted, ch.Status)
}

// editingStore wins every compare-and-set race: a settings edit lands
// between each read and write of Disconnect.
type editingStore struct {
	store.Store
}

func (s editingStore) UpdateChannel(ctx context.Context, c *store.Channel) error {
	cur, err := s.Store.Channel(ctx, c.ID)
	if err != nil {
		return err
	}
	cur.Name += "!"
	if err := s.Store.UpdateChannel(ctx, cur); err != nil {
		return err
	}
	return s.Store.UpdateChannel(ctx, c) // stale now: ErrConflict
}

func TestDisconnectNotLostToConcurrentEdits(t *testing.T) {
	t.Parallel()
	st := memstore.New()
	newStoredChannel(t, st)
	ch, m, err := channel.Disconnect(t.Context(), editingStore{st}, "ch-1", "token revoked", time.Now())
	require.NoError(t, err)
	assert.True(t, m)
	assert.Equal(t, store.ChannelDisconnected, ch.Status)
	stored, err := st.Channel(t.Context(), "ch-1")
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDisconnected, stored.Status)
	assert.Equal(t, "Page!!", stored.Name, "the edits that won the races are kept")
}
