package channel_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

func TestReportGraphError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fail       messengertest.GraphError
		disconnect bool
		reason     string
	}{
		{"190 invalid token", messengertest.GraphError{Code: 190, Subcode: 460, Message: "Error validating access token"}, true, "(code 190, subcode 460)"},
		{"permission 200", messengertest.GraphError{Code: 200, Message: "(#200) Permissions error"}, true, "lack of permission (code 200)"},
		{"permission 10", messengertest.GraphError{Code: 10, Message: "(#10) Application does not have permission for this action"}, true, "lack of permission (code 10)"},
		{"outside the window", messengertest.GraphError{Code: 10, Subcode: 2018278, Message: "(#10) This message is sent outside of allowed window."}, false, ""},
		{"recipient unavailable", messengertest.GraphError{Code: 551, Message: "This person isn't available right now."}, false, ""},
		// Refusals about one person wear permission codes; the Page's rights are intact.
		{"outside the window, older subcode", messengertest.GraphError{Code: 10, Subcode: 2018065, Message: "(#10) This message is sent outside of allowed window."}, false, ""},
		{"person not receiving", messengertest.GraphError{Code: 10, Subcode: 2018108, Message: "(#10) This person isn't receiving messages from you right now."}, false, ""},
		{"person unavailable, code 200", messengertest.GraphError{Code: 200, Subcode: 1545041, Message: "(#200) Message Not Sent: This person isn't available right now."}, false, ""},
		{"transient", messengertest.GraphError{Code: 2, Message: "Service temporarily unavailable"}, false, ""},
		{"rate limited", messengertest.GraphError{Code: 613, Message: "Calls to this api have exceeded the rate limit."}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ch := e.connect(t)
			e.fb.FailNext(1, tt.fail)
			_, sendErr := e.svc.PageClient(ch).Send(t.Context(), messengerText("psid-1", "hello"))
			require.Error(t, sendErr)
			e.clock.Advance(time.Minute)

			gone, err := e.svc.ReportGraphError(t.Context(), ch.ID, sendErr)
			require.NoError(t, err)
			assert.Equal(t, tt.disconnect, gone)
			assert.Equal(t, tt.disconnect, channel.LostRights(sendErr))
			got, err := e.st.Channel(t.Context(), ch.ID)
			require.NoError(t, err)
			if !tt.disconnect {
				assert.Equal(t, store.ChannelActive, got.Status)
				assert.Equal(t, []channel.NoticeKind{channel.NoticeConnected}, e.notices.kinds())
				return
			}
			assert.Equal(t, store.ChannelDisconnected, got.Status)
			assert.Contains(t, got.DisconnectReason, tt.reason)
			assert.Contains(t, got.DisconnectReason, "connect the Page again")
			assert.Equal(t, e.clock.Now(), got.DisconnectedAt)
			err = e.svc.CanSend(got)
			assert.ErrorIs(t, err, channel.ErrDisconnected, "a disconnected channel sends nothing")
			n := e.notices.last()
			assert.Equal(t, channel.NoticeDisconnected, n.Kind)
			assert.Equal(t, ch.ID, n.ChannelID)
			assert.Equal(t, "svc-a", n.ServiceID)
			assert.Equal(t, got.DisconnectReason, n.Reason)

			// Reported again: still disconnected, told once, and the
			// report says this call did not disconnect it.
			gone, err = e.svc.ReportGraphError(t.Context(), ch.ID, sendErr)
			require.NoError(t, err)
			assert.False(t, gone)
			assert.Len(t, e.notices.kinds(), 2)
			again, err := e.st.Channel(t.Context(), ch.ID)
			require.NoError(t, err)
			assert.Equal(t, store.ChannelDisconnected, again.Status)
		})
	}
}

func TestReportGraphErrorUnknownChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.svc.ReportGraphError(t.Context(), "nope", errInvalidToken())
	assert.ErrorIs(t, err, store.ErrNotFound)
	gone, err := e.svc.ReportGraphError(t.Context(), "nope", errors.New("network down"))
	assert.NoError(t, err, "an error that is not about rights needs no channel")
	assert.False(t, gone)
}

func TestDiagnoseHealthy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	require.NoError(t, e.st.TouchWebhook(t.Context(), ch.ID, e.clock.Now()))
	e.clock.Advance(90 * time.Second)

	r, err := e.svc.Diagnose(t.Context(), "svc-a", ch.ID)
	require.NoError(t, err)
	assert.True(t, r.OK(), "%+v", r.Failed())
	assert.False(t, r.Disconnected)
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"status", "token", "permission pages_messaging", "permission pages_show_list",
		"permission pages_read_engagement", "permission pages_manage_metadata", "subscription", "last webhook"}, names)
	c, ok := r.Check(channel.CheckWebhook)
	require.True(t, ok)
	assert.Equal(t, "the last arrived at 2026-03-01T09:00:00Z (1m30s ago)", c.Detail)
	c, _ = r.Check(channel.CheckToken)
	assert.Equal(t, "valid; does not expire", c.Detail)
}

func TestDiagnoseFindsProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		break_       func(e *env, ch *store.Channel)
		failed       []string
		hint         string
		disconnected bool
	}{
		{"no webhook yet", func(*env, *store.Channel) {}, []string{channel.CheckWebhook}, "check the app's webhook callback URL", false},
		{"a field missing from the subscription", func(e *env, ch *store.Channel) {
			require.NoError(t, e.svc.PageClient(ch).Subscribe(context.Background(), []string{"messages", "message_echoes"}))
			require.NoError(t, e.st.TouchWebhook(context.Background(), ch.ID, e.clock.Now()))
		}, []string{channel.CheckSubscription}, "call Resubscribe", false},
		{"not subscribed", func(e *env, ch *store.Channel) {
			require.NoError(t, e.svc.PageClient(ch).Unsubscribe(context.Background()))
			require.NoError(t, e.st.TouchWebhook(context.Background(), ch.ID, e.clock.Now()))
		}, []string{channel.CheckSubscription}, "Business Integrations", false},
		{"paused", func(e *env, ch *store.Channel) {
			_, err := e.svc.Pause(context.Background(), "svc-a", ch.ID)
			require.NoError(t, err)
			require.NoError(t, e.st.TouchWebhook(context.Background(), ch.ID, e.clock.Now()))
		}, []string{channel.CheckStatus}, "resume the channel", false},
		{"a permission revoked", func(e *env, ch *store.Channel) {
			e.decline("pages_manage_metadata")
			require.NoError(t, e.st.TouchWebhook(context.Background(), ch.ID, e.clock.Now()))
		}, []string{"permission pages_manage_metadata"}, "allow pages_manage_metadata", false},
		{"messaging revoked: rights gone", func(e *env, ch *store.Channel) {
			e.decline("pages_messaging")
			require.NoError(t, e.st.TouchWebhook(context.Background(), ch.ID, e.clock.Now()))
		}, []string{"permission pages_messaging"}, "allow pages_messaging", true},
		{"token revoked: rights gone", func(e *env, ch *store.Channel) {
			e.fb.RevokePageToken("p1")
			require.NoError(t, e.st.TouchWebhook(context.Background(), ch.ID, e.clock.Now()))
		}, []string{channel.CheckToken, "permission pages_messaging", "permission pages_show_list",
			"permission pages_read_engagement", "permission pages_manage_metadata", channel.CheckSubscription},
			"connect the Page again", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ch := e.connect(t)
			tt.break_(e, ch)

			r, err := e.svc.Diagnose(t.Context(), "svc-a", ch.ID)
			require.NoError(t, err)
			assert.False(t, r.OK())
			var failed []string
			for _, c := range r.Failed() {
				failed = append(failed, c.Name)
				assert.NotEmpty(t, c.Hint, "every failed check says what to do: %s", c.Name)
				assert.NotEmpty(t, c.Detail)
			}
			assert.Equal(t, tt.failed, failed)
			first, _ := r.Check(tt.failed[0])
			assert.Contains(t, first.Hint, tt.hint)
			assert.Equal(t, tt.disconnected, r.Disconnected)

			got, err := e.st.Channel(t.Context(), ch.ID)
			require.NoError(t, err)
			if tt.disconnected {
				assert.Equal(t, store.ChannelDisconnected, got.Status)
				assert.Contains(t, got.DisconnectReason, "diagnosis: ")
				assert.Equal(t, channel.NoticeDisconnected, e.notices.last().Kind)
			} else {
				assert.NotEqual(t, store.ChannelDisconnected, got.Status)
			}
		})
	}
}

func TestResubscribe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	require.NoError(t, e.svc.PageClient(ch).Unsubscribe(t.Context()))
	require.NoError(t, e.svc.Resubscribe(t.Context(), "svc-a", ch.ID))
	assert.Equal(t, channel.WebhookFields, e.fb.Subscribed("p1"))

	e.fb.RevokePageToken("p1")
	err := e.svc.Resubscribe(t.Context(), "svc-a", ch.ID)
	require.ErrorIs(t, err, messenger.ErrInvalidToken)
	got, err := e.st.Channel(t.Context(), ch.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDisconnected, got.Status)
}

// echoWebhook is the host's webhook: deliveries are verified and parsed by
// package messenger, and echoes handed to the channel service, as the
// enquiry service does.
func echoWebhook(t *testing.T, e *env) *messenger.Webhook {
	t.Helper()
	wh, err := messenger.NewWebhook(messenger.WebhookConfig{
		AppSecret: e.fb.AppSecret, VerifyToken: "verify",
		Handler: messenger.HandlerFunc(func(_ context.Context, events []messenger.Event) error {
			for _, ev := range events {
				e.svc.ObserveEcho(ev)
			}
			return nil
		}),
	})
	require.NoError(t, err)
	return wh
}

func TestSelfTestSeesItsEcho(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	wh := echoWebhook(t, e)
	var sent []messengertest.SentMessage
	// Facebook echoes every message the Page sends to the app's webhook.
	e.fb.OnSend(func(m messengertest.SentMessage) {
		sent = append(sent, m)
		d := messengertest.Delivery(e.fb.AppSecret).Echo(m.PageID, m.RecipientID, m.Text, e.fb.AppID, m.Metadata).MID(m.MessageID)
		w := httptest.NewRecorder()
		wh.ServeHTTP(w, d.Request("/webhook"))
		assert.Equal(t, 200, w.Code)
	})

	res, err := e.svc.SelfTest(t.Context(), "svc-a", ch.ID, "psid-admin")
	require.NoError(t, err)
	require.Len(t, sent, 1)
	assert.Equal(t, sent[0].MessageID, res.MessageID)
	assert.Equal(t, "psid-admin", sent[0].RecipientID)
	assert.Equal(t, channel.SelfTestText, sent[0].Text)
	assert.True(t, channel.IsSelfTest(messenger.Event{Kind: messenger.KindEcho, Message: &messenger.EventMessage{Metadata: sent[0].Metadata}}))
	assert.False(t, channel.IsSelfTest(messenger.Event{Kind: messenger.KindEcho, Message: &messenger.EventMessage{Metadata: "staff:1"}}))
	assert.Equal(t, e.clock.Now(), res.EchoAt)
}

func TestSelfTestMatchesTheEchoByMID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	// An echo without metadata, arriving before the send returned: it is
	// matched by its mid once the send returns. Echoes of another Page, or
	// of other messages, do not count.
	e.fb.OnSend(func(m messengertest.SentMessage) {
		e.svc.ObserveEcho(messenger.Event{Kind: messenger.KindEcho, PageID: "p9", Message: &messenger.EventMessage{MID: m.MessageID, IsEcho: true}})
		e.svc.ObserveEcho(messenger.Event{Kind: messenger.KindMessage, PageID: m.PageID, Message: &messenger.EventMessage{MID: m.MessageID}})
		e.svc.ObserveEcho(messenger.Event{Kind: messenger.KindEcho, PageID: m.PageID, Message: &messenger.EventMessage{MID: "m_other", IsEcho: true}})
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	e.onSent(cancel)
	_, err := e.svc.SelfTest(ctx, "svc-a", ch.ID, "psid-admin")
	require.ErrorIs(t, err, channel.ErrNoEcho, "none of those echoes is the test message's")

	e2 := newEnv(t)
	ch2 := e2.connect(t)
	e2.fb.OnSend(func(m messengertest.SentMessage) {
		e2.svc.ObserveEcho(messenger.Event{Kind: messenger.KindEcho, PageID: m.PageID, Message: &messenger.EventMessage{MID: m.MessageID, IsEcho: true}})
	})
	res, err := e2.svc.SelfTest(t.Context(), "svc-a", ch2.ID, "psid-admin")
	require.NoError(t, err)
	assert.NotEmpty(t, res.MessageID)
}

func TestSelfTestWithoutEcho(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The message goes out; no echo ever comes; the caller gives up.
	e.onSent(cancel)
	res, err := e.svc.SelfTest(ctx, "svc-a", ch.ID, "psid-admin")
	require.ErrorIs(t, err, channel.ErrNoEcho)
	assert.NotEmpty(t, res.MessageID, "the message was sent")
	assert.Contains(t, err.Error(), "message_echoes subscription")
}

func TestSelfTestRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	_, err := e.svc.SelfTest(t.Context(), "svc-a", ch.ID, "")
	assert.ErrorIs(t, err, channel.ErrInvalid)

	_, err = e.svc.Pause(t.Context(), "svc-a", ch.ID)
	require.NoError(t, err)
	_, err = e.svc.SelfTest(t.Context(), "svc-a", ch.ID, "psid-admin")
	assert.ErrorIs(t, err, channel.ErrPaused)
	assert.Empty(t, e.fb.Sent("p1"), "a paused channel sends nothing")

	_, err = e.svc.Resume(t.Context(), "svc-a", ch.ID)
	require.NoError(t, err)
	e.fb.RevokePageToken("p1")
	_, err = e.svc.SelfTest(t.Context(), "svc-a", ch.ID, "psid-admin")
	require.ErrorIs(t, err, messenger.ErrInvalidToken)
	got, err := e.st.Channel(t.Context(), ch.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDisconnected, got.Status, "190 on the self-test's send disconnects")
}
