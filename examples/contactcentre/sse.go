package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// liveEvent is what the console is told when something changed. It carries
// ids and states only: the console reads the rest through the JSON API, so a
// visitor's text never travels through the broadcast (nor into a log).
type liveEvent struct {
	Type      string    `json:"type"`
	EnquiryID string    `json:"enquiry_id,omitempty"`
	ChannelID string    `json:"channel_id,omitempty"`
	Status    string    `json:"status,omitempty"`
	StaffID   string    `json:"staff_id,omitempty"`
	Now       time.Time `json:"now,omitzero"`
}

// hub fans live events out to every connected console. A console that
// cannot keep up loses events rather than slowing the webhook down; since
// each event only says "re-read this", a lagging console is sent a
// "resync" in place of what it lost, and re-reads everything.
type hub struct {
	log *slog.Logger

	mu   sync.Mutex
	subs map[chan liveEvent]struct{}
	done bool
}

func newHub(log *slog.Logger) *hub {
	return &hub{log: log, subs: make(map[chan liveEvent]struct{})}
}

// publish hands e to every subscriber without blocking.
func (h *hub) publish(e liveEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- e:
		default:
			// Full: drop the oldest event to make room for a resync, so
			// that the console's last read comes after this change.
			h.log.Debug("sse subscriber lagging; events replaced by a resync", "type", e.Type)
			select {
			case <-c:
			default:
			}
			select {
			case c <- liveEvent{Type: "resync"}:
			default:
			}
		}
	}
}

// subscribe returns a channel of events and a function to stop receiving.
// The channel is closed when the hub shuts down.
func (h *hub) subscribe() (<-chan liveEvent, func()) {
	c := make(chan liveEvent, 64)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		close(c)
		return c, func() {}
	}
	h.subs[c] = struct{}{}
	return c, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[c]; ok {
			delete(h.subs, c)
			close(c)
		}
	}
}

// close ends every stream, so that http.Server.Shutdown is not held up by
// consoles that stay connected forever.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	for c := range h.subs {
		delete(h.subs, c)
		close(c)
	}
}

// ServeHTTP streams events as Server-Sent Events until the client goes
// away or the hub closes. A comment line every 15 seconds keeps proxies
// from closing an idle stream.
func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	events, stop := h.subscribe()
	defer stop()
	// The first frame tells the client how soon to reconnect and makes
	// EventSource fire "open" at once.
	if _, err := fmt.Fprint(w, "retry: 2000\n: connected\n\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case e, ok := <-events:
			if !ok {
				return
			}
			data, err := json.Marshal(e)
			if err != nil {
				h.log.Error("encode live event", "err", err)
				continue
			}
			if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
