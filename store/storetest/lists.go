package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

var listTests = []test{
	{"Channels", testListChannels},
	{"Enquiries", testListEnquiries},
	{"VisitorEnquiries", testVisitorEnquiries},
	{"Messages", testListMessages},
	{"Limits", testListLimits},
	{"CursorStable", testCursorStable},
	{"BadOptions", testListBadOptions},
	{"AllStopsEarly", testAllStopsEarly},
}

// pages walks a list with the given page size, checking that Next is set
// exactly when more items follow, and returns the ids in order.
func pages[T any](t *testing.T, f *fixture, limit int, id func(T) string, list func(context.Context, store.ListOptions) (store.Page[T], error)) []string {
	t.Helper()
	var out []string
	opt := store.ListOptions{Limit: limit}
	for range 1000 {
		p, err := list(f.ctx, opt)
		require.NoError(t, err)
		if opt.After != "" {
			require.NotEmpty(t, p.Items, "page size %d: a Next led to an empty page; Next must be empty when nothing follows", limit)
		}
		out = append(out, ids(p.Items, id)...)
		if p.Next == "" {
			return out
		}
		require.Len(t, p.Items, limit, "a page with a Next is full")
		opt.After = p.Next
	}
	t.Fatal("the list never ended")
	return nil
}

// walk lists with several page sizes and checks each gives want.
func walk[T any](t *testing.T, f *fixture, want []string, id func(T) string, list func(context.Context, store.ListOptions) (store.Page[T], error)) {
	t.Helper()
	for _, limit := range []int{1, 2, 3, len(want), len(want) + 1, 0} {
		got := pages(t, f, limit, id, list)
		if len(want) == 0 {
			assert.Empty(t, got, "page size %d", limit)
			continue
		}
		assert.Equal(t, want, got, "page size %d", limit)
	}
	var all []string
	for it, err := range store.All(f.ctx, list) {
		require.NoError(t, err)
		all = append(all, id(it))
	}
	if len(want) == 0 {
		assert.Empty(t, all, "store.All")
		return
	}
	assert.Equal(t, want, all, "store.All")
}

func testListChannels(t *testing.T, f *fixture) {
	svc := f.id("svc")
	// Created out of order; two share a creation time (then ordered by id).
	secs := []int{50, 10, 30, 30, 20, 40}
	var chans []*store.Channel
	for _, sec := range secs {
		c := f.channelOf(svc)
		c.CreatedAt = f.at(sec)
		require.NoError(t, f.s.CreateChannel(f.ctx, c))
		chans = append(chans, c)
	}
	other := f.channelOf(f.id("svc"))
	require.NoError(t, f.s.CreateChannel(f.ctx, other))
	_, err := f.s.SetChannelStatus(f.ctx, chans[5].ID, store.ChannelDeleted, "", f.at(60))
	require.NoError(t, err)
	_, err = f.s.SetChannelStatus(f.ctx, chans[4].ID, store.ChannelPaused, "", f.at(60))
	require.NoError(t, err)

	mid := []string{chans[2].ID, chans[3].ID}
	if mid[1] < mid[0] {
		mid[0], mid[1] = mid[1], mid[0]
	}
	want := []string{chans[1].ID, chans[4].ID, mid[0], mid[1], chans[0].ID}
	walk(t, f, want, channelID, func(ctx context.Context, o store.ListOptions) (store.Page[store.Channel], error) {
		return f.s.ListChannels(ctx, svc, o)
	})
	p, err := f.s.ListChannels(f.ctx, svc, store.ListOptions{})
	require.NoError(t, err)
	require.Len(t, p.Items, len(want))
	assert.Equal(t, normChannel(*chans[1]), normChannel(p.Items[0]), "listed channels are whole")
	walk(t, f, nil, channelID, func(ctx context.Context, o store.ListOptions) (store.Page[store.Channel], error) {
		return f.s.ListChannels(ctx, f.id("svc"), o)
	})
}

func testListEnquiries(t *testing.T, f *fixture) {
	ch := f.channel()
	// Opened out of order.
	secs := []int{60, 10, 50, 20, 40, 30, 70}
	enqs := make([]store.Enquiry, len(secs))
	for i, sec := range secs {
		enqs[i] = f.record(f.inbound(ch, f.id("psid"), sec)).Enquiry
	}
	// By opening time: 1(10) 3(20) 5(30) 4(40) 2(50) 0(60) 6(70).
	_, err := f.s.Offer(f.ctx, enqs[3].ID, []string{"s1"})
	require.NoError(t, err)
	_, err = f.s.Offer(f.ctx, enqs[2].ID, []string{"s1"})
	require.NoError(t, err)
	_, err = f.s.Take(f.ctx, enqs[5].ID, "s1", 0, f.at(80))
	require.NoError(t, err)
	_, err = f.s.Take(f.ctx, enqs[0].ID, "s2", 0, f.at(80))
	require.NoError(t, err)
	_, err = f.s.Close(f.ctx, enqs[4].ID, f.at(90))
	require.NoError(t, err)
	_, err = f.s.Close(f.ctx, enqs[6].ID, f.at(90))
	require.NoError(t, err)
	other := f.channel() // another service
	f.enquiry(other)

	for _, tc := range []struct {
		status store.EnquiryStatus
		want   []int
	}{
		{store.EnquiryQueued, []int{1}},
		{store.EnquiryOffered, []int{3, 2}},
		{store.EnquiryTaken, []int{5, 0}},
		{store.EnquiryClosed, []int{4, 6}},
		{"", []int{1, 3, 5, 2, 0}},
	} {
		var want []string
		for _, i := range tc.want {
			want = append(want, enqs[i].ID)
		}
		t.Run(string(tc.status), func(t *testing.T) {
			walk(t, f, want, enquiryID, func(ctx context.Context, o store.ListOptions) (store.Page[store.Enquiry], error) {
				return f.s.ListEnquiries(ctx, ch.ServiceID, tc.status, o)
			})
		})
	}
	p, err := f.s.ListEnquiries(f.ctx, ch.ServiceID, store.EnquiryTaken, store.ListOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, p.Items)
	assert.Equal(t, f.getEnquiry(enqs[5].ID), normEnquiry(p.Items[0]), "listed enquiries are whole")

	_, err = f.s.ListEnquiries(f.ctx, ch.ServiceID, "bogus", store.ListOptions{})
	assert.ErrorIs(t, err, store.ErrInvalid, "an unknown status")
}

func testVisitorEnquiries(t *testing.T, f *fixture) {
	ch := f.channel()
	psid := f.id("psid")
	var want []string
	for i := range 5 {
		r := f.record(f.inbound(ch, psid, 10*(i+1)))
		require.True(t, r.NewEnquiry)
		want = append([]string{r.Enquiry.ID}, want...) // newest first
		if i < 4 {
			_, err := f.s.Close(f.ctx, r.Enquiry.ID, f.at(10*(i+1)+5))
			require.NoError(t, err)
		}
	}
	f.enquiry(ch) // another visitor
	walk(t, f, want, enquiryID, func(ctx context.Context, o store.ListOptions) (store.Page[store.Enquiry], error) {
		return f.s.VisitorEnquiries(ctx, ch.ID, psid, o)
	})
	walk(t, f, nil, enquiryID, func(ctx context.Context, o store.ListOptions) (store.Page[store.Enquiry], error) {
		return f.s.VisitorEnquiries(ctx, ch.ID, f.id("psid"), o)
	})
}

func testListMessages(t *testing.T, f *fixture) {
	ch := f.channel()
	first := f.record(f.inbound(ch, f.id("psid"), 100))
	e := first.Enquiry
	want := []string{first.Message.ID}
	// Recorded order, whatever the creation times say.
	for i, sec := range []int{50, 150, 20, 120} {
		if i%2 == 0 {
			m := f.outbound(e, sec)
			require.NoError(t, f.s.AppendOutbound(f.ctx, m))
			want = append(want, m.ID)
			continue
		}
		want = append(want, f.record(f.inbound(ch, e.PSID, sec)).Message.ID)
	}
	f.enquiry(ch) // another enquiry's messages are not listed
	walk(t, f, want, messageID, func(ctx context.Context, o store.ListOptions) (store.Page[store.Message], error) {
		return f.s.ListMessages(ctx, e.ID, o)
	})
	_, err := f.s.ListMessages(f.ctx, f.id("enq"), store.ListOptions{})
	assert.ErrorIs(t, err, store.ErrNotFound, "an unknown enquiry")
}

func testListLimits(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	for i := range 100 { // 101 messages with the inbound one
		require.NoError(t, f.s.AppendOutbound(f.ctx, f.outbound(e, i)))
	}
	for _, tc := range []struct{ limit, want int }{
		{0, 50},    // the default
		{100, 100}, // every store allows at least 100
	} {
		p, err := f.s.ListMessages(f.ctx, e.ID, store.ListOptions{Limit: tc.limit})
		require.NoError(t, err)
		assert.Len(t, p.Items, tc.want, "limit %d", tc.limit)
		assert.NotEmpty(t, p.Next, "limit %d: more follow", tc.limit)
	}
}

// testCursorStable adds items while a list is being read: no item is
// listed twice or skipped.
func testCursorStable(t *testing.T, f *fixture) {
	ch := f.channel()
	first := f.record(f.inbound(ch, f.id("psid"), 0))
	e := first.Enquiry
	want := []string{first.Message.ID}
	for i := range 4 {
		m := f.outbound(e, i+1)
		require.NoError(t, f.s.AppendOutbound(f.ctx, m))
		want = append(want, m.ID)
	}
	p, err := f.s.ListMessages(f.ctx, e.ID, store.ListOptions{Limit: 3})
	require.NoError(t, err)
	got := ids(p.Items, messageID)
	for i := range 3 {
		m := f.outbound(e, i+10)
		require.NoError(t, f.s.AppendOutbound(f.ctx, m))
		want = append(want, m.ID)
	}
	for p.Next != "" {
		p, err = f.s.ListMessages(f.ctx, e.ID, store.ListOptions{Limit: 3, After: p.Next})
		require.NoError(t, err)
		got = append(got, ids(p.Items, messageID)...)
	}
	assert.Equal(t, want, got, "messages")

	// Enquiries: one opened earlier than the cursor is not listed, one
	// opened later is; none repeats.
	svcCh := f.channel()
	var wantEnq []string
	for i := range 4 {
		wantEnq = append(wantEnq, f.record(f.inbound(svcCh, f.id("psid"), 10*(i+1))).Enquiry.ID)
	}
	ep, err := f.s.ListEnquiries(f.ctx, svcCh.ServiceID, "", store.ListOptions{Limit: 2})
	require.NoError(t, err)
	gotEnq := ids(ep.Items, enquiryID)
	f.record(f.inbound(svcCh, f.id("psid"), 5))                                         // before the cursor
	wantEnq = append(wantEnq, f.record(f.inbound(svcCh, f.id("psid"), 100)).Enquiry.ID) // after it
	for ep.Next != "" {
		ep, err = f.s.ListEnquiries(f.ctx, svcCh.ServiceID, "", store.ListOptions{Limit: 2, After: ep.Next})
		require.NoError(t, err)
		gotEnq = append(gotEnq, ids(ep.Items, enquiryID)...)
	}
	assert.Equal(t, wantEnq, gotEnq, "enquiries")
}

func testListBadOptions(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	lists := map[string]func(store.ListOptions) error{
		"ListChannels": func(o store.ListOptions) error {
			_, err := f.s.ListChannels(f.ctx, ch.ServiceID, o)
			return err
		},
		"ListEnquiries": func(o store.ListOptions) error {
			_, err := f.s.ListEnquiries(f.ctx, ch.ServiceID, "", o)
			return err
		},
		"VisitorEnquiries": func(o store.ListOptions) error {
			_, err := f.s.VisitorEnquiries(f.ctx, ch.ID, e.PSID, o)
			return err
		},
		"ListMessages": func(o store.ListOptions) error {
			_, err := f.s.ListMessages(f.ctx, e.ID, o)
			return err
		},
	}
	for name, list := range lists {
		assert.ErrorIs(t, list(store.ListOptions{Limit: -1}), store.ErrInvalid, "%s: a negative limit", name)
		for _, cursor := range []string{"!!! not a cursor !!!", "\x00\xff", "%"} {
			assert.ErrorIs(t, list(store.ListOptions{After: cursor}), store.ErrInvalid, "%s: cursor %q", name, cursor)
		}
	}
}

func testAllStopsEarly(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	for i := range 9 {
		require.NoError(t, f.s.AppendOutbound(f.ctx, f.outbound(e, i)))
	}
	calls := 0
	n := 0
	for _, err := range store.All(f.ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Message], error) {
		calls++
		o.Limit = 2
		return f.s.ListMessages(ctx, e.ID, o)
	}) {
		require.NoError(t, err)
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
	assert.Equal(t, 2, calls, "stopping early fetches no further page")

	// An error is yielded once and ends the sequence.
	errs := 0
	for _, err := range store.All(f.ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Message], error) {
		return f.s.ListMessages(ctx, f.id("enq"), o)
	}) {
		assert.ErrorIs(t, err, store.ErrNotFound)
		errs++
	}
	assert.Equal(t, 1, errs)
}
