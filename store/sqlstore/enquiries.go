package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pagedesk/pagedesk/store"
)

// Enquiry returns an enquiry by id, or ErrNotFound.
func (s *Store) Enquiry(ctx context.Context, id string) (*store.Enquiry, error) {
	if id == "" {
		return nil, store.Invalid("id", "is empty")
	}
	e, err := scanEnquiry(s.pool.QueryRow(ctx, s.q(`SELECT `+enquiryCols+` FROM {s}enquiries WHERE id = $1`), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("enquiry", id)
	}
	return e, s.wrap(ctx, "enquiry "+id, err)
}

// OpenEnquiry returns the visitor's open enquiry on a channel, or ErrNotFound.
func (s *Store) OpenEnquiry(ctx context.Context, channelID, psid string) (*store.Enquiry, error) {
	if err := needIDs("channelID", channelID, "psid", psid); err != nil {
		return nil, err
	}
	e, err := scanEnquiry(s.pool.QueryRow(ctx, s.q(`SELECT `+enquiryCols+` FROM {s}enquiries
	WHERE channel_id = $1 AND psid = $2 AND status <> 'closed'`), channelID, psid))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("open enquiry of visitor", channelID+"/"+psid)
	}
	return e, s.wrap(ctx, "open enquiry", err)
}

// ListEnquiries lists a service's enquiries in a status (every open one
// for an empty status), oldest opened (OpenedAt, then ID) first.
func (s *Store) ListEnquiries(ctx context.Context, serviceID string, status store.EnquiryStatus, opt store.ListOptions) (store.Page[store.Enquiry], error) {
	if serviceID == "" {
		return store.Page[store.Enquiry]{}, store.Invalid("serviceID", "is empty")
	}
	query := `SELECT ` + enquiryCols + ` FROM {s}enquiries WHERE service_id = $1`
	args := []any{serviceID}
	switch status {
	case "":
		query += ` AND status <> 'closed'`
	case store.EnquiryQueued, store.EnquiryOffered, store.EnquiryTaken, store.EnquiryClosed:
		query += ` AND status = $2`
		args = append(args, string(status))
	default:
		return store.Page[store.Enquiry]{}, store.Invalid("status", fmt.Sprintf("is %q, not an enquiry status", status))
	}
	return enquiryList.page(ctx, s, query, args, opt)
}

// VisitorEnquiries lists a visitor's enquiries on a channel, newest opened
// (OpenedAt, then ID) first.
func (s *Store) VisitorEnquiries(ctx context.Context, channelID, psid string, opt store.ListOptions) (store.Page[store.Enquiry], error) {
	if err := needIDs("channelID", channelID, "psid", psid); err != nil {
		return store.Page[store.Enquiry]{}, err
	}
	query := `SELECT ` + enquiryCols + ` FROM {s}enquiries WHERE channel_id = $1 AND psid = $2`
	return visitorEnquiryList.page(ctx, s, query, []any{channelID, psid}, opt)
}

// enquiryList and visitorEnquiryList are the enquiry lists, oldest and
// newest opened first.
var (
	enquiryList        = timeList[store.Enquiry]{list: listEnquiries, timeCol: "opened_at", scan: scanEnquiry, key: enquiryKey}
	visitorEnquiryList = timeList[store.Enquiry]{list: listVisitorEnquiries, timeCol: "opened_at", desc: true, scan: scanEnquiry, key: enquiryKey}
)

func enquiryKey(e *store.Enquiry) (time.Time, string) { return e.OpenedAt, e.ID }

// whyNot explains why a conditional update of enquiry id matched no row,
// from its status and holder read afterwards: ErrNotFound, ErrClosed, a
// *TakenError, or otherwise (nil) none of these.
func whyNot(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, s *Store, id string) error {
	var status, staff string
	err := q.QueryRow(ctx, s.q(`SELECT status, staff_id FROM {s}enquiries WHERE id = $1`), id).Scan(&status, &staff)
	return explain(id, status, staff, err)
}

func explain(id, status, staff string, err error) error {
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return notFound("enquiry", id)
	case err != nil:
		return err
	case status == string(store.EnquiryClosed):
		return fmt.Errorf("sqlstore: enquiry %s: %w", id, store.ErrClosed)
	case status == string(store.EnquiryTaken):
		return &store.TakenError{EnquiryID: id, StaffID: staff}
	}
	return nil
}

// Offer records that a queued or offered enquiry was offered to staff,
// replacing any earlier offer. staffIDs must name at least one staff
// member.
func (s *Store) Offer(ctx context.Context, id string, staffIDs []string) (*store.Enquiry, error) {
	if id == "" {
		return nil, store.Invalid("id", "is empty")
	}
	if len(staffIDs) == 0 {
		return nil, store.Invalid("staffIDs", "is empty: an offer names at least one staff member")
	}
	for i, staff := range staffIDs {
		if staff == "" {
			return nil, store.Invalid(fmt.Sprintf("staffIDs[%d]", i), "is empty")
		}
	}
	e, err := scanEnquiry(s.pool.QueryRow(ctx, s.q(`UPDATE {s}enquiries SET status = 'offered', offered_to = $2,
		version = version + 1
	WHERE id = $1 AND status IN ('queued', 'offered')
	RETURNING `+enquiryCols), id, staffIDs))
	if errors.Is(err, pgx.ErrNoRows) {
		if err = whyNot(ctx, s.pool, s, id); err == nil {
			// The enquiry moved back to offerable between the two statements.
			err = fmt.Errorf("sqlstore: offer enquiry %s: %w", id, store.ErrConflict)
		}
	}
	if err != nil {
		return nil, s.wrap(ctx, "offer enquiry "+id, err)
	}
	return e, nil
}

// Take gives an open enquiry that is not taken to staffID at t, as one transaction sent in one round trip (then COMMIT): it
// locks the service's row in
// service_locks (so takes of one service queue one behind another, in
// every process), then, in a statement that starts after the lock is
// held and so sees every committed take, counts the service's taken
// enquiries and takes this one with a conditional UPDATE (the
// compare-and-set: only a queued or offered enquiry matches).
func (s *Store) Take(ctx context.Context, id, staffID string, limit int, t time.Time) (*store.Enquiry, error) {
	if id == "" {
		return nil, store.Invalid("id", "is empty")
	}
	if staffID == "" {
		return nil, store.Invalid("staffID", "is empty")
	}
	var (
		taken *store.Enquiry
		why   error
	)
	err := s.batchTx(ctx, func(b *pgx.Batch) {
		b.Queue(s.q(`INSERT INTO {s}service_locks (service_id)
			SELECT service_id FROM {s}enquiries WHERE id = $1 ON CONFLICT DO NOTHING`), id)
		b.Queue(s.q(`SELECT l.service_id FROM {s}service_locks l JOIN {s}enquiries e ON e.service_id = l.service_id
			WHERE e.id = $1 FOR UPDATE OF l`), id)
		b.Queue(s.q(`UPDATE {s}enquiries e SET status = 'taken', staff_id = $2, taken_at = $3, offered_to = '{}',
				version = e.version + 1
			WHERE e.id = $1 AND e.status IN ('queued', 'offered')
				AND ($4 <= 0 OR (SELECT count(*) FROM {s}enquiries n
					WHERE n.service_id = e.service_id AND n.status = 'taken') < $4)
			RETURNING `+enquiryCols), id, staffID, tsIn(t), limit)
		b.Queue(s.q(`SELECT status, staff_id FROM {s}enquiries WHERE id = $1`), id)
	}, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if _, err := br.Exec(); err != nil {
			return err
		}
		e, err := scanEnquiry(br.QueryRow())
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var status, staff string
		serr := br.QueryRow().Scan(&status, &staff)
		if e != nil {
			taken, why = e, nil
			return nil
		}
		if serr != nil && !errors.Is(serr, pgx.ErrNoRows) {
			return serr
		}
		taken, why = nil, explain(id, status, staff, serr)
		if why == nil {
			why = fmt.Errorf("sqlstore: take enquiry %s: the service's limit of %d enquiries taken at once is reached: %w",
				id, limit, store.ErrLimit)
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(ctx, "take enquiry "+id, err)
	}
	if why != nil {
		return nil, why
	}
	return taken, nil
}

// Transfer moves a taken enquiry from one staff member to another with a
// conditional UPDATE on the holder.
func (s *Store) Transfer(ctx context.Context, id, from, to string) (*store.Enquiry, error) {
	if err := needIDs("id", id, "from", from, "to", to); err != nil {
		return nil, err
	}
	e, err := scanEnquiry(s.pool.QueryRow(ctx, s.q(`UPDATE {s}enquiries SET staff_id = $3, version = version + 1
	WHERE id = $1 AND status = 'taken' AND staff_id = $2
	RETURNING `+enquiryCols), id, from, to))
	if errors.Is(err, pgx.ErrNoRows) {
		err = whyNot(ctx, s.pool, s, id)
		if err == nil || errors.Is(err, store.ErrAlreadyTaken) {
			err = fmt.Errorf("sqlstore: transfer enquiry %s: %s no longer holds it: %w", id, from, store.ErrConflict)
		}
	}
	if err != nil {
		return nil, s.wrap(ctx, "transfer enquiry "+id, err)
	}
	return e, nil
}

// Close closes an open enquiry at t.
func (s *Store) Close(ctx context.Context, id string, t time.Time) (*store.Enquiry, error) {
	if id == "" {
		return nil, store.Invalid("id", "is empty")
	}
	e, err := scanEnquiry(s.pool.QueryRow(ctx, s.q(`UPDATE {s}enquiries SET status = 'closed', closed_at = $2,
		offered_to = '{}', version = version + 1
	WHERE id = $1 AND status <> 'closed'
	RETURNING `+enquiryCols), id, tsIn(t)))
	if errors.Is(err, pgx.ErrNoRows) {
		if err = whyNot(ctx, s.pool, s, id); err == nil {
			err = fmt.Errorf("sqlstore: close enquiry %s: %w", id, store.ErrConflict)
		}
	}
	if err != nil {
		return nil, s.wrap(ctx, "close enquiry "+id, err)
	}
	return e, nil
}

// MarkAwaySent sets AwaySent and reports whether this call set it.
func (s *Store) MarkAwaySent(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, store.Invalid("id", "is empty")
	}
	tag, err := s.pool.Exec(ctx, s.q(`UPDATE {s}enquiries SET away_sent = true, version = version + 1
	WHERE id = $1 AND NOT away_sent`), id)
	if err != nil {
		return false, s.wrap(ctx, "mark away sent "+id, err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var one int
	err = s.pool.QueryRow(ctx, s.q(`SELECT 1 FROM {s}enquiries WHERE id = $1`), id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, notFound("enquiry", id)
	}
	return false, s.wrap(ctx, "mark away sent "+id, err)
}

// CountTaken returns how many of a service's enquiries are taken.
func (s *Store) CountTaken(ctx context.Context, serviceID string) (int, error) {
	if serviceID == "" {
		return 0, store.Invalid("serviceID", "is empty")
	}
	var n int
	err := s.pool.QueryRow(ctx, s.q(`SELECT count(*) FROM {s}enquiries WHERE service_id = $1 AND status = 'taken'`),
		serviceID).Scan(&n)
	return n, s.wrap(ctx, "count taken", err)
}
