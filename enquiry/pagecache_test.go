package enquiry_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

// A Page is connected right after an event for it was ignored (Facebook
// starts delivering as soon as the app is subscribed, a moment before the
// channel is stored): its next message must not be dropped as if the Page
// were still unknown.
func TestPageConnectedAfterIgnoredEvent(t *testing.T) {
	t.Parallel()
	for name, newStore := range map[string]newStoreFunc{"memstore": newMemstore, "sqlstore": newSQLStore} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, newStore, options{})
			const newPage = "2000002"
			require.Equal(t, http.StatusOK, e.post(e.delivery().Text(newPage, "psid-9", "anyone there?")))

			now := e.clock.Now()
			require.NoError(t, e.store.CreateChannel(e.ctx, &store.Channel{ID: "ch-new", ServiceID: serviceID,
				PageID: newPage, Name: "New", PageToken: pageToken, CreatedAt: now, UpdatedAt: now}))
			require.Equal(t, http.StatusOK, e.post(e.delivery().Text(newPage, "psid-9", "hello again")))

			enq, err := e.store.OpenEnquiry(e.ctx, "ch-new", "psid-9")
			require.NoError(t, err, "the message after the connection opened an enquiry")
			assert.Equal(t, "hello again", e.messages(enq.ID)[0].Text)
		})
	}
}
