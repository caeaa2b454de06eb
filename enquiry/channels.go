package enquiry

import (
	"context"
	"log/slog"
	"sync"

	"golang.org/x/oauth2"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// Channels is what the enquiry service needs of package channel; a
// *channel.Service satisfies it.
type Channels interface {
	// ReportGraphError tells package channel that a Graph call through a
	// channel failed with err. When err means the connection lost its
	// rights on the Page (CONN-7) the channel is disconnected, with its
	// reason and time recorded, and the host notified. disconnected says
	// whether this call disconnected it (false if it already was), so
	// that the enquiry service announces it once.
	ReportGraphError(ctx context.Context, channelID string, err error) (disconnected bool, reportErr error)
	// ObserveEcho hands package channel an echo webhook event, so that a
	// running self-test (CONN-8) sees its test message come back.
	ObserveEcho(ev messenger.Event)
}

var _ Channels = (*channel.Service)(nil)

// page returns the Graph handle for a channel's Page.
func (s *Service) page(ch *store.Channel) *messenger.Page {
	return s.graph.Page(ch.PageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: ch.PageToken}))
}

// disconnect disconnects a channel whose Graph call failed with cause, a
// sign of lost rights (CONN-7), and returns the reason in words a staff
// member can act on. Every send failing on a channel whose token was revoked
// ends here, often at once; only the call that moves the channel to
// disconnected records it and tells the host through the Notifier, so the
// host hears of it once and the first reason and time stay. A failure to
// record the disconnection is logged: the next send finds the same error.
func (s *Service) disconnect(ctx context.Context, ch *store.Channel, cause error) string {
	reason := disconnectReason(cause)
	moved, err := s.markDisconnected(ctx, ch.ID, cause, reason)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "enquiry: disconnecting the channel failed",
			slog.String("channel", ch.ID), slog.String("error", err.Error()))
	}
	ch.Status, ch.DisconnectReason = store.ChannelDisconnected, reason
	s.forgetPage(ch.PageID)
	if moved {
		s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: channel disconnected", slog.String("channel", ch.ID), slog.String("reason", reason))
		s.notify(ctx, Notice{Kind: NoticeChannelDisconnected, ServiceID: ch.ServiceID, ChannelID: ch.ID, Reason: reason})
	}
	return reason
}

// markDisconnected disconnects a channel unless it already is disconnected
// or deleted, and reports whether this call did. Calls of this process for
// one channel take turns, so that of concurrent failed sends one moves the
// channel and the others see it moved. With Config.Channels, package
// channel's Service writes it (and notifies its own Notifier); without,
// channel.Disconnect does, a compare-and-set on the channel's version, so
// that the same holds across processes.
func (s *Service) markDisconnected(ctx context.Context, id string, cause error, reason string) (bool, error) {
	v, _ := s.disconnecting.LoadOrStore(id, new(sync.Mutex))
	mu := v.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	if s.channels == nil {
		_, moved, err := channel.Disconnect(ctx, s.store, id, reason, s.now())
		return moved, err
	}
	cur, err := s.store.Channel(ctx, id)
	if err != nil {
		return false, err
	}
	if cur.Status == store.ChannelDisconnected || cur.Status == store.ChannelDeleted {
		return false, nil
	}
	return s.channels.ReportGraphError(ctx, id, cause)
}
