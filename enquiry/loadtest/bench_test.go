package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

// benchConfig is a world for benchmarks: 20 Pages of 4 services, no
// faults, no echoes.
func benchConfig() config {
	return config{pages: 20, services: 4, staff: 3, limit: 200, concurrency: 1, seed: 1, noPlan: true, quiet: true}
}

// ingestDeliveries makes signed one-event deliveries as Facebook sends
// them: conversations of ten text messages, so that every tenth event is a
// visitor's first (a new enquiry: profile fetch, welcome, dispatch) and
// the others join an open enquiry.
type ingestDeliveries struct {
	secret string
	pages  []string
	seq    int64
	buf    []byte
}

func (g *ingestDeliveries) next() *delivery {
	n := g.seq
	g.seq++
	v := n / 10
	page := g.pages[int(v)%len(g.pages)]
	psid := strconv.FormatInt(8_100_000_000_000_000+v, 10)
	ms := epoch.UnixMilli() - 600_000 + n
	g.buf = fmt.Appendf(g.buf[:0], `{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"m_bench-%d","text":"Hello, I have a question about order %d"}}]}]}`,
		page, ms, psid, page, ms, n, n)
	body := append([]byte(nil), g.buf...)
	return &delivery{body: body, sig: messengertest.Sign(g.secret, body), events: 1}
}

// BenchmarkIngest measures signed webhook deliveries through the real
// webhook's ServeHTTP into enquiry.Service, end to end (signature, parse,
// channel lookup, dedup-and-record, dispatch, and for a visitor's first
// message the profile fetch and the welcome sent to the fake Graph API),
// on memstore and on sqlstore (with SQLSTORE_DSN), with 1, 8 and 32
// deliveries in flight. Building and signing the deliveries (Facebook's
// side) is left out of the timing. events/s is the figure to read.
func BenchmarkIngest(b *testing.B) {
	for _, tc := range []struct {
		name     string
		newStore newStoreFunc
	}{
		{"memstore", newMemstore},
		{"sqlstore", newSQLStore},
	} {
		for _, c := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/concurrent=%d", tc.name, c), func(b *testing.B) {
				benchIngest(b, tc.newStore, c)
			})
		}
	}
}

func benchIngest(b *testing.B, newStore newStoreFunc, concurrent int) {
	w := newWorld(b, benchConfig(), newStore)
	g := &ingestDeliveries{secret: w.fake.AppSecret, pages: w.pages}
	ctx := context.Background()
	deliver := func(d *delivery) {
		code, err := w.post(ctx, d)
		if err != nil || code != http.StatusOK {
			b.Errorf("delivery answered %d (%v)", code, err)
		}
	}
	if concurrent == 1 {
		var ready []*delivery
		b.ReportAllocs()
		for b.Loop() {
			if len(ready) == 0 {
				b.StopTimer()
				for range 1024 {
					ready = append(ready, g.next())
				}
				b.StartTimer()
			}
			deliver(ready[0])
			ready = ready[1:]
		}
	} else {
		ready := make([]*delivery, b.N)
		for i := range ready {
			ready[i] = g.next()
		}
		var next atomic.Int64
		procs := runtime.GOMAXPROCS(0)
		b.SetParallelism((concurrent + procs - 1) / procs)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				deliver(ready[next.Add(1)-1])
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReply measures the send path: enquiry.Service.Reply on a taken
// enquiry through to the fake Graph API (the rule checks, reading the
// enquiry and the channel, recording the message pending, the send,
// recording it sent), beside graph-only, the bare messenger send of the
// same text to the same fake over the same transport. The difference is
// what the service adds to a send.
func BenchmarkReply(b *testing.B) {
	const text = "Thank you for waiting. Your order left our warehouse this morning."
	for _, tc := range []struct {
		name     string
		newStore newStoreFunc
	}{
		{"memstore", newMemstore},
		{"sqlstore", newSQLStore},
	} {
		b.Run(tc.name+"/reply", func(b *testing.B) {
			w := newWorld(b, benchConfig(), tc.newStore)
			enquiryID, staff := w.benchTaken(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := w.svc.Reply(ctx, enquiryID, staff, text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("graph-only", func(b *testing.B) {
		w := newWorld(b, benchConfig(), newMemstore)
		ch := w.chans[w.pages[0]]
		page := w.client.Page(ch.PageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: ch.PageToken}))
		ctx := context.Background()
		m := messenger.OutgoingMessage{Recipient: "8200000000000001", Text: text, Metadata: "pagedesk:00000000-0000-4000-8000-000000000000"}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := page.Send(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchTaken opens an enquiry through the webhook and has a staff member
// take it.
func (w *world) benchTaken(b *testing.B) (enquiryID, staff string) {
	b.Helper()
	g := &ingestDeliveries{secret: w.fake.AppSecret, pages: w.pages}
	ctx := context.Background()
	if code, err := w.post(ctx, g.next()); err != nil || code != http.StatusOK {
		b.Fatalf("delivery answered %d (%v)", code, err)
	}
	ch := w.chans[w.pages[0]]
	enq, err := w.base.OpenEnquiry(ctx, ch.ID, "8100000000000000")
	if err != nil {
		b.Fatal(err)
	}
	staff = staffID(ch.ServiceID, 0)
	if _, err := w.svc.Take(ctx, enq.ID, staff); err != nil {
		b.Fatal(err)
	}
	return enq.ID, staff
}
