package messenger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// EventKind says what a webhook [Event] reports.
type EventKind string

// The kinds of [Event]. A messaging item that carries none of the fields
// PageDesk knows is [KindUnknown]: it is delivered with its raw JSON, never
// dropped, so that new Facebook features reach the host before this package
// learns about them.
const (
	KindMessage  EventKind = "message"  // a visitor's message (messages)
	KindEcho     EventKind = "echo"     // a message the Page sent, echoed back (message_echoes)
	KindDelivery EventKind = "delivery" // the Page's messages were delivered (message_deliveries)
	KindRead     EventKind = "read"     // the visitor read the Page's messages (message_reads)
	KindReaction EventKind = "reaction" // a reaction to a message was added or removed (message_reactions)
	KindPostback EventKind = "postback" // a button, Get Started or menu item was tapped (messaging_postbacks)
	KindReferral EventKind = "referral" // the visitor came from a link, ad or plugin (messaging_referrals)
	KindOptin    EventKind = "optin"    // the visitor opted in to messages (messaging_optins)
	KindHandover EventKind = "handover" // thread control passed, taken or requested (messaging_handovers)
	KindUnknown  EventKind = "unknown"  // a messaging item of a type this package does not model
)

// Event is one item of a webhook delivery: one element of an entry's
// messaging array, or of its standby array (then Standby is true).
//
// The pointer of the event's kind is set (Message for both KindMessage and
// KindEcho); a message from an ad or a shop may carry Referral too.
// KindUnknown sets none of them: Raw holds the item.
type Event struct {
	Kind        EventKind
	PageID      string    // the entry's id: the Page the webhook is about
	SenderID    string    // sender.id: the visitor's PSID, or the Page's id for echoes
	RecipientID string    // recipient.id
	Time        time.Time // the item's timestamp (milliseconds), or the entry's time if it has none; UTC
	// Standby is true for items of entry[].standby[]: the thread is owned by
	// another app (Handover Protocol) and this app only observes it.
	Standby bool

	Message  *EventMessage // KindMessage and KindEcho
	Delivery *Delivery
	Read     *Read
	Reaction *Reaction
	Postback *Postback
	Referral *Referral // KindReferral, or alongside a message that came from an ad
	Optin    *Optin
	Handover *Handover

	// Raw is the item's exact JSON as Facebook sent it (the body bytes that
	// the signature covered). It is set for every parsed event.
	Raw []byte
}

// EventMessage is a visitor's message, or an echo of one the Page sent.
type EventMessage struct {
	MID               string
	Text              string
	Attachments       []EventAttachment
	QuickReplyPayload string // the payload of the quick reply the visitor tapped
	ReplyTo           string // the mid this message replies to
	IsEcho            bool   // true for KindEcho
	AppID             string // echoes: the app that sent the message (empty for the Page inbox)
	Metadata          string // echoes: the metadata the sending app attached
}

// EventAttachment is one attachment of an [EventMessage].
type EventAttachment struct {
	// Type is image, video, audio, file, sticker, location, fallback,
	// template, or any newer type Facebook sends.
	Type      string
	URL       string // payload.url for media, or the attachment's url (fallback, location)
	Title     string
	StickerID string  // payload.sticker_id for stickers (and "likes")
	Lat, Long float64 // payload.coordinates for location
	// Payload is the attachment's raw payload JSON (templates, products and
	// anything not modelled above); nil when there is none.
	Payload []byte
}

// Delivery reports that messages the Page sent were delivered.
type Delivery struct {
	MIDs      []string  // may be empty: everything before Watermark was delivered
	Watermark time.Time // every message sent before this time was delivered
}

// Read reports that the visitor read the Page's messages.
type Read struct {
	Watermark time.Time // every message sent before this time was read
}

// Reaction reports a reaction added to or removed from a message.
type Reaction struct {
	MID      string // the message reacted to
	Action   string // "react" or "unreact"
	Emoji    string // the emoji, e.g. "❤"; may be empty for unreact
	Reaction string // Facebook's name for it: smile, angry, sad, wow, love, like, dislike, other
}

// Postback reports a tap on a postback button, Get Started, or a persistent
// menu item.
type Postback struct {
	Title    string
	Payload  string
	MID      string
	Referral *Referral // set when the postback came through a referral (e.g. Get Started from an m.me link)
}

// Referral reports where a visitor came from: an m.me link, an ad, a
// Messenger code, the chat plugin...
type Referral struct {
	Ref        string // the ref parameter of the link or plugin
	Source     string // e.g. SHORTLINK, ADS, MESSENGER_CODE, CUSTOMER_CHAT_PLUGIN
	Type       string // e.g. OPEN_THREAD
	AdID       string
	RefererURI string
}

// Optin reports that a visitor opted in: the Send to Messenger or checkbox
// plugin, or a request for recurring or one-time notifications.
type Optin struct {
	Ref     string
	UserRef string // the checkbox plugin's user_ref (from the optin or the sender)
	Type    string // e.g. notification_messages, one_time_notif_req
	Payload string
	// Token is the notification_messages_token or one_time_notif_token to
	// send with; treat it as a credential.
	Token       string
	Frequency   string    // notification_messages_frequency
	Timezone    string    // notification_messages_timezone
	Status      string    // notification_messages_status, e.g. "STOP NOTIFICATIONS"
	TokenExpiry time.Time // token_expiry_timestamp; zero when absent
}

// HandoverAction says what a [Handover] event reports.
type HandoverAction string

// Handover Protocol actions.
const (
	HandoverPass     HandoverAction = "pass"      // pass_thread_control: this app received control
	HandoverTake     HandoverAction = "take"      // take_thread_control: control was taken from this app
	HandoverRequest  HandoverAction = "request"   // request_thread_control: another app asks for control
	HandoverAppRoles HandoverAction = "app_roles" // app_roles: the app's roles on the Page changed
)

// Handover reports a change of thread control under the Handover Protocol.
type Handover struct {
	Action              HandoverAction
	NewOwnerAppID       string              // pass
	PreviousOwnerAppID  string              // take
	RequestedOwnerAppID string              // request
	Metadata            string              // pass, take, request
	AppRoles            map[string][]string // app_roles: app id -> roles
}

// Key returns a stable idempotency key for the event, the same for every
// redelivery of it, so that a store can process each event once:
//
//   - message, echo: Page, sender and mid;
//   - reaction: Page, sender, mid, action, emoji (or reaction name) and
//     timestamp, so react, unreact and react-again are three events;
//   - postback: Page, sender, mid, payload and timestamp (a postback's mid
//     can repeat);
//   - delivery, read: Page, sender and watermark;
//   - anything else (and items lacking the fields above): Page, sender and
//     a SHA-256 of the raw item.
//
// The kind leads the key, so keys of different kinds never collide.
func (e *Event) Key() string {
	var b strings.Builder
	b.Grow(96)
	b.WriteString(string(e.Kind))
	b.WriteByte(':')
	b.WriteString(e.PageID)
	b.WriteByte(':')
	b.WriteString(e.SenderID)
	b.WriteByte(':')
	switch {
	case (e.Kind == KindMessage || e.Kind == KindEcho) && e.Message != nil && e.Message.MID != "":
		b.WriteString(e.Message.MID)
	case e.Kind == KindReaction && e.Reaction != nil && e.Reaction.MID != "":
		r := e.Reaction
		emoji := r.Emoji
		if emoji == "" {
			emoji = r.Reaction
		}
		b.WriteString(r.MID)
		b.WriteByte(':')
		b.WriteString(r.Action)
		b.WriteByte(':')
		b.WriteString(emoji)
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(e.Time.UnixMilli(), 10))
	case e.Kind == KindPostback && e.Postback != nil:
		b.WriteString(e.Postback.MID)
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(e.Time.UnixMilli(), 10))
		b.WriteByte(':')
		b.WriteString(e.Postback.Payload)
	case e.Kind == KindDelivery && e.Delivery != nil && !e.Delivery.Watermark.IsZero():
		b.WriteString(strconv.FormatInt(e.Delivery.Watermark.UnixMilli(), 10))
	case e.Kind == KindRead && e.Read != nil && !e.Read.Watermark.IsZero():
		b.WriteString(strconv.FormatInt(e.Read.Watermark.UnixMilli(), 10))
	default:
		sum := sha256.Sum256(e.Raw)
		var h [32]byte
		hex.Encode(h[:], sum[:16])
		b.WriteString("sha256-")
		b.Write(h[:])
	}
	return b.String()
}

// Handler receives the verified, parsed events of one webhook delivery.
//
// HandleEvents must return nil only once every event is safely processed
// (stored, queued): the webhook then answers 200 and Facebook forgets the
// delivery. Any error answers 500, and Facebook delivers the same events
// again later, so the handler must be idempotent: use [Event.Key].
// ctx ends before Facebook stops waiting for the answer.
type Handler interface {
	HandleEvents(ctx context.Context, events []Event) error
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, events []Event) error

// HandleEvents calls f(ctx, events).
func (f HandlerFunc) HandleEvents(ctx context.Context, events []Event) error {
	return f(ctx, events)
}
