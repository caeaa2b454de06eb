package sqlstore_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/sqlstore"
)

// visitors is how many visitors the benchmark's events come from: the
// first event of each opens an enquiry, the others join it.
const benchVisitors = 1000

// BenchmarkRecordInbound records inbound messages (each its own key,
// from benchVisitors visitors in turn) with 1 and with 8 concurrent
// writers, and reports events recorded per second.
func BenchmarkRecordInbound(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := newStore(b, sqlstore.Config{TokenKey: testKey(1)})
			ctx := b.Context()
			require.NoError(b, s.CreateChannel(ctx, &store.Channel{ID: "ch", ServiceID: "svc", PageID: "page", PageToken: "t"}))
			var n atomic.Int64
			record := func() error {
				i := n.Add(1)
				_, err := s.RecordInbound(ctx, store.Inbound{
					ServiceID: "svc", ChannelID: "ch", PSID: fmt.Sprintf("psid-%d", i%benchVisitors),
					EnquiryID: fmt.Sprintf("enq-%d", i), Open: true, Window: true,
					Message: store.Message{ID: fmt.Sprintf("msg-%d", i), Key: fmt.Sprintf("key-%d", i),
						Kind: store.KindMessage, Direction: store.DirectionIn, Author: store.AuthorVisitor,
						Text: "Hello, is anyone there?", State: store.StateReceived, CreatedAt: at(12, 0)},
				})
				return err
			}
			b.ReportAllocs()
			if writers == 1 {
				for b.Loop() {
					if err := record(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				// RunParallel starts parallelism x GOMAXPROCS goroutines.
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((writers + procs - 1) / procs)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := record(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
