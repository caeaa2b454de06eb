package enquiry

import (
	"context"
	"log/slog"

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
	// reason and time recorded, and the host notified.
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

// disconnect disconnects a channel whose Graph call failed with err, a
// sign of lost rights (CONN-7), and returns the reason in words a staff
// member can act on. The host hears of it through the Notifier. A failure
// to record the disconnection is logged: the next send finds the same error.
func (s *Service) disconnect(ctx context.Context, ch *store.Channel, cause error) string {
	reason := disconnectReason(cause)
	var err error
	if s.channels != nil {
		_, err = s.channels.ReportGraphError(ctx, ch.ID, cause)
	} else {
		_, err = s.store.SetChannelStatus(ctx, ch.ID, store.ChannelDisconnected, reason, s.now())
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "enquiry: disconnecting the channel failed",
			slog.String("channel", ch.ID), slog.String("error", err.Error()))
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: channel disconnected", slog.String("channel", ch.ID), slog.String("reason", reason))
	ch.Status, ch.DisconnectReason = store.ChannelDisconnected, reason
	s.forgetPage(ch.PageID)
	s.notify(ctx, Notice{Kind: NoticeChannelDisconnected, ServiceID: ch.ServiceID, ChannelID: ch.ID, Reason: reason})
	return reason
}
