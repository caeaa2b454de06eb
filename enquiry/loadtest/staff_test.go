package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/store"
)

// holdCap is how many enquiries one staff member holds at once: with
// three staff per service, more than the RULE-4 limit of 20 together, so
// that the limit is met.
const holdCap = 8

// closeTries bounds the tries of a Close that meets store faults: each
// try makes a few store calls, any of which may fail, and ten tries all
// failing is beyond the odds of any run.
const closeTries = 10

// minTakes is how many takes the staff make before they may stop, however
// fast the traffic went (fewer with fewer visitors: each has an enquiry).
const minTakes = 10

// staffStats counts what the staff did and met.
type staffStats struct {
	takes, takeLimited, takeLost, takeFaults  atomic.Int64
	replies, uncertain, failed, windowRefused atomic.Int64
	replyFaults, closes, closeFaults          atomic.Int64
	maxTaken                                  atomic.Int64
	transfers, adopted                        atomic.Int64
	unexpected                                atomic.Int64

	busy chan struct{} // closed once minTakes takes were made

	mu       sync.Mutex
	problems []string
	tries    map[string][]string // staff text -> what became of each try
}

// trace keeps what became of each try of a staff text, to explain a
// breach.
func (s *staffStats) trace(text string, m *store.Message, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tries == nil {
		s.tries = map[string][]string{}
	}
	id := ""
	if m != nil {
		id = m.ID + " " + string(m.State)
	}
	s.tries[text] = append(s.tries[text], fmt.Sprintf("[%s: %v]", id, err))
}

func (s *staffStats) problem(format string, args ...any) {
	s.unexpected.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.problems) < 20 {
		s.problems = append(s.problems, fmt.Sprintf(format, args...))
	}
}

// held is an enquiry a staff member holds, and what they still mean to do.
type held struct {
	id       string
	replies  int    // replies still to send
	n        int    // replies sent (or given up)
	tries    int    // attempts of the current step
	moved    bool   // a transfer was decided (once per holder)
	text     string // the reply being sent, kept while it is tried again
	transfer string // the colleague it is being transferred to
}

// staffer is one staff member at work: takes enquiries of their service
// that nobody holds, answers each one to three times, closes it.
type staffer struct {
	w     *world
	svc   string
	id    string
	stats *staffStats
	held  []*held
	seq   int // replies begun
}

// work runs until stop is closed, checked between steps: a step is never
// cut short.
func (s *staffer) work(ctx context.Context, stop <-chan struct{}) {
	for ctx.Err() == nil {
		select {
		case <-stop:
			return
		default:
		}
		did := false
		if len(s.held) > 0 {
			s.step(ctx, s.held[0])
			did = true
		}
		if len(s.held) < holdCap && s.takeOne(ctx) {
			did = true
		}
		if !did {
			select {
			case <-s.w.pokes[s.svc]:
			case <-stop:
			case <-ctx.Done():
			}
		}
	}
}

// takeOne takes an open enquiry nobody holds, if there is one; it reports
// whether it tried.
func (s *staffer) takeOne(ctx context.Context) bool {
	var free []string
	adopted := false
	for e, err := range s.w.svc.Enquiries(ctx, s.svc, "") {
		if err != nil {
			return adopted // a read failing: try again later
		}
		switch {
		case e.Status != store.EnquiryTaken:
			free = append(free, e.ID)
		case e.StaffID == s.id && !s.holds(e.ID):
			// Transferred to me by a colleague (or taken by a take whose
			// answer was lost): mine to answer.
			s.held = append(s.held, &held{id: e.ID, replies: 1 + rand.IntN(2)})
			s.stats.adopted.Add(1)
			adopted = true
		}
		if len(free) >= 50 {
			break
		}
	}
	if len(free) == 0 || len(s.held) >= holdCap {
		return adopted
	}
	id := free[rand.IntN(len(free))]
	for try := 0; try < 5 && ctx.Err() == nil; try++ {
		enq, err := s.w.svc.Take(ctx, id, s.id)
		var te *enquiry.TakenError
		switch {
		case err == nil:
			if s.stats.takes.Add(1) == int64(min(minTakes, s.w.cfg.visitors)) {
				close(s.stats.busy)
			}
			s.held = append(s.held, &held{id: enq.ID, replies: 1 + rand.IntN(3)})
			s.sampleTaken(ctx)
			return true
		case errors.Is(err, enquiry.ErrServingLimit):
			s.stats.takeLimited.Add(1)
			return true
		case errors.As(err, &te), errors.Is(err, enquiry.ErrClosed):
			s.stats.takeLost.Add(1)
			return true
		case ctx.Err() != nil:
			return true
		case errors.Is(err, errInjected):
			// Maybe taken, maybe not: taking it again tells.
			s.stats.takeFaults.Add(1)
		default:
			s.stats.problem("take %s by %s: %v", id, s.id, err)
			return true
		}
	}
	return true
}

// sampleTaken checks RULE-4 right after a take: never more than the limit
// taken in the service.
func (s *staffer) sampleTaken(ctx context.Context) {
	n, err := s.w.base.CountTaken(ctx, s.svc)
	if err != nil {
		return
	}
	for {
		m := s.stats.maxTaken.Load()
		if int64(n) <= m || s.stats.maxTaken.CompareAndSwap(m, int64(n)) {
			break
		}
	}
	if n > s.w.cfg.limit {
		s.w.violate("RULE-4: service %s has %d enquiries taken; the limit is %d", s.svc, n, s.w.cfg.limit)
	}
}

// holds reports whether the staff member holds an enquiry.
func (s *staffer) holds(id string) bool {
	for _, h := range s.held {
		if h.id == id {
			return true
		}
	}
	return false
}

// step does the next thing for a held enquiry: a reply, now and then a
// transfer to a colleague after the first reply, or the close.
func (s *staffer) step(ctx context.Context, h *held) {
	h.tries++
	if h.transfer != "" || (h.n == 1 && h.replies > 0 && !h.moved && s.w.cfg.staff > 1 && rand.IntN(5) == 0) {
		s.transfer(ctx, h)
		return
	}
	if h.replies > 0 {
		if h.text == "" {
			// Unique to this reply, and kept while it is tried again.
			s.seq++
			h.text = fmt.Sprintf("Reply %d (#%d) from %s on enquiry %s", h.n+1, s.seq, s.id, h.id)
		}
		text := h.text
		m, err := s.w.svc.Reply(ctx, h.id, s.id, text)
		s.stats.trace(text, m, err)
		var se *enquiry.SendError
		switch {
		case err == nil:
			s.stats.replies.Add(1)
			s.next(h)
		case errors.As(err, &se) && se.Uncertain:
			// It may have reached the visitor: never sent again.
			s.stats.uncertain.Add(1)
			s.next(h)
		case errors.As(err, &se):
			// Certainly not sent: the same text may go again.
			s.stats.failed.Add(1)
			if h.tries >= 3 {
				s.next(h)
			}
		case errors.Is(err, enquiry.ErrOutsideWindow):
			s.stats.windowRefused.Add(1)
			h.replies, h.tries = 0, 0
		case ctx.Err() != nil:
		case errors.Is(err, errInjected):
			// A store write failed before the send: nothing went out.
			s.stats.replyFaults.Add(1)
			if h.tries >= 5 {
				s.next(h)
			}
		default:
			s.stats.problem("reply on %s by %s: %v", h.id, s.id, err)
			s.next(h)
		}
		return
	}
	// Close is idempotent: a Close that met a store fault (maybe after the
	// enquiry was closed, its close reply not yet seen to) is tried again
	// at once, within this step, so that staff stopping never leave one
	// half done.
	var err error
	for try := 0; ; try++ {
		_, err = s.w.svc.Close(ctx, h.id, s.id)
		if !errors.Is(err, errInjected) || try == closeTries-1 {
			break
		}
		s.stats.closeFaults.Add(1)
	}
	switch {
	case err == nil:
		s.stats.closes.Add(1)
		s.drop(h)
	case ctx.Err() != nil:
	case errors.Is(err, errInjected):
		s.stats.problem("close of %s by %s kept failing: %v", h.id, s.id, err)
		s.drop(h)
	default:
		s.stats.problem("close of %s by %s: %v", h.id, s.id, err)
		s.drop(h)
	}
}

// transfer hands a held enquiry to a colleague.
func (s *staffer) transfer(ctx context.Context, h *held) {
	if h.transfer == "" {
		h.moved, h.tries = true, 1
		for h.transfer == "" || h.transfer == s.id {
			h.transfer = staffID(s.svc, rand.IntN(s.w.cfg.staff))
		}
	}
	_, err := s.w.svc.Transfer(ctx, h.id, s.id, h.transfer)
	var nh *enquiry.NotHolderError
	switch {
	case err == nil:
		s.stats.transfers.Add(1)
		s.drop(h)
	case errors.As(err, &nh) && nh.Holder == h.transfer:
		// An earlier try went through; its answer was lost.
		s.stats.transfers.Add(1)
		s.drop(h)
	case errors.Is(err, errInjected) && h.tries < 5:
		// Try again at the next step.
	case ctx.Err() != nil:
	default:
		s.stats.problem("transfer of %s from %s to %s: %v", h.id, s.id, h.transfer, err)
		h.transfer = ""
	}
}

func (s *staffer) next(h *held) {
	h.replies--
	h.n++
	h.tries = 0
	h.text = ""
}

func (s *staffer) drop(h *held) {
	for i, x := range s.held {
		if x == h {
			s.held = append(s.held[:i], s.held[i+1:]...)
			return
		}
	}
}
