package messengertest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pagedesk/pagedesk/messenger"
)

// DeliveryBuilder builds a webhook delivery exactly as Facebook sends it: a
// JSON body of entries grouped by Page, signed in X-Hub-Signature-256 with
// the app secret. Add events with its methods, then take Body, Signature or
// Request. Calling Request again returns the same delivery: a redelivery.
//
// A DeliveryBuilder is not safe for concurrent use.
type DeliveryBuilder struct {
	secret  string
	object  string
	at      time.Time
	entries []*hookEntry
	last    *hookItem
	lastIn  *hookEntry
}

// Delivery starts a delivery signed with appSecret, of object "page", whose
// events are stamped with the current time until At says otherwise.
func Delivery(appSecret string) *DeliveryBuilder {
	return &DeliveryBuilder{secret: appSecret, object: "page", at: time.Now()}
}

// Sign returns the X-Hub-Signature-256 value Facebook would send with body:
// "sha256=" and the lowercase hex HMAC-SHA256 of body keyed with appSecret.
func Sign(appSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// At stamps the events added next with t (millisecond precision, as
// Facebook's timestamps).
func (b *DeliveryBuilder) At(t time.Time) *DeliveryBuilder {
	b.at = t
	return b
}

// Object replaces the delivery's object ("page"), e.g. with "instagram" to
// test that other objects are ignored.
func (b *DeliveryBuilder) Object(object string) *DeliveryBuilder {
	b.object = object
	return b
}

// Text adds a text message from the visitor psid to the Page.
func (b *DeliveryBuilder) Text(pageID, psid, text string) *DeliveryBuilder {
	return b.add(pageID, psid, pageID, func(it *hookItem) {
		it.Message = &hookMessage{MID: newHookMID(), Text: text}
	})
}

// Attachment adds a message carrying one attachment of type typ (image,
// video, audio or file) at url.
func (b *DeliveryBuilder) Attachment(pageID, psid, typ, url string) *DeliveryBuilder {
	return b.add(pageID, psid, pageID, func(it *hookItem) {
		it.Message = &hookMessage{MID: newHookMID(), Attachments: []hookAttachment{
			{Type: typ, Payload: hookMedia{URL: url}},
		}}
	})
}

// QuickReply adds a message sent by tapping a quick reply: its title as
// text, and its payload.
func (b *DeliveryBuilder) QuickReply(pageID, psid, text, payload string) *DeliveryBuilder {
	return b.add(pageID, psid, pageID, func(it *hookItem) {
		it.Message = &hookMessage{MID: newHookMID(), Text: text, QuickReply: &hookPayload{Payload: payload}}
	})
}

// Postback adds a tap on a postback button (or Get Started) with its title
// and payload.
func (b *DeliveryBuilder) Postback(pageID, psid, title, payload string) *DeliveryBuilder {
	return b.add(pageID, psid, pageID, func(it *hookItem) {
		it.Postback = &hookPostback{Title: title, Payload: payload, MID: newHookMID()}
	})
}

// Echo adds the echo of a message the Page sent to psid: sent by appID
// (empty for the Page inbox) with metadata.
func (b *DeliveryBuilder) Echo(pageID, psid, text, appID, metadata string) *DeliveryBuilder {
	return b.add(pageID, pageID, psid, func(it *hookItem) {
		m := &hookMessage{MID: newHookMID(), Text: text, IsEcho: true, Metadata: metadata}
		if appID != "" {
			m.AppID = json.RawMessage(hookAppIDJSON(appID))
		}
		it.Message = m
	})
}

// Delivered adds a delivery receipt: the Page's messages to psid sent
// before watermark (and mids, if any) were delivered.
func (b *DeliveryBuilder) Delivered(pageID, psid string, watermark time.Time, mids ...string) *DeliveryBuilder {
	return b.add(pageID, psid, pageID, func(it *hookItem) {
		it.Timestamp = 0 // Facebook sends delivery receipts without a timestamp
		it.Delivery = &hookDelivery{MIDs: mids, Watermark: watermark.UnixMilli()}
	})
}

// Read adds a read receipt: psid read the Page's messages sent before
// watermark.
func (b *DeliveryBuilder) Read(pageID, psid string, watermark time.Time) *DeliveryBuilder {
	return b.add(pageID, psid, pageID, func(it *hookItem) {
		it.Read = &hookRead{Watermark: watermark.UnixMilli()}
	})
}

// Reaction adds psid's reaction to the message mid: action "react" with an
// emoji, or "unreact".
func (b *DeliveryBuilder) Reaction(pageID, psid, mid, action, emoji string) *DeliveryBuilder {
	return b.add(pageID, psid, pageID, func(it *hookItem) {
		it.Reaction = &hookReaction{Reaction: "other", Emoji: emoji, Action: action, MID: mid}
	})
}

// Item adds a raw messaging item (any JSON object), for event types the
// other methods do not build: referrals, optins, handovers, or types
// messenger does not know yet.
func (b *DeliveryBuilder) Item(pageID string, item []byte) *DeliveryBuilder {
	e := b.entry(pageID)
	it := &hookItem{raw: append([]byte{}, item...)}
	e.Messaging = append(e.Messaging, it)
	b.last, b.lastIn = it, e
	return b
}

// Standby moves the event added last to its entry's standby array, as
// Facebook delivers events of threads another app controls.
func (b *DeliveryBuilder) Standby() *DeliveryBuilder {
	e, it := b.lastIn, b.last
	if e == nil {
		return b
	}
	for i, m := range e.Messaging {
		if m == it {
			e.Messaging = append(e.Messaging[:i], e.Messaging[i+1:]...)
			e.Standby = append(e.Standby, it)
			break
		}
	}
	return b
}

// MID replaces the mid of the message, echo or postback added last, e.g. to
// repeat a mid that a test already knows.
func (b *DeliveryBuilder) MID(mid string) *DeliveryBuilder {
	if it := b.last; it != nil {
		switch {
		case it.Message != nil:
			it.Message.MID = mid
		case it.Postback != nil:
			it.Postback.MID = mid
		}
	}
	return b
}

// LastMID returns the mid of the message, echo or postback added last, or "".
func (b *DeliveryBuilder) LastMID() string {
	if it := b.last; it != nil {
		switch {
		case it.Message != nil:
			return it.Message.MID
		case it.Postback != nil:
			return it.Postback.MID
		}
	}
	return ""
}

// Body returns the delivery's JSON body. It is the same on every call until
// more events are added. Items added with Item are written verbatim, even
// when they are not valid JSON.
func (b *DeliveryBuilder) Body() []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"object":`)
	writeHookJSON(&buf, b.object)
	buf.WriteString(`,"entry":[`)
	for i, e := range b.entries {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"id":`)
		writeHookJSON(&buf, e.ID)
		buf.WriteString(`,"time":`)
		buf.WriteString(strconv.FormatInt(e.Time, 10))
		writeHookItems(&buf, "messaging", e.Messaging)
		writeHookItems(&buf, "standby", e.Standby)
		buf.WriteByte('}')
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

func writeHookItems(buf *bytes.Buffer, name string, items []*hookItem) {
	if len(items) == 0 {
		return
	}
	buf.WriteString(`,"` + name + `":[`)
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		if it.raw != nil {
			buf.Write(it.raw)
		} else {
			writeHookJSON(buf, it)
		}
	}
	buf.WriteByte(']')
}

// writeHookJSON encodes the builder's own values: strings, numbers and the wire
// structs below, which always encode.
func writeHookJSON(buf *bytes.Buffer, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte("null")
	}
	buf.Write(data)
}

// Signature returns the X-Hub-Signature-256 value of Body.
func (b *DeliveryBuilder) Signature() string {
	return Sign(b.secret, b.Body())
}

// Request returns a POST of the delivery to url, signed as Facebook signs
// it. It works with a handler's ServeHTTP and with an http.Client; each call
// returns a fresh request with the same body and signature, as Facebook's
// redeliveries are. It panics if url is invalid.
func (b *DeliveryBuilder) Request(url string) *http.Request {
	body := b.Body()
	return newHookRequest(url, body, Sign(b.secret, body))
}

// BadSignatureRequest returns Request's delivery signed with another
// secret: a forgery the webhook must refuse.
func (b *DeliveryBuilder) BadSignatureRequest(url string) *http.Request {
	body := b.Body()
	return newHookRequest(url, body, Sign(b.secret+"-forged", body))
}

func newHookRequest(url string, body []byte, signature string) *http.Request {
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic(fmt.Sprintf("messengertest: invalid webhook URL %q: %v", url, err))
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "facebookexternalua")
	r.Header.Set(messenger.SignatureHeader, signature)
	return r
}

// add appends an item to the entry of pageID, which is the last entry if it
// is the same Page (Facebook groups a batch by Page).
func (b *DeliveryBuilder) add(pageID, sender, recipient string, fill func(*hookItem)) *DeliveryBuilder {
	e := b.entry(pageID)
	it := &hookItem{
		Sender:    hookParty{ID: sender},
		Recipient: hookParty{ID: recipient},
		Timestamp: b.at.UnixMilli(),
	}
	fill(it)
	e.Messaging = append(e.Messaging, it)
	b.last, b.lastIn = it, e
	return b
}

func (b *DeliveryBuilder) entry(pageID string) *hookEntry {
	if n := len(b.entries); n > 0 && b.entries[n-1].ID == pageID {
		return b.entries[n-1]
	}
	e := &hookEntry{ID: pageID, Time: b.at.UnixMilli()}
	b.entries = append(b.entries, e)
	return e
}

var hookMIDSeq atomic.Int64

// newHookMID returns a mid unique within the process, so that events of
// separate builders never collide in a store's dedup.
func newHookMID() string {
	return "m_pagedesk-test-" + strconv.FormatInt(hookMIDSeq.Add(1), 10)
}

// hookAppIDJSON writes an app id as Facebook does, a number, when it is one.
func hookAppIDJSON(appID string) string {
	if _, err := strconv.ParseUint(appID, 10, 64); err == nil {
		return appID
	}
	return strconv.Quote(appID)
}

// SignedRequest returns a signed_request as Facebook posts it to the
// Deauthorize and Data Deletion callbacks: for userID, issued now, signed
// with appSecret.
func SignedRequest(appSecret, userID string) string {
	payload, _ := json.Marshal(map[string]any{
		"algorithm": "HMAC-SHA256",
		"issued_at": time.Now().Unix(),
		"user_id":   userID,
	})
	return SignedRequestPayload(appSecret, payload)
}

// SignedRequestPayload signs any payload (JSON, or anything, to test
// refusals) into a signed_request: base64url(HMAC-SHA256(p)) "." p, where p
// is base64url(payload) without padding.
func SignedRequestPayload(appSecret string, payload []byte) string {
	p := base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte(p))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)) + "." + p
}

// --- the body's shapes, in Facebook's member order ---------------------

type hookEntry struct {
	ID        string
	Time      int64
	Messaging []*hookItem
	Standby   []*hookItem
}

type hookItem struct {
	Sender    hookParty     `json:"sender"`
	Recipient hookParty     `json:"recipient"`
	Timestamp int64         `json:"timestamp,omitempty"`
	Message   *hookMessage  `json:"message,omitempty"`
	Delivery  *hookDelivery `json:"delivery,omitempty"`
	Read      *hookRead     `json:"read,omitempty"`
	Reaction  *hookReaction `json:"reaction,omitempty"`
	Postback  *hookPostback `json:"postback,omitempty"`

	raw []byte // from Item: written verbatim
}

type hookParty struct {
	ID string `json:"id"`
}

type hookMessage struct {
	IsEcho      bool             `json:"is_echo,omitempty"`
	AppID       json.RawMessage  `json:"app_id,omitempty"`
	Metadata    string           `json:"metadata,omitempty"`
	MID         string           `json:"mid"`
	Text        string           `json:"text,omitempty"`
	QuickReply  *hookPayload     `json:"quick_reply,omitempty"`
	Attachments []hookAttachment `json:"attachments,omitempty"`
}

type hookPayload struct {
	Payload string `json:"payload"`
}

type hookAttachment struct {
	Type    string    `json:"type"`
	Payload hookMedia `json:"payload"`
}

type hookMedia struct {
	URL string `json:"url"`
}

type hookDelivery struct {
	MIDs      []string `json:"mids,omitempty"`
	Watermark int64    `json:"watermark"`
}

type hookRead struct {
	Watermark int64 `json:"watermark"`
}

type hookReaction struct {
	Reaction string `json:"reaction"`
	Emoji    string `json:"emoji,omitempty"`
	Action   string `json:"action"`
	MID      string `json:"mid"`
}

type hookPostback struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
	MID     string `json:"mid"`
}
