package store

import (
	"context"
	"time"

	"github.com/pagedesk/pagedesk/autoreply"
)

// ChannelStatus is the state of a channel's connection to its Page.
type ChannelStatus string

// The channel states.
const (
	// ChannelActive: enquiries are opened, offered and answered.
	ChannelActive ChannelStatus = "active"
	// ChannelPaused: inbound messages are still recorded (nothing is lost),
	// but no offers are made and nothing is sent until the channel is resumed.
	ChannelPaused ChannelStatus = "paused"
	// ChannelDisconnected: the connection lost its rights on the Page
	// (CONN-7). Nothing is sent until the Page is connected again.
	ChannelDisconnected ChannelStatus = "disconnected"
	// ChannelDeleted: the channel was deleted. Its token is forgotten, its
	// history is kept and its Page is free to be connected again.
	ChannelDeleted ChannelStatus = "deleted"
)

// DispatchMode says how a channel's new enquiries are offered to staff (CHAN-2).
type DispatchMode string

// The dispatch modes. The zero value offers to all eligible staff at once.
const (
	DispatchAll        DispatchMode = ""            // offer to every eligible staff member at once
	DispatchRoundRobin DispatchMode = "round_robin" // offer to the next eligible staff member in turn
	DispatchLeastBusy  DispatchMode = "least_busy"  // offer to the eligible staff member with the lowest load
)

// Dispatch is where a channel's enquiries go and how they are offered.
// Exactly one of Group and StaffIDs names the target.
type Dispatch struct {
	Mode     DispatchMode
	Group    string   // a staff group, resolved by the host's staff directory
	StaffIDs []string // named staff
}

// CustomInfo is a channel's note for staff (CHAN-5), shown on every enquiry
// of the channel while On. It is never sent to visitors.
type CustomInfo struct {
	On   bool
	Text string
}

// Channel is a connected Facebook Page with its settings.
type Channel struct {
	ID        string
	ServiceID string // the tenant that owns the channel
	PageID    string
	PageName  string
	Name      string // CHAN-1: at most 40 characters (validated by package channel)

	Status ChannelStatus
	// DisconnectReason and DisconnectedAt say why and when the channel was
	// disconnected. Stores keep them empty and zero unless Status is
	// ChannelDisconnected.
	DisconnectReason string
	DisconnectedAt   time.Time

	// PageToken is the Page access token. Stores may encrypt it at rest;
	// it is never logged.
	PageToken string

	Dispatch   Dispatch
	AutoReply  autoreply.Settings
	CustomInfo CustomInfo
	// HumanAgent: the channel opted in to the HUMAN_AGENT message tag, giving
	// human staff replies 7 days instead of 24 hours.
	HumanAgent bool

	LastWebhookAt time.Time // when a webhook event for this channel last arrived
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Version increases by one with every successful write of the record.
	// UpdateChannel uses it for optimistic concurrency.
	Version int64
}

// Visitor is a person who messaged a channel's Page, known by their
// Page-scoped id (PSID).
type Visitor struct {
	ChannelID  string
	PSID       string
	FirstName  string
	LastName   string
	ProfilePic string
	// ProfileFetchedAt is when the names and picture were fetched; zero if
	// they were never fetched.
	ProfileFetchedAt time.Time
	FirstSeenAt      time.Time
	// LastInboundAt is the time of the visitor's last message: the start of
	// the 24-hour window (RULE-5).
	LastInboundAt time.Time
}

// Profile is what Facebook tells about a visitor.
type Profile struct {
	FirstName  string
	LastName   string
	ProfilePic string
}

// EnquiryStatus is where an enquiry is in its life.
type EnquiryStatus string

// The enquiry states. An enquiry is open in every state but EnquiryClosed.
const (
	EnquiryQueued  EnquiryStatus = "queued"  // waiting; nobody was offered it yet
	EnquiryOffered EnquiryStatus = "offered" // offered to some staff, not yet taken
	EnquiryTaken   EnquiryStatus = "taken"   // a staff member is serving the visitor
	EnquiryClosed  EnquiryStatus = "closed"
)

// Enquiry is one conversation between a visitor and the contact centre.
type Enquiry struct {
	ID        string
	ServiceID string
	ChannelID string
	PSID      string

	Status    EnquiryStatus
	StaffID   string   // who took it; empty until taken
	OfferedTo []string // staff it was offered to, while offered

	OpenedAt       time.Time
	TakenAt        time.Time
	ClosedAt       time.Time
	LastInboundAt  time.Time
	LastOutboundAt time.Time
	// AwaySent: the away auto-reply was sent for this enquiry (once per enquiry).
	AwaySent bool
	// Version is 1 when the enquiry is opened and increases by one with
	// every write of the record.
	Version int64
}

// Open reports whether the enquiry is not closed.
func (e *Enquiry) Open() bool { return e.Status != EnquiryClosed }

// Direction says which way a message went.
type Direction string

// The directions.
const (
	DirectionIn  Direction = "in"  // from the visitor (or, for echoes, from the Page)
	DirectionOut Direction = "out" // sent by us to the visitor
)

// Author says who wrote a message.
type Author string

// The authors.
const (
	AuthorVisitor   Author = "visitor"
	AuthorStaff     Author = "staff"
	AuthorAutoReply Author = "autoreply"
	// AuthorPageAdmin: someone answered from Facebook's own Page Inbox (or
	// another app); known to us through an echo.
	AuthorPageAdmin Author = "page_admin"
	// AuthorSystem: PageDesk itself sent it, outside any conversation with
	// staff: the channel self-test's message (CONN-8), known to us through
	// its echo. It did reach the visitor, so it stays on the transcript.
	AuthorSystem Author = "system"
)

// MessageKind says what a recorded conversation item is.
type MessageKind string

// The kinds of conversation items.
const (
	KindMessage  MessageKind = "message"  // text and/or attachments
	KindPostback MessageKind = "postback" // a button tap; Payload holds its payload
	KindReaction MessageKind = "reaction" // a reaction to the message ReplyTo
	KindEvent    MessageKind = "event"    // anything else worth keeping (referral, optin, handover, unknown)
)

// DeliveryState is what is known of an outbound message's fate.
type DeliveryState string

// The delivery states, in the order a message normally goes through them.
const (
	StatePending   DeliveryState = "pending"   // recorded, not yet handed to Facebook
	StateSent      DeliveryState = "sent"      // Facebook accepted it (has a mid)
	StateDelivered DeliveryState = "delivered" // a delivery event covered it
	StateRead      DeliveryState = "read"      // a read event covered it
	// StateUncertain: the send may or may not have reached Facebook (a
	// timeout after the request was written, a 5xx). It is never resent.
	StateUncertain DeliveryState = "uncertain"
	StateFailed    DeliveryState = "failed" // Facebook certainly refused it
	// StateReceived: an inbound item, as received.
	StateReceived DeliveryState = "received"
)

// Attachment is a file or other non-text item of a message.
type Attachment struct {
	Type         string // image, video, audio, file, sticker, location, fallback, template
	URL          string
	AttachmentID string // Facebook's reusable attachment id, if any
	Name         string
	Size         int64 // bytes, when known
}

// Message is one item of an enquiry's conversation.
type Message struct {
	ID        string
	EnquiryID string // empty only for items recorded with no enquiry to join (see Inbound.Open)
	ChannelID string
	PSID      string

	// Key is the inbound event's idempotency key; empty for outbound messages.
	Key       string
	Kind      MessageKind
	Direction Direction
	Author    Author
	StaffID   string // for AuthorStaff
	MID       string // Facebook's message id, once known

	Text        string
	Attachments []Attachment
	Payload     string // quick-reply or postback payload
	ReplyTo     string // the mid this replies or reacts to
	Reaction    string // the emoji, for KindReaction; empty means unreact

	State     DeliveryState
	Error     string // why a send failed or is uncertain; empty otherwise
	CreatedAt time.Time
}

// ListOptions asks for one page of a list. The zero value asks for the first
// page of the store's default size.
type ListOptions struct {
	// After is the cursor returned as Page.Next by the previous call; empty
	// for the first page. Cursors are opaque and belong to the list that
	// returned them. A cursor names the last item returned (not an
	// offset), so a list read page by page while records are added or
	// changed never repeats an item, nor skips one that stayed in the list
	// throughout. A malformed cursor gets ErrInvalid.
	After string
	// Limit is the most items to return; 0 means the store's default (50),
	// and stores may cap it (at least 100 must be allowed). A negative
	// Limit gets ErrInvalid.
	Limit int
}

// Page is one page of a list. Where a list's order is by a time and then
// an ID, IDs are compared byte by byte (as Go compares strings; in SQL,
// COLLATE "C"), whatever the database's locale.
//
// Next is set exactly when more items followed the page at the time of the
// call, so it is empty on the last page; a page with a Next is full (Limit
// items, or the store's default or cap).
type Page[T any] struct {
	Items []T
	Next  string
}

// Inbound is an inbound conversation item to record (see Messages.RecordInbound).
// ServiceID, ChannelID, PSID, Message.ID and Message.Key are required, and
// EnquiryID when Open is set; a missing one gets ErrInvalid.
type Inbound struct {
	// ServiceID must be the channel's service (ErrInvalid otherwise).
	ServiceID string
	// ChannelID names a channel that exists (ErrNotFound otherwise).
	ChannelID string
	PSID      string
	// Message is the item to record. Its ID and Key must be set; its
	// Direction, Author, CreatedAt and the rest are set by the caller and
	// stored as given, except EnquiryID, ChannelID and PSID, which the store
	// fills in. CreatedAt is the visitor's first-seen time if they are new
	// and the enquiry's OpenedAt if one is opened.
	Message Message
	// EnquiryID is the id to give the enquiry if one is opened; an id in
	// use gets ErrDuplicate.
	EnquiryID string
	// Open: if the visitor has no open enquiry on the channel, open one.
	// When false and there is none, the message joins the visitor's most
	// recent enquiry, or no enquiry at all if they never had one.
	Open bool
	// Window: the item is a message from the visitor, so it moves the
	// visitor's LastInboundAt (and the enquiry's) forward to Message.CreatedAt.
	// An earlier time never moves it back.
	Window bool
}

// InboundResult is what RecordInbound did.
type InboundResult struct {
	// Duplicate: an item with the same Key was already recorded on the
	// channel; nothing was written, and Message and Enquiry are the stored
	// ones (the enquiry as it is now, closed or not).
	Duplicate bool
	Message   Message
	Enquiry   Enquiry // zero if the message joined no enquiry
	// NewEnquiry: this call opened Enquiry.
	NewEnquiry bool
	// NewVisitor: this is the visitor's first recorded item on the channel.
	NewVisitor bool
}

// Channels stores channels.
//
// Promise (CONN-6): among all services, at most one channel that is not
// deleted holds a given Page, however many processes create channels at
// once. Paused and disconnected channels keep their Page; deleting a
// channel frees it.
type Channels interface {
	// CreateChannel stores a new channel. The caller sets every field but
	// Version (set to 1) and the status, which must be active or empty
	// (stored as active; any other gets ErrInvalid); the disconnection
	// fields are cleared. ID, ServiceID and PageID are required. It fails
	// with ErrDuplicate if c.ID exists (deleted channels included), and
	// ErrPageTaken if a channel that is not deleted holds c.PageID (even of
	// the same service). On success c is updated with what was stored.
	CreateChannel(ctx context.Context, c *Channel) error
	// Channel returns a channel by id, deleted ones included, or ErrNotFound.
	Channel(ctx context.Context, id string) (*Channel, error)
	// ChannelByPage returns the channel that is not deleted holding a Page,
	// or ErrNotFound.
	ChannelByPage(ctx context.Context, pageID string) (*Channel, error)
	// UpdateChannel replaces a channel's settings and status if c.Version is
	// the stored version, and increments the version; on success c is
	// updated with what was stored. A stale version (older or newer) gets
	// ErrConflict and nothing is written. It writes Name, PageName, Status,
	// the disconnection fields, PageToken, Dispatch, AutoReply, CustomInfo,
	// HumanAgent and UpdatedAt; ServiceID, PageID, CreatedAt and
	// LastWebhookAt keep their stored values whatever c says. Status must
	// be active, paused or disconnected (ErrInvalid otherwise: delete with
	// SetChannelStatus). A deleted or unknown channel gets ErrNotFound.
	UpdateChannel(ctx context.Context, c *Channel) error
	// SetChannelStatus changes a channel's status without a version check
	// (a disconnection must not be lost to a concurrent settings edit) and
	// increments the version, so that an edit read before the change gets
	// ErrConflict. reason and at are recorded for ChannelDisconnected and
	// cleared otherwise; UpdatedAt becomes at unless at is zero. Setting
	// ChannelDeleted also forgets the token and frees the Page. It returns
	// the stored channel. An unknown status gets ErrInvalid; a deleted or
	// unknown channel gets ErrNotFound (a deleted channel stays deleted).
	SetChannelStatus(ctx context.Context, id string, status ChannelStatus, reason string, at time.Time) (*Channel, error)
	// ListChannels lists a service's channels that are not deleted, oldest
	// first (by CreatedAt, then ID). An unknown service has no channels.
	ListChannels(ctx context.Context, serviceID string, opt ListOptions) (Page[Channel], error)
	// TouchWebhook records that a webhook for the channel arrived at t. It
	// never moves the time back and does not change the version (so it
	// never makes a settings edit stale). ErrNotFound if there is no such
	// channel.
	TouchWebhook(ctx context.Context, channelID string, t time.Time) error
	// NextTurn returns the next value of the channel's round-robin counter:
	// 0, 1, 2, ... , atomically across all processes sharing the store: of
	// n concurrent calls on a fresh channel, each gets one of 0..n-1.
	// ErrNotFound if there is no such channel.
	NextTurn(ctx context.Context, channelID string) (int64, error)
}

// Visitors stores what is known of visitors. A visitor is recorded by the
// first item RecordInbound records from them on a channel.
type Visitors interface {
	// Visitor returns a visitor or ErrNotFound.
	Visitor(ctx context.Context, channelID, psid string) (*Visitor, error)
	// SetProfile stores a visitor's names and picture, fetched at t.
	// ErrNotFound if the visitor was never recorded.
	SetProfile(ctx context.Context, channelID, psid string, p Profile, t time.Time) error
	// ForgetVisitor anonymises every trace of a PSID on every channel: names,
	// picture and ProfileFetchedAt are cleared, and the texts, payloads,
	// reactions and attachments of every message of their conversations
	// (theirs and the replies to them, with or without an enquiry) are
	// erased. The records themselves stay, so counts and states still add
	// up. It returns how many visitors (one per channel) it touched.
	ForgetVisitor(ctx context.Context, psid string) (int, error)
}

// Enquiries stores enquiries and their life. Enquiries are opened by
// Messages.RecordInbound.
//
// Promise: at most one open enquiry per (channel, visitor), whatever the
// number of processes recording at once. Take is a compare-and-set. Every
// method that changes an enquiry increments its Version and returns it as
// stored; a method that fails writes nothing.
type Enquiries interface {
	// Enquiry returns an enquiry by id, or ErrNotFound.
	Enquiry(ctx context.Context, id string) (*Enquiry, error)
	// OpenEnquiry returns the visitor's open enquiry on a channel, or ErrNotFound.
	OpenEnquiry(ctx context.Context, channelID, psid string) (*Enquiry, error)
	// ListEnquiries lists a service's enquiries in a status, oldest opened
	// first (by OpenedAt, then ID). An empty status lists every open
	// enquiry; an unknown one gets ErrInvalid.
	ListEnquiries(ctx context.Context, serviceID string, status EnquiryStatus, opt ListOptions) (Page[Enquiry], error)
	// VisitorEnquiries lists a visitor's enquiries on a channel, newest
	// first (by OpenedAt, then ID, both descending). An unknown visitor has
	// none.
	VisitorEnquiries(ctx context.Context, channelID, psid string, opt ListOptions) (Page[Enquiry], error)
	// Offer records that a queued or offered enquiry was offered to staff:
	// its status becomes offered and OfferedTo becomes staffIDs (replacing
	// an earlier offer). staffIDs must hold at least one id and no empty
	// one (ErrInvalid). ErrClosed if it is closed; ErrAlreadyTaken (a
	// *TakenError) if taken.
	Offer(ctx context.Context, id string, staffIDs []string) (*Enquiry, error)
	// Take gives an open enquiry that is not taken to staffID at t: status
	// taken, StaffID, TakenAt = t, OfferedTo cleared. Exactly one of any
	// number of concurrent takes wins; the others get a *TakenError
	// (errors.Is ErrAlreadyTaken) naming the winner, even the winner
	// taking again. A closed enquiry gets ErrClosed. If limit > 0 and the
	// service already has limit enquiries taken, it fails with ErrLimit;
	// the count and the take are one atomic step across all processes
	// (RULE-4), so concurrent takes of different enquiries never exceed
	// the limit. limit <= 0 means no limit.
	Take(ctx context.Context, id, staffID string, limit int, t time.Time) (*Enquiry, error)
	// Transfer moves a taken enquiry from one staff member to another,
	// keeping TakenAt. It fails with ErrConflict if from does not hold it
	// (someone else does, or nobody took it), ErrClosed if closed.
	Transfer(ctx context.Context, id, from, to string) (*Enquiry, error)
	// Close closes an open enquiry at t: status closed, ClosedAt = t,
	// OfferedTo cleared, StaffID and TakenAt kept. The visitor's next item
	// recorded with Inbound.Open opens a new enquiry. A closed one gets
	// ErrClosed.
	Close(ctx context.Context, id string, t time.Time) (*Enquiry, error)
	// MarkAwaySent sets AwaySent and reports whether this call set it (false
	// if it was already set), so that the away reply goes out once: of any
	// number of concurrent calls, exactly one gets true.
	MarkAwaySent(ctx context.Context, id string) (bool, error)
	// CountTaken returns how many of a service's enquiries are taken (open
	// and held by staff; queued, offered and closed ones are not counted).
	CountTaken(ctx context.Context, serviceID string) (int, error)
}

// Messages stores the conversation.
//
// Promise: an inbound item is recorded at most once by its Key, and
// recording it is atomic (see RecordInbound).
type Messages interface {
	// RecordInbound records an inbound item in one atomic step: dedup by
	// in.Message.Key (per channel), create the visitor if new, find or open
	// (if in.Open) the visitor's enquiry, append the message, and move the
	// visitor's and enquiry's LastInboundAt (if in.Window). All or nothing:
	// a call that fails (ErrInvalid, ErrNotFound for the channel,
	// ErrDuplicate for a message or enquiry id in use, a cancelled ctx, a
	// broken connection) writes nothing, not even the visitor or the key.
	//
	// The item joins the visitor's open enquiry if there is one. If not, and
	// in.Open is set, it opens enquiry in.EnquiryID (queued, Version 1,
	// OpenedAt = Message.CreatedAt); if not set, it joins the visitor's most
	// recently opened enquiry (closed), or none if they never had one.
	// Of any number of concurrent first items from a visitor, exactly one
	// opens the enquiry and the others join it; of any number of concurrent
	// calls with one Key, exactly one records it and the others get
	// Duplicate. LastInboundAt never moves back.
	RecordInbound(ctx context.Context, in Inbound) (InboundResult, error)
	// AppendOutbound records an outbound message (staff or auto-reply) on
	// m.EnquiryID, usually StatePending before it is sent, and moves the
	// enquiry's LastOutboundAt forward to m.CreatedAt (never back). It may
	// be closed (the close auto-reply). m.ID and m.EnquiryID are required;
	// m.ChannelID and m.PSID are filled in from the enquiry, and m is
	// updated with them. ErrNotFound if the enquiry does not exist,
	// ErrDuplicate if a message has m.ID. Outbound messages are not
	// deduplicated by Key.
	AppendOutbound(ctx context.Context, m *Message) error
	// SetState records what became of an outbound message: its state (not
	// empty), the mid Facebook gave it (an empty mid keeps the stored one)
	// and the error text (replacing the stored one, so empty clears it).
	// StateSent never moves a message back from StateDelivered or
	// StateRead: an echo or a slow send result may arrive after the
	// delivery or read event that covered the message. ErrNotFound if there
	// is no such message.
	SetState(ctx context.Context, messageID string, state DeliveryState, mid, errText string) error
	// MessageByMID returns the message with Facebook's mid on a channel, or
	// ErrNotFound. Mids are not unique in the store (an echo may be
	// recorded before the send's mid is); if several messages on the
	// channel have the mid, the first recorded is returned.
	MessageByMID(ctx context.Context, channelID, mid string) (*Message, error)
	// MarkWatermark moves every outbound message to psid on the channel
	// created at or before watermark, and in StateSent or StateDelivered,
	// to state (StateDelivered or StateRead; another gets ErrInvalid),
	// never backwards (read stays read). Pending, uncertain and failed
	// messages are left alone: a watermark says nothing of a send that
	// may not have reached Facebook. It returns how many changed.
	MarkWatermark(ctx context.Context, channelID, psid string, watermark time.Time, state DeliveryState) (int, error)
	// ListMessages lists an enquiry's messages, inbound and outbound, in the
	// order they were recorded (not by CreatedAt). ErrNotFound if there is
	// no such enquiry.
	ListMessages(ctx context.Context, enquiryID string, opt ListOptions) (Page[Message], error)
}

// Store is everything the channel and enquiry services need from storage.
// memstore and sqlstore implement it; storetest checks any implementation.
//
// Every method of every store honours these rules, besides those written
// on the method:
//   - A cancelled or expired ctx gets an error matching ctx.Err() with
//     errors.Is, and nothing is written.
//   - An empty id argument (and an empty required field of a record
//     given) gets an error matching ErrInvalid that names it.
//   - Errors match the sentinels of this package with errors.Is; a
//     driver's error is wrapped, never returned bare.
//   - Records are copied in and out: changing what a call returned, or
//     what it was given after it returned, never changes the store.
//   - The store does not enforce product rules (name lengths, text
//     lengths), but stores whatever it is given intact.
//   - Times are kept to the microsecond at least; their location is not
//     kept (compare with time.Time.Equal).
type Store interface {
	Channels
	Visitors
	Enquiries
	Messages
}
