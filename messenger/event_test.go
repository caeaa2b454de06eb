package messenger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventKey(t *testing.T) {
	t.Parallel()
	at := ms(1718000000000)
	base := func(kind EventKind) Event {
		return Event{Kind: kind, PageID: "P", SenderID: "U", RecipientID: "P", Time: at, Raw: []byte(`{"x":1}`)}
	}
	msg := base(KindMessage)
	msg.Message = &EventMessage{MID: "m1", Text: "hi"}
	msgOtherText := msg
	msgOtherText.Message = &EventMessage{MID: "m1", Text: "edited"}
	msgOtherTime := msg
	msgOtherTime.Time = at.Add(time.Hour)
	msgOtherMID := msg
	msgOtherMID.Message = &EventMessage{MID: "m2"}
	msgOtherPage := msg
	msgOtherPage.PageID = "P2"
	echo := base(KindEcho)
	echo.Message = &EventMessage{MID: "m1", IsEcho: true}

	react := base(KindReaction)
	react.Reaction = &Reaction{MID: "m1", Action: "react", Emoji: "❤", Reaction: "love"}
	reactOtherEmoji := react
	reactOtherEmoji.Reaction = &Reaction{MID: "m1", Action: "react", Emoji: "😮", Reaction: "wow"}
	unreact := react
	unreact.Reaction = &Reaction{MID: "m1", Action: "unreact", Reaction: "love"}
	unreact.Time = at.Add(time.Second)
	reactAgain := react
	reactAgain.Time = at.Add(2 * time.Second)

	pb := base(KindPostback)
	pb.Postback = &Postback{Title: "Menu", Payload: "MENU", MID: "m9"}
	pbOtherPayload := pb
	pbOtherPayload.Postback = &Postback{Payload: "HELP", MID: "m9"}
	pbOtherTime := pb
	pbOtherTime.Time = at.Add(time.Second)

	del := base(KindDelivery)
	del.Delivery = &Delivery{MIDs: []string{"a"}, Watermark: at}
	delOtherMIDs := del
	delOtherMIDs.Delivery = &Delivery{MIDs: []string{"b"}, Watermark: at}
	delLater := del
	delLater.Delivery = &Delivery{Watermark: at.Add(time.Second)}
	read := base(KindRead)
	read.Read = &Read{Watermark: at}

	unknown := base(KindUnknown)
	unknownOther := unknown
	unknownOther.Raw = []byte(`{"x":2}`)
	noMID := base(KindMessage)
	noMID.Message = &EventMessage{Text: "?"}

	same := []struct {
		name string
		a, b Event
	}{
		{"a message by mid, whatever else differs", msg, msgOtherText},
		{"a message by mid, whatever its time", msg, msgOtherTime},
		{"a delivery by watermark", del, delOtherMIDs},
	}
	for _, tt := range same {
		assert.Equal(t, tt.a.Key(), tt.b.Key(), tt.name)
	}

	distinct := []Event{msg, msgOtherMID, msgOtherPage, echo, react, reactOtherEmoji, unreact, reactAgain,
		pb, pbOtherPayload, pbOtherTime, del, delLater, read, unknown, unknownOther, noMID}
	seen := map[string]int{}
	for i, e := range distinct {
		k := e.Key()
		if j, dup := seen[k]; dup {
			t.Errorf("events %d and %d share the key %q", j, i, k)
		}
		seen[k] = i
		assert.True(t, strings.HasPrefix(k, string(e.Kind)+":P"), "the kind leads the key: %q", k)
	}
	assert.Equal(t, "message:P:U:m1", msg.Key())

	// Keys of parsed events are stable across parses (redeliveries).
	body := fixture(t, "reaction.json")
	first, err := ParseWebhook(body)
	require.NoError(t, err)
	again, err := ParseWebhook(body)
	require.NoError(t, err)
	for i := range first {
		assert.Equal(t, first[i].Key(), again[i].Key())
	}
	assert.NotEqual(t, first[0].Key(), first[1].Key(), "react and unreact differ")
}

func TestHandlerFunc(t *testing.T) {
	t.Parallel()
	want := errors.New("nope")
	var got []Event
	h := HandlerFunc(func(_ context.Context, events []Event) error {
		got = events
		return want
	})
	events := []Event{{Kind: KindRead}}
	assert.Equal(t, want, h.HandleEvents(context.Background(), events))
	assert.Equal(t, events, got)
}
