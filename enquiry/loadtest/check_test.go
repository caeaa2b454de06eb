package loadtest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

// findings is what the checks found after a run.
type findings struct {
	lost, duplicated, unexpected int // inbound events
	enquiries, openTwice         int
	taken                        map[string]int // per service, from the enquiries read

	sends, welcomes, aways, closeReplies, staffSends int
	sentTwice                                        int // a recorded message sent more than once
	staffTextTwice                                   int // a staff text sent twice to a visitor
	welcomeTwice, awayTwice, closeTwice              int
	unrecorded, unconfirmed, phantom                 int
	unconfirmedDropped                               int // unconfirmed because the store failed their last state write
	uncertainInStore                                 int
	pending                                          int            // outbound left pending
	pendingDropped                                   int            // the same, the store failed the write that would have settled it
	unsentRecorded                                   int            // staff messages recorded, never sent: their recording answered with an error
	autoPending                                      map[string]int // auto-replies left pending, by kind: their recording answered with an error
	badTag                                           int
	windowWrong                                      int // LastInboundAt not the latest message's time
	welcomeSkipped                                   int // a welcome due but never attempted
	welcomeClosed                                    int // a welcome not sent: the first delivery failed, and staff closed the enquiry before it came again
	unheard                                          int // inbound messages the Notifier never heard of

	closeSkipped int // close replies due but never attempted

	problems   []string
	textsTwice []string // staff texts sent twice
}

func (f *findings) problem(format string, args ...any) {
	if len(f.problems) < 30 {
		f.problems = append(f.problems, fmt.Sprintf(format, args...))
	}
}

// check reads everything back from the store (faults off), compares it
// with the plan and with what the fake Graph API accepted (sent), and
// counts every breach of the invariants.
func (w *world) check(ctx context.Context, sent []messengertest.SentMessage) *findings {
	f := &findings{taken: map[string]int{}, autoPending: map[string]int{}}
	seen := make(map[string]int, len(w.plan.events)) // event key -> times recorded
	out := map[string]store.Message{}                // outbound, by message id
	enqOf := map[string]store.Enquiry{}
	for vi, v := range w.plan.visitors {
		ch := w.channelOf(v)
		open := 0
		var lastIn time.Time // the visitor's latest message, as recorded
		welcomed := false    // a welcome is recorded, whatever became of it
		type inItem struct {
			key      string
			enquiry  store.Enquiry
			received time.Time
		}
		var items []inItem
		for e, err := range w.svc.History(ctx, ch.ID, v.psid) {
			if err != nil {
				w.t.Fatalf("reading visitor %d's enquiries: %v", vi, err)
			}
			f.enquiries++
			enqOf[e.ID] = e
			if e.Open() {
				open++
			}
			if e.Status == store.EnquiryTaken {
				f.taken[e.ServiceID]++
			}
			var enqLastIn time.Time
			closeReply := false
			for m, err := range w.svc.Messages(ctx, e.ID) {
				if err != nil {
					w.t.Fatalf("reading enquiry %s's messages: %v", e.ID, err)
				}
				if m.PSID != v.psid || m.ChannelID != ch.ID {
					f.problem("message %s on enquiry %s of %s/%s names %s/%s", m.ID, e.ID, ch.ID, v.psid, m.ChannelID, m.PSID)
				}
				switch {
				case m.Direction == store.DirectionOut:
					out[m.ID] = m
					welcomed = welcomed || m.Payload == enquiry.AutoReplyPayloadPrefix+"welcome"
					closeReply = closeReply || m.Payload == enquiry.AutoReplyPayloadPrefix+"close"
				case m.Author == store.AuthorVisitor:
					if m.CreatedAt.After(enqLastIn) {
						enqLastIn = m.CreatedAt
					}
					items = append(items, inItem{m.Key, e, m.CreatedAt})
					// Notices of inbound items are at least once: an item
					// recorded by a call whose answer was lost is
					// announced when Facebook delivers it again.
					if _, ok := w.heard.Load(m.Key); !ok {
						f.unheard++
						f.problem("the host never heard of message %s (key %q, its recording's answer lost: %v)", m.ID, m.Key, w.st.ackLost(m.Key))
					}
					if i, ok := w.plan.keys[m.Key]; !ok || w.plan.events[i].visitor != vi {
						f.unexpected++
						f.problem("an inbound message with key %q that visitor %d never sent", m.Key, vi)
						continue
					}
					seen[m.Key]++
				default:
					f.unexpected++
					f.problem("an inbound message by %s (key %q) nobody sent", m.Author, m.Key)
				}
			}
			// RULE-5 is judged from LastInboundAt: a lost update of it
			// (two messages recorded at once) would refuse replies that
			// are due, or allow late ones.
			if !e.LastInboundAt.Equal(enqLastIn) {
				f.windowWrong++
				f.problem("enquiry %s: LastInboundAt %v; its latest message is of %v", e.ID, e.LastInboundAt, enqLastIn)
			}
			if enqLastIn.After(lastIn) {
				lastIn = enqLastIn
			}
			// Closed by staff during the traffic, within the window: the
			// close reply (on for every channel) was due, also when the
			// store failed during the Close (staff try a failed Close
			// again, and every Close sees to the reply).
			if e.Status == store.EnquiryClosed && e.ClosedAt.Equal(w.clock0) && w.clock0.Sub(e.LastInboundAt) < enquiry.Window && !closeReply {
				f.closeSkipped++
				f.problem("enquiry %s was closed within the window and its close reply never attempted", e.ID)
			}
		}
		if open > 1 {
			f.openTwice++
			f.problem("visitor %s on %s has %d open enquiries", v.psid, ch.ID, open)
		}
		vis, err := w.base.Visitor(ctx, ch.ID, v.psid)
		if err != nil {
			f.problem("visitor %s on %s: %v", v.psid, ch.ID, err)
			continue
		}
		if !vis.LastInboundAt.Equal(lastIn) {
			f.windowWrong++
			f.problem("visitor %s on %s: LastInboundAt %v; their latest message is of %v", v.psid, ch.ID, vis.LastInboundAt, lastIn)
		}
		// The welcome is due when the visitor's first recorded message was
		// within the window (the clock stood still while they came): it
		// must have been recorded (and then sent, or failed, or lost to a
		// store fault after it was recorded), never skipped.
		if w.clock0.Sub(vis.FirstSeenAt) < enquiry.Window && !welcomed {
			// Unless the delivery of that first message failed and staff
			// closed its enquiry before Facebook delivered it again: a
			// redelivered message whose enquiry is closed triggers nothing.
			excused := false
			for _, it := range items {
				if !it.received.Equal(vis.FirstSeenAt) {
					continue
				}
				if i, ok := w.plan.keys[it.key]; ok && w.plan.events[i].d.refused.Load() &&
					it.enquiry.Status == store.EnquiryClosed && it.enquiry.ClosedAt.Equal(w.clock0) {
					excused = true
				}
			}
			if excused {
				f.welcomeClosed++
			} else {
				f.welcomeSkipped++
				f.problem("visitor %s on %s, first seen %v, was never welcomed", v.psid, ch.ID, vis.FirstSeenAt)
			}
		}

	}
	for _, ev := range w.plan.events {
		switch n := seen[ev.key]; {
		case n == 0:
			f.lost++
			f.problem("event %q was never recorded", ev.key)
		case n > 1:
			f.duplicated += n - 1
			f.problem("event %q was recorded %d times", ev.key, n)
		}
	}

	// What the fake Graph API accepted, against what the store says.
	type pair struct{ psid, text string }
	sentIDs := map[string]int{}
	staffTexts := map[pair]int{}
	welcome := map[string]int{} // channel/psid
	away := map[string]int{}    // enquiry id
	closing := map[string]int{} // enquiry id
	for _, s := range sent {
		f.sends++
		id, ok := strings.CutPrefix(s.Metadata, "pagedesk:")
		m, known := out[id]
		if !ok || !known {
			f.unrecorded++
			f.problem("the fake accepted a send to %s (metadata %q) that the store does not hold", s.RecipientID, s.Metadata)
			continue
		}
		if m.PSID != s.RecipientID || m.Text != s.Text {
			f.problem("message %s is recorded to %s, sent to %s", m.ID, m.PSID, s.RecipientID)
		}
		if sentIDs[id]++; sentIDs[id] == 2 {
			f.sentTwice++
			f.problem("message %s (%s) was sent twice", id, m.Payload)
		}
		if s.Tag == string(messenger.HumanAgent) {
			e := enqOf[m.EnquiryID]
			if ch := w.chans[s.PageID]; m.Author != store.AuthorStaff || ch == nil || !ch.HumanAgent {
				f.badTag++
				f.problem("message %s by %s went with the HUMAN_AGENT tag on %s (enquiry %s)", m.ID, m.Author, s.PageID, e.ID)
			}
		}
		switch m.State {
		case store.StateSent, store.StateDelivered, store.StateRead:
		default:
			if w.st.stateDropped(m.ID) || (m.State == store.StateUncertain && w.st.listDropped(m.EnquiryID)) {
				// Its last state write failed with nothing written, or
				// reading it back after its uncertain send failed (the
				// store faults): nothing can repair that but a later echo.
				f.unconfirmedDropped++
				break
			}
			f.unconfirmed++
			f.problem("message %s reached the fake, and its echo came back, but the store has it %s (%s)", m.ID, m.State, m.Error)
		}
		switch m.Payload {
		case enquiry.AutoReplyPayloadPrefix + "welcome":
			f.welcomes++
			k := m.ChannelID + "/" + m.PSID
			if welcome[k]++; welcome[k] == 2 {
				f.welcomeTwice++
				f.problem("visitor %s got the welcome twice", k)
			}
		case enquiry.AutoReplyPayloadPrefix + "away":
			f.aways++
			if away[m.EnquiryID]++; away[m.EnquiryID] == 2 {
				f.awayTwice++
				f.problem("enquiry %s got the away reply twice", m.EnquiryID)
			}
		case enquiry.AutoReplyPayloadPrefix + "close":
			f.closeReplies++
			if closing[m.EnquiryID]++; closing[m.EnquiryID] == 2 {
				f.closeTwice++
				f.problem("enquiry %s got the close reply twice", m.EnquiryID)
			}
		default:
			f.staffSends++
			p := pair{s.RecipientID, s.Text}
			if staffTexts[p]++; staffTexts[p] == 2 {
				f.staffTextTwice++
				f.textsTwice = append(f.textsTwice, p.text)
				f.problem("visitor %s got %q twice", p.psid, p.text)
			}
		}
	}
	for id, m := range out {
		switch m.State {
		case store.StateSent, store.StateDelivered, store.StateRead:
			if sentIDs[id] == 0 {
				f.phantom++
				f.problem("message %s is recorded %s but never reached the fake", id, m.State)
			}
		case store.StateUncertain:
			f.uncertainInStore++
		case store.StatePending:
			// Everything is settled: a message still pending was never
			// sent. A staff message should say so, unless the store failed
			// the very write that would have said it. An auto-reply whose
			// recording answered with an error stays pending: its id is
			// claimed, and the service cannot tell its own record from
			// another attempt's.
			switch {
			case m.Author == store.AuthorAutoReply:
				f.autoPending[strings.TrimPrefix(m.Payload, enquiry.AutoReplyPayloadPrefix)]++
			case w.st.stateDropped(id):
				f.pendingDropped++
			default:
				f.pending++
				f.problem("message %s (%s %s) is still pending", id, m.Author, m.Payload)
			}
		case store.StateFailed:
			if strings.HasPrefix(m.Error, "not sent: recording it failed") {
				f.unsentRecorded++
			}
		}
	}
	return f
}
