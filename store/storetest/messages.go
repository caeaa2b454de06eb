package storetest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

var messageTests = []test{
	{"AppendOutbound", testAppendOutbound},
	{"SetState", testSetState},
	{"MessageByMID", testMessageByMID},
	{"MarkWatermark", testMarkWatermark},
}

func testAppendOutbound(t *testing.T, f *fixture) {
	ch := f.channel()
	r := f.record(f.inbound(ch, f.id("psid"), 10))
	e := r.Enquiry

	m := f.outbound(e, 20)
	m.Attachments = []store.Attachment{{Type: "file", AttachmentID: "att-1", Name: "a.pdf", Size: 1000}}
	m.ChannelID, m.PSID = "ignored", "ignored"
	require.NoError(t, f.s.AppendOutbound(f.ctx, m))
	assert.Equal(t, ch.ID, m.ChannelID, "the channel is filled in from the enquiry")
	assert.Equal(t, e.PSID, m.PSID, "the PSID is filled in from the enquiry")
	assert.Equal(t, f.at(20), f.getEnquiry(e.ID).LastOutboundAt)

	earlier := f.outbound(e, 15)
	require.NoError(t, f.s.AppendOutbound(f.ctx, earlier))
	assert.Equal(t, f.at(20), f.getEnquiry(e.ID).LastOutboundAt, "an earlier message never moves LastOutboundAt back")

	in2 := f.record(f.inbound(ch, e.PSID, 30))
	msgs := f.messages(e.ID)
	assert.Equal(t, []string{r.Message.ID, m.ID, earlier.ID, in2.Message.ID}, ids(msgs, messageID), "in the order recorded")
	assert.Equal(t, normMessage(*m), msgs[1], "stored as given")

	dup := f.outbound(e, 40)
	dup.ID = m.ID
	assert.ErrorIs(t, f.s.AppendOutbound(f.ctx, dup), store.ErrDuplicate, "an outbound id in use")
	dup.ID = r.Message.ID
	assert.ErrorIs(t, f.s.AppendOutbound(f.ctx, dup), store.ErrDuplicate, "an inbound id in use")
	assert.Len(t, f.messages(e.ID), 4, "nothing appended")
	assert.Equal(t, f.at(20), f.getEnquiry(e.ID).LastOutboundAt, "nothing written")

	missing := f.outbound(store.Enquiry{ID: f.id("enq")}, 40)
	assert.ErrorIs(t, f.s.AppendOutbound(f.ctx, missing), store.ErrNotFound)

	// The close auto-reply goes out after the enquiry is closed.
	_, err := f.s.Close(f.ctx, e.ID, f.at(50))
	require.NoError(t, err)
	closing := f.outbound(e, 51)
	closing.Author = store.AuthorAutoReply
	require.NoError(t, f.s.AppendOutbound(f.ctx, closing), "appending to a closed enquiry")
	assert.Len(t, f.messages(e.ID), 5)
}

func testSetState(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	m := f.outbound(e, 10)
	require.NoError(t, f.s.AppendOutbound(f.ctx, m))

	mid := f.id("mid")
	require.NoError(t, f.s.SetState(f.ctx, m.ID, store.StateSent, mid, ""))
	got, err := f.s.MessageByMID(f.ctx, ch.ID, mid)
	require.NoError(t, err)
	assert.Equal(t, m.ID, got.ID)
	assert.Equal(t, store.StateSent, got.State)
	assert.Equal(t, mid, got.MID)

	require.NoError(t, f.s.SetState(f.ctx, m.ID, store.StateUncertain, "", "timeout after write"))
	got, err = f.s.MessageByMID(f.ctx, ch.ID, mid)
	require.NoError(t, err, "an empty mid keeps the mid")
	assert.Equal(t, store.StateUncertain, got.State)
	assert.Equal(t, "timeout after write", got.Error)

	require.NoError(t, f.s.SetState(f.ctx, m.ID, store.StateSent, "", ""))
	got, err = f.s.MessageByMID(f.ctx, ch.ID, mid)
	require.NoError(t, err)
	assert.Empty(t, got.Error, "the error text is replaced")

	// An echo or a slow send result may arrive after the delivery or read
	// event that covered the message: sent never moves it back.
	for _, st := range []store.DeliveryState{store.StateDelivered, store.StateRead} {
		_, err = f.s.MarkWatermark(f.ctx, ch.ID, e.PSID, got.CreatedAt, st)
		require.NoError(t, err)
		require.NoError(t, f.s.SetState(f.ctx, m.ID, store.StateSent, mid, ""))
		got, err = f.s.MessageByMID(f.ctx, ch.ID, mid)
		require.NoError(t, err)
		assert.Equal(t, st, got.State, "a late sent does not move a %s message back", st)
	}

	other := f.outbound(e, 11)
	require.NoError(t, f.s.AppendOutbound(f.ctx, other))
	require.NoError(t, f.s.SetState(f.ctx, other.ID, store.StateFailed, "", "outside the window"))
	msgs := f.messages(e.ID)
	require.Len(t, msgs, 3)
	assert.Equal(t, store.StateFailed, msgs[2].State)
	assert.Equal(t, "outside the window", msgs[2].Error)
	assert.Empty(t, msgs[2].MID)

	assert.ErrorIs(t, f.s.SetState(f.ctx, f.id("msg"), store.StateSent, "", ""), store.ErrNotFound)
	assert.ErrorIs(t, f.s.SetState(f.ctx, m.ID, "", "", ""), store.ErrInvalid, "an empty state")
}

func testMessageByMID(t *testing.T, f *fixture) {
	a, b := f.channel(), f.channel()
	r := f.record(f.inbound(a, f.id("psid"), 10))
	got, err := f.s.MessageByMID(f.ctx, a.ID, r.Message.MID)
	require.NoError(t, err)
	assert.Equal(t, normMessage(r.Message), normMessage(*got))
	_, err = f.s.MessageByMID(f.ctx, b.ID, r.Message.MID)
	assert.ErrorIs(t, err, store.ErrNotFound, "a mid is looked up on its channel")
	_, err = f.s.MessageByMID(f.ctx, a.ID, f.id("mid"))
	assert.ErrorIs(t, err, store.ErrNotFound)

	// Two items with one mid (an echo recorded before the send's mid was):
	// the first recorded is returned.
	e := r.Enquiry
	out := f.outbound(e, 20)
	require.NoError(t, f.s.AppendOutbound(f.ctx, out))
	echo := f.inbound(a, e.PSID, 21)
	echo.Message.Author = store.AuthorPageAdmin
	f.record(echo)
	require.NoError(t, f.s.SetState(f.ctx, out.ID, store.StateSent, echo.Message.MID, ""))
	got, err = f.s.MessageByMID(f.ctx, a.ID, echo.Message.MID)
	require.NoError(t, err)
	assert.Equal(t, out.ID, got.ID, "the first recorded of two messages with one mid")

	// And the other way round: a later message given an earlier one's mid.
	late := f.outbound(e, 30)
	require.NoError(t, f.s.AppendOutbound(f.ctx, late))
	require.NoError(t, f.s.SetState(f.ctx, late.ID, store.StateSent, r.Message.MID, ""))
	got, err = f.s.MessageByMID(f.ctx, a.ID, r.Message.MID)
	require.NoError(t, err)
	assert.Equal(t, r.Message.ID, got.ID, "a later message does not take the mid over")

	// A message given a new mid gives up the old one, to the next holder.
	require.NoError(t, f.s.SetState(f.ctx, out.ID, store.StateSent, f.id("mid"), ""))
	got, err = f.s.MessageByMID(f.ctx, a.ID, echo.Message.MID)
	require.NoError(t, err)
	assert.Equal(t, echo.Message.ID, got.ID, "the next holder of a mid given up")
}

func testMarkWatermark(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	other := f.enquiry(ch) // another visitor on the channel
	send := func(e store.Enquiry, sec int, state store.DeliveryState) string {
		t.Helper()
		m := f.outbound(e, sec)
		require.NoError(t, f.s.AppendOutbound(f.ctx, m))
		mid := ""
		if state != store.StatePending && state != store.StateFailed {
			mid = f.id("mid")
		}
		require.NoError(t, f.s.SetState(f.ctx, m.ID, state, mid, ""))
		return m.ID
	}
	m1 := send(e, 10, store.StateSent)
	m2 := send(e, 20, store.StateSent)
	m3 := send(e, 30, store.StateSent)
	pending := send(e, 5, store.StatePending)
	failed := send(e, 6, store.StateFailed)
	uncertain := send(e, 7, store.StateUncertain)
	theirs := send(other, 10, store.StateSent)
	inbound := f.record(f.inbound(ch, e.PSID, 8)).Message.ID

	tracked := []string{m1, m2, m3, pending, failed, uncertain, theirs, inbound}
	states := func() map[string]store.DeliveryState {
		out := map[string]store.DeliveryState{}
		for _, enq := range []store.Enquiry{e, other} {
			for _, m := range f.messages(enq.ID) {
				if slices.Contains(tracked, m.ID) {
					out[m.ID] = m.State
				}
			}
		}
		return out
	}
	mark := func(sec int, state store.DeliveryState, want int) {
		t.Helper()
		n, err := f.s.MarkWatermark(f.ctx, ch.ID, e.PSID, f.at(sec), state)
		require.NoError(t, err)
		assert.Equal(t, want, n, "%s watermark at %d: how many changed", state, sec)
	}

	mark(20, store.StateDelivered, 2) // m1, m2 (at or before the watermark)
	mark(10, store.StateRead, 1)      // m1
	mark(30, store.StateDelivered, 1) // m3 only: m1 stays read, m2 is delivered
	mark(30, store.StateDelivered, 0) // nothing left to change
	assert.Equal(t, map[string]store.DeliveryState{
		m1: store.StateRead, m2: store.StateDelivered, m3: store.StateDelivered,
		pending: store.StatePending, failed: store.StateFailed, uncertain: store.StateUncertain,
		theirs: store.StateSent, inbound: store.StateReceived,
	}, states(), "only sent and delivered outbound messages to this visitor move, never back")
	mark(100, store.StateRead, 2) // m2, m3
	assert.Equal(t, store.StateRead, states()[m3])

	_, err := f.s.MarkWatermark(f.ctx, ch.ID, e.PSID, f.at(100), store.StateSent)
	assert.ErrorIs(t, err, store.ErrInvalid, "a watermark marks delivered or read")
	n, err := f.s.MarkWatermark(f.ctx, ch.ID, f.id("psid"), f.at(100), store.StateRead)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "an unknown visitor")
}
