package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

var copyTests = []test{
	{"Returned", testCopiesOut},
	{"Given", testCopiesIn},
}

// testCopiesOut changes what the store returned and expects the store
// unchanged.
func testCopiesOut(t *testing.T, f *fixture) {
	ch := f.channel()
	in := f.inbound(ch, f.id("psid"), 10)
	in.Message.Attachments = []store.Attachment{{Type: "image", URL: "https://cdn.example/a.jpg"}}
	r := f.record(in)
	_, err := f.s.Offer(f.ctx, r.Enquiry.ID, []string{"s1", "s2"})
	require.NoError(t, err)
	wantCh, wantEnq, wantMsgs := f.getChannel(ch.ID), f.getEnquiry(r.Enquiry.ID), f.messages(r.Enquiry.ID)
	wantV := f.getVisitor(ch.ID, in.PSID)

	scribble := func(c *store.Channel) {
		c.Name = "scribbled"
		c.Dispatch.StaffIDs[0] = "scribbled"
	}
	c, err := f.s.Channel(f.ctx, ch.ID)
	require.NoError(t, err)
	scribble(c)
	c, err = f.s.ChannelByPage(f.ctx, ch.PageID)
	require.NoError(t, err)
	scribble(c)
	cp, err := f.s.ListChannels(f.ctx, ch.ServiceID, store.ListOptions{})
	require.NoError(t, err)
	scribble(&cp.Items[0])

	e, err := f.s.Enquiry(f.ctx, r.Enquiry.ID)
	require.NoError(t, err)
	e.OfferedTo[0] = "scribbled"
	e.Status = store.EnquiryClosed
	e, err = f.s.OpenEnquiry(f.ctx, ch.ID, in.PSID)
	require.NoError(t, err)
	e.OfferedTo[0] = "scribbled"
	ep, err := f.s.ListEnquiries(f.ctx, ch.ServiceID, "", store.ListOptions{})
	require.NoError(t, err)
	ep.Items[0].OfferedTo[0] = "scribbled"
	ep, err = f.s.VisitorEnquiries(f.ctx, ch.ID, in.PSID, store.ListOptions{})
	require.NoError(t, err)
	ep.Items[0].OfferedTo[0] = "scribbled"
	offered, err := f.s.Offer(f.ctx, r.Enquiry.ID, []string{"s1", "s2"})
	require.NoError(t, err)
	offered.OfferedTo[0] = "scribbled"
	wantEnq.Version++ // that Offer wrote

	r.Message.Attachments[0].URL = "scribbled"
	dup := f.record(in)
	require.True(t, dup.Duplicate)
	dup.Message.Attachments[0].URL = "scribbled"
	m, err := f.s.MessageByMID(f.ctx, ch.ID, in.Message.MID)
	require.NoError(t, err)
	m.Attachments[0].URL = "scribbled"
	m.Text = "scribbled"
	mp, err := f.s.ListMessages(f.ctx, r.Enquiry.ID, store.ListOptions{})
	require.NoError(t, err)
	mp.Items[0].Attachments[0].URL = "scribbled"
	v, err := f.s.Visitor(f.ctx, ch.ID, in.PSID)
	require.NoError(t, err)
	v.FirstName = "scribbled"

	assert.Equal(t, wantCh, f.getChannel(ch.ID), "channel")
	assert.Equal(t, wantEnq, f.getEnquiry(r.Enquiry.ID), "enquiry")
	assert.Equal(t, wantMsgs, f.messages(r.Enquiry.ID), "messages")
	assert.Equal(t, wantV, f.getVisitor(ch.ID, in.PSID), "visitor")
}

// testCopiesIn changes what the caller gave the store after the call and
// expects the store unchanged.
func testCopiesIn(t *testing.T, f *fixture) {
	c := f.channelOf(f.id("svc"))
	require.NoError(t, f.s.CreateChannel(f.ctx, c))
	want := f.getChannel(c.ID)
	c.Dispatch.StaffIDs[0] = "scribbled"
	c.Name = "scribbled"
	assert.Equal(t, want, f.getChannel(c.ID), "CreateChannel")

	upd := f.getChannel(c.ID)
	upd.Dispatch.StaffIDs = []string{"x", "y"}
	require.NoError(t, f.s.UpdateChannel(f.ctx, &upd))
	want = f.getChannel(c.ID)
	upd.Dispatch.StaffIDs[0] = "scribbled"
	assert.Equal(t, want, f.getChannel(c.ID), "UpdateChannel")

	in := f.inbound(c, f.id("psid"), 10)
	in.Message.Attachments = []store.Attachment{{Type: "image", URL: "https://cdn.example/a.jpg"}}
	r := f.record(in)
	in.Message.Attachments[0].URL = "scribbled"
	assert.Equal(t, "https://cdn.example/a.jpg", f.messages(r.Enquiry.ID)[0].Attachments[0].URL, "RecordInbound")

	staff := []string{"s1", "s2"}
	_, err := f.s.Offer(f.ctx, r.Enquiry.ID, staff)
	require.NoError(t, err)
	staff[0] = "scribbled"
	assert.Equal(t, []string{"s1", "s2"}, f.getEnquiry(r.Enquiry.ID).OfferedTo, "Offer")

	out := f.outbound(r.Enquiry, 20)
	out.Attachments = []store.Attachment{{Type: "file", AttachmentID: "att"}}
	require.NoError(t, f.s.AppendOutbound(f.ctx, out))
	out.Attachments[0].AttachmentID = "scribbled"
	out.Text = "scribbled"
	msgs := f.messages(r.Enquiry.ID)
	require.Len(t, msgs, 2)
	assert.Equal(t, "att", msgs[1].Attachments[0].AttachmentID, "AppendOutbound")
	assert.Equal(t, "reply at 20", msgs[1].Text, "AppendOutbound")
}
