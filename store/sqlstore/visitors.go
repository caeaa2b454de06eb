package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pagedesk/pagedesk/store"
)

// Visitor returns a visitor or ErrNotFound.
func (s *Store) Visitor(ctx context.Context, channelID, psid string) (*store.Visitor, error) {
	if err := needIDs("channelID", channelID, "psid", psid); err != nil {
		return nil, err
	}
	v, err := scanVisitor(s.pool.QueryRow(ctx,
		s.q(`SELECT `+visitorCols+` FROM {s}visitors WHERE channel_id = $1 AND psid = $2`), channelID, psid))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("visitor", channelID+"/"+psid)
	}
	return v, s.wrap(ctx, "visitor", err)
}

// SetProfile stores a visitor's names and picture, fetched at t.
func (s *Store) SetProfile(ctx context.Context, channelID, psid string, p store.Profile, t time.Time) error {
	if err := needIDs("channelID", channelID, "psid", psid); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.q(`UPDATE {s}visitors SET first_name = $3, last_name = $4, profile_pic = $5,
		profile_fetched_at = $6 WHERE channel_id = $1 AND psid = $2`),
		channelID, psid, p.FirstName, p.LastName, p.ProfilePic, tsIn(t))
	if err != nil {
		return s.wrap(ctx, "set visitor profile", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("visitor", channelID+"/"+psid)
	}
	return nil
}

// ForgetVisitor anonymises a PSID on every channel in one transaction: the
// visitors' names, picture and profile fetch time are cleared, and the
// text, payload, reaction and attachments of every message to or from the
// PSID (staff replies included, as they may quote the visitor) are erased.
func (s *Store) ForgetVisitor(ctx context.Context, psid string) (int, error) {
	if psid == "" {
		return 0, store.Invalid("psid", "is empty")
	}
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, s.q(`UPDATE {s}visitors SET first_name = '', last_name = '', profile_pic = '',
			profile_fetched_at = NULL
		WHERE psid = $1`), psid)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, s.q(`UPDATE {s}messages SET text = '', payload = '', reaction = '', attachments = NULL
		WHERE psid = $1 AND (text <> '' OR payload <> '' OR reaction <> '' OR attachments IS NOT NULL)`), psid)
		return err
	})
	if err != nil {
		return 0, s.wrap(ctx, "forget visitor", err)
	}
	return n, nil
}
