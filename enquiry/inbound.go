package enquiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// HandleEvents records a webhook delivery's events and does what each one
// calls for. It implements messenger.Handler.
//
// Events for a Page that no channel holds are logged and ignored (nil
// error), so that Facebook does not retry them for ever. Every store failure
// is returned: the webhook then answers non-2xx and Facebook delivers the
// batch again, which is safe because each event is recorded once by its
// Key and every side effect is decided from the stored state:
//
//   - a visitor's message or postback opens an enquiry, or joins the open
//     one (ENQ-1); a message opening an enquiry fetches the visitor's
//     profile unless it was fetched before; the visitor's first message to
//     the channel gets the welcome auto-reply; a queued enquiry is
//     dispatched (CHAN-2) or, with nobody available, gets the away
//     auto-reply once;
//   - reactions and other items (referrals, opt-ins, handovers, unknown
//     kinds) are recorded on the visitor's conversation;
//   - echoes of the service's own sends confirm them; other echoes (a Page
//     admin answering from the Page inbox or another app) are recorded as
//     store.AuthorPageAdmin so the transcript is whole; the echo of the
//     channel self-test (CONN-8) is recorded as store.AuthorSystem;
//   - deliveries and reads move outbound messages' states forward;
//   - standby items (another app owns the thread) are recorded and trigger
//     nothing.
//
// Every recorded item but a standby one is announced to the Notifier
// (NoticeMessageIn, after NoticeOpened if it opened an enquiry), and
// announced again whenever it is delivered again: notices of inbound items
// are at least once (see Notifier).
//
// Deliveries, reads and echoes of the service's own sends are not
// conversation items, so they are not recorded by key: they are applied
// idempotently instead (a watermark never moves a state back; a
// confirmation sets a state once).
//
// The events of one delivery are handled in order; it stops at the first
// store failure so that a visitor's messages keep their order on retry.
func (s *Service) HandleEvents(ctx context.Context, events []messenger.Event) error {
	// A delivery rarely holds more than a few Pages: a slice beats a map.
	type seen struct {
		pageID string
		ch     *store.Channel // nil: no channel holds the Page
	}
	var pages []seen
	for i := range events {
		ev := &events[i]
		var ch *store.Channel
		found := false
		for _, p := range pages {
			if p.pageID == ev.PageID {
				ch, found = p.ch, true
				break
			}
		}
		if !found {
			c, err := s.channelByPage(ctx, ev.PageID)
			switch {
			case err != nil:
				return fmt.Errorf("enquiry: finding the channel of Page %s: %w", ev.PageID, err)
			case c == nil:
				s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: webhook event for a Page no channel holds; ignored",
					slog.String("page", ev.PageID), slog.String("kind", string(ev.Kind)))
			default:
				if err := s.touch(ctx, c.ID); err != nil {
					return fmt.Errorf("enquiry: channel %s: recording the webhook's arrival: %w", c.ID, err)
				}
				ch = c
			}
			pages = append(pages, seen{ev.PageID, ch})
		}
		if ch == nil {
			continue
		}
		if err := s.handle(ctx, ch, ev); err != nil {
			return fmt.Errorf("enquiry: channel %s: %s event: %w", ch.ID, ev.Kind, err)
		}
	}
	return nil
}

// handle handles one event of a known channel.
func (s *Service) handle(ctx context.Context, ch *store.Channel, ev *messenger.Event) error {
	switch ev.Kind {
	case messenger.KindMessage:
		if ev.Message == nil {
			break
		}
		m := ev.Message
		return s.visitorItem(ctx, ch, ev, store.Message{
			Kind:        store.KindMessage,
			MID:         m.MID,
			Text:        m.Text,
			Attachments: attachments(m.Attachments),
			Payload:     m.QuickReplyPayload,
			ReplyTo:     m.ReplyTo,
		}, true)
	case messenger.KindPostback:
		if ev.Postback == nil {
			break
		}
		p := ev.Postback
		return s.visitorItem(ctx, ch, ev, store.Message{
			Kind:    store.KindPostback,
			MID:     p.MID,
			Text:    p.Title,
			Payload: p.Payload,
		}, true)
	case messenger.KindReaction:
		if ev.Reaction == nil {
			break
		}
		r := ev.Reaction
		emoji := ""
		if r.Action != "unreact" {
			emoji = r.Emoji
			if emoji == "" {
				emoji = r.Reaction
			}
		}
		return s.visitorItem(ctx, ch, ev, store.Message{
			Kind:     store.KindReaction,
			ReplyTo:  r.MID,
			Reaction: emoji,
		}, false)
	case messenger.KindEcho:
		if s.channels != nil {
			s.channels.ObserveEcho(*ev)
		}
		if ev.Message == nil {
			break
		}
		return s.echo(ctx, ch, ev)
	case messenger.KindDelivery:
		if ev.Delivery == nil {
			break
		}
		return s.watermark(ctx, ch, ev, ev.Delivery.Watermark, ev.Delivery.MIDs, store.StateDelivered)
	case messenger.KindRead:
		if ev.Read == nil {
			break
		}
		return s.watermark(ctx, ch, ev, ev.Read.Watermark, nil, store.StateRead)
	}
	// Referrals, opt-ins, handovers and kinds this SDK does not model are
	// kept on the visitor's conversation, so nothing received is lost.
	return s.visitorItem(ctx, ch, ev, store.Message{Kind: store.KindEvent, Payload: eventPayload(ev)}, false)
}

// eventPayload is what is kept of an item that is neither a message, a
// postback nor a reaction: its kind and reference. Opt-in tokens are
// credentials and are never kept.
func eventPayload(ev *messenger.Event) string {
	var b strings.Builder
	b.WriteString(string(ev.Kind))
	add := func(k, v string) {
		if v != "" {
			b.WriteString(" " + k + "=" + v)
		}
	}
	switch {
	case ev.Referral != nil:
		add("ref", ev.Referral.Ref)
		add("source", ev.Referral.Source)
		add("type", ev.Referral.Type)
		add("ad", ev.Referral.AdID)
	case ev.Optin != nil:
		add("ref", ev.Optin.Ref)
		add("type", ev.Optin.Type)
		add("payload", ev.Optin.Payload)
	case ev.Handover != nil:
		add("action", string(ev.Handover.Action))
		add("new_owner", ev.Handover.NewOwnerAppID)
		add("previous_owner", ev.Handover.PreviousOwnerAppID)
		add("requested_owner", ev.Handover.RequestedOwnerAppID)
	}
	return b.String()
}

func attachments(in []messenger.EventAttachment) []store.Attachment {
	if len(in) == 0 {
		return nil
	}
	out := make([]store.Attachment, len(in))
	for i, a := range in {
		out[i] = store.Attachment{Type: a.Type, URL: a.URL, Name: a.Title}
		if a.Type == "location" && a.URL == "" {
			out[i].URL = fmt.Sprintf("geo:%g,%g", a.Lat, a.Long)
		}
	}
	return out
}

// eventTime is when an item happened, for the conversation and the
// messaging window: Facebook's timestamp, never later than now (a sender's
// clock ahead of ours must not stretch the window), and now when absent.
func (s *Service) eventTime(ev *messenger.Event) time.Time {
	now := s.now()
	if ev.Time.IsZero() || ev.Time.After(now) {
		return now
	}
	return ev.Time
}

// visitorItem records an item from the visitor. opens says the item is a
// visitor's message (or postback): it opens an enquiry, moves the messaging
// window and may trigger auto-replies and dispatch, except on standby.
func (s *Service) visitorItem(ctx context.Context, ch *store.Channel, ev *messenger.Event, m store.Message, opens bool) error {
	if ev.SenderID == "" || ev.SenderID == ch.PageID {
		s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: webhook event without a visitor; ignored",
			slog.String("channel", ch.ID), slog.String("kind", string(ev.Kind)))
		return nil
	}
	m.ID = s.newID()
	m.Key = ev.Key()
	m.Direction = store.DirectionIn
	m.Author = store.AuthorVisitor
	m.State = store.StateReceived
	m.CreatedAt = s.eventTime(ev)
	trigger := opens && !ev.Standby
	res, err := s.store.RecordInbound(ctx, store.Inbound{
		ServiceID: ch.ServiceID,
		ChannelID: ch.ID,
		PSID:      ev.SenderID,
		Message:   m,
		EnquiryID: s.newID(),
		Open:      trigger,
		Window:    opens,
	})
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			// Delivering it again cannot help: keep the webhook answering 200.
			s.log.LogAttrs(ctx, slog.LevelError, "enquiry: webhook event refused by the store; dropped",
				slog.String("channel", ch.ID), slog.String("kind", string(ev.Kind)), slog.String("error", err.Error()))
			return nil
		}
		return err
	}
	if ev.Standby {
		return nil
	}
	s.announce(ctx, ch, &res, trigger)
	if !trigger || res.Enquiry.ID == "" || !res.Enquiry.Open() {
		return nil
	}
	if !res.Duplicate && res.Enquiry.Status != store.EnquiryQueued {
		return nil // a message joining an enquiry already offered or taken: nothing more to do
	}
	// What follows depends on the channel's status and settings: read them
	// afresh, not from the Page cache.
	fresh, err := s.store.Channel(ctx, ch.ID)
	if err != nil {
		return fmt.Errorf("reading the channel: %w", err)
	}
	return s.afterMessage(ctx, fresh, &res)
}

// announce tells the host of a recorded inbound item: the opening of its
// enquiry if the item opened one (only an item recorded with Open set,
// mayOpen, can have), then the item itself.
//
// Notices of inbound items are at least once: a duplicate (a redelivery of
// an item already recorded) is announced again, as if recorded now. It
// cannot be known whether the call that recorded it announced it: that
// call's answer may have been lost after the commit (the webhook answered
// non-2xx and this redelivery finds the item recorded), or its process may
// have stopped between the commit and the notice. The store keeps no trace
// of notices, and a memory in this process would neither survive a restart
// nor reach the other processes sharing the store; announcing every
// duplicate is the simplest rule that never misses one. Every announcement
// of an item carries the stored message, with the same ID, by which hosts
// dedupe.
func (s *Service) announce(ctx context.Context, ch *store.Channel, res *store.InboundResult, mayOpen bool) {
	opened := res.NewEnquiry
	if res.Duplicate && mayOpen && res.Enquiry.Open() {
		// Did this item open its enquiry? The store sets OpenedAt from the
		// opening item's time (see firstMessage). An enquiry since closed
		// needs no news of its opening.
		opened = res.Enquiry.OpenedAt.Equal(res.Message.CreatedAt)
	}
	if opened {
		s.notify(ctx, Notice{Kind: NoticeOpened, ServiceID: ch.ServiceID, ChannelID: ch.ID, Enquiry: enquiryCopy(&res.Enquiry)})
	}
	n := Notice{Kind: NoticeMessageIn, ServiceID: ch.ServiceID, ChannelID: ch.ID, Message: messageCopy(&res.Message)}
	if res.Enquiry.ID != "" {
		n.Enquiry = enquiryCopy(&res.Enquiry)
	}
	s.notify(ctx, n)
}

// afterMessage does what a visitor's message calls for, deciding from the
// stored state so that a redelivery finishes what a failed attempt left
// undone and never repeats what it did: the profile fetch, the welcome
// (recorded under an id derived from the visitor, so it goes out at most
// once) and dispatch of a queued enquiry.
//
// The profile is fetched when a message opens an enquiry (or a redelivery
// of that message arrives) and the stored visitor has no ProfileFetchedAt:
// a fetch that failed (a rate limit, a 5xx, a timeout) is tried again at
// the visitor's next enquiry, and a fetched profile is never fetched
// again. Messages joining an open enquiry never fetch: they are the hot
// path, and knowing whether the profile is missing would cost them a
// visitor read each. Opening an enquiry is rare and already costs several
// store calls; one visitor read more (none for a visitor recorded by this
// very message) buys the retry, and the read visitor serves the welcome
// and away auto-replies too. A retry sooner, within the same enquiry,
// would need memory of the failures in the process; the next enquiry is
// soon enough for names that only decorate auto-replies and the staff's
// view.
func (s *Service) afterMessage(ctx context.Context, ch *store.Channel, res *store.InboundResult) error {
	enq := &res.Enquiry
	var visitor *store.Visitor
	if openedBy(res) {
		if !res.NewVisitor {
			v, err := s.store.Visitor(ctx, ch.ID, enq.PSID)
			if err != nil {
				return fmt.Errorf("reading visitor: %w", err)
			}
			visitor = v
		}
		if visitor == nil || visitor.ProfileFetchedAt.IsZero() {
			visitor = s.fetchProfile(ctx, ch, enq.PSID, visitor)
		}
	}
	first, err := s.firstMessage(ctx, res)
	if err != nil {
		return err
	}
	if first {
		if err := s.autoReply(ctx, ch, enq, autoreply.Welcome, s.values(ch, visitor, nil),
			"welcome", ch.ID, enq.PSID); err != nil {
			return err
		}
	}
	if enq.Status == store.EnquiryQueued {
		return s.dispatch(ctx, ch, enq, visitor)
	}
	return nil
}

// firstMessage reports whether a recorded message is the visitor's first
// message to the channel, the welcome's trigger: the message that opened
// the visitor's first enquiry. That is not the same as the visitor's first
// recorded item: an opt-in, a referral, a standby message or a Page
// admin's message may have recorded the visitor before they wrote to the
// contact centre.
func (s *Service) firstMessage(ctx context.Context, res *store.InboundResult) (bool, error) {
	enq := &res.Enquiry
	switch {
	case !openedBy(res):
		return false, nil
	case res.NewVisitor:
		return true, nil // nothing was recorded of them before
	}
	older, err := s.store.VisitorEnquiries(ctx, enq.ChannelID, enq.PSID, store.ListOptions{Limit: 2})
	if err != nil {
		return false, fmt.Errorf("reading the visitor's enquiries: %w", err)
	}
	return len(older.Items) == 1 && older.Items[0].ID == enq.ID, nil
}

// openedBy reports whether a recorded visitor's message opened its
// enquiry: this call opened it, or the message is a redelivery of the one
// that did (the store sets OpenedAt from the opening message's time).
func openedBy(res *store.InboundResult) bool {
	if res.Duplicate {
		return res.Enquiry.OpenedAt.Equal(res.Message.CreatedAt)
	}
	return res.NewEnquiry
}

// fetchProfile fetches a visitor's names and picture and stores them. A
// failure is logged and never blocks recording: the visitor stays nameless
// until a later enquiry tries again (see afterMessage). It returns what is
// known of the visitor.
func (s *Service) fetchProfile(ctx context.Context, ch *store.Channel, psid string, known *store.Visitor) *store.Visitor {
	v := known
	if v == nil {
		v = &store.Visitor{ChannelID: ch.ID, PSID: psid}
	}
	if ch.Status == store.ChannelDisconnected || ch.Status == store.ChannelDeleted {
		return v
	}
	p, err := s.page(ch).Profile(ctx, psid)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: fetching a visitor's profile failed",
			slog.String("channel", ch.ID), slog.String("error", err.Error()))
		if errors.Is(err, messenger.ErrInvalidToken) {
			s.disconnect(context.WithoutCancel(ctx), ch, err)
		}
		return v
	}
	now := s.now()
	if err := s.store.SetProfile(ctx, ch.ID, psid, store.Profile{FirstName: p.FirstName, LastName: p.LastName, ProfilePic: p.ProfilePic}, now); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: storing a visitor's profile failed",
			slog.String("channel", ch.ID), slog.String("error", err.Error()))
	}
	v.FirstName, v.LastName, v.ProfilePic, v.ProfileFetchedAt = p.FirstName, p.LastName, p.ProfilePic, now
	return v
}

// values are the names an auto-reply may mention.
func (s *Service) values(ch *store.Channel, v *store.Visitor, staff *Staff) autoreply.Values {
	vals := autoreply.Values{PageName: ch.PageName}
	if v != nil {
		vals.VisitorFirstName = v.FirstName
	}
	if staff != nil {
		vals.StaffFirstName, vals.StaffLastName = staff.FirstName, staff.LastName
	}
	return vals
}

// autoReply sends one auto-reply on an enquiry, at most once per trigger:
// it is recorded under an id derived from idParts before it is sent, and
// a store refusing that id as a duplicate means it was already handled.
// Paused and disconnected channels send none (CHAN-6, CONN-7); neither does
// a visitor outside the 24-hour window (auto-replies never use
// HUMAN_AGENT). A failed send is recorded, logged and notified, not
// returned; only a store failure is.
func (s *Service) autoReply(ctx context.Context, ch *store.Channel, enq *store.Enquiry, kind autoreply.Kind, vals autoreply.Values, idParts ...string) error {
	if ch.Status != store.ChannelActive {
		return nil
	}
	text, on, err := autoreply.Render(ch.AutoReply, kind, vals)
	if !on {
		return nil
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: auto-reply not sent: its text is not valid",
			slog.String("channel", ch.ID), slog.String("kind", string(kind)), slog.String("error", err.Error()))
		return nil
	}
	typ, _, err := judgeWindow(ch, enq.LastInboundAt, s.now(), false)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelInfo, "enquiry: auto-reply not sent: outside the 24-hour window",
			slog.String("channel", ch.ID), slog.String("enquiry", enq.ID), slog.String("kind", string(kind)))
		return nil
	}
	_, err = s.send(ctx, outbound{
		ch:  ch,
		enq: enq,
		msg: store.Message{ID: derivedID(append([]string{"autoreply"}, idParts...)...), Author: store.AuthorAutoReply,
			Text: text, Payload: AutoReplyPayloadPrefix + string(kind)},
		out: messenger.OutgoingMessage{Text: text, Type: typ},
	})
	var se *SendError
	var ce *ChannelError
	var we *WindowError
	switch {
	case err == nil, errors.Is(err, errClaimed), errors.As(err, &se), errors.As(err, &ce), errors.As(err, &we):
		return nil
	default:
		return err
	}
}

// SelfTestPayload is the Payload of the channel self-test's message
// (CONN-8) as recorded from its echo, with store.AuthorSystem.
const SelfTestPayload = "selftest"

// AutoReplyPayloadPrefix starts the Payload of every recorded auto-reply,
// followed by its kind: "autoreply:welcome", "autoreply:away",
// "autoreply:close".
const AutoReplyPayloadPrefix = "autoreply:"

// echo handles a message the Page sent, echoed back.
func (s *Service) echo(ctx context.Context, ch *store.Channel, ev *messenger.Event) error {
	m := ev.Message
	if m.MID != "" {
		stored, err := s.store.MessageByMID(ctx, ch.ID, m.MID)
		switch {
		case err == nil && stored.Direction == store.DirectionOut:
			if stored.State == store.StatePending || stored.State == store.StateUncertain {
				if err := s.store.SetState(ctx, stored.ID, store.StateSent, m.MID, ""); err != nil {
					return fmt.Errorf("confirming message %s: %w", stored.ID, err)
				}
			}
			return nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("looking up an echo's message: %w", err)
		}
	}
	selfTest := channel.IsSelfTest(*ev)
	if id, ok := strings.CutPrefix(m.Metadata, metadataPrefix); ok && id != "" && !selfTest {
		// Ours, echoed before the send call returned its mid (or the send
		// was recorded as uncertain): the echo proves it went out.
		err := s.store.SetState(ctx, id, store.StateSent, m.MID, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("confirming message %s: %w", id, err)
		}
	}
	// Someone else's: a Page admin in Facebook's Page inbox or another app;
	// or the channel self-test's message (CONN-8), which reached the
	// visitor too but was written by PageDesk, not by a person.
	psid := ev.RecipientID
	if psid == "" {
		return nil
	}
	author, payload := store.AuthorPageAdmin, ""
	if selfTest {
		author, payload = store.AuthorSystem, SelfTestPayload
	}
	res, err := s.store.RecordInbound(ctx, store.Inbound{
		ServiceID: ch.ServiceID,
		ChannelID: ch.ID,
		PSID:      psid,
		Message: store.Message{
			ID:          s.newID(),
			Key:         ev.Key(),
			Kind:        store.KindMessage,
			Direction:   store.DirectionIn,
			Author:      author,
			MID:         m.MID,
			Text:        m.Text,
			Attachments: attachments(m.Attachments),
			Payload:     payload,
			State:       store.StateSent,
			CreatedAt:   s.eventTime(ev),
		},
	})
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			s.log.LogAttrs(ctx, slog.LevelError, "enquiry: echo refused by the store; dropped",
				slog.String("channel", ch.ID), slog.String("error", err.Error()))
			return nil
		}
		return err
	}
	if !ev.Standby {
		s.announce(ctx, ch, &res, false)
	}
	return nil
}

// watermark records a delivery or read: every outbound message to the
// visitor up to the watermark moves forward to state (never back). A
// delivery that names mids without a watermark moves those messages.
func (s *Service) watermark(ctx context.Context, ch *store.Channel, ev *messenger.Event, wm time.Time, mids []string, state store.DeliveryState) error {
	psid := ev.SenderID
	if psid == "" {
		return nil
	}
	n := 0
	if !wm.IsZero() {
		// Facebook's watermark counts milliseconds while our sends are
		// stamped to the nanosecond: the watermark covers its whole
		// millisecond.
		upTo := wm.Truncate(time.Millisecond).Add(time.Millisecond - time.Nanosecond)
		c, err := s.store.MarkWatermark(ctx, ch.ID, psid, upTo, state)
		if err != nil {
			return err
		}
		n = c
	} else {
		for _, mid := range mids {
			m, err := s.store.MessageByMID(ctx, ch.ID, mid)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if m.Direction != store.DirectionOut || !(m.State == store.StatePending || m.State == store.StateSent || m.State == store.StateUncertain) {
				continue
			}
			if err := s.store.SetState(ctx, m.ID, state, mid, ""); err != nil {
				return err
			}
			n++
		}
	}
	if n > 0 && !ev.Standby {
		s.notify(ctx, Notice{Kind: NoticeDelivery, ServiceID: ch.ServiceID, ChannelID: ch.ID,
			PSID: psid, State: state, Watermark: wm, Count: n})
	}
	return nil
}
