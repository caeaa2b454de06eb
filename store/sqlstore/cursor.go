package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pagedesk/pagedesk/store"
)

// Page sizes: ListOptions.Limit 0 means defaultLimit; larger limits are
// cut to maxLimit.
const (
	defaultLimit = 50
	maxLimit     = 1000
)

func pageLimit(opt store.ListOptions) (int, error) {
	switch {
	case opt.Limit < 0:
		return 0, store.Invalid("ListOptions.Limit", fmt.Sprintf("is %d; it must not be negative", opt.Limit))
	case opt.Limit == 0:
		return defaultLimit, nil
	case opt.Limit > maxLimit:
		return maxLimit, nil
	}
	return opt.Limit, nil
}

// cursor is the position after the last item of a page: the sort key of
// that item. It travels as opaque base64url JSON tagged with the list it
// belongs to, so a cursor of one list is refused by another.
type cursor struct {
	List string `json:"l"`
	Time int64  `json:"t,omitempty"` // microseconds since the Unix epoch: PostgreSQL's precision
	ID   string `json:"i,omitempty"`
	Seq  int64  `json:"s,omitempty"`
}

// The lists, as tagged in cursors.
const (
	listChannels         = "channels"
	listEnquiries        = "enquiries"
	listVisitorEnquiries = "visitor_enquiries"
	listMessages         = "messages"
)

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and integers always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads opt.After for list; ok is false for the first page.
func decodeCursor(after, list string) (c cursor, ok bool, err error) {
	if after == "" {
		return cursor{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(after)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.List != list {
		return cursor{}, false, store.Invalid("ListOptions.After", "is not a cursor returned by this list")
	}
	return c, true, nil
}

func (c cursor) time() time.Time { return time.UnixMicro(c.Time).UTC() }

// timeList is a list ordered by a time column and then id (channels by
// created_at, enquiries by opened_at), read a page at a time by keyset.
type timeList[T any] struct {
	list    string // the cursor tag
	timeCol string
	desc    bool // newest first
	scan    func(scanner) (*T, error)
	key     func(*T) (time.Time, string) // an item's time and id
}

// page runs query (a SELECT whose WHERE clause uses args) for the page of
// the list that opt asks for.
func (l timeList[T]) page(ctx context.Context, s *Store, query string, args []any, opt store.ListOptions) (store.Page[T], error) {
	limit, err := pageLimit(opt)
	if err != nil {
		return store.Page[T]{}, err
	}
	cur, after, err := decodeCursor(opt.After, l.list)
	if err != nil {
		return store.Page[T]{}, err
	}
	cmp, order := ">", fmt.Sprintf(" ORDER BY %s, id", l.timeCol)
	if l.desc {
		cmp, order = "<", fmt.Sprintf(" ORDER BY %s DESC, id DESC", l.timeCol)
	}
	if after {
		query += fmt.Sprintf(` AND (%s, id) %s ($%d, $%d)`, l.timeCol, cmp, len(args)+1, len(args)+2)
		args = append(args, cur.time(), cur.ID)
	}
	query += order + fmt.Sprintf(" LIMIT $%d", len(args)+1)
	args = append(args, limit+1)
	rows, err := s.pool.Query(ctx, s.q(query), args...)
	if err != nil {
		return store.Page[T]{}, s.wrap(ctx, "list "+l.list, err)
	}
	defer rows.Close()
	var page store.Page[T]
	for rows.Next() {
		it, err := l.scan(rows)
		if err != nil {
			return store.Page[T]{}, s.wrap(ctx, "list "+l.list, err)
		}
		page.Items = append(page.Items, *it)
	}
	if err := rows.Err(); err != nil {
		return store.Page[T]{}, s.wrap(ctx, "list "+l.list, err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		t, id := l.key(&page.Items[limit-1])
		page.Next = cursor{List: l.list, Time: t.UnixMicro(), ID: id}.encode()
	}
	return page, nil
}
