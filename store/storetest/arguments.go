package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

var argumentTests = []test{
	{"EmptyIDs", testEmptyIDs},
	{"CancelledContext", testCancelledContext},
	{"NotFound", testNotFound},
}

// call is one store call, made with the given context.
type call struct {
	name string
	fn   func(ctx context.Context) error
}

func testEmptyIDs(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	s, at := f.s, f.at(1)
	in := func(edit func(*store.Inbound)) store.Inbound {
		i := f.inbound(ch, f.id("psid"), 1)
		edit(&i)
		return i
	}
	newChannel := func(edit func(*store.Channel)) *store.Channel {
		c := f.channelOf(f.id("svc"))
		edit(c)
		return c
	}
	out := func(edit func(*store.Message)) *store.Message {
		m := f.outbound(e, 1)
		edit(m)
		return m
	}
	calls := []call{
		{"CreateChannel ID", func(ctx context.Context) error {
			return s.CreateChannel(ctx, newChannel(func(c *store.Channel) { c.ID = "" }))
		}},
		{"CreateChannel ServiceID", func(ctx context.Context) error {
			return s.CreateChannel(ctx, newChannel(func(c *store.Channel) { c.ServiceID = "" }))
		}},
		{"CreateChannel PageID", func(ctx context.Context) error {
			return s.CreateChannel(ctx, newChannel(func(c *store.Channel) { c.PageID = "" }))
		}},
		{"Channel", func(ctx context.Context) error { _, err := s.Channel(ctx, ""); return err }},
		{"ChannelByPage", func(ctx context.Context) error { _, err := s.ChannelByPage(ctx, ""); return err }},
		{"UpdateChannel", func(ctx context.Context) error {
			c := f.getChannel(ch.ID)
			c.ID = ""
			return s.UpdateChannel(ctx, &c)
		}},
		{"SetChannelStatus", func(ctx context.Context) error {
			_, err := s.SetChannelStatus(ctx, "", store.ChannelPaused, "", at)
			return err
		}},
		{"ListChannels", func(ctx context.Context) error {
			_, err := s.ListChannels(ctx, "", store.ListOptions{})
			return err
		}},
		{"TouchWebhook", func(ctx context.Context) error { return s.TouchWebhook(ctx, "", at) }},
		{"NextTurn", func(ctx context.Context) error { _, err := s.NextTurn(ctx, ""); return err }},
		{"Visitor channel", func(ctx context.Context) error { _, err := s.Visitor(ctx, "", e.PSID); return err }},
		{"Visitor psid", func(ctx context.Context) error { _, err := s.Visitor(ctx, ch.ID, ""); return err }},
		{"SetProfile channel", func(ctx context.Context) error {
			return s.SetProfile(ctx, "", e.PSID, store.Profile{}, at)
		}},
		{"SetProfile psid", func(ctx context.Context) error {
			return s.SetProfile(ctx, ch.ID, "", store.Profile{}, at)
		}},
		{"ForgetVisitor", func(ctx context.Context) error { _, err := s.ForgetVisitor(ctx, ""); return err }},
		{"Enquiry", func(ctx context.Context) error { _, err := s.Enquiry(ctx, ""); return err }},
		{"OpenEnquiry channel", func(ctx context.Context) error { _, err := s.OpenEnquiry(ctx, "", e.PSID); return err }},
		{"OpenEnquiry psid", func(ctx context.Context) error { _, err := s.OpenEnquiry(ctx, ch.ID, ""); return err }},
		{"ListEnquiries", func(ctx context.Context) error {
			_, err := s.ListEnquiries(ctx, "", "", store.ListOptions{})
			return err
		}},
		{"VisitorEnquiries channel", func(ctx context.Context) error {
			_, err := s.VisitorEnquiries(ctx, "", e.PSID, store.ListOptions{})
			return err
		}},
		{"VisitorEnquiries psid", func(ctx context.Context) error {
			_, err := s.VisitorEnquiries(ctx, ch.ID, "", store.ListOptions{})
			return err
		}},
		{"Offer", func(ctx context.Context) error { _, err := s.Offer(ctx, "", []string{"s1"}); return err }},
		{"Take id", func(ctx context.Context) error { _, err := s.Take(ctx, "", "s1", 0, at); return err }},
		{"Take staff", func(ctx context.Context) error { _, err := s.Take(ctx, e.ID, "", 0, at); return err }},
		{"Transfer id", func(ctx context.Context) error { _, err := s.Transfer(ctx, "", "s1", "s2"); return err }},
		{"Transfer from", func(ctx context.Context) error { _, err := s.Transfer(ctx, e.ID, "", "s2"); return err }},
		{"Transfer to", func(ctx context.Context) error { _, err := s.Transfer(ctx, e.ID, "s1", ""); return err }},
		{"Close", func(ctx context.Context) error { _, err := s.Close(ctx, "", at); return err }},
		{"MarkAwaySent", func(ctx context.Context) error { _, err := s.MarkAwaySent(ctx, ""); return err }},
		{"CountTaken", func(ctx context.Context) error { _, err := s.CountTaken(ctx, ""); return err }},
		{"RecordInbound ServiceID", func(ctx context.Context) error {
			_, err := s.RecordInbound(ctx, in(func(i *store.Inbound) { i.ServiceID = "" }))
			return err
		}},
		{"RecordInbound ChannelID", func(ctx context.Context) error {
			_, err := s.RecordInbound(ctx, in(func(i *store.Inbound) { i.ChannelID = "" }))
			return err
		}},
		{"RecordInbound PSID", func(ctx context.Context) error {
			_, err := s.RecordInbound(ctx, in(func(i *store.Inbound) { i.PSID = "" }))
			return err
		}},
		{"RecordInbound Message.ID", func(ctx context.Context) error {
			_, err := s.RecordInbound(ctx, in(func(i *store.Inbound) { i.Message.ID = "" }))
			return err
		}},
		{"RecordInbound Message.Key", func(ctx context.Context) error {
			_, err := s.RecordInbound(ctx, in(func(i *store.Inbound) { i.Message.Key = "" }))
			return err
		}},
		{"RecordInbound EnquiryID with Open", func(ctx context.Context) error {
			_, err := s.RecordInbound(ctx, in(func(i *store.Inbound) { i.EnquiryID = "" }))
			return err
		}},
		{"AppendOutbound ID", func(ctx context.Context) error {
			return s.AppendOutbound(ctx, out(func(m *store.Message) { m.ID = "" }))
		}},
		{"AppendOutbound EnquiryID", func(ctx context.Context) error {
			return s.AppendOutbound(ctx, out(func(m *store.Message) { m.EnquiryID = "" }))
		}},
		{"SetState", func(ctx context.Context) error { return s.SetState(ctx, "", store.StateSent, "", "") }},
		{"MessageByMID channel", func(ctx context.Context) error { _, err := s.MessageByMID(ctx, "", "mid"); return err }},
		{"MessageByMID mid", func(ctx context.Context) error { _, err := s.MessageByMID(ctx, ch.ID, ""); return err }},
		{"MarkWatermark channel", func(ctx context.Context) error {
			_, err := s.MarkWatermark(ctx, "", e.PSID, at, store.StateRead)
			return err
		}},
		{"MarkWatermark psid", func(ctx context.Context) error {
			_, err := s.MarkWatermark(ctx, ch.ID, "", at, store.StateRead)
			return err
		}},
		{"ListMessages", func(ctx context.Context) error {
			_, err := s.ListMessages(ctx, "", store.ListOptions{})
			return err
		}},
	}
	before := f.getEnquiry(e.ID)
	for _, c := range calls {
		err := c.fn(f.ctx)
		assert.ErrorIs(t, err, store.ErrInvalid, c.name)
		if err != nil {
			assert.NotEqual(t, store.ErrInvalid.Error(), err.Error(), "%s: the error names the field", c.name)
		}
	}
	assert.Equal(t, before, f.getEnquiry(e.ID), "nothing written")

	// Open=false needs no enquiry id.
	_, err := s.RecordInbound(f.ctx, in(func(i *store.Inbound) { i.Open, i.EnquiryID = false, "" }))
	assert.NoError(t, err, "Open=false with no enquiry id")
}

func testCancelledContext(t *testing.T, f *fixture) {
	ch := f.channel()
	e := f.enquiry(ch)
	s, at := f.s, f.at(1)
	newCh := f.channelOf(f.id("svc"))
	in := f.inbound(ch, f.id("psid"), 1)
	out := f.outbound(e, 1)
	upd := f.getChannel(ch.ID)
	upd.Name = "cancelled"
	psid := e.PSID
	opt := store.ListOptions{}
	calls := []call{
		{"CreateChannel", func(ctx context.Context) error { return s.CreateChannel(ctx, newCh) }},
		{"Channel", func(ctx context.Context) error { _, err := s.Channel(ctx, ch.ID); return err }},
		{"ChannelByPage", func(ctx context.Context) error { _, err := s.ChannelByPage(ctx, ch.PageID); return err }},
		{"UpdateChannel", func(ctx context.Context) error { return s.UpdateChannel(ctx, &upd) }},
		{"SetChannelStatus", func(ctx context.Context) error {
			_, err := s.SetChannelStatus(ctx, ch.ID, store.ChannelDeleted, "", at)
			return err
		}},
		{"ListChannels", func(ctx context.Context) error { _, err := s.ListChannels(ctx, ch.ServiceID, opt); return err }},
		{"TouchWebhook", func(ctx context.Context) error { return s.TouchWebhook(ctx, ch.ID, at) }},
		{"NextTurn", func(ctx context.Context) error { _, err := s.NextTurn(ctx, ch.ID); return err }},
		{"Visitor", func(ctx context.Context) error { _, err := s.Visitor(ctx, ch.ID, psid); return err }},
		{"SetProfile", func(ctx context.Context) error {
			return s.SetProfile(ctx, ch.ID, psid, store.Profile{FirstName: "X"}, at)
		}},
		{"ForgetVisitor", func(ctx context.Context) error { _, err := s.ForgetVisitor(ctx, psid); return err }},
		{"Enquiry", func(ctx context.Context) error { _, err := s.Enquiry(ctx, e.ID); return err }},
		{"OpenEnquiry", func(ctx context.Context) error { _, err := s.OpenEnquiry(ctx, ch.ID, psid); return err }},
		{"ListEnquiries", func(ctx context.Context) error {
			_, err := s.ListEnquiries(ctx, ch.ServiceID, "", opt)
			return err
		}},
		{"VisitorEnquiries", func(ctx context.Context) error {
			_, err := s.VisitorEnquiries(ctx, ch.ID, psid, opt)
			return err
		}},
		{"Offer", func(ctx context.Context) error { _, err := s.Offer(ctx, e.ID, []string{"s1"}); return err }},
		{"Take", func(ctx context.Context) error { _, err := s.Take(ctx, e.ID, "s1", 0, at); return err }},
		{"Transfer", func(ctx context.Context) error { _, err := s.Transfer(ctx, e.ID, "s1", "s2"); return err }},
		{"Close", func(ctx context.Context) error { _, err := s.Close(ctx, e.ID, at); return err }},
		{"MarkAwaySent", func(ctx context.Context) error { _, err := s.MarkAwaySent(ctx, e.ID); return err }},
		{"CountTaken", func(ctx context.Context) error { _, err := s.CountTaken(ctx, ch.ServiceID); return err }},
		{"RecordInbound", func(ctx context.Context) error { _, err := s.RecordInbound(ctx, in); return err }},
		{"AppendOutbound", func(ctx context.Context) error { return s.AppendOutbound(ctx, out) }},
		{"SetState", func(ctx context.Context) error {
			return s.SetState(ctx, f.messages(e.ID)[0].ID, store.StateFailed, "", "x")
		}},
		{"MessageByMID", func(ctx context.Context) error {
			_, err := s.MessageByMID(ctx, ch.ID, f.messages(e.ID)[0].MID)
			return err
		}},
		{"MarkWatermark", func(ctx context.Context) error {
			_, err := s.MarkWatermark(ctx, ch.ID, psid, at, store.StateRead)
			return err
		}},
		{"ListMessages", func(ctx context.Context) error { _, err := s.ListMessages(ctx, e.ID, opt); return err }},
	}
	chBefore, eBefore, msgsBefore := f.getChannel(ch.ID), f.getEnquiry(e.ID), f.messages(e.ID)
	vBefore := f.getVisitor(ch.ID, psid)

	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	for _, c := range calls {
		assert.ErrorIs(t, c.fn(ctx), context.Canceled, c.name)
	}

	assert.Equal(t, chBefore, f.getChannel(ch.ID), "the channel is unchanged")
	assert.Equal(t, eBefore, f.getEnquiry(e.ID), "the enquiry is unchanged")
	assert.Equal(t, msgsBefore, f.messages(e.ID), "the messages are unchanged")
	assert.Equal(t, vBefore, f.getVisitor(ch.ID, psid), "the visitor is unchanged")
	_, err := s.Channel(f.ctx, newCh.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "no channel was created")
	_, err = s.Visitor(f.ctx, in.ChannelID, in.PSID)
	assert.ErrorIs(t, err, store.ErrNotFound, "no inbound was recorded")
	n, err := s.NextTurn(f.ctx, ch.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "no turn was taken")
}

func testNotFound(t *testing.T, f *fixture) {
	ch := f.channel()
	s := f.s
	calls := []call{
		{"Channel", func(ctx context.Context) error { _, err := s.Channel(ctx, f.id("ch")); return err }},
		{"ChannelByPage", func(ctx context.Context) error { _, err := s.ChannelByPage(ctx, f.id("page")); return err }},
		{"Visitor", func(ctx context.Context) error { _, err := s.Visitor(ctx, ch.ID, f.id("psid")); return err }},
		{"Visitor unknown channel", func(ctx context.Context) error {
			_, err := s.Visitor(ctx, f.id("ch"), f.id("psid"))
			return err
		}},
		{"Enquiry", func(ctx context.Context) error { _, err := s.Enquiry(ctx, f.id("enq")); return err }},
		{"OpenEnquiry", func(ctx context.Context) error { _, err := s.OpenEnquiry(ctx, ch.ID, f.id("psid")); return err }},
		{"MessageByMID", func(ctx context.Context) error { _, err := s.MessageByMID(ctx, ch.ID, f.id("mid")); return err }},
	}
	for _, c := range calls {
		assert.ErrorIs(t, c.fn(f.ctx), store.ErrNotFound, c.name)
	}
}
