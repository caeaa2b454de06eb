package enquiry

import (
	"context"
	"time"

	"github.com/pagedesk/pagedesk/store"
)

// NoticeKind says what a [Notice] reports.
type NoticeKind string

// What the host's staff UI hears about, live.
const (
	// NoticeOpened: a visitor's message opened a new enquiry (ENQ-1).
	NoticeOpened NoticeKind = "enquiry.opened"
	// NoticeOffered: an enquiry was offered to StaffIDs (CHAN-2).
	NoticeOffered NoticeKind = "enquiry.offered"
	// NoticeQueued: no staff member was available; the enquiry waits in the
	// queue (the away auto-reply went out if it is on).
	NoticeQueued NoticeKind = "enquiry.queued"
	// NoticeTaken: StaffID took the enquiry (ENQ-2).
	NoticeTaken NoticeKind = "enquiry.taken"
	// NoticeTransferred: the enquiry moved from FromStaffID to StaffID.
	NoticeTransferred NoticeKind = "enquiry.transferred"
	// NoticeClosed: StaffID (empty for the host or system) closed the
	// enquiry, or closed it again (Service.Close is idempotent).
	NoticeClosed NoticeKind = "enquiry.closed"
	// NoticeMessageIn: an item was recorded on a conversation: the
	// visitor's message, postback or reaction, or a Page admin's message
	// (an echo from another app). Standby items are recorded silently.
	NoticeMessageIn NoticeKind = "message.in"
	// NoticeMessageOut: a staff reply or an auto-reply was sent, failed or
	// is uncertain; Message.State says which.
	NoticeMessageOut NoticeKind = "message.out"
	// NoticeDelivery: the visitor's Messenger got the Page's messages up to
	// Watermark (State is store.StateDelivered), or read them (store.StateRead).
	NoticeDelivery NoticeKind = "message.delivery"
	// NoticeChannelDisconnected: a Graph call through the channel failed in a
	// way that means the connection lost its rights on the Page (CONN-7);
	// Reason says why.
	NoticeChannelDisconnected NoticeKind = "channel.disconnected"
)

// Notice is one thing that happened, for the host to push to its staff UI.
// It carries copies: the receiver may keep and modify them.
type Notice struct {
	Kind      NoticeKind
	ServiceID string
	ChannelID string
	At        time.Time

	Enquiry *store.Enquiry // the enquiry as stored after the change; nil for channel and delivery notices
	Message *store.Message // for NoticeMessageIn and NoticeMessageOut

	StaffID     string   // who took, closed, sent, or received a transfer
	FromStaffID string   // NoticeTransferred: who gave the enquiry away
	StaffIDs    []string // NoticeOffered: who the enquiry was offered to

	// NoticeDelivery: the visitor (PSID), the new state, the watermark and
	// how many recorded messages changed state.
	PSID      string
	State     store.DeliveryState
	Watermark time.Time
	Count     int

	// NoticeChannelDisconnected: why, in words an admin can act on.
	Reason string
}

// Notifier hears what happens, after it is stored. Notify is called
// synchronously from the call that made the change (a webhook delivery or a
// staff action), so it must return quickly: hand the notice to a queue or a
// pub/sub and return.
//
// A notice may come more than once. Notices of inbound items are at least
// once: every inbound item (NoticeMessageIn, after NoticeOpened for the
// item that opened its enquiry) is announced on each delivery of it,
// Facebook's redeliveries included, since it cannot be known whether the
// delivery that recorded it got as far as announcing it (the store's
// answer may have been lost after its commit, so the webhook answered
// non-2xx; or the process may have stopped). So no item is missed, and an
// item delivered again is announced again. Likewise [Service.Close] of an
// enquiry already closed reports NoticeClosed again, since the call that
// closed it may have failed before announcing it. Hosts that must not show
// a thing twice dedupe: an inbound item by Notice.Message.ID (the stored
// message's id, the same on every announcement), an enquiry's opening and
// closing by Notice.Enquiry.ID. A staff UI that reads the state afresh on each notice
// needs nothing more.
type Notifier interface {
	Notify(ctx context.Context, n Notice)
}

// NotifierFunc adapts a function to a Notifier.
type NotifierFunc func(ctx context.Context, n Notice)

// Notify calls f(ctx, n).
func (f NotifierFunc) Notify(ctx context.Context, n Notice) { f(ctx, n) }

// nopNotifier is the default Notifier: it hears nothing.
type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, Notice) {}
