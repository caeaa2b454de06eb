package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pagedesk/pagedesk/store"
)

// Compile-time checks that Store implements every store interface.
var (
	_ store.Store     = (*Store)(nil)
	_ store.Channels  = (*Store)(nil)
	_ store.Visitors  = (*Store)(nil)
	_ store.Enquiries = (*Store)(nil)
	_ store.Messages  = (*Store)(nil)
)

const (
	defaultLimit = 50
	// MaxLimit is the largest page a list returns; a larger
	// ListOptions.Limit is lowered to it.
	MaxLimit = 1000
)

// Store is an in-memory store.Store. The zero value is not usable; call New.
//
// One lock guards everything, so every method is atomic with respect to
// every other, which is how the promises of package store are kept. Records
// are copied on the way in and on the way out (slices included): nothing a
// caller holds aliases stored state.
type Store struct {
	mu sync.RWMutex

	channels        map[string]*store.Channel   // by id, deleted ones included
	pages           map[string]*store.Channel   // channels that are not deleted, by PageID
	serviceChannels map[string][]*store.Channel // by service, sorted by (CreatedAt, ID)
	chans           map[string]*chanData        // what hangs off each channel, by id

	enquiries map[string]*enquiry      // by id
	services  map[string]*serviceIndex // by service id

	seq      uint64              // recording sequence of the last message
	messages map[string]*message // by id
}

// chanData indexes a channel's visitors and messages. Keeping the indexes
// per channel makes their keys one string, not two: cheaper to hash and
// 16 bytes smaller a slot.
type chanData struct {
	turn     int64               // the round-robin counter
	visitors map[string]*visitor // by PSID
	byKey    map[string]*message // inbound items by key
	byMID    map[string]*message // by mid: the first recorded holder
}

type visitor struct {
	v         store.Visitor
	enquiries []*enquiry // sorted by (OpenedAt, ID)
	open      *enquiry   // the open enquiry, if any
	loose     []*message // items recorded with no enquiry to join
}

type enquiry struct {
	e    store.Enquiry
	v    *visitor
	msgs []*message // in recording order
}

type message struct {
	m   store.Message
	seq uint64
}

type serviceIndex struct {
	open  []*enquiry // open enquiries, sorted by (OpenedAt, ID)
	all   []*enquiry // every enquiry, sorted by (OpenedAt, ID)
	taken int        // how many are taken
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		channels:        make(map[string]*store.Channel),
		pages:           make(map[string]*store.Channel),
		serviceChannels: make(map[string][]*store.Channel),
		chans:           make(map[string]*chanData),
		enquiries:       make(map[string]*enquiry),
		services:        make(map[string]*serviceIndex),
		messages:        make(map[string]*message),
	}
}

// visitor returns a recorded visitor, or nil.
func (s *Store) visitor(channelID, psid string) *visitor {
	if cd := s.chans[channelID]; cd != nil {
		return cd.visitors[psid]
	}
	return nil
}

// ---- errors ----------------------------------------------------------------

func empty(field string) error { return store.Invalid(field, "is empty") }

// ready is how every method starts: ctx.Err() if ctx is done, else an
// ErrInvalid naming the first of the (name, value) pairs whose value is
// empty, else nil.
func ready(ctx context.Context, pairs ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return empty(pairs[i])
		}
	}
	return nil
}

func notFound(what, id string) error {
	return fmt.Errorf("memstore: %s %q: %w", what, id, store.ErrNotFound)
}

// ---- copies ----------------------------------------------------------------

func copyChannel(c *store.Channel) *store.Channel {
	cp := *c
	cp.Dispatch.StaffIDs = slices.Clone(c.Dispatch.StaffIDs)
	return &cp
}

func copyEnquiry(e *store.Enquiry) store.Enquiry {
	cp := *e
	cp.OfferedTo = slices.Clone(e.OfferedTo)
	return cp
}

func copyMessage(m *store.Message) store.Message {
	cp := *m
	cp.Attachments = slices.Clone(m.Attachments)
	return cp
}

// ---- ordering and pages ----------------------------------------------------

func cmpChannel(a, b *store.Channel) int {
	return cmpTimeID(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
}

func cmpEnquiry(a, b *enquiry) int {
	return cmpTimeID(a.e.OpenedAt, a.e.ID, b.e.OpenedAt, b.e.ID)
}

func cmpTimeID(at time.Time, aid string, bt time.Time, bid string) int {
	if c := at.Compare(bt); c != 0 {
		return c
	}
	return cmp.Compare(aid, bid)
}

// insertSorted inserts x into s, which is sorted by f. Items mostly arrive
// in order, so the common case appends.
func insertSorted[T any](s []T, x T, f func(a, b T) int) []T {
	if n := len(s); n == 0 || f(s[n-1], x) <= 0 {
		return append(s, x)
	}
	i, _ := slices.BinarySearchFunc(s, x, f)
	return slices.Insert(s, i, x)
}

// removeSorted removes x from s, which is sorted by f.
func removeSorted[T comparable](s []T, x T, f func(a, b T) int) []T {
	i, _ := slices.BinarySearchFunc(s, x, f)
	for ; i < len(s); i++ {
		if s[i] == x {
			return slices.Delete(s, i, i+1)
		}
	}
	return s
}

func limitOf(opt store.ListOptions) (int, error) {
	switch {
	case opt.Limit < 0:
		return 0, store.Invalid("ListOptions.Limit", fmt.Sprintf("is %d; it must not be negative", opt.Limit))
	case opt.Limit == 0:
		return defaultLimit, nil
	case opt.Limit > MaxLimit:
		return MaxLimit, nil
	}
	return opt.Limit, nil
}

// ---- Channels --------------------------------------------------------------

// CreateChannel implements store.Channels.
func (s *Store) CreateChannel(ctx context.Context, c *store.Channel) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case c == nil:
		return store.Invalid("channel", "is nil")
	case c.ID == "":
		return empty("Channel.ID")
	case c.ServiceID == "":
		return empty("Channel.ServiceID")
	case c.PageID == "":
		return empty("Channel.PageID")
	case c.Status != "" && c.Status != store.ChannelActive:
		return store.Invalid("Channel.Status", fmt.Sprintf("is %q; a new channel is %q", c.Status, store.ChannelActive))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channels[c.ID]; ok {
		return fmt.Errorf("memstore: channel %q: %w", c.ID, store.ErrDuplicate)
	}
	if held, ok := s.pages[c.PageID]; ok {
		return fmt.Errorf("memstore: page %q is held by channel %q: %w", c.PageID, held.ID, store.ErrPageTaken)
	}
	c.Status = store.ChannelActive
	c.DisconnectReason = ""
	c.DisconnectedAt = time.Time{}
	c.Version = 1
	stored := copyChannel(c)
	s.channels[c.ID] = stored
	s.pages[c.PageID] = stored
	s.chans[c.ID] = &chanData{
		visitors: make(map[string]*visitor),
		byKey:    make(map[string]*message),
		byMID:    make(map[string]*message),
	}
	s.serviceChannels[c.ServiceID] = insertSorted(s.serviceChannels[c.ServiceID], stored, cmpChannel)
	return nil
}

// Channel implements store.Channels.
func (s *Store) Channel(ctx context.Context, id string) (*store.Channel, error) {
	if err := ready(ctx, "channel id", id); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.channels[id]
	if !ok {
		return nil, notFound("channel", id)
	}
	return copyChannel(c), nil
}

// ChannelByPage implements store.Channels.
func (s *Store) ChannelByPage(ctx context.Context, pageID string) (*store.Channel, error) {
	if err := ready(ctx, "page id", pageID); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.pages[pageID]
	if !ok {
		return nil, notFound("channel of page", pageID)
	}
	return copyChannel(c), nil
}

// UpdateChannel implements store.Channels.
func (s *Store) UpdateChannel(ctx context.Context, c *store.Channel) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case c == nil:
		return store.Invalid("channel", "is nil")
	case c.ID == "":
		return empty("Channel.ID")
	}
	if err := updatableStatus(c.Status); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.channels[c.ID]
	if !ok || cur.Status == store.ChannelDeleted {
		return notFound("channel", c.ID)
	}
	if cur.Version != c.Version {
		return fmt.Errorf("memstore: channel %q is at version %d, not %d: %w", c.ID, cur.Version, c.Version, store.ErrConflict)
	}
	c.ServiceID = cur.ServiceID
	c.PageID = cur.PageID
	c.CreatedAt = cur.CreatedAt
	c.LastWebhookAt = cur.LastWebhookAt
	if c.Status != store.ChannelDisconnected {
		c.DisconnectReason = ""
		c.DisconnectedAt = time.Time{}
	}
	c.Version = cur.Version + 1
	*cur = *copyChannel(c)
	return nil
}

func updatableStatus(st store.ChannelStatus) error {
	switch st {
	case store.ChannelActive, store.ChannelPaused, store.ChannelDisconnected:
		return nil
	case store.ChannelDeleted:
		return store.Invalid("Channel.Status", "is deleted; delete with SetChannelStatus")
	}
	return store.Invalid("Channel.Status", fmt.Sprintf("is %q, not a channel status", st))
}

// SetChannelStatus implements store.Channels.
func (s *Store) SetChannelStatus(ctx context.Context, id string, status store.ChannelStatus, reason string, at time.Time) (*store.Channel, error) {
	if err := ready(ctx, "channel id", id); err != nil {
		return nil, err
	}
	if status != store.ChannelDeleted {
		if err := updatableStatus(status); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[id]
	if !ok || c.Status == store.ChannelDeleted {
		return nil, notFound("channel", id)
	}
	c.Status = status
	if status == store.ChannelDisconnected {
		c.DisconnectReason = reason
		c.DisconnectedAt = at
	} else {
		c.DisconnectReason = ""
		c.DisconnectedAt = time.Time{}
	}
	if status == store.ChannelDeleted {
		c.PageToken = ""
		if s.pages[c.PageID] == c {
			delete(s.pages, c.PageID)
		}
	}
	if !at.IsZero() {
		c.UpdatedAt = at
	}
	c.Version++
	return copyChannel(c), nil
}

// ListChannels implements store.Channels.
func (s *Store) ListChannels(ctx context.Context, serviceID string, opt store.ListOptions) (store.Page[store.Channel], error) {
	var p store.Page[store.Channel]
	if err := ready(ctx, "service id", serviceID); err != nil {
		return p, err
	}
	limit, err := limitOf(opt)
	if err != nil {
		return p, err
	}
	start := 0
	s.mu.RLock()
	defer s.mu.RUnlock()
	list := s.serviceChannels[serviceID]
	if opt.After != "" {
		t, id, err := decodeTimeCursor(opt.After)
		if err != nil {
			return p, err
		}
		start, _ = slices.BinarySearchFunc(list, &store.Channel{CreatedAt: t, ID: id}, cmpChannel)
		if start < len(list) && cmpChannel(list[start], &store.Channel{CreatedAt: t, ID: id}) == 0 {
			start++
		}
	}
	for _, c := range list[start:] {
		if c.Status == store.ChannelDeleted {
			continue
		}
		if len(p.Items) == limit {
			last := &p.Items[len(p.Items)-1]
			p.Next = encodeTimeCursor(last.CreatedAt, last.ID)
			break
		}
		p.Items = append(p.Items, *copyChannel(c))
	}
	return p, nil
}

// TouchWebhook implements store.Channels.
func (s *Store) TouchWebhook(ctx context.Context, channelID string, t time.Time) error {
	if err := ready(ctx, "channel id", channelID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[channelID]
	if !ok {
		return notFound("channel", channelID)
	}
	if t.After(c.LastWebhookAt) {
		c.LastWebhookAt = t
	}
	return nil
}

// NextTurn implements store.Channels.
func (s *Store) NextTurn(ctx context.Context, channelID string) (int64, error) {
	if err := ready(ctx, "channel id", channelID); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cd, ok := s.chans[channelID]
	if !ok {
		return 0, notFound("channel", channelID)
	}
	n := cd.turn
	cd.turn++
	return n, nil
}

// ---- Visitors --------------------------------------------------------------

// Visitor implements store.Visitors.
func (s *Store) Visitor(ctx context.Context, channelID, psid string) (*store.Visitor, error) {
	if err := ready(ctx, "channel id", channelID, "psid", psid); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.visitor(channelID, psid)
	if v == nil {
		return nil, notFound("visitor", psid)
	}
	cp := v.v
	return &cp, nil
}

// SetProfile implements store.Visitors.
func (s *Store) SetProfile(ctx context.Context, channelID, psid string, p store.Profile, t time.Time) error {
	if err := ready(ctx, "channel id", channelID, "psid", psid); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.visitor(channelID, psid)
	if v == nil {
		return notFound("visitor", psid)
	}
	v.v.FirstName = p.FirstName
	v.v.LastName = p.LastName
	v.v.ProfilePic = p.ProfilePic
	v.v.ProfileFetchedAt = t
	return nil
}

// ForgetVisitor implements store.Visitors. It looks at every visitor, so it
// takes time in proportion to their number; it is meant to be rare.
func (s *Store) ForgetVisitor(ctx context.Context, psid string) (int, error) {
	if err := ready(ctx, "psid", psid); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, cd := range s.chans {
		v := cd.visitors[psid]
		if v == nil {
			continue
		}
		n++
		v.v.FirstName, v.v.LastName, v.v.ProfilePic = "", "", ""
		v.v.ProfileFetchedAt = time.Time{}
		for _, e := range v.enquiries {
			for _, m := range e.msgs {
				erase(&m.m)
			}
		}
		for _, m := range v.loose {
			erase(&m.m)
		}
	}
	return n, nil
}

func erase(m *store.Message) {
	m.Text = ""
	m.Payload = ""
	m.Attachments = nil
	m.Reaction = ""
}

// ---- Enquiries -------------------------------------------------------------

// Enquiry implements store.Enquiries.
func (s *Store) Enquiry(ctx context.Context, id string) (*store.Enquiry, error) {
	if err := ready(ctx, "enquiry id", id); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.enquiries[id]
	if !ok {
		return nil, notFound("enquiry", id)
	}
	cp := copyEnquiry(&e.e)
	return &cp, nil
}

// OpenEnquiry implements store.Enquiries.
func (s *Store) OpenEnquiry(ctx context.Context, channelID, psid string) (*store.Enquiry, error) {
	if err := ready(ctx, "channel id", channelID, "psid", psid); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.visitor(channelID, psid)
	if v == nil || v.open == nil {
		return nil, notFound("open enquiry of visitor", psid)
	}
	cp := copyEnquiry(&v.open.e)
	return &cp, nil
}

// ListEnquiries implements store.Enquiries. Listing open enquiries takes
// time in proportion to the page; listing closed ones may look at every
// enquiry of the service.
func (s *Store) ListEnquiries(ctx context.Context, serviceID string, status store.EnquiryStatus, opt store.ListOptions) (store.Page[store.Enquiry], error) {
	var p store.Page[store.Enquiry]
	if err := ready(ctx, "service id", serviceID); err != nil {
		return p, err
	}
	switch status {
	case "", store.EnquiryQueued, store.EnquiryOffered, store.EnquiryTaken, store.EnquiryClosed:
	default:
		return p, store.Invalid("status", fmt.Sprintf("is %q, not an enquiry status", status))
	}
	limit, err := limitOf(opt)
	if err != nil {
		return p, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	si := s.services[serviceID]
	if si == nil {
		return p, nil
	}
	list := si.open
	if status == store.EnquiryClosed {
		list = si.all
	}
	start := 0
	if opt.After != "" {
		t, id, err := decodeTimeCursor(opt.After)
		if err != nil {
			return p, err
		}
		key := &enquiry{e: store.Enquiry{OpenedAt: t, ID: id}}
		start, _ = slices.BinarySearchFunc(list, key, cmpEnquiry)
		if start < len(list) && cmpEnquiry(list[start], key) == 0 {
			start++
		}
	}
	for _, e := range list[start:] {
		if status != "" && e.e.Status != status {
			continue
		}
		if len(p.Items) == limit {
			last := &p.Items[len(p.Items)-1]
			p.Next = encodeTimeCursor(last.OpenedAt, last.ID)
			break
		}
		p.Items = append(p.Items, copyEnquiry(&e.e))
	}
	return p, nil
}

// VisitorEnquiries implements store.Enquiries.
func (s *Store) VisitorEnquiries(ctx context.Context, channelID, psid string, opt store.ListOptions) (store.Page[store.Enquiry], error) {
	var p store.Page[store.Enquiry]
	if err := ready(ctx, "channel id", channelID, "psid", psid); err != nil {
		return p, err
	}
	limit, err := limitOf(opt)
	if err != nil {
		return p, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.visitor(channelID, psid)
	if v == nil {
		return p, nil
	}
	end := len(v.enquiries) // newest first: walk down from end-1
	if opt.After != "" {
		t, id, err := decodeTimeCursor(opt.After)
		if err != nil {
			return p, err
		}
		end, _ = slices.BinarySearchFunc(v.enquiries, &enquiry{e: store.Enquiry{OpenedAt: t, ID: id}}, cmpEnquiry)
	}
	for i := end - 1; i >= 0; i-- {
		if len(p.Items) == limit {
			last := &p.Items[len(p.Items)-1]
			p.Next = encodeTimeCursor(last.OpenedAt, last.ID)
			break
		}
		p.Items = append(p.Items, copyEnquiry(&v.enquiries[i].e))
	}
	return p, nil
}

func (s *Store) lookEnquiry(id string) (*enquiry, error) {
	if id == "" {
		return nil, empty("enquiry id")
	}
	e, ok := s.enquiries[id]
	if !ok {
		return nil, notFound("enquiry", id)
	}
	return e, nil
}

func closedErr(id string) error {
	return fmt.Errorf("memstore: enquiry %q: %w", id, store.ErrClosed)
}

// Offer implements store.Enquiries.
func (s *Store) Offer(ctx context.Context, id string, staffIDs []string) (*store.Enquiry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(staffIDs) == 0 {
		return nil, empty("staffIDs")
	}
	for i, st := range staffIDs {
		if st == "" {
			return nil, empty(fmt.Sprintf("staffIDs[%d]", i))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.lookEnquiry(id)
	if err != nil {
		return nil, err
	}
	switch e.e.Status {
	case store.EnquiryClosed:
		return nil, closedErr(id)
	case store.EnquiryTaken:
		return nil, &store.TakenError{EnquiryID: id, StaffID: e.e.StaffID}
	}
	e.e.Status = store.EnquiryOffered
	e.e.OfferedTo = slices.Clone(staffIDs)
	e.e.Version++
	cp := copyEnquiry(&e.e)
	return &cp, nil
}

// Take implements store.Enquiries.
func (s *Store) Take(ctx context.Context, id, staffID string, limit int, t time.Time) (*store.Enquiry, error) {
	if err := ready(ctx, "staff id", staffID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.lookEnquiry(id)
	if err != nil {
		return nil, err
	}
	switch e.e.Status {
	case store.EnquiryClosed:
		return nil, closedErr(id)
	case store.EnquiryTaken:
		return nil, &store.TakenError{EnquiryID: id, StaffID: e.e.StaffID}
	}
	si := s.services[e.e.ServiceID]
	if limit > 0 && si.taken >= limit {
		return nil, fmt.Errorf("memstore: service %q serves %d enquiries; the limit is %d: %w", e.e.ServiceID, si.taken, limit, store.ErrLimit)
	}
	si.taken++
	e.e.Status = store.EnquiryTaken
	e.e.StaffID = staffID
	e.e.TakenAt = t
	e.e.OfferedTo = nil
	e.e.Version++
	cp := copyEnquiry(&e.e)
	return &cp, nil
}

// Transfer implements store.Enquiries.
func (s *Store) Transfer(ctx context.Context, id, from, to string) (*store.Enquiry, error) {
	if err := ready(ctx, "from", from, "to", to); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.lookEnquiry(id)
	if err != nil {
		return nil, err
	}
	if e.e.Status == store.EnquiryClosed {
		return nil, closedErr(id)
	}
	if e.e.Status != store.EnquiryTaken || e.e.StaffID != from {
		return nil, fmt.Errorf("memstore: enquiry %q is not held by %q: %w", id, from, store.ErrConflict)
	}
	e.e.StaffID = to
	e.e.Version++
	cp := copyEnquiry(&e.e)
	return &cp, nil
}

// Close implements store.Enquiries.
func (s *Store) Close(ctx context.Context, id string, t time.Time) (*store.Enquiry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.lookEnquiry(id)
	if err != nil {
		return nil, err
	}
	if e.e.Status == store.EnquiryClosed {
		return nil, closedErr(id)
	}
	si := s.services[e.e.ServiceID]
	if e.e.Status == store.EnquiryTaken {
		si.taken--
	}
	si.open = removeSorted(si.open, e, cmpEnquiry)
	if e.v.open == e {
		e.v.open = nil
	}
	e.e.Status = store.EnquiryClosed
	e.e.ClosedAt = t
	e.e.OfferedTo = nil
	e.e.Version++
	cp := copyEnquiry(&e.e)
	return &cp, nil
}

// MarkAwaySent implements store.Enquiries.
func (s *Store) MarkAwaySent(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.lookEnquiry(id)
	if err != nil {
		return false, err
	}
	if e.e.AwaySent {
		return false, nil
	}
	e.e.AwaySent = true
	e.e.Version++
	return true, nil
}

// CountTaken implements store.Enquiries.
func (s *Store) CountTaken(ctx context.Context, serviceID string) (int, error) {
	if err := ready(ctx, "service id", serviceID); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if si := s.services[serviceID]; si != nil {
		return si.taken, nil
	}
	return 0, nil
}

// ---- Messages --------------------------------------------------------------

func checkInbound(in *store.Inbound) error {
	switch {
	case in.ServiceID == "":
		return empty("Inbound.ServiceID")
	case in.ChannelID == "":
		return empty("Inbound.ChannelID")
	case in.PSID == "":
		return empty("Inbound.PSID")
	case in.Message.ID == "":
		return empty("Inbound.Message.ID")
	case in.Message.Key == "":
		return empty("Inbound.Message.Key")
	case in.Open && in.EnquiryID == "":
		return empty("Inbound.EnquiryID")
	}
	return nil
}

// RecordInbound implements store.Messages.
func (s *Store) RecordInbound(ctx context.Context, in store.Inbound) (store.InboundResult, error) {
	var r store.InboundResult
	if err := ctx.Err(); err != nil {
		return r, err
	}
	if err := checkInbound(&in); err != nil {
		return r, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	// Everything that can fail is checked before anything is written.
	ch, ok := s.channels[in.ChannelID]
	if !ok {
		return r, notFound("channel", in.ChannelID)
	}
	if ch.ServiceID != in.ServiceID {
		return r, store.Invalid("Inbound.ServiceID", fmt.Sprintf("is %q but channel %q belongs to service %q", in.ServiceID, ch.ID, ch.ServiceID))
	}
	cd := s.chans[in.ChannelID]
	if m, ok := cd.byKey[in.Message.Key]; ok {
		r.Duplicate = true
		r.Message = copyMessage(&m.m)
		if e := s.enquiries[m.m.EnquiryID]; m.m.EnquiryID != "" && e != nil {
			r.Enquiry = copyEnquiry(&e.e)
		}
		return r, nil
	}
	if _, ok := s.messages[in.Message.ID]; ok {
		return r, fmt.Errorf("memstore: message %q: %w", in.Message.ID, store.ErrDuplicate)
	}
	v := cd.visitors[in.PSID]
	var e *enquiry
	if v != nil {
		e = v.open
		if e == nil && !in.Open && len(v.enquiries) > 0 {
			e = v.enquiries[len(v.enquiries)-1]
		}
	}
	opening := e == nil && in.Open
	if opening {
		if _, ok := s.enquiries[in.EnquiryID]; ok {
			return r, fmt.Errorf("memstore: enquiry %q: %w", in.EnquiryID, store.ErrDuplicate)
		}
	}

	// Write.
	at := in.Message.CreatedAt
	if v == nil {
		v = &visitor{v: store.Visitor{ChannelID: in.ChannelID, PSID: in.PSID, FirstSeenAt: at}}
		cd.visitors[in.PSID] = v
		r.NewVisitor = true
	}
	if in.Window && at.After(v.v.LastInboundAt) {
		v.v.LastInboundAt = at
	}
	if opening {
		e = &enquiry{v: v, e: store.Enquiry{
			ID:        in.EnquiryID,
			ServiceID: in.ServiceID,
			ChannelID: in.ChannelID,
			PSID:      in.PSID,
			Status:    store.EnquiryQueued,
			OpenedAt:  at,
			Version:   1,
		}}
		if in.Window {
			e.e.LastInboundAt = at
		}
		s.enquiries[e.e.ID] = e
		v.enquiries = insertSorted(v.enquiries, e, cmpEnquiry)
		v.open = e
		si := s.services[in.ServiceID]
		if si == nil {
			si = &serviceIndex{}
			s.services[in.ServiceID] = si
		}
		si.open = insertSorted(si.open, e, cmpEnquiry)
		si.all = insertSorted(si.all, e, cmpEnquiry)
		r.NewEnquiry = true
	} else if e != nil && in.Window && at.After(e.e.LastInboundAt) {
		e.e.LastInboundAt = at
		e.e.Version++
	}

	s.seq++
	m := &message{m: in.Message, seq: s.seq}
	m.m.Attachments = slices.Clone(in.Message.Attachments)
	m.m.ChannelID = in.ChannelID
	m.m.PSID = in.PSID
	if e != nil {
		m.m.EnquiryID = e.e.ID
		e.msgs = append(e.msgs, m)
		r.Enquiry = copyEnquiry(&e.e)
	} else {
		m.m.EnquiryID = ""
		v.loose = append(v.loose, m)
	}
	s.messages[m.m.ID] = m
	cd.indexMID(m)
	cd.byKey[m.m.Key] = m
	r.Message = copyMessage(&m.m)
	return r, nil
}

// indexMID adds a new message to the mid index: messages only ever get
// newer, so an earlier holder of the mid stays.
func (cd *chanData) indexMID(m *message) {
	if m.m.MID != "" {
		if _, ok := cd.byMID[m.m.MID]; !ok {
			cd.byMID[m.m.MID] = m
		}
	}
}

// AppendOutbound implements store.Messages.
func (s *Store) AppendOutbound(ctx context.Context, m *store.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case m == nil:
		return store.Invalid("message", "is nil")
	case m.ID == "":
		return empty("Message.ID")
	case m.EnquiryID == "":
		return empty("Message.EnquiryID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.lookEnquiry(m.EnquiryID)
	if err != nil {
		return err
	}
	if _, ok := s.messages[m.ID]; ok {
		return fmt.Errorf("memstore: message %q: %w", m.ID, store.ErrDuplicate)
	}
	m.ChannelID = e.e.ChannelID
	m.PSID = e.e.PSID
	s.seq++
	stored := &message{m: *m, seq: s.seq}
	stored.m.Attachments = slices.Clone(m.Attachments)
	e.msgs = append(e.msgs, stored)
	s.messages[stored.m.ID] = stored
	s.chans[e.e.ChannelID].indexMID(stored)
	if m.CreatedAt.After(e.e.LastOutboundAt) {
		e.e.LastOutboundAt = m.CreatedAt
		e.e.Version++
	}
	return nil
}

// SetState implements store.Messages.
func (s *Store) SetState(ctx context.Context, messageID string, state store.DeliveryState, mid, errText string) error {
	if err := ready(ctx, "message id", messageID, "state", string(state)); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[messageID]
	if !ok {
		return notFound("message", messageID)
	}
	if state != store.StateSent || (m.m.State != store.StateDelivered && m.m.State != store.StateRead) {
		m.m.State = state
	}
	m.m.Error = errText
	if mid == "" || mid == m.m.MID {
		return nil
	}
	cd := s.chans[m.m.ChannelID]
	old := m.m.MID
	m.m.MID = mid
	if old != "" && cd.byMID[old] == m {
		delete(cd.byMID, old)
		s.reindexMID(cd, m.m.ChannelID, old)
	}
	if cur, ok := cd.byMID[mid]; !ok || cur.seq > m.seq {
		cd.byMID[mid] = m
	}
	return nil
}

// reindexMID finds the first recorded message on a channel that holds
// mid, after its holder was given another. Changing a message's mid is
// rare, so a scan is fine.
func (s *Store) reindexMID(cd *chanData, channelID, mid string) {
	var first *message
	for _, m := range s.messages {
		if m.m.ChannelID == channelID && m.m.MID == mid && (first == nil || m.seq < first.seq) {
			first = m
		}
	}
	if first != nil {
		cd.byMID[mid] = first
	}
}

// MessageByMID implements store.Messages.
func (s *Store) MessageByMID(ctx context.Context, channelID, mid string) (*store.Message, error) {
	if err := ready(ctx, "channel id", channelID, "mid", mid); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var m *message
	if cd := s.chans[channelID]; cd != nil {
		m = cd.byMID[mid]
	}
	if m == nil {
		return nil, notFound("message with mid", mid)
	}
	cp := copyMessage(&m.m)
	return &cp, nil
}

// stateRank orders the states a watermark moves a message through.
func stateRank(st store.DeliveryState) int {
	switch st {
	case store.StateSent:
		return 1
	case store.StateDelivered:
		return 2
	case store.StateRead:
		return 3
	}
	return 0
}

// MarkWatermark implements store.Messages.
func (s *Store) MarkWatermark(ctx context.Context, channelID, psid string, watermark time.Time, state store.DeliveryState) (int, error) {
	if err := ready(ctx, "channel id", channelID, "psid", psid); err != nil {
		return 0, err
	}
	if state != store.StateDelivered && state != store.StateRead {
		return 0, store.Invalid("state", fmt.Sprintf("is %q; a watermark marks %q or %q", state, store.StateDelivered, store.StateRead))
	}
	rank := stateRank(state)
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.visitor(channelID, psid)
	if v == nil {
		return 0, nil
	}
	n := 0
	for _, e := range v.enquiries {
		for _, m := range e.msgs {
			if m.m.Direction != store.DirectionOut || m.m.CreatedAt.After(watermark) {
				continue
			}
			if r := stateRank(m.m.State); r > 0 && r < rank {
				m.m.State = state
				n++
			}
		}
	}
	return n, nil
}

// ListMessages implements store.Messages.
func (s *Store) ListMessages(ctx context.Context, enquiryID string, opt store.ListOptions) (store.Page[store.Message], error) {
	var p store.Page[store.Message]
	if err := ctx.Err(); err != nil {
		return p, err
	}
	limit, err := limitOf(opt)
	if err != nil {
		return p, err
	}
	var after uint64
	if opt.After != "" {
		if after, err = decodeSeqCursor(opt.After); err != nil {
			return p, err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, err := s.lookEnquiry(enquiryID)
	if err != nil {
		return p, err
	}
	start, _ := slices.BinarySearchFunc(e.msgs, after, func(m *message, seq uint64) int { return cmp.Compare(m.seq, seq) })
	if start < len(e.msgs) && e.msgs[start].seq == after {
		start++
	}
	rest := e.msgs[start:]
	if len(rest) > limit {
		rest = rest[:limit]
		p.Next = encodeSeqCursor(rest[limit-1].seq)
	}
	p.Items = make([]store.Message, len(rest))
	for i, m := range rest {
		p.Items[i] = copyMessage(&m.m)
	}
	return p, nil
}
