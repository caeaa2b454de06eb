package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pagedesk/pagedesk/store"
)

func notFound(what, id string) error {
	return fmt.Errorf("sqlstore: %s %s: %w", what, id, store.ErrNotFound)
}

func validChannelStatus(st store.ChannelStatus) bool {
	switch st {
	case store.ChannelActive, store.ChannelPaused, store.ChannelDisconnected, store.ChannelDeleted:
		return true
	}
	return false
}

// CreateChannel stores a new channel with Version 1 and status active.
// CONN-6 is kept by a unique index on page_id over channels that are not
// deleted.
func (s *Store) CreateChannel(ctx context.Context, c *store.Channel) error {
	switch {
	case c == nil:
		return store.Invalid("channel", "is nil")
	case c.ID == "":
		return store.Invalid("Channel.ID", "is empty")
	case c.ServiceID == "":
		return store.Invalid("Channel.ServiceID", "is empty")
	case c.PageID == "":
		return store.Invalid("Channel.PageID", "is empty")
	case c.Status != "" && c.Status != store.ChannelActive:
		return store.Invalid("Channel.Status", fmt.Sprintf("is %q; a new channel is %q", c.Status, store.ChannelActive))
	}
	token, format, err := s.sealToken(c.ID, c.PageToken)
	if err != nil {
		return err
	}
	row := s.pool.QueryRow(ctx, s.q(`INSERT INTO {s}channels (id, service_id, page_id, page_name, name, status,
		page_token, page_token_format, dispatch, auto_reply, custom_info_on, custom_info_text, human_agent,
		last_webhook_at, created_at, updated_at, version)
	VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1)
	RETURNING `+channelCols),
		c.ID, c.ServiceID, c.PageID, c.PageName, c.Name, token, format, c.Dispatch, c.AutoReply,
		c.CustomInfo.On, c.CustomInfo.Text, c.HumanAgent, tsIn(c.LastWebhookAt), c.CreatedAt, c.UpdatedAt)
	stored, err := s.scanChannel(row)
	if err != nil {
		return s.wrap(ctx, "create channel "+c.ID, err)
	}
	*c = *stored
	return nil
}

// Channel returns a channel by id, deleted ones included, or ErrNotFound.
func (s *Store) Channel(ctx context.Context, id string) (*store.Channel, error) {
	if id == "" {
		return nil, store.Invalid("id", "is empty")
	}
	c, err := s.scanChannel(s.pool.QueryRow(ctx, s.q(`SELECT `+channelCols+` FROM {s}channels WHERE id = $1`), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("channel", id)
	}
	return c, s.wrap(ctx, "channel "+id, err)
}

// ChannelByPage returns the channel that is not deleted holding a Page.
func (s *Store) ChannelByPage(ctx context.Context, pageID string) (*store.Channel, error) {
	if pageID == "" {
		return nil, store.Invalid("pageID", "is empty")
	}
	c, err := s.scanChannel(s.pool.QueryRow(ctx,
		s.q(`SELECT `+channelCols+` FROM {s}channels WHERE page_id = $1 AND status <> 'deleted'`), pageID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("channel of page", pageID)
	}
	return c, s.wrap(ctx, "channel of page "+pageID, err)
}

// UpdateChannel replaces a channel's settings, status and UpdatedAt in one UPDATE ... WHERE version = c.Version: a stale version
// changes nothing and gets ErrConflict. PageID, ServiceID, CreatedAt and
// LastWebhookAt keep their stored values. The disconnection reason and
// time are kept only while the status is disconnected. The status cannot
// be set to deleted here (ErrInvalid): SetChannelStatus deletes.
func (s *Store) UpdateChannel(ctx context.Context, c *store.Channel) error {
	switch {
	case c == nil:
		return store.Invalid("channel", "is nil")
	case c.ID == "":
		return store.Invalid("Channel.ID", "is empty")
	case !validChannelStatus(c.Status):
		return store.Invalid("Channel.Status", fmt.Sprintf("is %q, not a channel status", c.Status))
	case c.Status == store.ChannelDeleted:
		return store.Invalid("Channel.Status", "is deleted; delete a channel with SetChannelStatus")
	}
	reason, at := c.DisconnectReason, c.DisconnectedAt
	if c.Status != store.ChannelDisconnected {
		reason, at = "", time.Time{}
	}
	token, format, err := s.sealToken(c.ID, c.PageToken)
	if err != nil {
		return err
	}
	row := s.pool.QueryRow(ctx, s.q(`UPDATE {s}channels SET page_name = $3, name = $4, status = $5,
		disconnect_reason = $6, disconnected_at = $7, page_token = $8, page_token_format = $9, dispatch = $10,
		auto_reply = $11, custom_info_on = $12, custom_info_text = $13, human_agent = $14, updated_at = $15,
		version = version + 1
	WHERE id = $1 AND version = $2 AND status <> 'deleted'
	RETURNING `+channelCols),
		c.ID, c.Version, c.PageName, c.Name, string(c.Status), reason, tsIn(at), token, format, c.Dispatch,
		c.AutoReply, c.CustomInfo.On, c.CustomInfo.Text, c.HumanAgent, c.UpdatedAt)
	stored, err := s.scanChannel(row)
	if errors.Is(err, pgx.ErrNoRows) {
		var status string
		err = s.pool.QueryRow(ctx, s.q(`SELECT status FROM {s}channels WHERE id = $1`), c.ID).Scan(&status)
		switch {
		case errors.Is(err, pgx.ErrNoRows) || status == string(store.ChannelDeleted):
			return notFound("channel", c.ID)
		case err == nil:
			return fmt.Errorf("sqlstore: update channel %s at version %d: %w", c.ID, c.Version, store.ErrConflict)
		}
	}
	if err != nil {
		return s.wrap(ctx, "update channel "+c.ID, err)
	}
	*c = *stored
	return nil
}

// SetChannelStatus changes a channel's status without a version check. at
// becomes UpdatedAt (a zero at leaves UpdatedAt as it is) and, for
// ChannelDisconnected, DisconnectedAt. A deleted
// channel cannot change any more: ErrNotFound, as for no channel.
func (s *Store) SetChannelStatus(ctx context.Context, id string, status store.ChannelStatus, reason string, at time.Time) (*store.Channel, error) {
	switch {
	case id == "":
		return nil, store.Invalid("id", "is empty")
	case !validChannelStatus(status):
		return nil, store.Invalid("status", fmt.Sprintf("is %q, not a channel status", status))
	}
	disconnectedAt := at
	if status != store.ChannelDisconnected {
		reason, disconnectedAt = "", time.Time{}
	}
	row := s.pool.QueryRow(ctx, s.q(`UPDATE {s}channels SET status = $2, disconnect_reason = $3, disconnected_at = $4,
		page_token = CASE WHEN $2 = 'deleted' THEN '\x'::bytea ELSE page_token END,
		page_token_format = CASE WHEN $2 = 'deleted' THEN 0 ELSE page_token_format END,
		updated_at = COALESCE($5, updated_at), version = version + 1
	WHERE id = $1 AND status <> 'deleted'
	RETURNING `+channelCols), id, string(status), reason, tsIn(disconnectedAt), tsIn(at))
	c, err := s.scanChannel(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("channel", id)
	}
	return c, s.wrap(ctx, "set status of channel "+id, err)
}

// ListChannels lists a service's channels that are not deleted, oldest
// (CreatedAt, then ID) first.
func (s *Store) ListChannels(ctx context.Context, serviceID string, opt store.ListOptions) (store.Page[store.Channel], error) {
	if serviceID == "" {
		return store.Page[store.Channel]{}, store.Invalid("serviceID", "is empty")
	}
	channelList := timeList[store.Channel]{list: listChannels, timeCol: "created_at", scan: s.scanChannel,
		key: func(c *store.Channel) (time.Time, string) { return c.CreatedAt, c.ID }}
	return channelList.page(ctx, s, `SELECT `+channelCols+` FROM {s}channels WHERE service_id = $1 AND status <> 'deleted'`,
		[]any{serviceID}, opt)
}

// TouchWebhook moves the channel's LastWebhookAt forward to t.
func (s *Store) TouchWebhook(ctx context.Context, channelID string, t time.Time) error {
	if channelID == "" {
		return store.Invalid("channelID", "is empty")
	}
	tag, err := s.pool.Exec(ctx, s.q(`UPDATE {s}channels SET last_webhook_at = $2
	WHERE id = $1 AND (last_webhook_at IS NULL OR last_webhook_at < $2)`), channelID, tsIn(t))
	if err != nil {
		return s.wrap(ctx, "touch webhook of channel "+channelID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var one int
	err = s.pool.QueryRow(ctx, s.q(`SELECT 1 FROM {s}channels WHERE id = $1`), channelID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("channel", channelID)
	}
	return s.wrap(ctx, "touch webhook of channel "+channelID, err)
}

// NextTurn hands out the channel's round-robin counter with one atomic
// UPDATE ... RETURNING.
func (s *Store) NextTurn(ctx context.Context, channelID string) (int64, error) {
	if channelID == "" {
		return 0, store.Invalid("channelID", "is empty")
	}
	var turn int64
	err := s.pool.QueryRow(ctx, s.q(`UPDATE {s}channels SET next_turn = next_turn + 1 WHERE id = $1
	RETURNING next_turn - 1`), channelID).Scan(&turn)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, notFound("channel", channelID)
	}
	return turn, s.wrap(ctx, "next turn of channel "+channelID, err)
}

// needIDs returns an ErrInvalid naming the first of the (name, value)
// pairs whose value is empty.
func needIDs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return store.Invalid(pairs[i], "is empty")
		}
	}
	return nil
}
