package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/store"
)

// TestLoad is the load and fault proof on memstore and on sqlstore (see
// the package doc).
func TestLoad(t *testing.T) {
	cfg := configFromFlags()
	for _, tc := range []struct {
		name     string
		newStore newStoreFunc
	}{
		{"memstore", newMemstore},
		{"sqlstore", newSQLStore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loadRun(t, tc.name, cfg, tc.newStore)
		})
	}
}

func loadRun(t *testing.T, name string, cfg config, newStore newStoreFunc) {
	w := newWorld(t, cfg, newStore)
	t.Logf("plan: seed=%d events=%d deliveries=%d visitors=%d pages=%d services=%d concurrency=%d redeliver=%.0f%% store-faults=%.0f%% (reads %.0f%%) graph-faults=%.0f%% limit=%d",
		cfg.seed, len(w.plan.events), len(w.plan.deliveries), cfg.visitors, cfg.pages, cfg.services, cfg.concurrency,
		cfg.redeliver*100, cfg.storeFaults*100, cfg.readFaults*100, cfg.graphFaults*100, cfg.limit)
	ctx := context.Background()

	// Facebook delivers; staff work at the same time.
	fbDone := make(chan struct{})
	go func() {
		defer close(fbDone)
		w.fb.run(ctx, cfg.concurrency)
	}()
	defer func() {
		w.fb.close()
		<-fbDone
	}()
	stats := &staffStats{busy: make(chan struct{})}
	stop := make(chan struct{})
	var staffWG sync.WaitGroup
	for _, svc := range w.svcIDs {
		for i := range cfg.staff {
			s := &staffer{w: w, svc: svc, id: staffID(svc, i), stats: stats}
			staffWG.Go(func() { s.work(ctx, stop) })
		}
	}
	start := time.Now()
	w.fb.add(w.plan.deliveries...)
	w.fb.wait()
	elapsed := time.Since(start)
	<-stats.busy // however fast the traffic went, staff were at work
	close(stop)
	staffWG.Wait()
	w.fb.wait() // the echoes of the last replies

	// A day later: every window is closed but HUMAN_AGENT's (7 days, on
	// the channels that opted in, staff only). The holders answer and
	// close what they hold: no message may go out but tagged staff replies.
	w.clock.advance(25 * time.Hour)
	late := w.afterWindow(ctx)
	w.fb.wait()

	w.faultsOff()
	f := w.check(ctx, w.fake.Sent(""))

	// RULE-4 at the end: what the store counts is what is there, and
	// never over the limit.
	for _, svc := range w.svcIDs {
		n, err := w.base.CountTaken(ctx, svc)
		require.NoError(t, err)
		assert.Equal(t, f.taken[svc], n, "service %s: CountTaken against the enquiries read", svc)
		assert.LessOrEqual(t, n, cfg.limit, "service %s: enquiries taken at the end", svc)
	}

	events := len(w.plan.events)
	rate := float64(events) / elapsed.Seconds()
	t.Logf("deliveries: %d distinct (+%d echoes), %d POSTs: %d redeliveries of accepted deliveries, %d after a non-2xx answer (%d refused), %d given up",
		len(w.plan.deliveries), w.fb.echoes.Load(), w.fb.posts.Load(), w.fb.redeliveries.Load(), w.fb.retries.Load(), w.fb.refused.Load(), w.fb.gaveUp.Load())
	t.Logf("store faults: %d (writes: %d before the write, %d after it committed; %d reads)", w.st.faults(), w.st.before.Load(), w.st.after.Load(), w.st.reads.Load())
	t.Logf("graph faults: %d (%s)", w.graph.total(), w.graphFaultSummary())
	t.Logf("staff: %d takes (%d refused by the RULE-4 limit, at most %d taken at once; %d lost races, %d store faults), %d replies sent, %d uncertain, %d failed, %d refused by RULE-5, %d store faults; %d transfers (%d picked up); %d closes",
		stats.takes.Load(), stats.takeLimited.Load(), stats.maxTaken.Load(), stats.takeLost.Load(), stats.takeFaults.Load(),
		stats.replies.Load(), stats.uncertain.Load(), stats.failed.Load(), stats.windowRefused.Load(), stats.replyFaults.Load(),
		stats.transfers.Load(), stats.adopted.Load(), stats.closes.Load())
	t.Logf("after the window: %s", late)
	t.Logf("store: %d enquiries; fake Graph API: %d sends (%d welcome, %d away, %d close, %d staff); %d messages left uncertain (%d of them sent, their last state write failed by a store fault)",
		f.enquiries, f.sends, f.welcomes, f.aways, f.closeReplies, f.staffSends, f.uncertainInStore, f.unconfirmedDropped)
	t.Logf("inbound items recorded by a RecordInbound whose answer was lost: %d, each announced to the host's Notifier when delivered again; items never announced: %d", w.st.lostAckCount(), f.unheard)
	t.Logf("recorded, never sent (their recording answered with an error): %d staff replies, marked failed (%d left pending, the store failing that mark too); auto-replies, left pending: %v",
		f.unsentRecorded, f.pendingDropped, f.autoPending)
	t.Logf("welcomes not sent because the first delivery failed and staff closed the enquiry before it came again: %d; Close calls that met a store fault, tried again: %d; close replies due never attempted: %d", f.welcomeClosed, stats.closeFaults.Load(), f.closeSkipped)
	t.Logf("loadtest %s: events=%d deliveries=%d redeliveries=%d store-faults=%d graph-faults=%d lost=%d duplicated=%d events/s=%.0f",
		name, events, w.fb.posts.Load(), w.fb.redeliveries.Load()+w.fb.retries.Load(), w.st.faults(), w.graph.total(), f.lost, f.duplicated, rate)
	for _, p := range f.problems {
		t.Log("problem:", p)
	}
	for _, text := range f.textsTwice {
		t.Logf("tries of %q: %v", text, stats.tries[text])
	}
	for _, p := range stats.problems {
		t.Log("staff problem:", p)
	}
	w.mu.Lock()
	violations := w.violations
	w.mu.Unlock()
	for _, v := range violations {
		t.Log("violation:", v)
	}

	assert.Zero(t, w.fb.gaveUp.Load(), "deliveries never accepted: %v", w.fb.failures)
	assert.Zero(t, f.lost, "events lost")
	assert.Zero(t, f.duplicated, "events recorded twice")
	assert.Zero(t, f.unexpected, "inbound messages nobody sent")
	assert.Zero(t, f.openTwice, "visitors with two open enquiries on a channel")
	assert.Zero(t, f.sentTwice, "recorded messages sent twice")
	assert.Zero(t, f.staffTextTwice, "staff texts sent twice to a visitor")
	assert.Zero(t, f.welcomeTwice, "visitors welcomed twice")
	assert.Zero(t, f.awayTwice, "enquiries with two away replies")
	assert.Zero(t, f.closeTwice, "enquiries with two close replies")
	assert.Zero(t, f.unrecorded, "sends the store does not hold")
	assert.Zero(t, f.unconfirmed, "sends that reached Facebook but are not recorded as sent")
	assert.Zero(t, f.phantom, "messages recorded as sent that never reached Facebook")
	assert.Zero(t, f.badTag, "HUMAN_AGENT sends that were not staff replies on an opted-in channel")
	assert.Zero(t, f.windowWrong, "visitors and enquiries whose LastInboundAt is not their latest message's")
	assert.Zero(t, f.welcomeSkipped, "welcomes due but never attempted")
	assert.Zero(t, f.unheard, "inbound messages the host's Notifier never heard of (notices of inbound items are at least once)")
	assert.Zero(t, f.pending, "staff messages left pending")
	assert.Zero(t, f.closeSkipped, "close replies due but never attempted")
	assert.Empty(t, violations, "RULE-4 and RULE-5 breaches seen as they happened")
	assert.Zero(t, stats.unexpected.Load(), "staff actions that failed unexpectedly: %v", stats.problems)
	assert.LessOrEqual(t, stats.maxTaken.Load(), int64(cfg.limit), "RULE-4: most enquiries taken at once in a service")
	assert.Empty(t, late.problems, "after the window")
	// The run must have exercised what it claims to.
	assert.Positive(t, w.fb.redeliveries.Load(), "redeliveries")
	if cfg.storeFaults > 0 {
		assert.Positive(t, w.st.after.Load(), "store faults after the write")
	}
	if cfg.graphFaults > 0 {
		assert.Positive(t, w.graph.total(), "graph faults")
	}
	assert.Positive(t, stats.takes.Load(), "takes")
	assert.Positive(t, f.staffSends, "staff replies")
}

// lateReport is what happened when staff answered after the window.
type lateReport struct {
	taken, tagged, refused, failed, closed int
	problems                               []string
}

func (r *lateReport) String() string {
	return fmt.Sprintf("%d enquiries held; replies: %d with HUMAN_AGENT, %d refused by RULE-5, %d failed; %d closed",
		r.taken, r.tagged, r.refused, r.failed, r.closed)
}

// afterWindow has the holder of every taken enquiry answer it and close
// it, a day after the traffic.
func (w *world) afterWindow(ctx context.Context) *lateReport {
	r := &lateReport{}
	for _, svc := range w.svcIDs {
		var held []store.Enquiry
		var err error
		for try := 0; try == 0 || (errors.Is(err, errInjected) && try < 5); try++ {
			held, err = nil, nil
			for e, lerr := range w.svc.Enquiries(ctx, svc, store.EnquiryTaken) {
				if lerr != nil {
					err = lerr
					break
				}
				held = append(held, e)
			}
		}
		if err != nil {
			r.problems = append(r.problems, fmt.Sprintf("listing %s's taken enquiries: %v", svc, err))
		}
		for _, e := range held {
			r.taken++
			ch, err := w.base.Channel(ctx, e.ChannelID)
			if err != nil {
				r.problems = append(r.problems, err.Error())
				continue
			}
			text := "A day later, from " + e.StaffID + " on enquiry " + e.ID
			var se *enquiry.SendError
			for try := 0; ; try++ {
				_, err = w.svc.Reply(ctx, e.ID, e.StaffID, text)
				if !errors.Is(err, errInjected) || try == 5 {
					break
				}
			}
			switch {
			case err == nil && ch.HumanAgent:
				r.tagged++
			case errors.Is(err, enquiry.ErrOutsideWindow):
				r.refused++
			case errors.As(err, &se):
				r.failed++
			default:
				r.problems = append(r.problems, fmt.Sprintf("a reply on %s (HUMAN_AGENT %v) a day later: %v", e.ID, ch.HumanAgent, err))
			}
			for try := 0; ; try++ {
				_, err = w.svc.Close(ctx, e.ID, e.StaffID)
				if !errors.Is(err, errInjected) || try == closeTries-1 {
					break
				}
			}
			if err == nil {
				r.closed++
			} else {
				r.problems = append(r.problems, fmt.Sprintf("closing %s a day later: %v", e.ID, err))
			}
		}
	}
	return r
}
