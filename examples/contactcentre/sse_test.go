package main

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHub(t *testing.T) {
	t.Parallel()
	h := newHub(slog.New(slog.DiscardHandler))
	a, stopA := h.subscribe()
	b, stopB := h.subscribe()

	h.publish(liveEvent{Type: "enquiry.opened", EnquiryID: "e1"})
	assert.Equal(t, "e1", (<-a).EnquiryID)
	assert.Equal(t, "e1", (<-b).EnquiryID)

	// A console that does not read never holds up the publisher (a webhook):
	// what it cannot hold is replaced by a resync, last, so it reads again
	// after the last change.
	for range 3 * cap(a) {
		h.publish(liveEvent{Type: "message.in"})
	}
	assert.Len(t, a, cap(a))
	stopA()
	stopA() // twice is harmless
	var last liveEvent
	for e := range a {
		last = e
	}
	assert.Equal(t, "resync", last.Type)
	_, open := <-a
	assert.False(t, open, "stop closes the subscriber's channel")

	h.close()
	_, open = <-drain(b)
	assert.False(t, open, "close ends every stream")
	stopB() // after close: harmless
	c, _ := h.subscribe()
	_, open = <-c
	assert.False(t, open, "a subscription after close is already closed")
}

// drain reads c until it is closed, then returns it (closed).
func drain(c <-chan liveEvent) <-chan liveEvent {
	for range c {
	}
	return c
}
