package memstore_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
)

var benchStart = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// benchIDs hands out distinct ids in batches made with the timer stopped,
// so the benchmarks measure the store, not strconv.
type benchIDs struct {
	b      *testing.B
	prefix string
	batch  []string
	n      int
}

func (g *benchIDs) next() string {
	if len(g.batch) == 0 {
		g.b.StopTimer()
		g.batch = make([]string, 4096)
		for i := range g.batch {
			g.batch[i] = g.prefix + strconv.Itoa(g.n)
			g.n++
		}
		g.b.StartTimer()
	}
	id := g.batch[0]
	g.batch = g.batch[1:]
	return id
}

func benchChannel(b *testing.B, s *memstore.Store) *store.Channel {
	ch := &store.Channel{ID: "ch-1", ServiceID: "svc-1", PageID: "page-1", CreatedAt: benchStart}
	if err := s.CreateChannel(context.Background(), ch); err != nil {
		b.Fatal(err)
	}
	return ch
}

func benchInbound(ch *store.Channel, psid, id, key, enquiryID string, at time.Time) store.Inbound {
	return store.Inbound{
		ServiceID: ch.ServiceID,
		ChannelID: ch.ID,
		PSID:      psid,
		Message: store.Message{
			ID: id, Key: key, MID: key, Text: "Hello, is anyone there?",
			Kind: store.KindMessage, Direction: store.DirectionIn, Author: store.AuthorVisitor,
			State: store.StateReceived, CreatedAt: at,
		},
		EnquiryID: enquiryID,
		Open:      true,
		Window:    true,
	}
}

// BenchmarkRecordInbound measures recording one inbound message:
// join: a message from one of 1,000 visitors with an open enquiry (the
// common case); open: the first message of a new visitor, opening an
// enquiry; duplicate: a redelivered event.
func BenchmarkRecordInbound(b *testing.B) {
	ctx := context.Background()
	b.Run("join", func(b *testing.B) {
		s := memstore.New()
		ch := benchChannel(b, s)
		psids := make([]string, 1000)
		for i := range psids {
			psids[i] = "psid-" + strconv.Itoa(i)
			in := benchInbound(ch, psids[i], "first-"+psids[i], "first-"+psids[i], "enq-"+psids[i], benchStart)
			if _, err := s.RecordInbound(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		keys := benchIDs{b: b, prefix: "mid."}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			key := keys.next()
			in := benchInbound(ch, psids[i%len(psids)], key, key, "", benchStart.Add(time.Duration(i)*time.Millisecond))
			in.Open = false
			if _, err := s.RecordInbound(ctx, in); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("open", func(b *testing.B) {
		s := memstore.New()
		ch := benchChannel(b, s)
		keys := benchIDs{b: b, prefix: "mid."}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			key := keys.next()
			at := benchStart.Add(time.Duration(i) * time.Millisecond)
			i++
			if _, err := s.RecordInbound(ctx, benchInbound(ch, key, key, key, key, at)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("duplicate", func(b *testing.B) {
		s := memstore.New()
		ch := benchChannel(b, s)
		in := benchInbound(ch, "psid-1", "mid.1", "mid.1", "enq-1", benchStart)
		if _, err := s.RecordInbound(ctx, in); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.RecordInbound(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel-join", func(b *testing.B) {
		s := memstore.New()
		ch := benchChannel(b, s)
		b.ReportAllocs()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			psid := "psid-" + strconv.FormatInt(n.Add(1), 10)
			i := 0
			for pb.Next() {
				key := psid + "." + strconv.Itoa(i)
				if _, err := s.RecordInbound(ctx, benchInbound(ch, psid, key, key, "enq-"+psid, benchStart)); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// BenchmarkMemory measures the heap a Store holds for 100,000 open
// enquiries of 10 messages each (6 from the visitor, 4 staff replies),
// with ids, keys, mids and texts of realistic sizes: B/enquiry is
// everything, string bytes included; overhead-B/enquiry leaves out the
// bytes of the strings the caller gave. Run it with -benchtime=1x.
func BenchmarkMemory(b *testing.B) {
	if testing.Short() {
		b.Skip("builds 1,000,000 messages")
	}
	const enquiries, perEnquiry = 100_000, 10
	ctx := context.Background()
	pad := func(prefix string, n, size int) string {
		s := prefix + strconv.Itoa(n)
		return s + strings.Repeat("x", max(0, size-len(s)))
	}
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := memstore.New()
		ch := benchChannel(b, s)
		given := 0
		n := 0
		for e := range enquiries {
			psid := pad("", e, 16)        // PSIDs are 16 digits
			enq := pad("enq-", e, 26)     // ids the size of rand.Text
			given += len(psid) + len(enq) // each held once
			at := benchStart.Add(time.Duration(e) * time.Second)
			for m := range perEnquiry {
				n++
				id := pad("msg-", n, 26)
				mid := pad("m_", n, 90) // Facebook mids are about 90 bytes
				at := at.Add(time.Duration(m) * time.Second)
				if m%5 == 1 || m%5 == 3 { // staff replies
					text := pad("Thank you, we are looking into it: ", n, 80)
					msg := &store.Message{
						ID: id, EnquiryID: enq, Kind: store.KindMessage, Direction: store.DirectionOut,
						Author: store.AuthorStaff, StaffID: "staff-1", MID: mid, Text: text,
						State: store.StateSent, CreatedAt: at,
					}
					if err := s.AppendOutbound(ctx, msg); err != nil {
						b.Fatal(err)
					}
					given += len(id) + len(mid) + len(text)
					continue
				}
				key := "message:page-1:" + psid + ":" + mid // messenger.Event.Key's shape
				in := benchInbound(ch, psid, id, key, enq, at)
				in.Message.MID = mid
				in.Message.Text = pad("Hello, I have a question about order ", n, 40)
				if _, err := s.RecordInbound(ctx, in); err != nil {
					b.Fatal(err)
				}
				given += len(id) + len(key) + len(mid) + len(in.Message.Text)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(held/enquiries, "B/enquiry")
		b.ReportMetric((held-float64(given))/enquiries, "overhead-B/enquiry")
		runtime.KeepAlive(s)
	}
}
