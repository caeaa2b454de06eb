package enquiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/store"
)

// Dispatch offers an open enquiry that nobody has taken to staff again, by
// its channel's dispatch settings (CHAN-2). The service dispatches each new
// enquiry by itself, and again at each message of the visitor while it is
// still queued; a host calls Dispatch when staff become available or a
// paused channel is resumed. It returns the enquiry as stored.
func (s *Service) Dispatch(ctx context.Context, enquiryID string) (*store.Enquiry, error) {
	enq, err := s.enquiry(ctx, enquiryID)
	if err != nil {
		return nil, err
	}
	switch enq.Status {
	case store.EnquiryClosed:
		return nil, closedErr(enq.ID)
	case store.EnquiryTaken:
		return nil, &TakenError{EnquiryID: enq.ID, StaffID: enq.StaffID}
	}
	ch, err := s.channel(ctx, enq.ChannelID)
	if err != nil {
		return nil, err
	}
	if err := s.dispatch(ctx, ch, enq, nil); err != nil {
		return nil, err
	}
	return enq, nil
}

// dispatch offers a queued (or offered) enquiry by the channel's settings.
// With nobody available it stays queued and the away auto-reply goes out,
// once per enquiry. Paused and disconnected channels offer nothing. On
// return enq is the enquiry as stored.
func (s *Service) dispatch(ctx context.Context, ch *store.Channel, enq *store.Enquiry, visitor *store.Visitor) error {
	if ch.Status != store.ChannelActive {
		return nil
	}
	d := ch.Dispatch
	var (
		staff []Staff
		err   error
	)
	if len(d.StaffIDs) > 0 {
		staff, err = s.staff.Lookup(ctx, ch.ServiceID, d.StaffIDs)
	} else {
		staff, err = s.staff.Group(ctx, ch.ServiceID, d.Group)
	}
	if err != nil {
		return fmt.Errorf("staff directory: %w", err)
	}
	var offer []string
	switch d.Mode {
	case store.DispatchRoundRobin:
		if ids := available(staff); len(ids) > 0 {
			n, err := s.store.NextTurn(ctx, ch.ID)
			if err != nil {
				return fmt.Errorf("round-robin turn: %w", err)
			}
			if p, ok := pickRoundRobin(staff, n); ok {
				offer = []string{p.ID}
			}
		}
	case store.DispatchLeastBusy:
		best := leastBusy(staff)
		if len(best) > 1 {
			n, err := s.store.NextTurn(ctx, ch.ID)
			if err != nil {
				return fmt.Errorf("round-robin turn: %w", err)
			}
			best = best[int(uint64(n)%uint64(len(best))):][:1]
		}
		if len(best) == 1 {
			offer = []string{best[0].ID}
		}
	default: // store.DispatchAll, and any mode this version does not know
		if d.Mode != store.DispatchAll {
			s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: unknown dispatch mode; offering to all",
				slog.String("channel", ch.ID), slog.String("mode", string(d.Mode)))
		}
		offer = available(staff)
	}

	if len(offer) == 0 {
		if !enq.AwaySent {
			if visitor == nil {
				v, err := s.store.Visitor(ctx, ch.ID, enq.PSID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("reading visitor: %w", err)
				}
				visitor = v
			}
			if err := s.autoReply(ctx, ch, enq, autoreply.Away, s.values(ch, visitor, nil), "away", enq.ID); err != nil {
				return err
			}
			if _, err := s.store.MarkAwaySent(ctx, enq.ID); err != nil {
				return fmt.Errorf("marking the away reply sent: %w", err)
			}
			enq.AwaySent = true
			s.notify(ctx, Notice{Kind: NoticeQueued, ServiceID: enq.ServiceID, ChannelID: ch.ID, Enquiry: enquiryCopy(enq)})
		}
		return nil
	}
	offered, err := s.store.Offer(ctx, enq.ID, offer)
	switch {
	case errors.Is(err, store.ErrAlreadyTaken), errors.Is(err, store.ErrClosed):
		return nil // someone was faster; nothing to offer
	case err != nil:
		return fmt.Errorf("offering: %w", err)
	}
	*enq = *offered
	s.notify(ctx, Notice{Kind: NoticeOffered, ServiceID: enq.ServiceID, ChannelID: ch.ID,
		Enquiry: enquiryCopy(enq), StaffIDs: append([]string(nil), offer...)})
	return nil
}
