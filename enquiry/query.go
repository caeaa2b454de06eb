package enquiry

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/pagedesk/pagedesk/store"
)

// Enquiries ranges over a service's enquiries in a status, oldest opened
// first; the empty status ranges over every open one. Pages are fetched as
// the loop goes, so a caller may stop early. An error ends the sequence.
func (s *Service) Enquiries(ctx context.Context, serviceID string, status store.EnquiryStatus) iter.Seq2[store.Enquiry, error] {
	return store.All(ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Enquiry], error) {
		return s.store.ListEnquiries(ctx, serviceID, status, o)
	})
}

// History ranges over a visitor's enquiries on a channel, newest first.
func (s *Service) History(ctx context.Context, channelID, psid string) iter.Seq2[store.Enquiry, error] {
	return store.All(ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Enquiry], error) {
		return s.store.VisitorEnquiries(ctx, channelID, psid, o)
	})
}

// Messages ranges over an enquiry's conversation in the order it was
// recorded: the visitor's items, staff replies, auto-replies (their Payload
// starts with AutoReplyPayloadPrefix), Page admins' messages, and the
// channel self-test's message (store.AuthorSystem, see SelfTestPayload).
func (s *Service) Messages(ctx context.Context, enquiryID string) iter.Seq2[store.Message, error] {
	return store.All(ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Message], error) {
		return s.store.ListMessages(ctx, enquiryID, o)
	})
}

// View is one enquiry as a staff member sees it: the enquiry, its
// conversation, the visitor, the channel, and the channel's custom info
// (CHAN-5).
type View struct {
	Enquiry  store.Enquiry
	Messages []store.Message
	// Visitor is what is known of the visitor (names and picture once
	// fetched); only ChannelID and PSID are set if nothing is.
	Visitor store.Visitor
	Channel ChannelSummary
	// CustomInfo is the channel's note for staff while it is on, for every
	// enquiry of the channel, taken or not (CHAN-5); empty while off. It is
	// never sent to visitors.
	CustomInfo string
	// ReplyBy is when the visitor's 24-hour window closes (RULE-5); zero if
	// the visitor never sent a message.
	ReplyBy time.Time
	// HumanAgentReplyBy is when human staff can no longer answer with the
	// HUMAN_AGENT tag; zero unless the channel opted in.
	HumanAgentReplyBy time.Time
}

// ChannelSummary is what a staff member needs to know of an enquiry's channel.
type ChannelSummary struct {
	ID       string
	Name     string
	PageID   string
	PageName string
	Status   store.ChannelStatus
	// DisconnectReason says why the channel is disconnected; empty otherwise.
	DisconnectReason string
}

// CanReply reports whether a staff member could message the visitor at t
// (RULE-5), ignoring who holds the enquiry and the channel's state.
func (v *View) CanReply(t time.Time) bool {
	if v.ReplyBy.IsZero() {
		return false
	}
	return t.Before(v.ReplyBy) || t.Before(v.HumanAgentReplyBy)
}

// View returns one enquiry with its whole conversation, its visitor, and
// its channel's custom info when that is on (CHAN-5).
func (s *Service) View(ctx context.Context, enquiryID string) (*View, error) {
	enq, err := s.enquiry(ctx, enquiryID)
	if err != nil {
		return nil, err
	}
	ch, err := s.channel(ctx, enq.ChannelID)
	if err != nil {
		return nil, err
	}
	v := &View{
		Enquiry: *enq,
		Channel: ChannelSummary{ID: ch.ID, Name: ch.Name, PageID: ch.PageID, PageName: ch.PageName,
			Status: ch.Status, DisconnectReason: ch.DisconnectReason},
		Visitor: store.Visitor{ChannelID: ch.ID, PSID: enq.PSID},
	}
	if ch.CustomInfo.On {
		v.CustomInfo = ch.CustomInfo.Text
	}
	if !enq.LastInboundAt.IsZero() {
		v.ReplyBy = enq.LastInboundAt.Add(Window)
		if ch.HumanAgent {
			v.HumanAgentReplyBy = enq.LastInboundAt.Add(HumanAgentWindow)
		}
	}
	visitor, err := s.store.Visitor(ctx, ch.ID, enq.PSID)
	switch {
	case err == nil:
		v.Visitor = *visitor
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("enquiry: reading visitor of %s: %w", enq.ID, err)
	}
	for m, err := range s.Messages(ctx, enq.ID) {
		if err != nil {
			return nil, fmt.Errorf("enquiry: reading messages of %s: %w", enq.ID, err)
		}
		v.Messages = append(v.Messages, m)
	}
	return v, nil
}
