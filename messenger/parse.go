package messenger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Errors of [ParseWebhook], matched with errors.Is.
var (
	// ErrMalformedBody means the delivery is not a JSON object (empty,
	// truncated, or not JSON at all). The webhook answers 400.
	ErrMalformedBody = errors.New("messenger: malformed webhook body")

	// ErrUnsupportedObject means the delivery's "object" is not "page" (for
	// example "instagram" or "user" when the app subscribes to those too).
	// Such deliveries carry no Messenger events; the webhook answers 200 and
	// logs them so that Facebook does not redeliver them forever.
	ErrUnsupportedObject = errors.New(`messenger: webhook object is not "page"`)
)

// decodeOptions make the decoder lenient where a strict one would refuse a
// body that Facebook signed: refusing a signed delivery makes Facebook
// redeliver it until it gives up, losing every event in it. A duplicate
// member name keeps its last value (as encoding/json does); invalid UTF-8 in
// a string becomes U+FFFD. Syntax errors are still errors.
var decodeOptions = []jsontext.Options{
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
}

// ParseWebhook parses the body of a webhook delivery into events: one per
// item of entry[].messaging[] and entry[].standby[], in order.
//
// It does not check the signature: call [VerifySignature] on the same bytes
// first. The events do not share memory with body.
//
// Parsing is strict about syntax: a body that is not one complete JSON
// object fails with [ErrMalformedBody]. It is lenient about everything else,
// because the body was signed by Facebook and refusing it would only make
// Facebook redeliver it until it gives up, losing every event in it:
//   - a duplicate member name keeps its last value;
//   - invalid UTF-8 in a string becomes U+FFFD (Raw keeps the exact bytes);
//   - a field of an unexpected type is left empty, ids sent as numbers keep
//     their digits, and a time beyond int64 milliseconds is left zero;
//   - an item of a type this package does not know becomes a [KindUnknown]
//     event with its Raw JSON.
//
// A body whose object is not "page" fails with [ErrUnsupportedObject]. An
// entry with no messaging or standby items adds no events, so a delivery
// can have none.
func ParseWebhook(body []byte) ([]Event, error) {
	return parseWebhook(bytes.Clone(body))
}

// parseWebhook is ParseWebhook on a body the caller gives away: the events'
// Raw fields alias it.
func parseWebhook(body []byte) ([]Event, error) {
	p := parserPool.Get().(*parser)
	events, err := p.parse(body)
	p.release()
	parserPool.Put(p)
	return events, err
}

var senderName = []byte(`"sender"`)

var parserPool = sync.Pool{New: func() any { return new(parser) }}

// parser walks a delivery token by token with a jsontext.Decoder: no
// reflection, one allocation per string kept, and the exact byte range of
// each item for Event.Raw. Errors are sticky: after the first, every method
// is a no-op, and parse reports it.
type parser struct {
	dec    jsontext.Decoder
	src    bytes.Buffer
	body   []byte
	err    error
	events []Event
	ids    [4]string // recently seen ids: Page, sender and recipient repeat across a batch
	nextID int
}

func (p *parser) release() {
	p.src = bytes.Buffer{}
	p.dec.Reset(&p.src) // drop the decoder's reference to the body
	p.body, p.err, p.events = nil, nil, nil
	p.ids = [4]string{}
}

// reset points the parser at body, which it reads in place.
func (p *parser) reset(body []byte) {
	p.body = body
	p.src = *bytes.NewBuffer(body)
	p.dec.Reset(&p.src, decodeOptions...)
}

// end fails unless the top-level value was the whole input.
func (p *parser) end() {
	if p.err == nil {
		if _, err := p.dec.ReadToken(); err != io.EOF {
			p.fail(errors.New("data after the top-level value"))
		}
	}
}

func (p *parser) parse(body []byte) ([]Event, error) {
	p.reset(body)
	// Nearly every item has a sender: size the events once rather than
	// growing them through a batch. A count too high or low costs nothing
	// but memory or an append.
	if n := bytes.Count(body, senderName); n > 0 {
		p.events = make([]Event, 0, n)
	}

	if p.dec.PeekKind() != '{' {
		if t := p.token(); p.err == nil {
			p.fail(fmt.Errorf("the body is a JSON %v, not an object", t.Kind()))
		}
		return nil, p.malformed()
	}
	p.token()
	isPage, object := false, ""
	for p.more() {
		switch p.token().String() {
		case "object":
			isPage, object = p.object()
		case "entry":
			p.entries()
		default:
			p.skip()
		}
	}
	p.end()
	if p.err != nil {
		return nil, p.malformed()
	}
	if !isPage {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedObject, object)
	}
	return p.events, nil
}

func (p *parser) malformed() error {
	err := p.err
	if err == io.EOF {
		if p.dec.InputOffset() == 0 {
			return fmt.Errorf("%w: the body is empty", ErrMalformedBody)
		}
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %w", ErrMalformedBody, err)
}

// object reads the value of "object".
func (p *parser) object() (isPage bool, object string) {
	if p.err != nil {
		return false, ""
	}
	if p.dec.PeekKind() != '"' {
		p.skip()
		return false, "(not a string)"
	}
	s := p.token().String()
	if s == "page" {
		return true, ""
	}
	return false, strings.Clone(truncate(s, 64))
}

func (p *parser) entries() {
	if !p.array() {
		return
	}
	for p.more() {
		p.entry()
	}
}

func (p *parser) entry() {
	if !p.open() {
		return
	}
	first := len(p.events)
	var pageID string
	var at time.Time
	for p.more() {
		switch p.token().String() {
		case "id":
			pageID = p.id()
		case "time":
			at = p.millis()
		case "messaging":
			p.items(false)
		case "standby":
			p.items(true)
		default:
			p.skip()
		}
	}
	// "id" and "time" may come after the items.
	for i := first; i < len(p.events); i++ {
		e := &p.events[i]
		e.PageID = pageID
		if e.Time.IsZero() {
			e.Time = at
		}
	}
}

func (p *parser) items(standby bool) {
	if !p.array() {
		return
	}
	for p.more() {
		p.item(standby)
	}
}

func (p *parser) item(standby bool) {
	p.events = append(p.events, Event{Standby: standby})
	e := &p.events[len(p.events)-1]
	if p.dec.PeekKind() != '{' {
		e.Kind = KindUnknown
		e.Raw = p.value()
		return
	}
	p.token()
	start := p.dec.InputOffset() - 1
	var userRef string
	for p.more() {
		switch p.token().String() {
		case "sender":
			e.SenderID, userRef = p.party()
		case "recipient":
			e.RecipientID, _ = p.party()
		case "timestamp":
			e.Time = p.millis()
		case "message":
			e.Message = p.message()
		case "delivery":
			e.Delivery = p.delivery()
		case "read":
			if p.open() {
				e.Read = new(Read)
				for p.more() {
					switch p.token().String() {
					case "watermark":
						e.Read.Watermark = p.millis()
					default:
						p.skip()
					}
				}
			}
		case "reaction":
			e.Reaction = p.reaction()
		case "postback":
			e.Postback = p.postback()
		case "referral":
			e.Referral = p.referral()
		case "optin":
			e.Optin = p.optin()
		case "pass_thread_control":
			e.Handover = p.handover(HandoverPass)
		case "take_thread_control":
			e.Handover = p.handover(HandoverTake)
		case "request_thread_control":
			e.Handover = p.handover(HandoverRequest)
		case "app_roles":
			e.Handover = p.appRoles()
		default:
			p.skip()
		}
	}
	if p.err != nil {
		return
	}
	end := p.dec.InputOffset()
	e.Raw = p.body[start:end:end]
	e.Kind = kindOf(e)
	if e.Optin != nil && e.Optin.UserRef == "" {
		e.Optin.UserRef = userRef // the checkbox plugin names the visitor by user_ref
	}
}

func kindOf(e *Event) EventKind {
	switch {
	case e.Message != nil && e.Message.IsEcho:
		return KindEcho
	case e.Message != nil:
		return KindMessage
	case e.Postback != nil:
		return KindPostback
	case e.Reaction != nil:
		return KindReaction
	case e.Delivery != nil:
		return KindDelivery
	case e.Read != nil:
		return KindRead
	case e.Optin != nil:
		return KindOptin
	case e.Handover != nil:
		return KindHandover
	case e.Referral != nil:
		return KindReferral
	}
	return KindUnknown
}

// party reads a sender or recipient: {"id": ...} or {"user_ref": ...}.
func (p *parser) party() (id, userRef string) {
	if !p.open() {
		return "", ""
	}
	for p.more() {
		switch p.token().String() {
		case "id":
			id = p.id()
		case "user_ref":
			userRef = p.str()
		default:
			p.skip()
		}
	}
	return id, userRef
}

func (p *parser) message() *EventMessage {
	if !p.open() {
		return nil
	}
	m := new(EventMessage)
	for p.more() {
		switch p.token().String() {
		case "mid":
			m.MID = p.str()
		case "text":
			m.Text = p.str()
		case "is_echo":
			m.IsEcho = p.boolean()
		case "app_id":
			m.AppID = p.str()
		case "metadata":
			m.Metadata = p.str()
		case "quick_reply":
			m.QuickReplyPayload = p.member("payload")
		case "reply_to":
			m.ReplyTo = p.member("mid")
		case "attachments":
			if p.array() {
				for p.more() {
					m.Attachments = p.attachment(m.Attachments)
				}
			}
		default:
			p.skip()
		}
	}
	return m
}

func (p *parser) attachment(list []EventAttachment) []EventAttachment {
	if !p.open() {
		return list
	}
	var a EventAttachment
	var url string
	for p.more() {
		switch p.token().String() {
		case "type":
			a.Type = p.str()
		case "title":
			a.Title = p.str()
		case "url":
			url = p.str()
		case "payload":
			p.attachmentPayload(&a)
		default:
			p.skip()
		}
	}
	if a.URL == "" {
		a.URL = url
	}
	return append(list, a)
}

func (p *parser) attachmentPayload(a *EventAttachment) {
	switch p.dec.PeekKind() {
	case '{':
	case 'n':
		p.skip()
		return
	default:
		a.Payload = p.value()
		return
	}
	p.token()
	start := p.dec.InputOffset() - 1
	for p.more() {
		switch p.token().String() {
		case "url":
			a.URL = p.str()
		case "sticker_id":
			a.StickerID = p.str()
		case "title":
			if t := p.str(); a.Title == "" {
				a.Title = t
			}
		case "coordinates":
			if p.open() {
				for p.more() {
					switch p.token().String() {
					case "lat":
						a.Lat = p.float()
					case "long":
						a.Long = p.float()
					default:
						p.skip()
					}
				}
			}
		default:
			p.skip()
		}
	}
	if p.err == nil {
		end := p.dec.InputOffset()
		a.Payload = p.body[start:end:end]
	}
}

func (p *parser) delivery() *Delivery {
	if !p.open() {
		return nil
	}
	d := new(Delivery)
	for p.more() {
		switch p.token().String() {
		case "mids":
			if p.array() {
				for p.more() {
					if mid := p.str(); mid != "" {
						d.MIDs = append(d.MIDs, mid)
					}
				}
			}
		case "watermark":
			d.Watermark = p.millis()
		default:
			p.skip()
		}
	}
	return d
}

func (p *parser) reaction() *Reaction {
	if !p.open() {
		return nil
	}
	r := new(Reaction)
	for p.more() {
		switch p.token().String() {
		case "mid":
			r.MID = p.str()
		case "action":
			r.Action = p.str()
		case "emoji":
			r.Emoji = p.str()
		case "reaction":
			r.Reaction = p.str()
		default:
			p.skip()
		}
	}
	return r
}

func (p *parser) postback() *Postback {
	if !p.open() {
		return nil
	}
	b := new(Postback)
	for p.more() {
		switch p.token().String() {
		case "title":
			b.Title = p.str()
		case "payload":
			b.Payload = p.str()
		case "mid":
			b.MID = p.str()
		case "referral":
			b.Referral = p.referral()
		default:
			p.skip()
		}
	}
	return b
}

func (p *parser) referral() *Referral {
	if !p.open() {
		return nil
	}
	r := new(Referral)
	for p.more() {
		switch p.token().String() {
		case "ref":
			r.Ref = p.str()
		case "source":
			r.Source = p.str()
		case "type":
			r.Type = p.str()
		case "ad_id":
			r.AdID = p.str()
		case "referer_uri":
			r.RefererURI = p.str()
		default:
			p.skip()
		}
	}
	return r
}

func (p *parser) optin() *Optin {
	if !p.open() {
		return nil
	}
	o := new(Optin)
	for p.more() {
		switch p.token().String() {
		case "ref":
			o.Ref = p.str()
		case "user_ref":
			o.UserRef = p.str()
		case "type":
			o.Type = p.str()
		case "payload":
			o.Payload = p.str()
		case "notification_messages_token", "one_time_notif_token":
			o.Token = p.str()
		case "notification_messages_frequency":
			o.Frequency = p.str()
		case "notification_messages_timezone":
			o.Timezone = p.str()
		case "notification_messages_status":
			o.Status = p.str()
		case "token_expiry_timestamp":
			o.TokenExpiry = p.millis()
		default:
			p.skip()
		}
	}
	return o
}

func (p *parser) handover(action HandoverAction) *Handover {
	if !p.open() {
		return nil
	}
	h := &Handover{Action: action}
	for p.more() {
		switch p.token().String() {
		case "new_owner_app_id":
			h.NewOwnerAppID = p.str()
		case "previous_owner_app_id":
			h.PreviousOwnerAppID = p.str()
		case "requested_owner_app_id":
			h.RequestedOwnerAppID = p.str()
		case "metadata":
			h.Metadata = p.str()
		default:
			p.skip()
		}
	}
	return h
}

func (p *parser) appRoles() *Handover {
	if !p.open() {
		return nil
	}
	h := &Handover{Action: HandoverAppRoles, AppRoles: map[string][]string{}}
	for p.more() {
		app := strings.Clone(p.token().String())
		var roles []string
		if p.array() {
			for p.more() {
				if r := p.str(); r != "" {
					roles = append(roles, r)
				}
			}
		}
		h.AppRoles[app] = roles
	}
	return h
}

// member reads an object and returns the string value of one member.
func (p *parser) member(name string) string {
	if !p.open() {
		return ""
	}
	var v string
	for p.more() {
		if p.token().String() == name {
			v = p.str()
		} else {
			p.skip()
		}
	}
	return v
}

// --- token-level helpers ---------------------------------------------------

func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// token reads the next token; it is valid until the next read.
func (p *parser) token() jsontext.Token {
	if p.err != nil {
		return jsontext.Token{}
	}
	t, err := p.dec.ReadToken()
	if err != nil {
		p.fail(err)
	}
	return t
}

func (p *parser) skip() {
	if p.err != nil {
		return
	}
	if err := p.dec.SkipValue(); err != nil {
		p.fail(err)
	}
}

// value reads the next value and returns its exact bytes in the body.
func (p *parser) value() []byte {
	if p.err != nil {
		return nil
	}
	v, err := p.dec.ReadValue()
	if err != nil {
		p.fail(err)
		return nil
	}
	end := int(p.dec.InputOffset())
	return p.body[end-len(v) : end : end]
}

// open consumes the '{' of an object and reports whether it did; a value of
// another kind (null, a string...) is skipped.
func (p *parser) open() bool { return p.enter('{') }

// array consumes the '[' of an array, as open does for objects.
func (p *parser) array() bool { return p.enter('[') }

func (p *parser) enter(kind jsontext.Kind) bool {
	if p.err != nil {
		return false
	}
	if p.dec.PeekKind() != kind {
		p.skip()
		return false
	}
	p.token()
	return p.err == nil
}

// more reports whether the current object or array has another member or
// element; at its end it consumes the closing delimiter and reports false.
func (p *parser) more() bool {
	if p.err != nil {
		return false
	}
	switch p.dec.PeekKind() {
	case '}', ']':
		p.token()
		return false
	case 0:
		p.token() // the cached error
		p.fail(io.ErrUnexpectedEOF)
		return false
	}
	return true
}

// str reads a string, or a number as its exact text (ids are sometimes
// numbers); any other value is skipped and reads as "".
func (p *parser) str() string {
	if p.err != nil {
		return ""
	}
	switch p.dec.PeekKind() {
	case '"', '0':
		return p.token().String()
	}
	p.skip()
	return ""
}

// id is str for ids, which repeat: a recently seen id is returned without
// allocating.
func (p *parser) id() string {
	if p.err != nil {
		return ""
	}
	switch p.dec.PeekKind() {
	case '"', '0':
	default:
		p.skip()
		return ""
	}
	s := p.token().String()
	for _, id := range p.ids {
		if id == s {
			return id
		}
	}
	id := strings.Clone(s)
	p.ids[p.nextID] = id
	p.nextID = (p.nextID + 1) % len(p.ids)
	return id
}

func (p *parser) boolean() bool {
	if p.err != nil {
		return false
	}
	if p.dec.PeekKind() == 't' {
		p.token()
		return true
	}
	p.skip()
	return false
}

// integer reads an int64: a number (a fraction is truncated) or a string of
// digits. Anything else, or a number beyond int64, reports false.
func (p *parser) integer() (int64, bool) {
	if p.err != nil {
		return 0, false
	}
	switch p.dec.PeekKind() {
	case '0':
		t := p.token()
		if p.err != nil {
			return 0, false
		}
		if n, err := t.Int(); err == nil {
			return n, true
		}
		f, err := t.Float()
		if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f <= math.MinInt64 {
			return 0, false
		}
		return int64(f), true
	case '"':
		n, err := strconv.ParseInt(p.token().String(), 10, 64)
		return n, err == nil
	}
	p.skip()
	return 0, false
}

// millis reads a Unix time in milliseconds; 0, or anything integer cannot
// read, is the zero time.
func (p *parser) millis() time.Time {
	n, ok := p.integer()
	if !ok || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

// seconds reads a Unix time in seconds, as millis does.
func (p *parser) seconds() time.Time {
	n, ok := p.integer()
	if !ok || n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// float reads a number; anything else, or a number beyond float64, reads as 0.
func (p *parser) float() float64 {
	if p.err != nil {
		return 0
	}
	if p.dec.PeekKind() != '0' {
		p.skip()
		return 0
	}
	t := p.token()
	if p.err != nil {
		return 0
	}
	f, err := t.Float()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0
	}
	return f
}
