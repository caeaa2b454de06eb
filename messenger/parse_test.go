package messenger

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testPage = "106517805599876"
	testUser = "7010531889057234"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhook", name))
	require.NoError(t, err)
	return b
}

func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

// stripRaw clears Raw (checked separately) so events compare by value.
func stripRaw(events []Event) []Event {
	out := make([]Event, len(events))
	for i, e := range events {
		e.Raw = nil
		if e.Message != nil {
			m := *e.Message
			m.Attachments = nil
			for _, a := range e.Message.Attachments {
				a.Payload = nil
				m.Attachments = append(m.Attachments, a)
			}
			e.Message = &m
		}
		out[i] = e
	}
	return out
}

func TestParseWebhookFixtures(t *testing.T) {
	t.Parallel()
	in := func(kind EventKind, at int64) Event {
		return Event{Kind: kind, PageID: testPage, SenderID: testUser, RecipientID: testPage, Time: ms(at)}
	}
	tests := []struct {
		file string
		want []Event
	}{
		{"message.json", []Event{func() Event {
			e := in(KindMessage, 1718000000000)
			e.Message = &EventMessage{
				MID:               "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMn",
				Text:              "Hello! I ordered a lamp last week and it still has not arrived. Can you check order 10442 for me please? It was meant to arrive on Tuesday and the tracking page has not changed since Friday.",
				QuickReplyPayload: "ORDER_STATUS",
				ReplyTo:           "m_previous0123456789",
			}
			return e
		}()}},
		{"attachments.json", []Event{func() Event {
			e := in(KindMessage, 1718000001000)
			e.Message = &EventMessage{MID: "m_attach1", Attachments: []EventAttachment{
				{Type: "image", URL: "https://scontent.example/img.jpg"},
				{Type: "video", URL: "https://video.example/v.mp4"},
				{Type: "audio", URL: "https://cdn.example/a.mp4"},
				{Type: "file", URL: "https://cdn.example/f.pdf"},
				{Type: "image", URL: "https://scontent.example/sticker.png", StickerID: "369239263222822"},
				{Type: "location", Title: "Pinned Location", URL: "https://l.facebook.com/l.php?u=x", Lat: 25.0330, Long: 121.5654},
				{Type: "fallback", Title: "A shared link", URL: "https://example.com/article"},
				{Type: "template"},
			}}
			return e
		}()}},
		{"echo.json", []Event{{
			Kind: KindEcho, PageID: testPage, SenderID: testPage, RecipientID: testUser, Time: ms(1718000002000),
			Message: &EventMessage{MID: "m_echo1", Text: "We are on it.", IsEcho: true, AppID: "1517776481860111", Metadata: "enquiry:42"},
		}}},
		{"receipts.json", []Event{
			func() Event {
				e := in(KindDelivery, 1718000003000) // no timestamp: the entry's time
				e.Delivery = &Delivery{MIDs: []string{"m_echo1", "m_echo2"}, Watermark: ms(1718000002500)}
				return e
			}(),
			func() Event {
				e := in(KindRead, 1718000003000)
				e.Read = &Read{Watermark: ms(1718000002600)}
				return e
			}(),
		}},
		{"reaction.json", []Event{
			func() Event {
				e := in(KindReaction, 1718000004000)
				e.Reaction = &Reaction{MID: "m_echo1", Action: "react", Emoji: "\u2764\ufe0f", Reaction: "love"}
				return e
			}(),
			func() Event {
				e := in(KindReaction, 1718000004500)
				e.Reaction = &Reaction{MID: "m_echo1", Action: "unreact", Reaction: "love"}
				return e
			}(),
		}},
		{"postback.json", []Event{func() Event {
			e := in(KindPostback, 1718000005000)
			e.Postback = &Postback{Title: "Get Started", Payload: "GET_STARTED", MID: "m_pb1",
				Referral: &Referral{Ref: "summer-sale", Source: "SHORTLINK", Type: "OPEN_THREAD"}}
			return e
		}()}},
		{"referral_optin.json", []Event{
			func() Event {
				e := in(KindReferral, 1718000006000)
				e.Referral = &Referral{Ref: "ad-42", Source: "ADS", Type: "OPEN_THREAD", AdID: "6045246247433",
					RefererURI: "https://m.me/106517805599876?ref=ad-42"}
				return e
			}(),
			func() Event {
				e := in(KindOptin, 1718000006100)
				e.Optin = &Optin{Type: "notification_messages", Payload: "DEALS", Token: "tok-abc", Frequency: "WEEKLY",
					Timezone: "Asia/Taipei", TokenExpiry: ms(1725000000000)}
				return e
			}(),
			func() Event {
				e := in(KindOptin, 1718000006200)
				e.SenderID = ""
				e.Optin = &Optin{Ref: "checkout", UserRef: "ur-123"}
				return e
			}(),
		}},
		{"handover.json", []Event{
			func() Event {
				e := in(KindHandover, 1718000007000)
				e.Handover = &Handover{Action: HandoverPass, NewOwnerAppID: "123456789", Metadata: "to the humans"}
				return e
			}(),
			func() Event {
				e := in(KindHandover, 1718000007100)
				e.Handover = &Handover{Action: HandoverTake, PreviousOwnerAppID: "987654321", Metadata: "bot takes over"}
				return e
			}(),
			func() Event {
				e := in(KindHandover, 1718000007200)
				e.Handover = &Handover{Action: HandoverRequest, RequestedOwnerAppID: "555", Metadata: "please"}
				return e
			}(),
			func() Event {
				e := in(KindHandover, 1718000007300)
				e.SenderID = ""
				e.Handover = &Handover{Action: HandoverAppRoles, AppRoles: map[string][]string{
					"123456789": {"primary_receiver"}, "987654321": {"secondary_receiver"}}}
				return e
			}(),
		}},
		{"standby_unknown.json", []Event{ // members in an unusual order: object last, id after the items
			func() Event {
				e := in(KindMessage, 1718000008000)
				e.Standby = true
				e.Message = &EventMessage{MID: "m_sb1", Text: "still there?"}
				return e
			}(),
			in(KindUnknown, 1718000008100),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := fixture(t, tt.file)
			events, err := ParseWebhook(body)
			require.NoError(t, err)
			assert.Equal(t, tt.want, stripRaw(events))
			for i, e := range events {
				assert.True(t, strings.HasPrefix(string(e.Raw), "{") && strings.HasSuffix(string(e.Raw), "}"),
					"event %d Raw is one JSON object: %s", i, e.Raw)
				assert.Contains(t, string(body), string(e.Raw), "event %d Raw is the exact bytes of the body", i)
			}
		})
	}
}

func TestParseWebhookRawAndPayloads(t *testing.T) {
	t.Parallel()
	body := fixture(t, "standby_unknown.json")
	events, err := ParseWebhook(body)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.JSONEq(t, `{"sender":{"id":"7010531889057234"},"recipient":{"id":"106517805599876"},"timestamp":1718000008100,"message_edit":{"mid":"m_sb1","text":"still there??","num_edit":1}}`,
		string(events[1].Raw), "an unknown kind keeps its item")

	// The events do not share memory with the caller's body.
	for i := range body {
		body[i] = ' '
	}
	assert.Contains(t, string(events[1].Raw), "message_edit")

	events, err = ParseWebhook(fixture(t, "attachments.json"))
	require.NoError(t, err)
	atts := events[0].Message.Attachments
	require.Len(t, atts, 8)
	assert.JSONEq(t, `{"url": "https://scontent.example/img.jpg"}`, string(atts[0].Payload))
	assert.Nil(t, atts[6].Payload, "a null payload is nil")
	assert.JSONEq(t, `{"template_type": "generic", "elements": [{"title": "Lamp"}]}`, string(atts[7].Payload))
}

func TestParseWebhookBadInput(t *testing.T) {
	t.Parallel()
	msg := strings.TrimSpace(string(fixture(t, "message.json")))
	tests := []struct {
		name    string
		body    string
		wantErr error
		events  int
	}{
		{"empty body", "", ErrMalformedBody, 0},
		{"whitespace", " \n", ErrMalformedBody, 0},
		{"truncated", msg[:len(msg)/2], ErrMalformedBody, 0},
		{"truncated by one byte", msg[:len(msg)-1], ErrMalformedBody, 0},
		{"not an object", `["page"]`, ErrMalformedBody, 0},
		{"truncated inside a timestamp", `{"object":"page","entry":[{"id":"1","time":0.`, ErrMalformedBody, 0},
		{"truncated inside a coordinate", `{"object":"page","entry":[{"messaging":[{"message":{"attachments":[{"payload":{"coordinates":{"lat":1e`, ErrMalformedBody, 0},
		{"invalid number", `{"object":"page","entry":[{"id":"1","time":01}]}`, ErrMalformedBody, 0},
		{"trailing data", msg + `{}`, ErrMalformedBody, 0},
		{"unknown object", `{"object":"instagram","entry":[{"id":"1","time":1,"messaging":[{"message":{"mid":"m"}}]}]}`, ErrUnsupportedObject, 0},
		{"object missing", `{"entry":[]}`, ErrUnsupportedObject, 0},
		{"object not a string", `{"object":1,"entry":[]}`, ErrUnsupportedObject, 0},
		{"entry with no messaging", `{"object":"page","entry":[{"id":"1","time":1718000000000,"changes":[{"field":"feed","value":{}}]}]}`, nil, 0},
		{"no entries", `{"object":"page","entry":[]}`, nil, 0},
		{"entry not an array", `{"object":"page","entry":{"id":"1"}}`, nil, 0},
		{"item not an object", `{"object":"page","entry":[{"id":"1","messaging":["surprise",{"message":{"mid":"m"}}]}]}`, nil, 2},
		{"duplicate names: the last wins", `{"object":"page","object":"page","entry":[{"id":"1","messaging":[{"message":{"mid":"a","mid":"b"}}]}]}`, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events, err := ParseWebhook([]byte(tt.body))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Empty(t, events)
				return
			}
			require.NoError(t, err)
			assert.Len(t, events, tt.events)
		})
	}
}

func TestParseWebhookLenientValues(t *testing.T) {
	t.Parallel()
	t.Run("invalid UTF-8 becomes U+FFFD", func(t *testing.T) {
		t.Parallel()
		body := []byte(`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"timestamp":1718000000000,"message":{"mid":"m1","text":"caf` + "\xe9" + ` ok"}}]}]}`)
		events, err := ParseWebhook(body)
		require.NoError(t, err)
		require.Len(t, events, 1)
		assert.Equal(t, "caf\uFFFD ok", events[0].Message.Text)
		assert.Contains(t, string(events[0].Raw), "\xe9", "Raw keeps the exact bytes")
	})
	t.Run("huge numbers", func(t *testing.T) {
		t.Parallel()
		body := []byte(`{"object":"page","entry":[{"id":123456789012345678901234567890,"time":1e400,"messaging":[
			{"sender":{"id":99999999999999999999999999},"timestamp":99999999999999999999999,"message":{"mid":"m1","attachments":[{"type":"location","payload":{"coordinates":{"lat":1e400,"long":-1e999}}}]}},
			{"sender":{"id":"2"},"timestamp":-99999999999999999999999,"delivery":{"watermark":1.5e300}},
			{"sender":{"id":"2"},"timestamp":1.718e12,"read":{"watermark":"1718000000000"}}
		]}]}`)
		events, err := ParseWebhook(body)
		require.NoError(t, err)
		require.Len(t, events, 3)
		assert.Equal(t, "123456789012345678901234567890", events[0].PageID, "ids keep their digits")
		assert.Equal(t, "99999999999999999999999999", events[0].SenderID)
		assert.True(t, events[0].Time.IsZero(), "an out-of-range timestamp leaves the time zero")
		assert.Equal(t, EventAttachment{Type: "location", Payload: events[0].Message.Attachments[0].Payload}, events[0].Message.Attachments[0])
		assert.True(t, events[1].Time.IsZero())
		assert.True(t, events[1].Delivery.Watermark.IsZero())
		assert.Equal(t, ms(1718000000000), events[2].Time, "a float timestamp in range is read")
		assert.Equal(t, ms(1718000000000), events[2].Read.Watermark, "a string of digits is read")
	})
	t.Run("fields of the wrong type are left empty", func(t *testing.T) {
		t.Parallel()
		body := []byte(`{"object":"page","entry":[{"id":"1","messaging":[
			{"sender":"nobody","recipient":null,"timestamp":{},"message":{"mid":["x"],"text":7,"is_echo":"yes","attachments":{"type":"image"},"quick_reply":"p"}},
			{"sender":{"id":"2"},"message":null,"postback":{"title":"T","payload":"P"}}
		]}]}`)
		events, err := ParseWebhook(body)
		require.NoError(t, err)
		require.Len(t, events, 2)
		assert.Equal(t, KindMessage, events[0].Kind)
		assert.Equal(t, &EventMessage{Text: "7"}, events[0].Message)
		assert.Empty(t, events[0].SenderID)
		assert.Equal(t, KindPostback, events[1].Kind)
	})
}

func TestParseWebhookBatch(t *testing.T) {
	t.Parallel()
	const n = 1000
	var b strings.Builder
	b.WriteString(`{"object":"page","entry":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"p%d","time":1718000000000,"messaging":[{"sender":{"id":"u%d"},"recipient":{"id":"p%d"},"timestamp":%d,"message":{"mid":"m_%d","text":"hello %d"}}]}`,
			i%3, i, i%3, 1718000000000+i, i, i)
	}
	b.WriteString(`]}`)
	events, err := ParseWebhook([]byte(b.String()))
	require.NoError(t, err)
	require.Len(t, events, n)
	keys := map[string]bool{}
	for i, e := range events {
		require.Equal(t, fmt.Sprintf("p%d", i%3), e.PageID)
		require.Equal(t, fmt.Sprintf("u%d", i), e.SenderID)
		require.Equal(t, fmt.Sprintf("hello %d", i), e.Message.Text)
		require.Equal(t, ms(1718000000000+int64(i)), e.Time)
		keys[e.Key()] = true
	}
	assert.Len(t, keys, n, "every event has its own key")
}
