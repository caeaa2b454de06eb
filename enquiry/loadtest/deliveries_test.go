package loadtest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

// visitorKind says when a visitor's messages were sent, relative to the
// service's clock: within the 24-hour window, all before it, or some
// before and some within.
type visitorKind int

const (
	visitorFresh visitorKind = iota
	visitorStale
	visitorMixed
)

// visitor is one person messaging one Page.
type visitor struct {
	page  int // index into the world's Pages
	psid  string
	kind  visitorKind
	first string // first name, served by the fake's profiles
}

// event is one item a visitor sends, with the idempotency key the service
// records it under.
type event struct {
	visitor int
	at      time.Time
	key     string
	d       *delivery // the delivery that carries it
}

// plan is the traffic of one run: visitors, their events, and the
// deliveries that carry them, in the order Facebook first sends them.
type plan struct {
	visitors   []visitor
	events     []event
	deliveries []*delivery
	keys       map[string]int // event key -> index into events
}

// delivery is one signed webhook POST body.
type delivery struct {
	body []byte
	sig  string
	// events is how many visitor events it carries (0 for echoes).
	events int
	// redeliver: Facebook sends it again although it was accepted.
	redeliver bool
	// refused: a POST of it was answered non-2xx.
	refused atomic.Bool
}

// newPlan makes a run's traffic: nEvents events from nVisitors visitors
// spread over pageIDs, batched one to three per delivery, the deliveries
// in an order that mixes each visitor's events, a share redeliver of them
// to be delivered twice. Stale and mixed visitors have messages older than
// the 24-hour window before now.
func newPlan(rng *rand.Rand, secret string, pageIDs []string, nVisitors, nEvents int, redeliver float64, now time.Time) (*plan, error) {
	if nVisitors < 1 || nEvents < nVisitors {
		return nil, fmt.Errorf("loadtest: %d events for %d visitors: want at least one event per visitor", nEvents, nVisitors)
	}
	p := &plan{keys: make(map[string]int, nEvents)}
	for i := range nVisitors {
		v := visitor{page: i % len(pageIDs), psid: strconv.Itoa(7100000000000000 + i), first: "Visitor" + strconv.Itoa(i)}
		switch r := rng.IntN(100); {
		case r < 10:
			v.kind = visitorStale
		case r < 20:
			v.kind = visitorMixed
		}
		p.visitors = append(p.visitors, v)
	}
	// Every visitor sends at least one event; the rest go to visitors at
	// random.
	per := make([]int, nVisitors)
	for i := range per {
		per[i] = 1
	}
	for range nEvents - nVisitors {
		per[rng.IntN(nVisitors)]++
	}
	type item struct {
		visitor, seq int
		at           time.Time
	}
	var items []item
	for vi, n := range per {
		v := p.visitors[vi]
		// The visitor's messages, oldest first, a minute or so apart.
		var start time.Time
		switch v.kind {
		case visitorFresh:
			start = now.Add(-time.Duration(rng.IntN(120)+1) * time.Minute)
		case visitorStale:
			start = now.Add(-30*time.Hour + time.Duration(rng.IntN(60))*time.Minute)
		case visitorMixed:
			start = now.Add(-25*time.Hour - time.Duration(rng.IntN(60))*time.Minute)
		}
		at := start
		for s := range n {
			if v.kind == visitorMixed && s == n/2 && n > 1 {
				at = now.Add(-time.Duration(rng.IntN(60)+1) * time.Minute)
			}
			items = append(items, item{visitor: vi, seq: s, at: at})
			at = at.Add(time.Duration(rng.IntN(50_000)+10) * time.Millisecond)
			if at.After(now) {
				at = now
			}
		}
	}
	// Facebook's order: mostly by time, but concurrent deliveries and
	// retries mix a visitor's events; a random order is the worst case.
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	for len(items) > 0 {
		n := min(len(items), 1+rng.IntN(3)*rng.IntN(2)) // mostly 1, sometimes 2 or 3
		b := messengertest.Delivery(secret)
		for _, it := range items[:n] {
			v := p.visitors[it.visitor]
			page := pageIDs[v.page]
			b.At(it.at)
			switch r := rng.IntN(20); {
			case r == 0:
				b.Postback(page, v.psid, "Talk to us", "TALK")
			case r <= 2:
				b.QuickReply(page, v.psid, "Order status", "ORDER_STATUS")
			default:
				b.Text(page, v.psid, fmt.Sprintf("Message %d: a question about order %d", it.seq, rng.IntN(1_000_000)))
			}
		}
		body := b.Body()
		evs, err := messenger.ParseWebhook(body)
		if err != nil {
			return nil, fmt.Errorf("loadtest: parsing a built delivery: %w", err)
		}
		if len(evs) != n {
			return nil, fmt.Errorf("loadtest: a built delivery holds %d events; want %d", len(evs), n)
		}
		d := &delivery{body: body, sig: messengertest.Sign(secret, body), events: n, redeliver: rng.Float64() < redeliver}
		for k, ev := range evs {
			key := ev.Key()
			if _, dup := p.keys[key]; dup {
				return nil, fmt.Errorf("loadtest: two built events share the key %q", key)
			}
			p.keys[key] = len(p.events)
			p.events = append(p.events, event{visitor: items[k].visitor, at: items[k].at, key: key, d: d})
		}
		p.deliveries = append(p.deliveries, d)
		items = items[n:]
	}
	return p, nil
}
