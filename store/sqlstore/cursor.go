package sqlstore

import (
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
