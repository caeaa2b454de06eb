package enquiry_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

// discard is a minimal http.ResponseWriter, so the benchmark measures the
// webhook and the service rather than a recorder.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

// deliveries makes signed webhook deliveries the way Facebook sends them:
// perDelivery text messages each, from visitors taken in turn, every mid
// new.
type deliveries struct {
	secret      string
	visitors    int
	perDelivery int
	seq         atomic.Int64
	prefix      string
}

func (g *deliveries) body(buf []byte) []byte {
	buf = append(buf[:0], `{"object":"page","entry":[{"id":"`+pageID+`","time":1772442000000,"messaging":[`...)
	for i := range g.perDelivery {
		n := g.seq.Add(1)
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = fmt.Appendf(buf, `{"sender":{"id":"%s%d"},"recipient":{"id":"%s"},"timestamp":1772442000000,"message":{"mid":"m_%s%d","text":"Hello, I have a question about order %d"}}`,
			g.prefix, n%int64(g.visitors), pageID, g.prefix, n, n)
	}
	return append(buf, `]}]}`...)
}

func (g *deliveries) request(buf []byte) (*http.Request, []byte) {
	buf = g.body(buf)
	body := bytes.Clone(buf)
	r, err := http.NewRequest(http.MethodPost, webhookTo, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Hub-Signature-256", messengertest.Sign(g.secret, body))
	return r, buf
}

// warm sends each visitor's first message outside the timing, so that the
// benchmark measures the steady state: messages joining open, offered
// enquiries. (A first message also fetches a profile and sends the
// welcome: two Graph calls.)
func (g *deliveries) warm(b *testing.B, e *env) {
	b.Helper()
	per := g.perDelivery
	g.perDelivery = 1
	var buf []byte
	for range g.visitors {
		var r *http.Request
		r, buf = g.request(buf)
		w := &discard{}
		e.webhook.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Fatalf("warm-up delivery answered %d", w.code)
		}
	}
	g.perDelivery = per
}

func benchEnv(b *testing.B, newStore newStoreFunc) *env {
	var heard atomic.Int64
	e := newEnv(b, newStore, options{
		channel: func(c *store.Channel) {
			c.AutoReply = autoreply.Settings{Welcome: autoreply.Message{On: true}, Away: autoreply.Message{On: true}}
		},
		// A host's notifier hands each notice on; this one only counts them.
		notifier: enquiry.NotifierFunc(func(context.Context, enquiry.Notice) { heard.Add(1) }),
	})
	return e
}

// BenchmarkWebhookToEnquiry measures a signed webhook delivery through the
// real webhook's ServeHTTP into the enquiry service on memstore: signature,
// parse, channel lookup, webhook time, dedup-and-record, notification.
func BenchmarkWebhookToEnquiry(b *testing.B) {
	for _, per := range []int{1, 10} {
		b.Run("memstore/events-per-delivery="+strconv.Itoa(per), func(b *testing.B) {
			e := benchEnv(b, newMemstore)
			g := &deliveries{secret: e.fb.AppSecret, visitors: 1000, perDelivery: per, prefix: "bench-"}
			g.warm(b, e)
			const chunk = 2048
			reqs := make([]*http.Request, 0, chunk)
			var buf []byte
			w := &discard{}
			b.ReportAllocs()
			for b.Loop() {
				if len(reqs) == 0 {
					b.StopTimer()
					for range chunk {
						var r *http.Request
						r, buf = g.request(buf)
						reqs = append(reqs, r)
					}
					b.StartTimer()
				}
				r := reqs[len(reqs)-1]
				reqs = reqs[:len(reqs)-1]
				e.webhook.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					b.Fatalf("delivery answered %d", w.code)
				}
			}
			b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "events/s")
		})
	}
	for _, tc := range []struct {
		name     string
		newStore newStoreFunc
	}{
		{"memstore", newMemstore},
		{"sqlstore", newSQLStore},
	} {
		b.Run(tc.name+"/concurrent=8", func(b *testing.B) {
			e := benchEnv(b, tc.newStore)
			g := &deliveries{secret: e.fb.AppSecret, visitors: 1000, perDelivery: 1, prefix: "bench-"}
			g.warm(b, e)
			// Facebook's side (building and signing each delivery) is done
			// before the timing starts.
			reqs := make([]*http.Request, b.N)
			var buf []byte
			for i := range reqs {
				reqs[i], buf = g.request(buf)
			}
			var next atomic.Int64
			b.SetParallelism(4) // 4 x GOMAXPROCS (2 here) = 8 deliveries at once
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := &discard{}
				for pb.Next() {
					r := reqs[next.Add(1)-1]
					e.webhook.ServeHTTP(w, r)
					if w.code != http.StatusOK {
						b.Errorf("delivery answered %d", w.code)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
