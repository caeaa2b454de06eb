package channel

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"time"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// WebhookFields are the Page webhook fields a channel is subscribed to
// (CONN-4): what the enquiry service handles.
var WebhookFields = []string{
	"messages",
	"messaging_postbacks",
	"message_deliveries",
	"message_reads",
	"message_echoes",
	"message_reactions",
	"messaging_handovers",
	"standby",
}

// ConnectRequest asks to connect one of the admin's Pages as a channel of
// the login's service.
type ConnectRequest struct {
	// Login is the admin's finished Facebook Login (Exchange). Required.
	Login *Login
	// PageID is the Page to connect, one of Pages. Required.
	PageID string
	// Settings of a new channel. Nil means the Page's name (cut to
	// MaxNameChars), every staff member offered at once, and the default
	// auto-replies, all on, in Config.Language. A channel that is
	// reconnected keeps its own settings and ignores these.
	Settings *Settings
}

// Connect connects a Page as a channel (CONN-2..6):
//
//   - every permission is granted (CONN-3; a *PermissionError names every
//     one that is not);
//   - the Page is one the admin manages (CONN-5; ErrNotAPage for a
//     personal profile or any other id) and their role allows messaging
//     (ErrNoMessagingTask);
//   - the Page is not connected to another service (CONN-6;
//     ErrPageAlreadyConnected, enforced by the store so that of two admins
//     racing only one wins, and never saying which service holds it);
//   - the app is subscribed to the Page's WebhookFields (CONN-4).
//
// Connecting a Page that is already a channel of the same service restores
// that channel: it gets the new token, a disconnected one becomes active
// again (a paused one stays paused), and its settings and history are
// kept (CONN-7).
func (s *Service) Connect(ctx context.Context, req ConnectRequest) (*store.Channel, error) {
	if err := req.Login.check(); err != nil {
		return nil, err
	}
	if req.PageID == "" {
		return nil, &ValidationError{Field: "page id", Problem: "is required"}
	}
	if req.Settings != nil {
		if err := req.Settings.Validate(); err != nil {
			return nil, err
		}
	}
	if err := s.CheckPermissions(ctx, req.Login); err != nil {
		return nil, err
	}
	acct, err := s.account(ctx, req.Login, req.PageID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(acct.Tasks, MessagingTask) {
		return nil, fmt.Errorf("%w: on Page %s you have the tasks %v; ask a Page admin to give you the messaging task", ErrNoMessagingTask, acct.ID, acct.Tasks)
	}
	if acct.AccessToken == "" {
		return nil, fmt.Errorf("channel: Facebook gave no access token for Page %s; log in again", acct.ID)
	}
	serviceID := req.Login.ServiceID

	existing, err := s.store.ChannelByPage(ctx, acct.ID)
	switch {
	case err == nil && existing.ServiceID != serviceID:
		return nil, ErrPageAlreadyConnected
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}

	// Subscribe before storing: a Page is never stored as connected without
	// its webhooks. A refused connection never unsubscribes: the
	// subscription is the app's, shared with the channel that holds the Page.
	if err := s.PageClient(&store.Channel{PageID: acct.ID, PageToken: acct.AccessToken}).Subscribe(ctx, WebhookFields); err != nil {
		return nil, fmt.Errorf("channel: subscribing the app to Page %s's webhooks: %w", acct.ID, err)
	}

	if existing != nil {
		return s.restore(ctx, existing.ID, acct, req.Login.UserID)
	}

	now := s.now()
	set := Settings{Name: defaultName(acct.Name, acct.ID), AutoReply: autoreply.DefaultSettings(s.lang)}
	if req.Settings != nil {
		set = *req.Settings
	}
	ch := &store.Channel{
		ID:        s.newID(),
		ServiceID: serviceID,
		PageID:    acct.ID,
		PageName:  acct.Name,
		Status:    store.ChannelActive,
		PageToken: acct.AccessToken,
		CreatedAt: now,
		UpdatedAt: now,
	}
	set.apply(ch)
	if err := s.store.CreateChannel(ctx, ch); err != nil {
		if errors.Is(err, store.ErrPageTaken) {
			// Lost a race. If the winner is this service's, it is the same
			// Page connected twice at once: restore the winner.
			if w, werr := s.store.ChannelByPage(ctx, acct.ID); werr == nil && w.ServiceID == serviceID {
				return s.restore(ctx, w.ID, acct, req.Login.UserID)
			}
			return nil, ErrPageAlreadyConnected
		}
		return nil, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "channel: page connected", slog.String("service", serviceID),
		slog.String("channel", ch.ID), slog.String("page", ch.PageID))
	s.notify(ctx, Notice{Kind: NoticeConnected, ServiceID: serviceID, ChannelID: ch.ID, PageID: ch.PageID, UserID: req.Login.UserID})
	return ch, nil
}

// maxRetries bounds the read-modify-write loops that race with other writers.
const maxRetries = 5

// restore gives an existing channel its new token and, if disconnected,
// makes it active again, keeping its settings.
func (s *Service) restore(ctx context.Context, channelID string, acct messenger.Account, userID string) (*store.Channel, error) {
	for range maxRetries {
		ch, err := s.store.Channel(ctx, channelID)
		if err != nil {
			return nil, err
		}
		if ch.Status == store.ChannelDeleted {
			return nil, notFound(channelID)
		}
		ch.PageToken = acct.AccessToken
		ch.PageName = acct.Name
		if ch.Status == store.ChannelDisconnected {
			ch.Status = store.ChannelActive
		}
		ch.DisconnectReason = ""
		ch.DisconnectedAt = time.Time{}
		ch.UpdatedAt = s.now()
		err = s.store.UpdateChannel(ctx, ch)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "channel: page reconnected", slog.String("service", ch.ServiceID),
			slog.String("channel", ch.ID), slog.String("page", ch.PageID))
		s.notify(ctx, Notice{Kind: NoticeReconnected, ServiceID: ch.ServiceID, ChannelID: ch.ID, PageID: ch.PageID, UserID: userID})
		return ch, nil
	}
	return nil, fmt.Errorf("channel %s: restoring: %w", channelID, store.ErrConflict)
}

// List lists a service's channels that are not deleted, oldest first,
// fetching from the store page by page as the caller ranges (CHAN-6).
func (s *Service) List(ctx context.Context, serviceID string) iter.Seq2[store.Channel, error] {
	return store.All(ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Channel], error) {
		return s.store.ListChannels(ctx, serviceID, o)
	})
}

// Get returns a channel of a service. A deleted channel, or one of another
// service, is not found (ErrNotFound).
func (s *Service) Get(ctx context.Context, serviceID, channelID string) (*store.Channel, error) {
	return s.channel(ctx, serviceID, channelID)
}

// Update replaces a channel's settings (CHAN-1..5) if the channel is still
// at version, the Version the admin's form was read at; a stale version
// gets ErrConflict and nothing is written. Every setting is validated
// first (ErrInvalid, naming the field, the limit and the length).
func (s *Service) Update(ctx context.Context, serviceID, channelID string, version int64, set Settings) (*store.Channel, error) {
	if err := set.Validate(); err != nil {
		return nil, err
	}
	ch, err := s.channel(ctx, serviceID, channelID)
	if err != nil {
		return nil, err
	}
	if ch.Version != version {
		return nil, fmt.Errorf("channel %s is at version %d, the edit was of version %d: %w", channelID, ch.Version, version, ErrConflict)
	}
	set.apply(ch)
	ch.UpdatedAt = s.now()
	if err := s.store.UpdateChannel(ctx, ch); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("channel %s changed while it was being updated: %w", channelID, err)
		}
		return nil, err
	}
	s.notify(ctx, Notice{Kind: NoticeUpdated, ServiceID: serviceID, ChannelID: ch.ID, PageID: ch.PageID})
	return ch, nil
}

// Pause pauses an active channel (CHAN-6). A paused channel's inbound
// messages are still recorded (nothing is lost) but it opens no offers to
// staff and sends nothing (no replies, no auto-replies) until resumed.
// Pausing a paused channel does nothing; a disconnected channel cannot be
// paused (a *StatusError matching ErrDisconnected).
func (s *Service) Pause(ctx context.Context, serviceID, channelID string) (*store.Channel, error) {
	return s.setStatus(ctx, serviceID, channelID, store.ChannelActive, store.ChannelPaused, NoticePaused)
}

// Resume makes a paused channel active again. The host then calls the
// enquiry service's Dispatch for the channel's queued enquiries. Resuming
// an active channel does nothing; a disconnected channel needs connecting
// again instead (a *StatusError matching ErrDisconnected).
func (s *Service) Resume(ctx context.Context, serviceID, channelID string) (*store.Channel, error) {
	return s.setStatus(ctx, serviceID, channelID, store.ChannelPaused, store.ChannelActive, NoticeResumed)
}

// setStatus moves a channel from one status to another with a versioned
// write, so that a concurrent disconnection is never overwritten.
func (s *Service) setStatus(ctx context.Context, serviceID, channelID string, from, to store.ChannelStatus, kind NoticeKind) (*store.Channel, error) {
	for range maxRetries {
		ch, err := s.channel(ctx, serviceID, channelID)
		if err != nil {
			return nil, err
		}
		switch ch.Status {
		case to:
			return ch, nil
		case from:
		default:
			return nil, &StatusError{ChannelID: ch.ID, Status: ch.Status, Reason: ch.DisconnectReason}
		}
		ch.Status = to
		ch.UpdatedAt = s.now()
		err = s.store.UpdateChannel(ctx, ch)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "channel: status changed", slog.String("channel", ch.ID), slog.String("status", string(to)))
		s.notify(ctx, Notice{Kind: kind, ServiceID: serviceID, ChannelID: ch.ID, PageID: ch.PageID})
		return ch, nil
	}
	return nil, fmt.Errorf("channel %s kept changing: %w", channelID, store.ErrConflict)
}

// Delete deletes a channel (CHAN-6, CONN-4): the app is unsubscribed from
// the Page's webhooks, the token is forgotten, the history (enquiries and
// messages) is kept, and the Page is free to be connected again, by any
// service. A failure to unsubscribe (a token already revoked, Facebook
// unreachable) is logged and does not stop the deletion: the webhooks of a
// Page with no channel are ignored.
func (s *Service) Delete(ctx context.Context, serviceID, channelID string) error {
	ch, err := s.channel(ctx, serviceID, channelID)
	if err != nil {
		return err
	}
	if ch.PageToken != "" {
		if err := s.PageClient(ch).Unsubscribe(ctx); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "channel: unsubscribing on delete failed", slog.String("channel", ch.ID),
				slog.String("page", ch.PageID), slog.String("error", err.Error()))
		}
	}
	if _, err := s.store.SetChannelStatus(ctx, ch.ID, store.ChannelDeleted, "", s.now()); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "channel: deleted", slog.String("channel", ch.ID), slog.String("page", ch.PageID))
	s.notify(ctx, Notice{Kind: NoticeDeleted, ServiceID: serviceID, ChannelID: ch.ID, PageID: ch.PageID})
	return nil
}
