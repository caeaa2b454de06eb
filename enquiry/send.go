package enquiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// metadataPrefix marks the metadata of every message the service sends, so
// that its echo (which carries the metadata back) confirms the recorded
// message even before the send call returned a mid.
const metadataPrefix = "pagedesk:"

// errClaimed: an auto-reply's derived id is already recorded, so this
// trigger was already processed (by this process or another): nothing is
// sent again.
var errClaimed = errors.New("enquiry: auto-reply already recorded")

// checkText enforces RULE-1 before any Graph call.
func checkText(text string) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("%w: the text is empty", ErrEmpty)
	}
	if !utf8.ValidString(text) {
		return fmt.Errorf("%w: the text is not valid UTF-8", messenger.ErrInvalidMessage)
	}
	if len(text) <= messenger.MaxTextChars { // a character takes at least one byte
		return nil
	}
	if n := utf8.RuneCountInString(text); n > messenger.MaxTextChars {
		return &TooLongError{Chars: n, Limit: messenger.MaxTextChars}
	}
	return nil
}

// judgeWindow decides how a message may go to a visitor whose last message
// was at last (RULE-5): as a RESPONSE within 24 hours; for human staff on a
// channel that opted in, with the HUMAN_AGENT tag within 7 days; otherwise
// not at all. Elapsed time is judged strictly: at exactly 24 hours the
// window is closed.
func judgeWindow(ch *store.Channel, last, now time.Time, human bool) (messenger.MessagingType, messenger.Tag, error) {
	if !last.IsZero() {
		elapsed := now.Sub(last)
		if elapsed < Window {
			return messenger.Response, "", nil
		}
		if human && ch.HumanAgent && elapsed < HumanAgentWindow {
			return messenger.MessageTag, messenger.HumanAgent, nil
		}
	}
	w := Window
	if human && ch.HumanAgent {
		w = HumanAgentWindow
	}
	return "", "", &WindowError{LastInboundAt: last, Window: w, At: now}
}

// outbound is one message to record and send.
type outbound struct {
	ch  *store.Channel
	enq *store.Enquiry
	msg store.Message             // ID, Author, StaffID, Text, Attachments, Payload set by the caller
	out messenger.OutgoingMessage // Text or Attachment, Type and Tag set by the caller
	up  *messenger.Upload         // a file to upload first; its id becomes out.Attachment.ID
}

// send records a message as pending, sends it, and records what became of
// it. A store failure before the Graph call is returned as is (nothing was
// sent; errClaimed for an already recorded derived id). After the Graph
// call, a store failure is only logged: the echo of the message confirms it
// later, and returning an error would invite sending it twice.
//
// The error is nil on success, or a *SendError (failed or uncertain), a
// *WindowError (Facebook's 10/2018278) or a *ChannelError (the send
// disconnected the channel). The returned message is nil only when nothing
// was recorded.
func (s *Service) send(ctx context.Context, o outbound) (*store.Message, error) {
	m := o.msg
	m.EnquiryID = o.enq.ID
	m.ChannelID = o.ch.ID
	m.PSID = o.enq.PSID
	m.Kind = store.KindMessage
	m.Direction = store.DirectionOut
	m.State = store.StatePending
	m.CreatedAt = s.now()
	if err := s.store.AppendOutbound(ctx, &m); err != nil {
		switch {
		case errors.Is(err, store.ErrDuplicate) && m.Author == store.AuthorAutoReply:
			return nil, errClaimed
		case !errors.Is(err, store.ErrDuplicate) && m.Author != store.AuthorAutoReply:
			s.neverSent(context.WithoutCancel(ctx), &m, err)
		}
		return nil, fmt.Errorf("enquiry: recording message on enquiry %s: %w", o.enq.ID, err)
	}

	page := s.page(o.ch)
	out := o.out
	out.Recipient = o.enq.PSID
	out.Metadata = metadataPrefix + m.ID
	var sendErr error
	uploadFailed := false
	if o.up != nil {
		id, err := page.Upload(ctx, *o.up)
		if err != nil {
			sendErr, uploadFailed = err, true
		} else {
			out.Attachment.ID = id
		}
	}
	var res messenger.SendResult
	if sendErr == nil {
		res, sendErr = page.Send(ctx, out)
	}
	// What became of the send is recorded even if the caller's ctx ended
	// meanwhile: the send happened (or not) whatever the caller does now.
	rctx := context.WithoutCancel(ctx)
	if sendErr == nil {
		m.State, m.MID = store.StateSent, res.MessageID
		s.setState(rctx, &m)
		s.notify(ctx, Notice{Kind: NoticeMessageOut, ServiceID: o.enq.ServiceID, ChannelID: o.ch.ID,
			Enquiry: enquiryCopy(o.enq), Message: messageCopy(&m), StaffID: m.StaffID})
		return &m, nil
	}

	m.Error = sendErr.Error()
	var err error
	switch {
	case errors.Is(sendErr, messenger.ErrMaybeDelivered) && !uploadFailed:
		// (A failed upload never reaches the visitor, whatever its fate.)
		m.State = store.StateUncertain
		err = &SendError{MessageID: m.ID, Uncertain: true, Err: sendErr}
	case errors.Is(sendErr, messenger.ErrOutsideWindow):
		m.State = store.StateFailed
		w := Window
		if o.out.Tag == messenger.HumanAgent {
			w = HumanAgentWindow // the window this send was judged by
		}
		err = &WindowError{LastInboundAt: o.enq.LastInboundAt, Window: w, At: m.CreatedAt, Err: sendErr}
	case lostRights(sendErr):
		m.State = store.StateFailed
		reason := s.disconnect(rctx, o.ch, sendErr)
		err = &ChannelError{ChannelID: o.ch.ID, Status: store.ChannelDisconnected, Reason: reason, Err: sendErr}
	default:
		m.State = store.StateFailed
		err = &SendError{MessageID: m.ID, Err: sendErr}
	}
	s.setState(rctx, &m)
	if m.State == store.StateUncertain && s.echoed(rctx, &m) {
		// Its echo was handled before the answer was lost: it went out.
		s.notify(ctx, Notice{Kind: NoticeMessageOut, ServiceID: o.enq.ServiceID, ChannelID: o.ch.ID,
			Enquiry: enquiryCopy(o.enq), Message: messageCopy(&m), StaffID: m.StaffID})
		return &m, nil
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: send failed",
		slog.String("enquiry", o.enq.ID), slog.String("message", m.ID), slog.String("channel", o.ch.ID),
		slog.String("state", string(m.State)), slog.String("error", m.Error))
	s.notify(ctx, Notice{Kind: NoticeMessageOut, ServiceID: o.enq.ServiceID, ChannelID: o.ch.ID,
		Enquiry: enquiryCopy(o.enq), Message: messageCopy(&m), StaffID: m.StaffID})
	return &m, err
}

// echoed reports whether the echo of a send just recorded as uncertain was
// handled before that write, and if so records the message as sent again
// and updates m. Facebook's echo may come before the send's answer; when
// that answer is then lost, the uncertain write would take back the echo's
// proof. The echo recorded the mid, which the uncertain write kept (an
// empty mid keeps the stored one), so a stored mid means the echo came.
// Reading after the write leaves no gap: an echo handled after the read
// records the message as sent itself. This runs only for uncertain sends,
// so reading the enquiry's conversation back is affordable.
func (s *Service) echoed(ctx context.Context, m *store.Message) bool {
	for stored, err := range s.Messages(ctx, m.EnquiryID) {
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: reading back an uncertain send failed",
				slog.String("message", m.ID), slog.String("error", err.Error()))
			return false
		}
		if stored.ID != m.ID {
			continue
		}
		if stored.MID == "" {
			return false
		}
		m.MID, m.Error = stored.MID, ""
		m.State = stored.State
		if stored.State == store.StateUncertain {
			m.State = store.StateSent
			s.setState(ctx, m)
		}
		return true
	}
	return false
}

// neverSent records as failed a staff message whose recording failed: the
// write may have committed though its answer was lost, and the message,
// which is not sent now and never will be (the staff member sends their
// text again as a new message), must not stay pending for ever. If nothing
// was written there is nothing to mark. Only a new id is marked: an
// auto-reply's id is derived from its trigger, so the record under it may
// be another attempt's, which may be sending it right now; and a duplicate
// id is another message's.
func (s *Service) neverSent(ctx context.Context, m *store.Message, cause error) {
	err := s.store.SetState(ctx, m.ID, store.StateFailed, "", "not sent: recording it failed: "+cause.Error())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: marking a message whose recording failed",
			slog.String("message", m.ID), slog.String("error", err.Error()))
	}
}

// setState records the fate of a send; a failure is logged (see send).
func (s *Service) setState(ctx context.Context, m *store.Message) {
	if err := s.store.SetState(ctx, m.ID, m.State, m.MID, m.Error); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "enquiry: recording the fate of a send failed; its echo will confirm it",
			slog.String("message", m.ID), slog.String("state", string(m.State)), slog.String("error", err.Error()))
	}
}

// lostRights reports whether a Graph error means the connection lost its
// rights on the Page (CONN-7).
func lostRights(err error) bool {
	return errors.Is(err, messenger.ErrInvalidToken) || errors.Is(err, messenger.ErrPermission)
}

// disconnectReason words why a Graph error disconnects a channel.
func disconnectReason(err error) string {
	code := ""
	var ge *messenger.Error
	if errors.As(err, &ge) {
		code = fmt.Sprintf(" (Facebook error %d", ge.Code)
		if ge.Subcode != 0 {
			code += fmt.Sprintf("/%d", ge.Subcode)
		}
		code += ")"
	}
	if errors.Is(err, messenger.ErrInvalidToken) {
		return "the Page access token is no longer valid" + code + ": an admin must connect the Page again"
	}
	return "the app lost its permission on the Page" + code + ": an admin must connect the Page again"
}
