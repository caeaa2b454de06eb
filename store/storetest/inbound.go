package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

var inboundTests = []test{
	{"OpensEnquiry", testInboundOpens},
	{"JoinsOpenEnquiry", testInboundJoins},
	{"AfterClose", testInboundAfterClose},
	{"NoEnquiry", testInboundNoEnquiry},
	{"Window", testInboundWindow},
	{"Duplicate", testInboundDuplicate},
	{"KeyPerChannel", testInboundKeyPerChannel},
	{"DuplicateRace", testInboundDuplicateRace},
	{"FirstMessageRace", testInboundFirstMessageRace},
	{"AtomicOnFailure", testInboundAtomic},
}

func testInboundOpens(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	in := f.inbound(ch, psid, 10)
	in.Message.Attachments = []store.Attachment{{Type: "image", URL: "https://cdn.example/a.jpg", Size: 1234}}
	in.Message.Payload = "QR_YES"
	in.Message.ReplyTo = "mid.earlier"
	in.Message.ChannelID = "ignored"
	in.Message.PSID = "ignored"
	in.Message.EnquiryID = "ignored"
	r := f.record(in)

	assert.False(t, r.Duplicate)
	assert.True(t, r.NewVisitor)
	assert.True(t, r.NewEnquiry)
	wantEnq := store.Enquiry{
		ID:            in.EnquiryID,
		ServiceID:     ch.ServiceID,
		ChannelID:     ch.ID,
		PSID:          psid,
		Status:        store.EnquiryQueued,
		OpenedAt:      f.at(10),
		LastInboundAt: f.at(10),
		Version:       1,
	}
	assert.Equal(t, wantEnq, normEnquiry(r.Enquiry), "the result's enquiry")
	assert.Equal(t, wantEnq, f.getEnquiry(in.EnquiryID), "the stored enquiry")
	open, err := f.s.OpenEnquiry(f.ctx, ch.ID, psid)
	require.NoError(t, err)
	assert.Equal(t, wantEnq, normEnquiry(*open), "OpenEnquiry")

	wantMsg := in.Message
	wantMsg.EnquiryID = in.EnquiryID
	wantMsg.ChannelID = ch.ID
	wantMsg.PSID = psid
	wantMsg = normMessage(wantMsg)
	assert.Equal(t, wantMsg, normMessage(r.Message), "the result's message: as given, with the enquiry, channel and PSID filled in")
	assert.Equal(t, []store.Message{wantMsg}, f.messages(in.EnquiryID), "the stored message")

	assert.Equal(t, store.Visitor{
		ChannelID:     ch.ID,
		PSID:          psid,
		FirstSeenAt:   f.at(10),
		LastInboundAt: f.at(10),
	}, f.getVisitor(ch.ID, psid), "the new visitor")
}

func testInboundJoins(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	first := f.record(f.inbound(ch, psid, 10))

	in := f.inbound(ch, psid, 20)
	r := f.record(in)
	assert.False(t, r.NewVisitor)
	assert.False(t, r.NewEnquiry)
	assert.Equal(t, first.Enquiry.ID, r.Enquiry.ID, "the second message joins the open enquiry")
	assert.Equal(t, first.Enquiry.ID, r.Message.EnquiryID)
	assert.Equal(t, f.at(20), normTime(r.Enquiry.LastInboundAt), "the result has the enquiry as updated")
	_, err := f.s.Enquiry(f.ctx, in.EnquiryID)
	assert.ErrorIs(t, err, store.ErrNotFound, "the unused enquiry id was not used")
	assert.Equal(t, []string{first.Message.ID, r.Message.ID}, ids(f.messages(first.Enquiry.ID), messageID))
	assert.Equal(t, f.at(10), f.getVisitor(ch.ID, psid).FirstSeenAt, "first seen is kept")

	// Another visitor gets an enquiry of their own.
	other := f.record(f.inbound(ch, f.id("psid"), 30))
	assert.True(t, other.NewEnquiry)
	assert.NotEqual(t, first.Enquiry.ID, other.Enquiry.ID)
}

func testInboundAfterClose(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	first := f.record(f.inbound(ch, psid, 10))
	_, err := f.s.Close(f.ctx, first.Enquiry.ID, f.at(15))
	require.NoError(t, err)
	_, err = f.s.OpenEnquiry(f.ctx, ch.ID, psid)
	assert.ErrorIs(t, err, store.ErrNotFound, "no open enquiry after close")

	// Open=false: the item joins the most recent (closed) enquiry.
	late := f.inbound(ch, psid, 20)
	late.Open = false
	r := f.record(late)
	assert.False(t, r.NewEnquiry)
	assert.Equal(t, first.Enquiry.ID, r.Enquiry.ID)
	assert.Equal(t, store.EnquiryClosed, r.Enquiry.Status)
	assert.Equal(t, f.at(20), f.getEnquiry(first.Enquiry.ID).LastInboundAt, "Window moves the joined enquiry's time too")

	// Open=true: a new enquiry.
	second := f.record(f.inbound(ch, psid, 30))
	assert.True(t, second.NewEnquiry)
	assert.False(t, second.NewVisitor)
	assert.NotEqual(t, first.Enquiry.ID, second.Enquiry.ID)
	assert.Equal(t, []string{second.Message.ID}, ids(f.messages(second.Enquiry.ID), messageID))

	// Open=false again: joins the newest enquiry, the open one.
	third := f.inbound(ch, psid, 40)
	third.Open = false
	assert.Equal(t, second.Enquiry.ID, f.record(third).Enquiry.ID)
	_, err = f.s.Close(f.ctx, second.Enquiry.ID, f.at(45))
	require.NoError(t, err)
	fourth := f.inbound(ch, psid, 50)
	fourth.Open = false
	assert.Equal(t, second.Enquiry.ID, f.record(fourth).Enquiry.ID, "the most recently opened of two closed enquiries")
}

func testInboundNoEnquiry(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	in := f.inbound(ch, psid, 10)
	in.Open = false
	in.EnquiryID = ""
	in.Window = false
	in.Message.Kind = store.KindEvent
	r := f.record(in)
	assert.True(t, r.NewVisitor, "the visitor is recorded even with no enquiry")
	assert.False(t, r.NewEnquiry)
	assert.Equal(t, store.Enquiry{}, r.Enquiry, "no enquiry")
	assert.Empty(t, r.Message.EnquiryID)
	v := f.getVisitor(ch.ID, psid)
	assert.Equal(t, f.at(10), v.FirstSeenAt)
	assert.True(t, v.LastInboundAt.IsZero(), "Window=false leaves the window shut")
	_, err := f.s.OpenEnquiry(f.ctx, ch.ID, psid)
	assert.ErrorIs(t, err, store.ErrNotFound)

	dup, err := f.s.RecordInbound(f.ctx, in)
	require.NoError(t, err)
	assert.True(t, dup.Duplicate, "an item with no enquiry is deduplicated too")
	assert.Equal(t, r.Message.ID, dup.Message.ID)
	assert.Equal(t, store.Enquiry{}, dup.Enquiry)

	opened := f.record(f.inbound(ch, psid, 20))
	assert.True(t, opened.NewEnquiry)
	assert.False(t, opened.NewVisitor)
	assert.Equal(t, []string{opened.Message.ID}, ids(f.messages(opened.Enquiry.ID), messageID),
		"the earlier item did not join the later enquiry")
}

func testInboundWindow(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	enq := f.record(f.inbound(ch, psid, 100)).Enquiry.ID
	check := func(want int, msg string) {
		t.Helper()
		assert.Equal(t, f.at(want), f.getVisitor(ch.ID, psid).LastInboundAt, "visitor: %s", msg)
		assert.Equal(t, f.at(want), f.getEnquiry(enq).LastInboundAt, "enquiry: %s", msg)
	}
	check(100, "first message")
	f.record(f.inbound(ch, psid, 50))
	check(100, "an earlier message never moves the window back")
	noWindow := f.inbound(ch, psid, 200)
	noWindow.Window = false
	f.record(noWindow)
	check(100, "Window=false leaves it")
	f.record(f.inbound(ch, psid, 300))
	check(300, "a later message moves it")
	assert.Equal(t, f.at(100), f.getVisitor(ch.ID, psid).FirstSeenAt)
}

func testInboundDuplicate(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	in := f.inbound(ch, psid, 10)
	first := f.record(in)
	stored := f.getEnquiry(first.Enquiry.ID)

	again := in
	again.Message.ID = f.id("msg")
	again.Message.Text = "a redelivery with other content"
	again.Message.CreatedAt = f.at(500)
	again.EnquiryID = f.id("enq")
	r := f.record(again)
	assert.True(t, r.Duplicate)
	assert.False(t, r.NewEnquiry)
	assert.False(t, r.NewVisitor)
	assert.Equal(t, normMessage(first.Message), normMessage(r.Message), "the stored message is returned")
	assert.Equal(t, stored, normEnquiry(r.Enquiry), "the stored enquiry is returned")
	assert.Equal(t, []string{first.Message.ID}, ids(f.messages(first.Enquiry.ID), messageID), "nothing appended")
	assert.Equal(t, stored, f.getEnquiry(first.Enquiry.ID), "nothing written to the enquiry")
	assert.Equal(t, f.at(10), f.getVisitor(ch.ID, psid).LastInboundAt, "nothing written to the visitor")
	_, err := f.s.Enquiry(f.ctx, again.EnquiryID)
	assert.ErrorIs(t, err, store.ErrNotFound)

	// After the enquiry closes, the duplicate still reports the stored
	// message and its (now closed) enquiry, and opens nothing.
	_, err = f.s.Close(f.ctx, first.Enquiry.ID, f.at(20))
	require.NoError(t, err)
	r = f.record(again)
	assert.True(t, r.Duplicate)
	assert.Equal(t, first.Enquiry.ID, r.Enquiry.ID)
	assert.Equal(t, store.EnquiryClosed, r.Enquiry.Status)
	_, err = f.s.OpenEnquiry(f.ctx, ch.ID, psid)
	assert.ErrorIs(t, err, store.ErrNotFound, "a duplicate opens no enquiry")
}

func testInboundKeyPerChannel(t *testing.T, f *fixture) {
	a, b := f.channel(), f.channel()
	psid := f.id("psid")
	in := f.inbound(a, psid, 10)
	ra := f.record(in)
	in2 := f.inbound(b, psid, 10)
	in2.Message.Key = in.Message.Key
	rb := f.record(in2)
	assert.False(t, rb.Duplicate, "the same key on another channel is another item")
	assert.NotEqual(t, ra.Message.ID, rb.Message.ID)
	assert.NotEqual(t, ra.Enquiry.ID, rb.Enquiry.ID)
}

func testInboundDuplicateRace(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	key := "m:" + f.id("mid")
	ins := make([]store.Inbound, Racers)
	for i := range ins {
		ins[i] = f.inbound(ch, psid, 10+i)
		ins[i].Message.Key = key
	}
	results := make([]store.InboundResult, Racers)
	errs := make([]error, Racers)
	race(Racers, func(i int) { results[i], errs[i] = f.s.RecordInbound(f.ctx, ins[i]) })

	winner := -1
	for i, err := range errs {
		require.NoError(t, err, "racer %d", i)
		if !results[i].Duplicate {
			assert.Equal(t, -1, winner, "two racers recorded the same key")
			winner = i
		}
	}
	require.NotEqual(t, -1, winner, "every racer saw a duplicate")
	w := results[winner]
	assert.True(t, w.NewEnquiry)
	assert.True(t, w.NewVisitor)
	for i, r := range results {
		if i == winner {
			continue
		}
		assert.Equal(t, normMessage(w.Message), normMessage(r.Message), "racer %d got the stored message", i)
		assert.Equal(t, w.Enquiry.ID, r.Enquiry.ID, "racer %d got the stored enquiry", i)
		assert.False(t, r.NewEnquiry || r.NewVisitor, "racer %d", i)
	}
	assert.Equal(t, []string{w.Message.ID}, ids(f.messages(w.Enquiry.ID), messageID), "one message")
	open, err := f.s.OpenEnquiry(f.ctx, ch.ID, psid)
	require.NoError(t, err)
	assert.Equal(t, w.Enquiry.ID, open.ID)
	for i := range ins {
		if i == winner {
			continue
		}
		_, err := f.s.Enquiry(f.ctx, ins[i].EnquiryID)
		assert.ErrorIs(t, err, store.ErrNotFound, "racer %d opened an enquiry", i)
	}
}

func testInboundFirstMessageRace(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	ins := make([]store.Inbound, Racers)
	for i := range ins {
		ins[i] = f.inbound(ch, psid, 10+i)
	}
	results := make([]store.InboundResult, Racers)
	errs := make([]error, Racers)
	race(Racers, func(i int) { results[i], errs[i] = f.s.RecordInbound(f.ctx, ins[i]) })

	newEnq, newVis := 0, 0
	for i, err := range errs {
		require.NoError(t, err, "racer %d", i)
		assert.False(t, results[i].Duplicate, "racer %d: different keys are not duplicates", i)
		if results[i].NewEnquiry {
			newEnq++
		}
		if results[i].NewVisitor {
			newVis++
		}
		assert.Equal(t, results[0].Enquiry.ID, results[i].Enquiry.ID, "racer %d joined another enquiry", i)
	}
	assert.Equal(t, 1, newEnq, "exactly one racer opened the enquiry")
	assert.Equal(t, 1, newVis, "exactly one racer created the visitor")

	enqs, err := f.s.VisitorEnquiries(f.ctx, ch.ID, psid, store.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{results[0].Enquiry.ID}, ids(enqs.Items, enquiryID), "one enquiry")
	assert.Len(t, f.messages(results[0].Enquiry.ID), Racers, "every message joined it")
	assert.Equal(t, f.at(10+Racers-1), f.getVisitor(ch.ID, psid).LastInboundAt, "the latest message sets the window")
	assert.Equal(t, f.at(10+Racers-1), f.getEnquiry(results[0].Enquiry.ID).LastInboundAt)
}

func testInboundAtomic(t *testing.T, f *fixture) {
	ch := f.channel()
	taken := f.enquiry(ch) // holds an enquiry id and a message id

	nothingWritten := func(in store.Inbound, why string) {
		t.Helper()
		_, err := f.s.Visitor(f.ctx, in.ChannelID, in.PSID)
		assert.ErrorIs(t, err, store.ErrNotFound, "%s: no visitor", why)
		_, err = f.s.OpenEnquiry(f.ctx, in.ChannelID, in.PSID)
		assert.ErrorIs(t, err, store.ErrNotFound, "%s: no enquiry", why)
		_, err = f.s.MessageByMID(f.ctx, in.ChannelID, in.Message.MID)
		assert.ErrorIs(t, err, store.ErrNotFound, "%s: no message", why)
	}

	// The enquiry id is used: ErrDuplicate and nothing written.
	in := f.inbound(ch, f.id("psid"), 10)
	in.EnquiryID = taken.ID
	_, err := f.s.RecordInbound(f.ctx, in)
	assert.ErrorIs(t, err, store.ErrDuplicate, "enquiry id in use")
	nothingWritten(in, "enquiry id in use")
	assert.Len(t, f.messages(taken.ID), 1, "the other enquiry is untouched")

	// The message id is used: ErrDuplicate and nothing written.
	in2 := f.inbound(ch, f.id("psid"), 10)
	in2.Message.ID = f.messages(taken.ID)[0].ID
	_, err = f.s.RecordInbound(f.ctx, in2)
	assert.ErrorIs(t, err, store.ErrDuplicate, "message id in use")
	nothingWritten(in2, "message id in use")

	// No such channel.
	in3 := f.inbound(ch, f.id("psid"), 10)
	in3.ChannelID = f.id("ch")
	_, err = f.s.RecordInbound(f.ctx, in3)
	assert.ErrorIs(t, err, store.ErrNotFound, "unknown channel")
	nothingWritten(in3, "unknown channel")

	// Another service's channel.
	in4 := f.inbound(ch, f.id("psid"), 10)
	in4.ServiceID = f.id("svc")
	_, err = f.s.RecordInbound(f.ctx, in4)
	assert.ErrorIs(t, err, store.ErrInvalid, "service is not the channel's")
	nothingWritten(in4, "service is not the channel's")

	// The failed attempts did not record their keys: retried with good
	// ids, they are recorded.
	in.EnquiryID = f.id("enq")
	r := f.record(in)
	assert.False(t, r.Duplicate)
	assert.True(t, r.NewEnquiry)
	assert.True(t, r.NewVisitor)
	in2.Message.ID = f.id("msg")
	assert.False(t, f.record(in2).Duplicate)
}
