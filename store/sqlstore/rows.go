package sqlstore

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pagedesk/pagedesk/store"
)

// Times travel as timestamptz: the zero time is NULL, and PostgreSQL keeps
// microseconds, so a time comes back truncated to the microsecond, in UTC.

// tsIn is the argument for a nullable timestamptz.
func tsIn(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

func tsOut(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nilIfEmpty keeps "no items" one value (nil) however it was stored.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface {
	Scan(dest ...any) error
}

const channelCols = `id, service_id, page_id, page_name, name, status, disconnect_reason, disconnected_at,
	page_token, page_token_format, dispatch, auto_reply, custom_info_on, custom_info_text, human_agent,
	last_webhook_at, created_at, updated_at, version`

func (s *Store) scanChannel(row scanner) (*store.Channel, error) {
	var (
		c                                    store.Channel
		status                               string
		disconnectedAt, lastWebhook, created pgtype.Timestamptz
		updated                              pgtype.Timestamptz
		token                                []byte
		tokenFormat                          int16
	)
	err := row.Scan(&c.ID, &c.ServiceID, &c.PageID, &c.PageName, &c.Name, &status, &c.DisconnectReason, &disconnectedAt,
		&token, &tokenFormat, &c.Dispatch, &c.AutoReply, &c.CustomInfo.On, &c.CustomInfo.Text, &c.HumanAgent,
		&lastWebhook, &created, &updated, &c.Version)
	if err != nil {
		return nil, err
	}
	c.Status = store.ChannelStatus(status)
	c.DisconnectedAt = tsOut(disconnectedAt)
	c.LastWebhookAt = tsOut(lastWebhook)
	c.CreatedAt = tsOut(created)
	c.UpdatedAt = tsOut(updated)
	c.Dispatch.StaffIDs = nilIfEmpty(c.Dispatch.StaffIDs)
	if c.PageToken, err = s.openToken(c.ID, token, tokenFormat); err != nil {
		return nil, err
	}
	return &c, nil
}

const visitorCols = `channel_id, psid, first_name, last_name, profile_pic, profile_fetched_at, first_seen_at, last_inbound_at`

func scanVisitor(row scanner) (*store.Visitor, error) {
	var (
		v                          store.Visitor
		fetched, firstSeen, lastIn pgtype.Timestamptz
	)
	if err := row.Scan(&v.ChannelID, &v.PSID, &v.FirstName, &v.LastName, &v.ProfilePic, &fetched, &firstSeen, &lastIn); err != nil {
		return nil, err
	}
	v.ProfileFetchedAt = tsOut(fetched)
	v.FirstSeenAt = tsOut(firstSeen)
	v.LastInboundAt = tsOut(lastIn)
	return &v, nil
}

const enquiryCols = `id, service_id, channel_id, psid, status, staff_id, offered_to, opened_at, taken_at, closed_at,
	last_inbound_at, last_outbound_at, away_sent, version`

// enquiryColsOf is enquiryCols qualified by a table alias.
func enquiryColsOf(alias string) string {
	return alias + `.id, ` + alias + `.service_id, ` + alias + `.channel_id, ` + alias + `.psid, ` + alias + `.status, ` +
		alias + `.staff_id, ` + alias + `.offered_to, ` + alias + `.opened_at, ` + alias + `.taken_at, ` + alias + `.closed_at, ` +
		alias + `.last_inbound_at, ` + alias + `.last_outbound_at, ` + alias + `.away_sent, ` + alias + `.version`
}

// enquiryDest returns the scan destinations of enquiryCols and a function
// finishing e once they are scanned, so that an enquiry can be scanned
// alongside other columns.
func enquiryDest(e *store.Enquiry) ([]any, func()) {
	var (
		status                                string
		opened, taken, closed, lastIn, lastOu pgtype.Timestamptz
	)
	dest := []any{&e.ID, &e.ServiceID, &e.ChannelID, &e.PSID, &status, &e.StaffID, &e.OfferedTo, &opened, &taken, &closed,
		&lastIn, &lastOu, &e.AwaySent, &e.Version}
	return dest, func() {
		e.Status = store.EnquiryStatus(status)
		e.OfferedTo = nilIfEmpty(e.OfferedTo)
		e.OpenedAt = tsOut(opened)
		e.TakenAt = tsOut(taken)
		e.ClosedAt = tsOut(closed)
		e.LastInboundAt = tsOut(lastIn)
		e.LastOutboundAt = tsOut(lastOu)
	}
}

func scanEnquiry(row scanner) (*store.Enquiry, error) {
	var e store.Enquiry
	dest, finish := enquiryDest(&e)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return &e, nil
}

const messageCols = `seq, id, enquiry_id, channel_id, psid, key, kind, direction, author, staff_id, mid, text, attachments,
	payload, reply_to, reaction, state, error, created_at`

func scanMessage(row scanner) (*store.Message, int64, error) {
	var (
		m                        store.Message
		seq                      int64
		enquiryID                pgtype.Text
		kind, dir, author, state string
		created                  pgtype.Timestamptz
	)
	err := row.Scan(&seq, &m.ID, &enquiryID, &m.ChannelID, &m.PSID, &m.Key, &kind, &dir, &author, &m.StaffID, &m.MID, &m.Text,
		&m.Attachments, &m.Payload, &m.ReplyTo, &m.Reaction, &state, &m.Error, &created)
	if err != nil {
		return nil, 0, err
	}
	m.EnquiryID = enquiryID.String
	m.Kind = store.MessageKind(kind)
	m.Direction = store.Direction(dir)
	m.Author = store.Author(author)
	m.State = store.DeliveryState(state)
	m.Attachments = nilIfEmpty(m.Attachments)
	m.CreatedAt = tsOut(created)
	return &m, seq, nil
}
