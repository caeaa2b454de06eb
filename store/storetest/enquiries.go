package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

var visitorTests = []test{
	{"SetProfile", testSetProfile},
	{"Forget", testForgetVisitor},
}

var enquiryTests = []test{
	{"Offer", testOffer},
	{"Take", testTake},
	{"TakeRace", testTakeRace},
	{"TakeLimit", testTakeLimit},
	{"TakeLimitRace", testTakeLimitRace},
	{"Transfer", testTransfer},
	{"Close", testClose},
	{"MarkAwaySent", testMarkAwaySent},
	{"MarkAwaySentRace", testMarkAwaySentRace},
	{"Version", testEnquiryVersion},
}

func testSetProfile(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	f.record(f.inbound(ch, psid, 10))
	p := store.Profile{FirstName: "小明", LastName: "陳", ProfilePic: "https://cdn.example/p.jpg"}
	require.NoError(t, f.s.SetProfile(f.ctx, ch.ID, psid, p, f.at(20)))
	assert.Equal(t, store.Visitor{
		ChannelID:        ch.ID,
		PSID:             psid,
		FirstName:        p.FirstName,
		LastName:         p.LastName,
		ProfilePic:       p.ProfilePic,
		ProfileFetchedAt: f.at(20),
		FirstSeenAt:      f.at(10),
		LastInboundAt:    f.at(10),
	}, f.getVisitor(ch.ID, psid))

	f.record(f.inbound(ch, psid, 30))
	assert.Equal(t, p.FirstName, f.getVisitor(ch.ID, psid).FirstName, "a later message keeps the profile")

	err := f.s.SetProfile(f.ctx, ch.ID, f.id("psid"), p, f.at(20))
	assert.ErrorIs(t, err, store.ErrNotFound, "a visitor never recorded")
}

func testForgetVisitor(t *testing.T, f *fixture) {
	a, b := f.channel(), f.channel()
	psid, other := f.id("psid"), f.id("psid")
	var enqs []store.Enquiry
	for _, ch := range []*store.Channel{a, b} {
		in := f.inbound(ch, psid, 10)
		in.Message.Payload = "PAYLOAD"
		in.Message.Reaction = "❤"
		in.Message.Attachments = []store.Attachment{{Type: "image", URL: "https://cdn.example/x.jpg"}}
		r := f.record(in)
		enqs = append(enqs, r.Enquiry)
		require.NoError(t, f.s.SetProfile(f.ctx, ch.ID, psid, store.Profile{FirstName: "Ann", LastName: "Lee", ProfilePic: "pic"}, f.at(11)))
		out := f.outbound(r.Enquiry, 12)
		require.NoError(t, f.s.AppendOutbound(f.ctx, out))
		loose := f.inbound(ch, psid, 13) // joins the enquiry
		loose.Open = false
		f.record(loose)
	}
	// On a third channel the visitor has an item that joined no enquiry.
	c := f.channel()
	lone := f.inbound(c, psid, 10)
	lone.Open, lone.EnquiryID = false, ""
	lone.Message.Payload = "PAYLOAD"
	f.record(lone)

	keep := f.record(f.inbound(a, other, 10))
	require.NoError(t, f.s.SetProfile(f.ctx, a.ID, other, store.Profile{FirstName: "Bob"}, f.at(11)))

	n, err := f.s.ForgetVisitor(f.ctx, psid)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "one visitor on each of three channels")
	m, err := f.s.MessageByMID(f.ctx, c.ID, lone.Message.MID)
	require.NoError(t, err)
	assert.Empty(t, m.Text+m.Payload, "an item with no enquiry is erased too")

	for i, ch := range []*store.Channel{a, b} {
		v := f.getVisitor(ch.ID, psid)
		assert.Empty(t, v.FirstName+v.LastName+v.ProfilePic, "channel %d: names and picture cleared", i)
		assert.True(t, v.ProfileFetchedAt.IsZero(), "channel %d: fetch time cleared", i)
		msgs := f.messages(enqs[i].ID)
		require.Len(t, msgs, 3)
		for _, m := range msgs {
			assert.Empty(t, m.Text, "channel %d, message %s: text erased", i, m.ID)
			assert.Empty(t, m.Payload, "payload erased")
			assert.Empty(t, m.Reaction, "reaction erased")
			assert.Empty(t, m.Attachments, "attachments erased")
			assert.NotEmpty(t, m.ID, "the record itself is kept")
		}
		byMID, err := f.s.MessageByMID(f.ctx, ch.ID, msgs[0].MID)
		require.NoError(t, err)
		assert.Empty(t, byMID.Text, "MessageByMID sees the erased text")
	}
	assert.Equal(t, "Bob", f.getVisitor(a.ID, other).FirstName, "another visitor is untouched")
	assert.Equal(t, keep.Message.Text, f.messages(keep.Enquiry.ID)[0].Text, "another visitor's messages are untouched")

	n, err = f.s.ForgetVisitor(f.ctx, f.id("psid"))
	require.NoError(t, err)
	assert.Equal(t, 0, n, "an unknown PSID")
}

func testOffer(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	got, err := f.s.Offer(f.ctx, e.ID, []string{"s1", "s2"})
	require.NoError(t, err)
	assert.Equal(t, store.EnquiryOffered, got.Status)
	assert.Equal(t, []string{"s1", "s2"}, got.OfferedTo)
	assert.Equal(t, normEnquiry(*got), f.getEnquiry(e.ID))

	got, err = f.s.Offer(f.ctx, e.ID, []string{"s3"})
	require.NoError(t, err)
	assert.Equal(t, []string{"s3"}, got.OfferedTo, "a new offer replaces the old")

	_, err = f.s.Offer(f.ctx, e.ID, nil)
	assert.ErrorIs(t, err, store.ErrInvalid, "an offer to nobody")
	_, err = f.s.Offer(f.ctx, e.ID, []string{"s1", ""})
	assert.ErrorIs(t, err, store.ErrInvalid, "an empty staff id")

	_, err = f.s.Take(f.ctx, e.ID, "s3", 0, f.at(5))
	require.NoError(t, err)
	taken := f.getEnquiry(e.ID)
	assert.Empty(t, taken.OfferedTo, "taking ends the offer")
	_, err = f.s.Offer(f.ctx, e.ID, []string{"s1"})
	var te *store.TakenError
	require.ErrorAs(t, err, &te, "offering a taken enquiry")
	assert.Equal(t, "s3", te.StaffID)
	assert.Equal(t, taken, f.getEnquiry(e.ID), "nothing written")

	_, err = f.s.Close(f.ctx, e.ID, f.at(6))
	require.NoError(t, err)
	_, err = f.s.Offer(f.ctx, e.ID, []string{"s1"})
	assert.ErrorIs(t, err, store.ErrClosed)
	_, err = f.s.Offer(f.ctx, f.id("enq"), []string{"s1"})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testTake(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	_, err := f.s.Offer(f.ctx, e.ID, []string{"s1", "s2"})
	require.NoError(t, err)

	got, err := f.s.Take(f.ctx, e.ID, "s1", 0, f.at(30))
	require.NoError(t, err)
	want := f.getEnquiry(e.ID)
	assert.Equal(t, want, normEnquiry(*got), "Take returns the stored enquiry")
	assert.Equal(t, store.EnquiryTaken, want.Status)
	assert.Equal(t, "s1", want.StaffID)
	assert.Equal(t, f.at(30), want.TakenAt)
	assert.Empty(t, want.OfferedTo)
	assert.True(t, want.Open())

	for _, staff := range []string{"s2", "s1"} {
		_, err = f.s.Take(f.ctx, e.ID, staff, 0, f.at(31))
		var te *store.TakenError
		require.ErrorAs(t, err, &te, "%s takes a taken enquiry", staff)
		assert.ErrorIs(t, err, store.ErrAlreadyTaken)
		assert.Equal(t, e.ID, te.EnquiryID)
		assert.Equal(t, "s1", te.StaffID, "the error names the holder")
	}
	assert.Equal(t, want, f.getEnquiry(e.ID), "nothing written by the losers")

	n, err := f.s.CountTaken(f.ctx, ch.ServiceID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	_, err = f.s.Close(f.ctx, e.ID, f.at(40))
	require.NoError(t, err)
	_, err = f.s.Take(f.ctx, e.ID, "s2", 0, f.at(41))
	assert.ErrorIs(t, err, store.ErrClosed)
	_, err = f.s.Take(f.ctx, f.id("enq"), "s2", 0, f.at(41))
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testTakeRace(t *testing.T, f *fixture) {
	ch := f.channel()
	for _, racers := range []int{2, Racers} {
		e := f.enquiry(ch)
		errs := make([]error, racers)
		race(racers, func(i int) {
			_, errs[i] = f.s.Take(f.ctx, e.ID, fmt.Sprintf("staff-%d", i), 0, f.at(i))
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				assert.Equal(t, -1, winner, "%d racers: two staff took one enquiry", racers)
				winner = i
			}
		}
		require.NotEqual(t, -1, winner, "%d racers: nobody took the enquiry", racers)
		got := f.getEnquiry(e.ID)
		assert.Equal(t, fmt.Sprintf("staff-%d", winner), got.StaffID)
		for i, err := range errs {
			if i == winner {
				continue
			}
			var te *store.TakenError
			if assert.ErrorAs(t, err, &te, "loser %d", i) {
				assert.Equal(t, got.StaffID, te.StaffID, "the loser is told the winner")
			}
		}
	}
	n, err := f.s.CountTaken(f.ctx, ch.ServiceID)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "one take counted per enquiry")
}

func testTakeLimit(t *testing.T, f *fixture) {
	ch := f.channel()
	a, b, c := f.enquiry(ch), f.enquiry(ch), f.enquiry(ch)
	_, err := f.s.Take(f.ctx, a.ID, "s1", 2, f.at(1))
	require.NoError(t, err)
	_, err = f.s.Take(f.ctx, b.ID, "s2", 2, f.at(2))
	require.NoError(t, err)
	_, err = f.s.Take(f.ctx, c.ID, "s3", 2, f.at(3))
	assert.ErrorIs(t, err, store.ErrLimit, "a third take with a limit of 2")
	assert.Equal(t, store.EnquiryQueued, f.getEnquiry(c.ID).Status, "nothing written")

	// Another service has its own count.
	other := f.channel()
	d := f.enquiry(other)
	_, err = f.s.Take(f.ctx, d.ID, "s1", 2, f.at(4))
	assert.NoError(t, err, "another service's count")

	_, err = f.s.Take(f.ctx, c.ID, "s3", 0, f.at(5))
	require.NoError(t, err, "no limit")
	n, err := f.s.CountTaken(f.ctx, ch.ServiceID)
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	// Closing frees a place.
	for _, id := range []string{a.ID, b.ID} {
		_, err = f.s.Close(f.ctx, id, f.at(6))
		require.NoError(t, err)
	}
	n, err = f.s.CountTaken(f.ctx, ch.ServiceID)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "closed enquiries are not counted")
	e := f.enquiry(ch)
	_, err = f.s.Take(f.ctx, e.ID, "s4", 2, f.at(7))
	assert.NoError(t, err, "a place was freed")

	// Queued, offered and closed enquiries are not counted.
	q := f.enquiry(ch)
	_, err = f.s.Offer(f.ctx, q.ID, []string{"s1"})
	require.NoError(t, err)
	f.enquiry(ch)
	n, err = f.s.CountTaken(f.ctx, ch.ServiceID)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func testTakeLimitRace(t *testing.T, f *fixture) {
	const limit = 5
	ch := f.channel()
	enqs := make([]store.Enquiry, Racers)
	for i := range enqs {
		enqs[i] = f.enquiry(ch)
	}
	errs := make([]error, Racers)
	race(Racers, func(i int) {
		_, errs[i] = f.s.Take(f.ctx, enqs[i].ID, fmt.Sprintf("staff-%d", i), limit, f.at(i))
	})
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		assert.ErrorIs(t, err, store.ErrLimit, "racer %d", i)
	}
	assert.Equal(t, limit, won, "takes across enquiries never exceed the limit")
	n, err := f.s.CountTaken(f.ctx, ch.ServiceID)
	require.NoError(t, err)
	assert.Equal(t, limit, n)
	p, err := f.s.ListEnquiries(f.ctx, ch.ServiceID, store.EnquiryTaken, store.ListOptions{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, p.Items, limit)
}

func testTransfer(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	_, err := f.s.Transfer(f.ctx, e.ID, "s1", "s2")
	assert.ErrorIs(t, err, store.ErrConflict, "transferring an enquiry nobody took")

	_, err = f.s.Take(f.ctx, e.ID, "s1", 0, f.at(10))
	require.NoError(t, err)
	got, err := f.s.Transfer(f.ctx, e.ID, "s1", "s2")
	require.NoError(t, err)
	assert.Equal(t, "s2", got.StaffID)
	assert.Equal(t, store.EnquiryTaken, got.Status)
	assert.Equal(t, f.at(10), normTime(got.TakenAt), "TakenAt is kept")
	assert.Equal(t, normEnquiry(*got), f.getEnquiry(e.ID))

	_, err = f.s.Transfer(f.ctx, e.ID, "s1", "s3")
	assert.ErrorIs(t, err, store.ErrConflict, "s1 no longer holds it")
	assert.Equal(t, "s2", f.getEnquiry(e.ID).StaffID)
	n, err := f.s.CountTaken(f.ctx, ch.ServiceID)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a transfer does not change the count")

	_, err = f.s.Close(f.ctx, e.ID, f.at(20))
	require.NoError(t, err)
	_, err = f.s.Transfer(f.ctx, e.ID, "s2", "s3")
	assert.ErrorIs(t, err, store.ErrClosed)
	_, err = f.s.Transfer(f.ctx, f.id("enq"), "s2", "s3")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testClose(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	_, err := f.s.Offer(f.ctx, e.ID, []string{"s1"})
	require.NoError(t, err)
	got, err := f.s.Close(f.ctx, e.ID, f.at(40))
	require.NoError(t, err)
	assert.Equal(t, store.EnquiryClosed, got.Status)
	assert.False(t, got.Open())
	assert.Equal(t, f.at(40), normTime(got.ClosedAt))
	assert.Empty(t, got.OfferedTo, "closing ends the offer")
	assert.Equal(t, normEnquiry(*got), f.getEnquiry(e.ID))

	_, err = f.s.Close(f.ctx, e.ID, f.at(41))
	assert.ErrorIs(t, err, store.ErrClosed, "closing twice")
	assert.Equal(t, f.at(40), f.getEnquiry(e.ID).ClosedAt, "nothing written")
	_, err = f.s.Close(f.ctx, f.id("enq"), f.at(41))
	assert.ErrorIs(t, err, store.ErrNotFound)

	// A taken enquiry keeps who served it.
	e2 := f.enquiry(ch)
	_, err = f.s.Take(f.ctx, e2.ID, "s9", 0, f.at(50))
	require.NoError(t, err)
	got, err = f.s.Close(f.ctx, e2.ID, f.at(60))
	require.NoError(t, err)
	assert.Equal(t, "s9", got.StaffID)
	assert.Equal(t, f.at(50), normTime(got.TakenAt))
}

func testMarkAwaySent(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	set, err := f.s.MarkAwaySent(f.ctx, e.ID)
	require.NoError(t, err)
	assert.True(t, set, "the first call sets it")
	assert.True(t, f.getEnquiry(e.ID).AwaySent)
	set, err = f.s.MarkAwaySent(f.ctx, e.ID)
	require.NoError(t, err)
	assert.False(t, set, "the second call does not")
	assert.False(t, f.getEnquiry(f.enquiry(ch).ID).AwaySent, "per enquiry")
	_, err = f.s.MarkAwaySent(f.ctx, f.id("enq"))
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testMarkAwaySentRace(t *testing.T, f *fixture) {
	e := f.enquiry(f.channel())
	set := make([]bool, Racers)
	errs := make([]error, Racers)
	race(Racers, func(i int) { set[i], errs[i] = f.s.MarkAwaySent(f.ctx, e.ID) })
	n := 0
	for i := range set {
		require.NoError(t, errs[i])
		if set[i] {
			n++
		}
	}
	assert.Equal(t, 1, n, "the away reply is claimed once")
}

func testEnquiryVersion(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	last := f.getEnquiry(e.ID).Version
	step := func(what string, do func() error) {
		t.Helper()
		require.NoError(t, do(), what)
		v := f.getEnquiry(e.ID).Version
		assert.Equal(t, last+1, v, "%s increments the version by one", what)
		last = v
	}
	step("Offer", func() error { _, err := f.s.Offer(f.ctx, e.ID, []string{"s1"}); return err })
	step("Take", func() error { _, err := f.s.Take(f.ctx, e.ID, "s1", 0, f.at(1)); return err })
	step("Transfer", func() error { _, err := f.s.Transfer(f.ctx, e.ID, "s1", "s2"); return err })
	step("MarkAwaySent", func() error { _, err := f.s.MarkAwaySent(f.ctx, e.ID); return err })
	step("Close", func() error { _, err := f.s.Close(f.ctx, e.ID, f.at(2)); return err })

	// Failed calls write nothing.
	_, err := f.s.Take(f.ctx, e.ID, "s1", 0, f.at(3))
	require.True(t, errors.Is(err, store.ErrClosed))
	assert.Equal(t, last, f.getEnquiry(e.ID).Version, "a refused take")
}
