package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

var channelTests = []test{
	{"Create", testCreateChannel},
	{"CreateDuplicateID", testCreateChannelDuplicateID},
	{"PageTaken", testPageTaken},
	{"PageTakenRace", testPageTakenRace},
	{"DeleteFreesPage", testDeleteFreesPage},
	{"Update", testUpdateChannel},
	{"UpdateStale", testUpdateChannelStale},
	{"UpdateRace", testUpdateChannelRace},
	{"UpdateStatus", testUpdateChannelStatus},
	{"SetStatus", testSetChannelStatus},
	{"TouchWebhook", testTouchWebhook},
	{"NextTurn", testNextTurn},
	{"NextTurnRace", testNextTurnRace},
	{"LargeValues", testChannelLargeValues},
}

func testCreateChannel(t *testing.T, f *fixture) {
	for _, status := range []store.ChannelStatus{"", store.ChannelActive} {
		c := f.channelOf(f.id("svc"))
		c.Status = status
		c.Version = 42
		c.DisconnectReason = "left over"
		c.DisconnectedAt = f.at(5)
		want := normChannel(*c)
		require.NoError(t, f.s.CreateChannel(f.ctx, c))

		want.Status = store.ChannelActive
		want.Version = 1
		want.DisconnectReason = ""
		want.DisconnectedAt = time.Time{}
		assert.Equal(t, want, normChannel(*c), "the argument is updated with what was stored")
		assert.Equal(t, want, f.getChannel(c.ID), "Channel")
		byPage, err := f.s.ChannelByPage(f.ctx, c.PageID)
		require.NoError(t, err)
		assert.Equal(t, want, normChannel(*byPage), "ChannelByPage")
	}

	for _, status := range []store.ChannelStatus{store.ChannelPaused, store.ChannelDisconnected, store.ChannelDeleted, "bogus"} {
		c := f.channelOf(f.id("svc"))
		c.Status = status
		err := f.s.CreateChannel(f.ctx, c)
		assert.ErrorIs(t, err, store.ErrInvalid, "creating a channel with status %q", status)
		_, err = f.s.Channel(f.ctx, c.ID)
		assert.ErrorIs(t, err, store.ErrNotFound, "a refused channel is not stored")
	}
}

func testCreateChannelDuplicateID(t *testing.T, f *fixture) {
	c := f.channel()
	again := f.channelOf(f.id("svc"))
	again.ID = c.ID
	assert.ErrorIs(t, f.s.CreateChannel(f.ctx, again), store.ErrDuplicate)
	_, err := f.s.ChannelByPage(f.ctx, again.PageID)
	assert.ErrorIs(t, err, store.ErrNotFound, "the refused channel holds no Page")
	assert.Equal(t, normChannel(*c), f.getChannel(c.ID), "the first channel is unchanged")
}

func testPageTaken(t *testing.T, f *fixture) {
	c := f.channel()
	for _, service := range []string{c.ServiceID, f.id("svc")} {
		other := f.channelOf(service)
		other.PageID = c.PageID
		assert.ErrorIs(t, f.s.CreateChannel(f.ctx, other), store.ErrPageTaken, "same service: %v", service == c.ServiceID)
		_, err := f.s.Channel(f.ctx, other.ID)
		assert.ErrorIs(t, err, store.ErrNotFound, "the refused channel is not stored")
	}
	// A paused or disconnected channel still holds its Page.
	for _, status := range []store.ChannelStatus{store.ChannelPaused, store.ChannelDisconnected} {
		_, err := f.s.SetChannelStatus(f.ctx, c.ID, status, "why", f.at(1))
		require.NoError(t, err)
		other := f.channelOf(f.id("svc"))
		other.PageID = c.PageID
		assert.ErrorIs(t, f.s.CreateChannel(f.ctx, other), store.ErrPageTaken, "the Page of a %s channel", status)
	}
	got, err := f.s.ChannelByPage(f.ctx, c.PageID)
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
}

func testPageTakenRace(t *testing.T, f *fixture) {
	page := f.id("page")
	chans := make([]*store.Channel, Racers)
	for i := range chans {
		chans[i] = f.channelOf(f.id("svc"))
		chans[i].PageID = page
	}
	errs := make([]error, Racers)
	race(Racers, func(i int) { errs[i] = f.s.CreateChannel(f.ctx, chans[i]) })

	winner := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, winner, "two channels hold one Page")
			winner = i
			continue
		}
		assert.ErrorIs(t, err, store.ErrPageTaken, "loser %d", i)
	}
	require.NotEqual(t, -1, winner, "no create succeeded")
	got, err := f.s.ChannelByPage(f.ctx, page)
	require.NoError(t, err)
	assert.Equal(t, chans[winner].ID, got.ID)
}

func testDeleteFreesPage(t *testing.T, f *fixture) {
	c := f.channel()
	deleted, err := f.s.SetChannelStatus(f.ctx, c.ID, store.ChannelDeleted, "", f.at(10))
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDeleted, deleted.Status)
	assert.Empty(t, deleted.PageToken, "deleting forgets the token")
	assert.Equal(t, c.Version+1, deleted.Version)

	kept := f.getChannel(c.ID)
	assert.Equal(t, normChannel(*deleted), kept, "a deleted channel can still be read by id")
	_, err = f.s.ChannelByPage(f.ctx, c.PageID)
	assert.ErrorIs(t, err, store.ErrNotFound, "ChannelByPage skips deleted channels")

	again := f.channelOf(f.id("svc"))
	again.PageID = c.PageID
	require.NoError(t, f.s.CreateChannel(f.ctx, again), "the Page is free again")
	got, err := f.s.ChannelByPage(f.ctx, c.PageID)
	require.NoError(t, err)
	assert.Equal(t, again.ID, got.ID)

	// A deleted channel stays deleted: it cannot take the Page back.
	_, err = f.s.SetChannelStatus(f.ctx, c.ID, store.ChannelActive, "", f.at(11))
	assert.ErrorIs(t, err, store.ErrNotFound, "SetChannelStatus on a deleted channel")
	_, err = f.s.SetChannelStatus(f.ctx, c.ID, store.ChannelDeleted, "", f.at(11))
	assert.ErrorIs(t, err, store.ErrNotFound, "deleting twice")
	stale := *deleted
	stale.Status = store.ChannelActive
	assert.ErrorIs(t, f.s.UpdateChannel(f.ctx, &stale), store.ErrNotFound, "UpdateChannel on a deleted channel")
	assert.Equal(t, kept, f.getChannel(c.ID), "the deleted channel is unchanged")
}

func testUpdateChannel(t *testing.T, f *fixture) {
	c := f.channel()
	require.NoError(t, f.s.TouchWebhook(f.ctx, c.ID, f.at(30)))
	cur := f.getChannel(c.ID)

	next := cur
	next.Dispatch.StaffIDs = []string{"staff-c"}
	next.Dispatch.Mode = store.DispatchLeastBusy
	next.Name = "Renamed"
	next.PageName = "Renamed Page"
	next.PageToken = "EAAB-new-token"
	next.AutoReply.Away.On = true
	next.AutoReply.Away.Text = "We are away"
	next.CustomInfo = store.CustomInfo{On: false, Text: "off now"}
	next.HumanAgent = false
	next.Status = store.ChannelPaused
	next.UpdatedAt = f.at(40)
	// What UpdateChannel keeps whatever the caller says:
	next.ServiceID = f.id("svc")
	otherPage := f.id("page")
	next.PageID = otherPage
	next.CreatedAt = f.at(99)
	next.LastWebhookAt = f.at(1)

	want := next
	want.ServiceID, want.PageID, want.CreatedAt, want.LastWebhookAt = cur.ServiceID, cur.PageID, cur.CreatedAt, cur.LastWebhookAt
	want.Version = cur.Version + 1

	require.NoError(t, f.s.UpdateChannel(f.ctx, &next))
	assert.Equal(t, want, normChannel(next), "the argument is updated with what was stored")
	assert.Equal(t, want, f.getChannel(c.ID))
	byPage, err := f.s.ChannelByPage(f.ctx, cur.PageID)
	require.NoError(t, err, "the channel still holds its own Page")
	assert.Equal(t, c.ID, byPage.ID)
	_, err = f.s.ChannelByPage(f.ctx, otherPage)
	assert.ErrorIs(t, err, store.ErrNotFound, "the Page id in the update was ignored")

	missing := f.channelOf(f.id("svc"))
	missing.Status = store.ChannelActive
	missing.Version = 1
	assert.ErrorIs(t, f.s.UpdateChannel(f.ctx, missing), store.ErrNotFound)
}

func testUpdateChannelStale(t *testing.T, f *fixture) {
	c := f.channel()
	first, second := f.getChannel(c.ID), f.getChannel(c.ID)

	first.Name = "first"
	require.NoError(t, f.s.UpdateChannel(f.ctx, &first))
	stored := f.getChannel(c.ID)

	second.Name = "second"
	second.CustomInfo.Text = "second's note"
	err := f.s.UpdateChannel(f.ctx, &second)
	assert.ErrorIs(t, err, store.ErrConflict, "a stale version")
	assert.Equal(t, stored, f.getChannel(c.ID), "nothing was overwritten")

	ahead := f.getChannel(c.ID)
	ahead.Version += 5
	assert.ErrorIs(t, f.s.UpdateChannel(f.ctx, &ahead), store.ErrConflict, "a version from the future")
	assert.Equal(t, stored, f.getChannel(c.ID), "nothing was overwritten")
}

func testUpdateChannelRace(t *testing.T, f *fixture) {
	c := f.channel()
	base := f.getChannel(c.ID)
	errs := make([]error, Racers)
	race(Racers, func(i int) {
		mine := base
		mine.Dispatch.StaffIDs = slices.Clone(base.Dispatch.StaffIDs)
		mine.Name = fmt.Sprintf("racer %d", i)
		errs[i] = f.s.UpdateChannel(f.ctx, &mine)
	})
	winner := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, winner, "two updates from one version both won")
			winner = i
			continue
		}
		assert.ErrorIs(t, err, store.ErrConflict, "loser %d", i)
	}
	require.NotEqual(t, -1, winner, "no update succeeded")
	got := f.getChannel(c.ID)
	assert.Equal(t, fmt.Sprintf("racer %d", winner), got.Name)
	assert.Equal(t, base.Version+1, got.Version)
}

func testUpdateChannelStatus(t *testing.T, f *fixture) {
	c := f.channel()
	for _, status := range []store.ChannelStatus{store.ChannelDeleted, "", "bogus"} {
		cur := f.getChannel(c.ID)
		cur.Status = status
		assert.ErrorIs(t, f.s.UpdateChannel(f.ctx, &cur), store.ErrInvalid, "UpdateChannel to status %q", status)
	}
	_, err := f.s.ChannelByPage(f.ctx, c.PageID)
	assert.NoError(t, err, "the channel was not deleted")

	// The disconnection fields follow the status.
	cur := f.getChannel(c.ID)
	cur.Status = store.ChannelDisconnected
	cur.DisconnectReason = "token expired"
	cur.DisconnectedAt = f.at(3)
	require.NoError(t, f.s.UpdateChannel(f.ctx, &cur))
	got := f.getChannel(c.ID)
	assert.Equal(t, "token expired", got.DisconnectReason)
	assert.Equal(t, f.at(3), got.DisconnectedAt)

	got.Status = store.ChannelActive
	require.NoError(t, f.s.UpdateChannel(f.ctx, &got))
	got = f.getChannel(c.ID)
	assert.Empty(t, got.DisconnectReason, "cleared when not disconnected")
	assert.True(t, got.DisconnectedAt.IsZero(), "cleared when not disconnected")
}

func testSetChannelStatus(t *testing.T, f *fixture) {
	c := f.channel()
	before := f.getChannel(c.ID)

	got, err := f.s.SetChannelStatus(f.ctx, c.ID, store.ChannelDisconnected, "permission revoked", f.at(50))
	require.NoError(t, err)
	want := before
	want.Status = store.ChannelDisconnected
	want.DisconnectReason = "permission revoked"
	want.DisconnectedAt = f.at(50)
	want.UpdatedAt = f.at(50)
	want.Version = before.Version + 1
	assert.Equal(t, want, normChannel(*got), "the returned channel")
	assert.Equal(t, want, f.getChannel(c.ID), "the stored channel")

	// A settings edit made from the old version must not undo the
	// disconnection.
	stale := before
	stale.Name = "edited meanwhile"
	assert.ErrorIs(t, f.s.UpdateChannel(f.ctx, &stale), store.ErrConflict)
	assert.Equal(t, store.ChannelDisconnected, f.getChannel(c.ID).Status)

	got, err = f.s.SetChannelStatus(f.ctx, c.ID, store.ChannelPaused, "ignored", f.at(60))
	require.NoError(t, err)
	assert.Equal(t, store.ChannelPaused, got.Status)
	assert.Empty(t, got.DisconnectReason, "reason cleared unless disconnected")
	assert.True(t, got.DisconnectedAt.IsZero(), "time cleared unless disconnected")
	assert.Equal(t, f.at(60), normTime(got.UpdatedAt))
	assert.Equal(t, before.Version+2, got.Version)
	assert.Equal(t, before.PageToken, got.PageToken, "the token is kept unless deleted")

	got, err = f.s.SetChannelStatus(f.ctx, c.ID, store.ChannelActive, "", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, store.ChannelActive, got.Status)
	assert.Equal(t, f.at(60), normTime(got.UpdatedAt), "a zero time leaves UpdatedAt alone")

	for _, status := range []store.ChannelStatus{"", "bogus"} {
		_, err := f.s.SetChannelStatus(f.ctx, c.ID, status, "", f.at(70))
		assert.ErrorIs(t, err, store.ErrInvalid, "status %q", status)
	}
	_, err = f.s.SetChannelStatus(f.ctx, f.id("ch"), store.ChannelPaused, "", f.at(70))
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testTouchWebhook(t *testing.T, f *fixture) {
	c := f.channel()
	version := f.getChannel(c.ID).Version
	require.NoError(t, f.s.TouchWebhook(f.ctx, c.ID, f.at(20)))
	assert.Equal(t, f.at(20), f.getChannel(c.ID).LastWebhookAt)
	require.NoError(t, f.s.TouchWebhook(f.ctx, c.ID, f.at(10)))
	got := f.getChannel(c.ID)
	assert.Equal(t, f.at(20), got.LastWebhookAt, "never moves back")
	assert.Equal(t, version, got.Version, "touching does not change the version")
	require.NoError(t, f.s.TouchWebhook(f.ctx, c.ID, f.at(30)))
	assert.Equal(t, f.at(30), f.getChannel(c.ID).LastWebhookAt)

	// The touch does not make a settings edit stale.
	cur := got
	cur.Name = "edited"
	assert.NoError(t, f.s.UpdateChannel(f.ctx, &cur))
	assert.ErrorIs(t, f.s.TouchWebhook(f.ctx, f.id("ch"), f.at(1)), store.ErrNotFound)
}

func testNextTurn(t *testing.T, f *fixture) {
	a, b := f.channel(), f.channel()
	for want := range int64(3) {
		n, err := f.s.NextTurn(f.ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, want, n, "channel a, turn %d", want)
	}
	n, err := f.s.NextTurn(f.ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "each channel has its own counter")
	_, err = f.s.NextTurn(f.ctx, f.id("ch"))
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testNextTurnRace(t *testing.T, f *fixture) {
	c := f.channel()
	turns := make([]int64, Racers)
	errs := make([]error, Racers)
	race(Racers, func(i int) { turns[i], errs[i] = f.s.NextTurn(f.ctx, c.ID) })
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.Sort(turns)
	for i, n := range turns {
		assert.Equal(t, int64(i), n, "the turns are 0..%d, each once", Racers-1)
	}
}

// testChannelLargeValues stores values over the product limits (the store
// does not enforce them) and expects them back intact.
func testChannelLargeValues(t *testing.T, f *fixture) {
	c := f.channelOf(f.id("svc"))
	c.Name = string(slices.Repeat([]rune("頻道名稱"), 250))            // 1,000 characters, limit 40
	c.CustomInfo.Text = string(slices.Repeat([]rune("註"), 20_001)) // limit 10,000
	c.Dispatch.StaffIDs = make([]string, 500)
	for i := range c.Dispatch.StaffIDs {
		c.Dispatch.StaffIDs[i] = fmt.Sprintf("staff-%d", i)
	}
	want := normChannel(*c)
	require.NoError(t, f.s.CreateChannel(f.ctx, c))
	got := f.getChannel(c.ID)
	assert.Equal(t, want.Name, got.Name)
	assert.Equal(t, want.CustomInfo, got.CustomInfo)
	assert.Equal(t, want.Dispatch, got.Dispatch)
}
