package channel_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/store"
)

func TestUpdateIsOptimistic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)

	set := channel.SettingsOf(ch)
	set.Name = "  " + strings.Repeat("客", 40) + " "
	set.Dispatch = store.Dispatch{Mode: store.DispatchLeastBusy, StaffIDs: []string{"amy", "bob"}}
	set.AutoReply.NameFormat = autoreply.NameFull
	set.AutoReply.Close = autoreply.Message{On: true, Text: "Bye {visitor}!"}
	set.CustomInfo = store.CustomInfo{On: true, Text: "Refunds: see the wiki"}
	set.HumanAgent = true
	e.clock.Advance(time.Minute)
	updated, err := e.svc.Update(t.Context(), "svc-a", ch.ID, ch.Version, set)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("客", 40), updated.Name, "trimmed")
	assert.Equal(t, ch.Version+1, updated.Version)
	assert.Equal(t, e.clock.Now(), updated.UpdatedAt)
	assert.Equal(t, []string{"amy", "bob"}, updated.Dispatch.StaffIDs)
	assert.True(t, updated.HumanAgent)
	assert.Equal(t, "page-token-1", updated.PageToken, "the token is not a setting")

	got, err := e.svc.Get(t.Context(), "svc-a", ch.ID)
	require.NoError(t, err)
	assert.Equal(t, channel.SettingsOf(updated), channel.SettingsOf(got))

	// A form read at the old version is stale.
	set.Name = "Late edit"
	_, err = e.svc.Update(t.Context(), "svc-a", ch.ID, ch.Version, set)
	require.ErrorIs(t, err, channel.ErrConflict)
	require.ErrorIs(t, err, store.ErrConflict)
	got, err = e.svc.Get(t.Context(), "svc-a", ch.ID)
	require.NoError(t, err)
	assert.NotEqual(t, "Late edit", got.Name, "nothing was written")

	// An invalid edit is refused before anything is read.
	set.Name = strings.Repeat("客", 41)
	_, err = e.svc.Update(t.Context(), "svc-a", ch.ID, got.Version, set)
	assert.EqualError(t, err, "channel name is 41 characters; the limit is 40")

	// Another service cannot see or edit it.
	set.Name = "Hijack"
	_, err = e.svc.Update(t.Context(), "svc-b", ch.ID, got.Version, set)
	assert.ErrorIs(t, err, channel.ErrNotFound)
	_, err = e.svc.Get(t.Context(), "svc-b", ch.ID)
	assert.ErrorIs(t, err, channel.ErrNotFound)

	assert.Equal(t, []channel.NoticeKind{channel.NoticeConnected, channel.NoticeUpdated}, e.notices.kinds())
}

func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	require.NoError(t, e.svc.CanSend(ch))

	paused, err := e.svc.Pause(t.Context(), "svc-a", ch.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelPaused, paused.Status)
	err = e.svc.CanSend(paused)
	require.ErrorIs(t, err, channel.ErrPaused)
	var se *channel.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, ch.ID, se.ChannelID)

	again, err := e.svc.Pause(t.Context(), "svc-a", ch.ID)
	require.NoError(t, err, "pausing a paused channel does nothing")
	assert.Equal(t, paused.Version, again.Version)

	// A paused channel still takes webhooks (inbound is recorded).
	require.NoError(t, e.st.TouchWebhook(t.Context(), ch.ID, e.clock.Now()))

	resumed, err := e.svc.Resume(t.Context(), "svc-a", ch.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelActive, resumed.Status)
	assert.NoError(t, e.svc.CanSend(resumed))
	assert.Equal(t, []channel.NoticeKind{channel.NoticeConnected, channel.NoticePaused, channel.NoticeResumed}, e.notices.kinds())

	// A disconnected channel is neither paused nor resumed: it needs connecting.
	_, err = e.svc.ReportGraphError(t.Context(), ch.ID, errInvalidToken())
	require.NoError(t, err)
	_, err = e.svc.Pause(t.Context(), "svc-a", ch.ID)
	assert.ErrorIs(t, err, channel.ErrDisconnected)
	_, err = e.svc.Resume(t.Context(), "svc-a", ch.ID)
	assert.ErrorIs(t, err, channel.ErrDisconnected)
}

func TestPauseKeepsAConcurrentDisconnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	// The record the admin's pause read is stale once disconnected; the
	// pause must not bring the channel back.
	_, err := e.svc.ReportGraphError(t.Context(), ch.ID, errInvalidToken())
	require.NoError(t, err)
	_, err = e.svc.Pause(t.Context(), "svc-a", ch.ID)
	require.ErrorIs(t, err, channel.ErrDisconnected)
	got, err := e.st.Channel(t.Context(), ch.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDisconnected, got.Status)
}

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	// Some history: a visitor's message.
	res, err := e.st.RecordInbound(t.Context(), store.Inbound{
		ServiceID: "svc-a", ChannelID: ch.ID, PSID: "psid-1", EnquiryID: "enq-1", Open: true, Window: true,
		Message: store.Message{ID: "m-1", Key: "k-1", Kind: store.KindMessage, Direction: store.DirectionIn,
			Author: store.AuthorVisitor, Text: "hi", State: store.StateReceived, CreatedAt: e.clock.Now()},
	})
	require.NoError(t, err)

	require.NoError(t, e.svc.Delete(t.Context(), "svc-a", ch.ID))
	assert.Empty(t, e.fb.Subscribed("p1"), "unsubscribed (CONN-4)")

	stored, err := e.st.Channel(t.Context(), ch.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDeleted, stored.Status)
	assert.Empty(t, stored.PageToken, "the token is forgotten")
	msgs, err := e.st.ListMessages(t.Context(), res.Enquiry.ID, store.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, msgs.Items, 1, "the history is kept")

	_, err = e.svc.Get(t.Context(), "svc-a", ch.ID)
	assert.ErrorIs(t, err, channel.ErrNotFound)
	assert.ErrorIs(t, e.svc.Delete(t.Context(), "svc-a", ch.ID), channel.ErrNotFound)
	assert.ErrorIs(t, e.svc.CanSend(stored), channel.ErrDeleted)
	for _, err := range e.svc.List(t.Context(), "svc-a") {
		require.NoError(t, err)
		t.Fatal("a deleted channel is not listed")
	}
	assert.Equal(t, channel.NoticeDeleted, e.notices.last().Kind)
}

func TestDeleteWithARevokedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	e.fb.RevokePageToken("p1")
	require.NoError(t, e.svc.Delete(t.Context(), "svc-a", ch.ID), "a failed unsubscribe does not stop the deletion")
	_, err := e.st.ChannelByPage(t.Context(), "p1")
	assert.ErrorIs(t, err, store.ErrNotFound, "the Page is free")
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 3 {
		ch := &store.Channel{ID: fmt.Sprint("c", i), ServiceID: "svc-x", PageID: fmt.Sprint("page-", i), Name: fmt.Sprint("Channel ", i),
			Status: store.ChannelActive, CreatedAt: e.clock.Now().Add(time.Duration(i) * time.Second)}
		require.NoError(t, e.st.CreateChannel(t.Context(), ch))
	}
	var ids []string
	for ch, err := range e.svc.List(t.Context(), "svc-x") {
		require.NoError(t, err)
		ids = append(ids, ch.ID)
	}
	assert.Equal(t, []string{"c0", "c1", "c2"}, ids)

	n := 0
	for range e.svc.List(t.Context(), "svc-x") {
		n++
		break
	}
	assert.Equal(t, 1, n)
}

func TestPageClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	res, err := e.svc.PageClient(ch).Send(t.Context(), messengerText("psid-1", "hello"))
	require.NoError(t, err)
	assert.NotEmpty(t, res.MessageID)
	sent := e.fb.Sent("p1")
	require.Len(t, sent, 1)
	assert.Equal(t, "psid-1", sent[0].RecipientID)
}
