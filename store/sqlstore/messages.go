package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pagedesk/pagedesk/store"
)

// asStored returns m as reading it back gives it: times at PostgreSQL's
// microsecond precision in UTC, and no empty attachment list.
func asStored(m store.Message) store.Message {
	m.CreatedAt = m.CreatedAt.Truncate(time.Microsecond).UTC()
	m.Attachments = slices.Clone(nilIfEmpty(m.Attachments))
	return m
}

// errDuplicateKey ends RecordInbound's transaction (rolled back) when the
// message's key was already recorded.
var errDuplicateKey = errors.New("sqlstore: duplicate inbound key")

// RecordInbound records an inbound item in one READ COMMITTED transaction
// of three statements, sent with the BEGIN in one round trip (see
// batchTx):
//
//  0. read the channel's service, to refuse an unknown channel
//     (ErrNotFound) or another service's (ErrInvalid);
//  1. upsert the visitor (INSERT ... ON CONFLICT DO UPDATE), moving its
//     last inbound time; the row lock queues concurrent items of one
//     visitor;
//  2. find or open the enquiry and append the message: with in.Open, an
//     INSERT ... ON CONFLICT on the partial unique index of open enquiries
//     (one open enquiry per channel and visitor) either opens the enquiry
//     or joins the open one; without it, the visitor's open or else most
//     recent enquiry is joined, if any. The message is inserted with
//     ON CONFLICT DO NOTHING on the unique index of keys per channel.
//
// If the key was already recorded, the transaction is rolled back, so
// nothing at all is written, and the stored message is returned with
// Duplicate set.
func (s *Store) RecordInbound(ctx context.Context, in store.Inbound) (store.InboundResult, error) {
	switch {
	case in.ServiceID == "":
		return store.InboundResult{}, store.Invalid("Inbound.ServiceID", "is empty")
	case in.ChannelID == "":
		return store.InboundResult{}, store.Invalid("Inbound.ChannelID", "is empty")
	case in.PSID == "":
		return store.InboundResult{}, store.Invalid("Inbound.PSID", "is empty")
	case in.Message.Key == "":
		return store.InboundResult{}, store.Invalid("Inbound.Message.Key", "is empty")
	case in.Message.ID == "":
		return store.InboundResult{}, store.Invalid("Inbound.Message.ID", "is empty")
	case in.Open && in.EnquiryID == "":
		return store.InboundResult{}, store.Invalid("Inbound.EnquiryID", "is empty (needed to open an enquiry)")
	}
	m := in.Message
	m.ChannelID, m.PSID = in.ChannelID, in.PSID
	at := m.CreatedAt             // the visitor's first-seen time and the enquiry's OpenedAt
	var window pgtype.Timestamptz // NULL: the item does not move the window
	if in.Window {
		window = tsIn(at)
	}
	attachments := m.Attachments
	if len(attachments) == 0 {
		attachments = nil
	}

	// msg inserts the message; its enquiry is (SELECT id FROM e).
	const msg = `, m AS (
	INSERT INTO {s}messages (inbound, id, enquiry_id, channel_id, psid, key, kind, direction, author, staff_id, mid,
		text, attachments, payload, reply_to, reaction, state, error, created_at)
	VALUES (true, $3, (SELECT id FROM e), $1, $2, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
	ON CONFLICT (channel_id, key) WHERE inbound DO NOTHING
	RETURNING seq
)
SELECT ` + coalescedEnquiryCols + `, COALESCE(e.inserted, false), (SELECT seq FROM m)
FROM (VALUES (1)) AS one LEFT JOIN e ON true`
	args := []any{in.ChannelID, in.PSID,
		m.ID, m.Key, string(m.Kind), string(m.Direction), string(m.Author), m.StaffID, m.MID, m.Text,
		attachments, m.Payload, m.ReplyTo, m.Reaction, string(m.State), m.Error, m.CreatedAt,
		window}
	var enquiryStep string
	if in.Open {
		enquiryStep = `WITH e AS (
	INSERT INTO {s}enquiries AS x (id, service_id, channel_id, psid, status, opened_at, last_inbound_at, version)
	VALUES ($19, $20, $1, $2, 'queued', $21, $18, 1)
	ON CONFLICT (channel_id, psid) WHERE status <> 'closed' DO UPDATE
		SET last_inbound_at = GREATEST(x.last_inbound_at, EXCLUDED.last_inbound_at),
			version = x.version + CASE WHEN EXCLUDED.last_inbound_at > COALESCE(x.last_inbound_at, '-infinity') THEN 1 ELSE 0 END
	RETURNING ` + enquiryColsOf("x") + `, (x.xmax = 0) AS inserted
)`
		args = append(args, in.EnquiryID, in.ServiceID, at)
	} else {
		enquiryStep = `WITH target AS (
	SELECT id FROM {s}enquiries WHERE channel_id = $1 AND psid = $2
	ORDER BY status <> 'closed' DESC, opened_at DESC, id DESC LIMIT 1
), e AS (
	UPDATE {s}enquiries AS x SET last_inbound_at = GREATEST(x.last_inbound_at, $18),
		version = x.version + CASE WHEN $18::timestamptz > COALESCE(x.last_inbound_at, '-infinity') THEN 1 ELSE 0 END
	FROM target WHERE x.id = target.id
	RETURNING ` + enquiryColsOf("x") + `, false AS inserted
)`
	}

	var res store.InboundResult
	err := s.batchTx(ctx, func(b *pgx.Batch) {
		b.Queue(s.q(`SELECT service_id FROM {s}channels WHERE id = $1`), in.ChannelID)
		b.Queue(s.q(`INSERT INTO {s}visitors AS v (channel_id, psid, first_seen_at, last_inbound_at)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (channel_id, psid) DO UPDATE SET last_inbound_at = GREATEST(v.last_inbound_at, EXCLUDED.last_inbound_at)
			RETURNING (v.xmax = 0)`), in.ChannelID, in.PSID, at, window)
		b.Queue(s.q(enquiryStep+msg), args...)
	}, func(br pgx.BatchResults) error {
		res = store.InboundResult{}
		// The statements run one after the other; an error from the first
		// rolls back what the others wrote.
		var service string
		err := br.QueryRow().Scan(&service)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return notFound("channel", in.ChannelID)
		case err != nil:
			return err
		case service != in.ServiceID:
			return store.Invalid("Inbound.ServiceID", fmt.Sprintf("is %s, but channel %s belongs to service %s",
				in.ServiceID, in.ChannelID, service))
		}
		if err := br.QueryRow().Scan(&res.NewVisitor); err != nil {
			return err
		}
		var (
			e   store.Enquiry
			seq pgtype.Int8
		)
		dest, finish := enquiryDest(&e)
		if err := br.QueryRow().Scan(append(dest, &res.NewEnquiry, &seq)...); err != nil {
			return err
		}
		if !seq.Valid {
			return errDuplicateKey
		}
		finish()
		if e.ID != "" {
			res.Enquiry = e
			m.EnquiryID = e.ID
		} else {
			m.EnquiryID = ""
		}
		res.Message = asStored(m)
		return nil
	})
	if errors.Is(err, errDuplicateKey) {
		return s.storedInbound(ctx, in.ChannelID, m.Key)
	}
	if err != nil {
		return store.InboundResult{}, s.wrap(ctx, "record inbound", err)
	}
	return res, nil
}

// coalescedEnquiryCols are the columns of the enquiry e, or zero values
// when there is none.
const coalescedEnquiryCols = `COALESCE(e.id, ''), COALESCE(e.service_id, ''), COALESCE(e.channel_id, ''),
	COALESCE(e.psid, ''), COALESCE(e.status, ''), COALESCE(e.staff_id, ''), COALESCE(e.offered_to, '{}'), e.opened_at,
	e.taken_at, e.closed_at, e.last_inbound_at, e.last_outbound_at, COALESCE(e.away_sent, false), COALESCE(e.version, 0)`

// storedInbound returns what was recorded under an inbound key, for a
// duplicate.
func (s *Store) storedInbound(ctx context.Context, channelID, key string) (store.InboundResult, error) {
	m, _, err := scanMessage(s.pool.QueryRow(ctx,
		s.q(`SELECT `+messageCols+` FROM {s}messages WHERE channel_id = $1 AND key = $2 AND inbound`), channelID, key))
	if err != nil {
		// The key conflicted, so the row existed when the transaction ended:
		// only a concurrent erasure of the whole row could hide it, and the
		// store never deletes messages.
		return store.InboundResult{}, s.wrap(ctx, "record inbound: read duplicate", err)
	}
	res := store.InboundResult{Duplicate: true, Message: *m}
	if m.EnquiryID != "" {
		e, err := s.Enquiry(ctx, m.EnquiryID)
		if err != nil {
			return store.InboundResult{}, err
		}
		res.Enquiry = *e
	}
	return res, nil
}

// AppendOutbound records an outbound message on m.EnquiryID and moves the
// enquiry's LastOutboundAt forward to m.CreatedAt, in one statement. The
// message's ChannelID and PSID are set from the enquiry.
func (s *Store) AppendOutbound(ctx context.Context, m *store.Message) error {
	switch {
	case m == nil:
		return store.Invalid("message", "is nil")
	case m.ID == "":
		return store.Invalid("Message.ID", "is empty")
	case m.EnquiryID == "":
		return store.Invalid("Message.EnquiryID", "is empty")
	}
	attachments := m.Attachments
	if len(attachments) == 0 {
		attachments = nil
	}
	var channelID, psid string
	err := s.pool.QueryRow(ctx, s.q(`WITH e AS (
	UPDATE {s}enquiries SET last_outbound_at = GREATEST(last_outbound_at, $17),
		version = version + CASE WHEN $17::timestamptz > COALESCE(last_outbound_at, '-infinity') THEN 1 ELSE 0 END
	WHERE id = $2 RETURNING channel_id, psid
)
INSERT INTO {s}messages (id, enquiry_id, channel_id, psid, key, kind, direction, author, staff_id, mid, text,
	attachments, payload, reply_to, reaction, state, error, created_at)
SELECT $1, $2, e.channel_id, e.psid, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $3 FROM e
RETURNING channel_id, psid`),
		m.ID, m.EnquiryID, m.CreatedAt, m.Key, string(m.Kind), string(m.Direction), string(m.Author), m.StaffID,
		m.MID, m.Text, attachments, m.Payload, m.ReplyTo, m.Reaction, string(m.State), m.Error, tsIn(m.CreatedAt)).Scan(&channelID, &psid)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("enquiry", m.EnquiryID)
	}
	if err != nil {
		return s.wrap(ctx, "append outbound "+m.ID, err)
	}
	m.ChannelID, m.PSID = channelID, psid
	*m = asStored(*m)
	return nil
}

// SetState records what became of an outbound message: its state (sent
// never moves it back from delivered or read), its mid (kept when mid is
// empty) and its error text (replaced, so an empty one clears it).
func (s *Store) SetState(ctx context.Context, messageID string, state store.DeliveryState, mid, errText string) error {
	if messageID == "" {
		return store.Invalid("messageID", "is empty")
	}
	if state == "" {
		return store.Invalid("state", "is empty")
	}
	tag, err := s.pool.Exec(ctx, s.q(`UPDATE {s}messages SET
		state = CASE WHEN $2 = 'sent' AND state IN ('delivered', 'read') THEN state ELSE $2 END,
		mid = CASE WHEN $3 = '' THEN mid ELSE $3 END,
		error = $4
	WHERE id = $1`), messageID, string(state), mid, errText)
	if err != nil {
		return s.wrap(ctx, "set state of message "+messageID, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("message", messageID)
	}
	return nil
}

// MessageByMID returns the first message recorded with Facebook's mid on a
// channel, or ErrNotFound.
func (s *Store) MessageByMID(ctx context.Context, channelID, mid string) (*store.Message, error) {
	if err := needIDs("channelID", channelID, "mid", mid); err != nil {
		return nil, err
	}
	m, _, err := scanMessage(s.pool.QueryRow(ctx, s.q(`SELECT `+messageCols+` FROM {s}messages
	WHERE channel_id = $1 AND mid = $2 ORDER BY seq LIMIT 1`), channelID, mid))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("message with mid", mid)
	}
	return m, s.wrap(ctx, "message by mid", err)
}

// MarkWatermark moves the outbound messages to psid on the channel created
// at or before watermark that are sent (or, for StateRead, delivered) to
// state. Messages pending, uncertain or failed are left alone: a
// watermark says what Facebook delivered, and those it may never have had.
func (s *Store) MarkWatermark(ctx context.Context, channelID, psid string, watermark time.Time, state store.DeliveryState) (int, error) {
	if err := needIDs("channelID", channelID, "psid", psid); err != nil {
		return 0, err
	}
	var from []string
	switch state {
	case store.StateDelivered:
		from = []string{string(store.StateSent)}
	case store.StateRead:
		from = []string{string(store.StateSent), string(store.StateDelivered)}
	default:
		return 0, store.Invalid("state", fmt.Sprintf("is %q; a watermark marks %q or %q", state, store.StateDelivered, store.StateRead))
	}
	var n int
	err := s.retry(ctx, func() error {
		tag, err := s.pool.Exec(ctx, s.q(`UPDATE {s}messages SET state = $4
		WHERE channel_id = $1 AND psid = $2 AND direction = 'out' AND created_at <= $3 AND state = ANY($5)`),
			channelID, psid, watermark, string(state), from)
		n = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return 0, s.wrap(ctx, "mark watermark", err)
	}
	return n, nil
}

// ListMessages lists an enquiry's messages in the order they were recorded.
func (s *Store) ListMessages(ctx context.Context, enquiryID string, opt store.ListOptions) (store.Page[store.Message], error) {
	if enquiryID == "" {
		return store.Page[store.Message]{}, store.Invalid("enquiryID", "is empty")
	}
	limit, err := pageLimit(opt)
	if err != nil {
		return store.Page[store.Message]{}, err
	}
	cur, _, err := decodeCursor(opt.After, listMessages)
	if err != nil {
		return store.Page[store.Message]{}, err
	}
	rows, err := s.pool.Query(ctx, s.q(`SELECT `+messageCols+` FROM {s}messages
	WHERE enquiry_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`), enquiryID, cur.Seq, limit+1)
	if err != nil {
		return store.Page[store.Message]{}, s.wrap(ctx, "list messages", err)
	}
	defer rows.Close()
	var (
		page    store.Page[store.Message]
		lastSeq int64
	)
	for rows.Next() {
		m, seq, err := scanMessage(rows)
		if err != nil {
			return store.Page[store.Message]{}, s.wrap(ctx, "list messages", err)
		}
		if len(page.Items) < limit {
			page.Items = append(page.Items, *m)
			lastSeq = seq
		} else {
			page.Next = cursor{List: listMessages, Seq: lastSeq}.encode()
		}
	}
	if err := rows.Err(); err != nil {
		return store.Page[store.Message]{}, s.wrap(ctx, "list messages", err)
	}
	if len(page.Items) == 0 {
		// An empty page: of an enquiry with nothing (more) to list, or of
		// no enquiry at all.
		var one int
		err := s.pool.QueryRow(ctx, s.q(`SELECT 1 FROM {s}enquiries WHERE id = $1`), enquiryID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.Page[store.Message]{}, notFound("enquiry", enquiryID)
		}
		if err != nil {
			return store.Page[store.Message]{}, s.wrap(ctx, "list messages", err)
		}
	}
	return page, nil
}
