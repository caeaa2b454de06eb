package messengertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

const (
	secret = "test-app-secret"
	page   = "1001"
	page2  = "1002"
	psid   = "2001"
)

type collector struct {
	mu     sync.Mutex
	events [][]messenger.Event
}

func (c *collector) HandleEvents(_ context.Context, events []messenger.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, events)
	return nil
}

func newWebhook(t *testing.T) (*messenger.Webhook, *collector) {
	t.Helper()
	c := &collector{}
	wh, err := messenger.NewWebhook(messenger.WebhookConfig{AppSecret: secret, VerifyToken: "v", Handler: c})
	require.NoError(t, err)
	return wh, c
}

func TestDeliveryDrivesTheWebhook(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1718000000000).UTC()
	d := messengertest.Delivery(secret).At(at).
		Text(page, psid, "hello").
		Attachment(page, psid, "image", "https://example.com/a.jpg").
		QuickReply(page, psid, "Yes", "YES").
		Postback(page, psid, "Get Started", "GET_STARTED").
		Echo(page, psid, "hi there", "1517776481860111", "enquiry:1").
		Delivered(page, psid, at.Add(-time.Second), "m_1").
		Read(page, psid, at.Add(-time.Second)).
		Reaction(page, psid, "m_1", "react", "❤").
		Text(page, psid, "seen by the bot only").Standby().
		Item(page2, []byte(`{"sender":{"id":"2001"},"recipient":{"id":"1002"},"timestamp":1718000000000,"message_edit":{"mid":"m_9","text":"x"}}`))

	wh, c := newWebhook(t)
	w := httptest.NewRecorder()
	wh.ServeHTTP(w, d.Request("https://example.com/webhook"))
	require.Equal(t, http.StatusOK, w.Code)
	require.Len(t, c.events, 1)
	events := c.events[0]

	kinds := make([]messenger.EventKind, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
	}
	assert.Equal(t, []messenger.EventKind{
		messenger.KindMessage, messenger.KindMessage, messenger.KindMessage, messenger.KindPostback,
		messenger.KindEcho, messenger.KindDelivery, messenger.KindRead, messenger.KindReaction,
		messenger.KindMessage, messenger.KindUnknown,
	}, kinds)

	assert.NotEmpty(t, events[0].Message.MID)
	assert.Equal(t, "hello", events[0].Message.Text)
	assert.Equal(t, page, events[0].PageID)
	assert.Equal(t, psid, events[0].SenderID)
	assert.Equal(t, at, events[0].Time)
	assert.Equal(t, "https://example.com/a.jpg", events[1].Message.Attachments[0].URL)
	assert.Equal(t, "image", events[1].Message.Attachments[0].Type)
	assert.Equal(t, "YES", events[2].Message.QuickReplyPayload)
	assert.Equal(t, "GET_STARTED", events[3].Postback.Payload)
	assert.Equal(t, &messenger.EventMessage{MID: events[4].Message.MID, Text: "hi there", IsEcho: true,
		AppID: "1517776481860111", Metadata: "enquiry:1"}, events[4].Message)
	assert.Equal(t, page, events[4].SenderID, "an echo comes from the Page")
	assert.Equal(t, []string{"m_1"}, events[5].Delivery.MIDs)
	assert.Equal(t, at.Add(-time.Second), events[5].Delivery.Watermark)
	assert.Equal(t, at.Add(-time.Second), events[6].Read.Watermark)
	assert.Equal(t, "❤", events[7].Reaction.Emoji)
	assert.True(t, events[8].Standby)
	assert.False(t, events[0].Standby)
	assert.Equal(t, page2, events[9].PageID, "another Page gets its own entry")
	assert.Contains(t, string(events[9].Raw), "message_edit")

	keys := map[string]bool{}
	for _, e := range events {
		assert.False(t, keys[e.Key()], "every event has its own key (generated mids differ)")
		keys[e.Key()] = true
	}
}

func TestDeliveryRedelivery(t *testing.T) {
	t.Parallel()
	d := messengertest.Delivery(secret).Text(page, psid, "hello").Postback(page, psid, "Menu", "MENU")
	wh, c := newWebhook(t)
	for range 2 {
		w := httptest.NewRecorder()
		wh.ServeHTTP(w, d.Request("/webhook"))
		require.Equal(t, http.StatusOK, w.Code)
	}
	require.Len(t, c.events, 2, "the handler sees the redelivery")
	for i := range c.events[0] {
		assert.Equal(t, c.events[0][i].Key(), c.events[1][i].Key(), "a redelivered event has the same key")
	}
	assert.Equal(t, d.Body(), d.Body())
	assert.Equal(t, d.Signature(), messengertest.Sign(secret, d.Body()))
	assert.NoError(t, messenger.VerifySignature(d.Body(), d.Signature(), secret))
}

func TestDeliveryBatchOf1000(t *testing.T) {
	t.Parallel()
	d := messengertest.Delivery(secret)
	for i := range 1000 {
		pageID := []string{page, page2}[i/500] // two entries, as Facebook groups a batch by Page
		d.Text(pageID, fmt.Sprint(3000+i%50), fmt.Sprint("message ", i))
	}
	wh, c := newWebhook(t)
	w := httptest.NewRecorder()
	wh.ServeHTTP(w, d.Request("/webhook"))
	require.Equal(t, http.StatusOK, w.Code)
	require.Len(t, c.events, 1, "one delivery, one call")
	events := c.events[0]
	require.Len(t, events, 1000)
	keys := map[string]bool{}
	for i, e := range events {
		assert.Equal(t, fmt.Sprint("message ", i), e.Message.Text)
		keys[e.Key()] = true
	}
	assert.Len(t, keys, 1000)
	assert.Equal(t, page2, events[999].PageID)
}

func TestDeliveryRefusals(t *testing.T) {
	t.Parallel()
	wh, c := newWebhook(t)

	w := httptest.NewRecorder()
	wh.ServeHTTP(w, messengertest.Delivery(secret).Text(page, psid, "hi").BadSignatureRequest("/webhook"))
	assert.Equal(t, http.StatusForbidden, w.Code)

	w = httptest.NewRecorder()
	wh.ServeHTTP(w, messengertest.Delivery(secret).Object("instagram").Text(page, psid, "hi").Request("/webhook"))
	assert.Equal(t, http.StatusOK, w.Code, "another object is acknowledged")

	w = httptest.NewRecorder()
	wh.ServeHTTP(w, messengertest.Delivery(secret).Item(page, []byte(`{"broken":`)).Request("/webhook"))
	assert.Equal(t, http.StatusBadRequest, w.Code, "Item is written verbatim, so malformed bodies can be tested")

	assert.Empty(t, c.events)
}

func TestDeliveryMID(t *testing.T) {
	t.Parallel()
	d := messengertest.Delivery(secret).Text(page, psid, "hi").MID("m_known")
	assert.Equal(t, "m_known", d.LastMID())
	events, err := messenger.ParseWebhook(d.Body())
	require.NoError(t, err)
	assert.Equal(t, "m_known", events[0].Message.MID)

	d.Postback(page, psid, "T", "P").MID("m_pb")
	assert.Equal(t, "m_pb", d.LastMID())
	d.Read(page, psid, time.Now())
	assert.Empty(t, d.LastMID())

	var body struct {
		Object string `json:"object"`
		Entry  []struct {
			ID        string            `json:"id"`
			Messaging []json.RawMessage `json:"messaging"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(messengertest.Delivery(secret).Body(), &body))
	assert.Equal(t, "page", body.Object)
	assert.Empty(t, body.Entry, "an empty delivery is valid JSON")
}

func TestSignedRequest(t *testing.T) {
	t.Parallel()
	sr, err := messenger.ParseSignedRequest(messengertest.SignedRequest(secret, "u-42"), secret)
	require.NoError(t, err)
	assert.Equal(t, "u-42", sr.UserID)
	assert.Equal(t, "HMAC-SHA256", sr.Algorithm)
	assert.False(t, sr.IssuedAt.IsZero())

	_, err = messenger.ParseSignedRequest(messengertest.SignedRequest("other", "u-42"), secret)
	assert.ErrorIs(t, err, messenger.ErrBadSignedRequest)
}

func ExampleDelivery() {
	wh, _ := messenger.NewWebhook(messenger.WebhookConfig{
		AppSecret:   "app-secret",
		VerifyToken: "verify-token",
		Handler: messenger.HandlerFunc(func(_ context.Context, events []messenger.Event) error {
			for _, e := range events {
				fmt.Println(e.Kind, e.SenderID, e.Message.Text)
			}
			return nil
		}),
	})
	d := messengertest.Delivery("app-secret").Text("1001", "2001", "hello")

	w := httptest.NewRecorder()
	wh.ServeHTTP(w, d.Request("https://example.com/webhook"))
	fmt.Println(w.Code)

	w = httptest.NewRecorder()
	wh.ServeHTTP(w, d.BadSignatureRequest("https://example.com/webhook"))
	fmt.Println(w.Code)
	// Output:
	// message 2001 hello
	// 200
	// 403
}
