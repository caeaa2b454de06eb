package enquiry_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

// Found by the load test (enquiry/loadtest): Facebook's echo of a send may
// be handled before the send's answer, and when that answer is then lost
// the send used to record the message as uncertain over the echo's proof.
func TestEchoBeforeLostAnswer(t *testing.T) {
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
			e := newEnv(t, tc.newStore, options{})
			e.say("psid-1", "hello")
			id := e.take("psid-1", "alice").ID
			const text = "did this arrive?"
			e.fb.OnSend(func(m messengertest.SentMessage) {
				if m.Text != text {
					return
				}
				// The echo is handled first; then the connection breaks
				// before the answer: for the client, it may or may not have
				// gone out.
				assert.Equal(t, http.StatusOK, e.post(e.delivery().Echo(pageID, m.RecipientID, m.Text, messengertest.AppID, m.Metadata).MID(m.MessageID)))
				panic(http.ErrAbortHandler)
			})
			m, err := e.svc.Reply(e.ctx, id, "alice", text)
			require.NoError(t, err, "the echo proved it went out")
			require.NotNil(t, m)
			assert.Equal(t, store.StateSent, m.State)
			assert.NotEmpty(t, m.MID)

			msgs := e.messages(id)
			last := msgs[len(msgs)-1]
			assert.Equal(t, m.ID, last.ID)
			assert.Equal(t, store.StateSent, last.State, "the stored state keeps the echo's proof")
			assert.Equal(t, m.MID, last.MID)
			assert.Empty(t, last.Error)
			assert.Len(t, e.sent("psid-1"), 2, "the welcome and the reply, each once")
		})
	}
}
