package enquiry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

// flows are the enquiry service's behaviours, run on every store.
var flows = []struct {
	name string
	run  func(t *testing.T, newStore newStoreFunc)
}{
	{"FirstMessageOpensEnquiryAndWelcomes", testFirstMessage},
	{"WelcomeAfterOtherItems", testWelcomeAfterOtherItems},
	{"SecondMessageJoins", testSecondMessageJoins},
	{"RedeliveryRecordedOnce", testRedelivery},
	{"UnknownPageIgnored", testUnknownPage},
	{"TwoStaffTakeAtOnce", testTakeRace},
	{"ReplyWindow24h", testReplyWindow},
	{"GraphWindowErrorMapped", testGraphWindowError},
	{"HumanAgentDay6", testHumanAgent},
	{"ReplyLengthRULE1", testReplyLength},
	{"FileSizeRULE3", testFileSize},
	{"ServingLimitRULE4", testServingLimit},
	{"NoStaffAwayOnce", testAwayOnce},
	{"CloseMessageNameFormats", testCloseNameFormats},
	{"PausedChannel", testPausedChannel},
	{"DisconnectedChannel", testDisconnectedChannel},
	{"InvalidTokenOnSendDisconnects", testInvalidTokenDisconnects},
	{"UncertainSendNeverRepeated", testUncertainSend},
	{"StoreFailureRedelivered", testStoreFailure},
	{"EchoesDeliveriesReads", testEchoesDeliveriesReads},
	{"WatermarkCoversItsMillisecond", testWatermarkMillisecond},
	{"StandbyTriggersNothing", testStandby},
	{"ItemsRecorded", testItemsRecorded},
	{"ProfileFetchedOnce", testProfile},
	{"ProfileRetriedAfterFailure", testProfileRetried},
	{"DispatchModes", testDispatchModes},
	{"TransferAndView", testTransferAndView},
	{"ThroughChannelService", testThroughChannelService},
	{"ConcurrentDeliveries", testConcurrentDeliveries},
}

func TestFlowsMemstore(t *testing.T) {
	t.Parallel()
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			f.run(t, newMemstore)
		})
	}
}

func TestFlowsSQLStore(t *testing.T) {
	t.Parallel()
	newSQLStore(t) // skips when SQLSTORE_DSN is not set
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			f.run(t, newSQLStore)
		})
	}
}

func testFirstMessage(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.fb.AddProfile("psid-1", messenger.Profile{FirstName: "Mei", LastName: "Lin", ProfilePic: "https://pic.test/mei"})
	e.say("psid-1", "Hello, my order is late")

	enq := e.open("psid-1")
	assert.Equal(t, serviceID, enq.ServiceID)
	assert.Equal(t, store.EnquiryOffered, enq.Status, "offered to every available staff member")
	assert.ElementsMatch(t, []string{"alice", "bob"}, enq.OfferedTo)
	assert.True(t, enq.LastInboundAt.Equal(e.clock.Now()))

	sent := e.sent("psid-1")
	require.Len(t, sent, 1, "the welcome")
	assert.Equal(t, e.render(autoreply.Welcome, autoreply.Values{VisitorFirstName: "Mei"}), sent[0].Text)
	assert.Contains(t, sent[0].Text, "Mei")
	assert.Equal(t, "RESPONSE", sent[0].MessagingType)
	assert.Empty(t, sent[0].Tag)

	msgs := e.messages(enq.ID)
	require.Len(t, msgs, 2)
	assert.Equal(t, []store.Author{store.AuthorVisitor, store.AuthorAutoReply}, authors(msgs))
	assert.Equal(t, "Hello, my order is late", msgs[0].Text)
	assert.Equal(t, store.StateSent, msgs[1].State)
	assert.Equal(t, sent[0].MessageID, msgs[1].MID)
	assert.Equal(t, enquiry.AutoReplyPayloadPrefix+"welcome", msgs[1].Payload)

	v, err := e.store.Visitor(e.ctx, channelID, "psid-1")
	require.NoError(t, err)
	assert.Equal(t, "Mei", v.FirstName)
	assert.Equal(t, "Lin", v.LastName)
	assert.False(t, v.ProfileFetchedAt.IsZero())

	ch, err := e.store.Channel(e.ctx, channelID)
	require.NoError(t, err)
	assert.True(t, ch.LastWebhookAt.Equal(e.clock.Now()), "the webhook's arrival is recorded")
	first := e.clock.Now()
	e.clock.Advance(enquiry.TouchInterval / 2)
	e.say("psid-1", "still there?")
	ch, err = e.store.Channel(e.ctx, channelID)
	require.NoError(t, err)
	assert.True(t, ch.LastWebhookAt.Equal(first), "written at most once per TouchInterval")
	e.clock.Advance(enquiry.TouchInterval)
	e.say("psid-1", "hello??")
	ch, err = e.store.Channel(e.ctx, channelID)
	require.NoError(t, err)
	assert.True(t, ch.LastWebhookAt.Equal(e.clock.Now()))

	assert.Equal(t, []enquiry.NoticeKind{enquiry.NoticeOpened, enquiry.NoticeMessageIn, enquiry.NoticeMessageOut, enquiry.NoticeOffered,
		enquiry.NoticeMessageIn, enquiry.NoticeMessageIn}, e.notices.kinds())
}

// testWelcomeAfterOtherItems: the welcome greets the visitor's first
// message to the channel, even when something else recorded the visitor
// first (a Page admin's message, a referral, a standby message), and never
// a returning visitor's new enquiry.
func testWelcomeAfterOtherItems(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	welcome := e.render(autoreply.Welcome, autoreply.Values{})
	before := map[string]*messengertest.DeliveryBuilder{
		"psid-admin":    e.delivery().Echo(pageID, "psid-admin", "Thanks for your comment!", "", ""),
		"psid-referral": e.delivery().Item(pageID, []byte(`{"sender":{"id":"psid-referral"},"recipient":{"id":"`+pageID+`"},"timestamp":1772442000000,"referral":{"ref":"summer","source":"SHORTLINK","type":"OPEN_THREAD"}}`)),
		"psid-standby":  e.delivery().Text(pageID, "psid-standby", "talking to the bot").Standby(),
	}
	for psid, b := range before {
		require.Equal(t, http.StatusOK, e.post(b))
		_, err := e.store.Visitor(e.ctx, channelID, psid)
		require.NoError(t, err, "%s recorded before their first message", psid)
		e.say(psid, "hello")
		assert.Equal(t, []string{welcome}, texts(e.sent(psid)), "%s: welcomed on their first message", psid)
	}

	// A returning visitor is not welcomed again, nor is a redelivery.
	id := e.open("psid-admin").ID
	_, err := e.svc.Close(e.ctx, id, "")
	require.NoError(t, err)
	n := len(e.sent("psid-admin"))
	e.say("psid-admin", "me again")
	assert.NotEqual(t, id, e.open("psid-admin").ID, "a new enquiry")
	assert.Len(t, e.sent("psid-admin"), n, "no second welcome")
}

func testSecondMessageJoins(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "first")
	first := e.open("psid-1")
	e.clock.Advance(time.Minute)
	e.say("psid-1", "second")
	second := e.open("psid-1")
	assert.Equal(t, first.ID, second.ID)
	assert.True(t, second.LastInboundAt.Equal(e.clock.Now()), "the window moves")

	msgs := e.messages(first.ID)
	assert.Equal(t, []store.Author{store.AuthorVisitor, store.AuthorAutoReply, store.AuthorVisitor}, authors(msgs))
	assert.Len(t, e.sent("psid-1"), 1, "welcome only on the first message ever")
	assert.Len(t, e.notices.of(enquiry.NoticeOpened), 1)
	assert.Len(t, e.notices.of(enquiry.NoticeOffered), 1, "an offered enquiry is not offered again")

	// After a close, the next message opens a new enquiry: no welcome, the
	// visitor is known.
	_, err := e.svc.Close(e.ctx, first.ID, "")
	require.NoError(t, err)
	e.say("psid-1", "third")
	third := e.open("psid-1")
	assert.NotEqual(t, first.ID, third.ID)
	welcomes := 0
	for _, m := range e.sent("psid-1") {
		if m.Text == e.render(autoreply.Welcome, autoreply.Values{}) {
			welcomes++
		}
	}
	assert.Equal(t, 1, welcomes, "no welcome for a known visitor's new enquiry")
	var history []string
	for h, err := range e.svc.History(e.ctx, channelID, "psid-1") {
		require.NoError(t, err)
		history = append(history, h.ID)
	}
	assert.Equal(t, []string{third.ID, first.ID}, history, "newest first")
}

func testRedelivery(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	d := e.delivery().At(e.clock.Now().Add(-time.Second)).Text(pageID, "psid-1", "hi").
		At(e.clock.Now()).Text(pageID, "psid-1", "anyone?")
	const deliveries = 3
	for range deliveries {
		require.Equal(t, http.StatusOK, e.post(d))
	}
	enq := e.open("psid-1")
	msgs := e.messages(enq.ID)
	require.Equal(t, []store.Author{store.AuthorVisitor, store.AuthorAutoReply, store.AuthorVisitor}, authors(msgs))
	assert.Len(t, e.sent("psid-1"), 1, "one welcome")
	assert.Len(t, e.notices.of(enquiry.NoticeOffered), 1, "offered once")

	// Notices of inbound items are at least once: every delivery announces
	// both items (whether an earlier one got as far as announcing them
	// cannot be known), each time as the stored message, whose id the host
	// dedupes by; and the opening of the enquiry with the item that opened it.
	var announced []string
	for _, n := range e.notices.of(enquiry.NoticeMessageIn) {
		require.NotNil(t, n.Message)
		require.NotNil(t, n.Enquiry)
		assert.Equal(t, enq.ID, n.Enquiry.ID)
		announced = append(announced, n.Message.ID)
	}
	var want []string
	for range deliveries {
		want = append(want, msgs[0].ID, msgs[2].ID)
	}
	assert.Equal(t, want, announced, "each item announced on each delivery, as the stored message")
	opened := e.notices.of(enquiry.NoticeOpened)
	assert.Len(t, opened, deliveries, "the opening announced with the item that opened the enquiry, on each delivery")
	for _, n := range opened {
		assert.Equal(t, enq.ID, n.Enquiry.ID)
	}
}

func testUnknownPage(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	code := e.post(e.delivery().Text("9999999", "psid-1", "hello?").Text(pageID, "psid-2", "hi"))
	assert.Equal(t, http.StatusOK, code, "no retry storm for a Page nobody holds")
	_, err := e.store.OpenEnquiry(e.ctx, channelID, "psid-1")
	assert.ErrorIs(t, err, store.ErrNotFound)
	e.open("psid-2") // the known Page's event in the same delivery is handled
}

func testTakeRace(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "hi")
	id := e.open("psid-1").ID

	staff := []string{"alice", "bob"}
	var wg sync.WaitGroup
	results := make([]error, len(staff))
	for i, s := range staff {
		wg.Go(func() {
			_, results[i] = e.svc.Take(e.ctx, id, s)
		})
	}
	wg.Wait()
	var winner, loser int
	switch {
	case results[0] == nil && results[1] != nil:
		winner, loser = 0, 1
	case results[1] == nil && results[0] != nil:
		winner, loser = 1, 0
	default:
		t.Fatalf("exactly one take must win: %v", results)
	}
	var te *enquiry.TakenError
	require.ErrorAs(t, results[loser], &te)
	assert.Equal(t, staff[winner], te.StaffID, "the loser is told who won")
	assert.ErrorIs(t, results[loser], enquiry.ErrAlreadyTaken)
	assert.Contains(t, results[loser].Error(), "already taken by "+staff[winner])

	enq := e.open("psid-1")
	assert.Equal(t, store.EnquiryTaken, enq.Status)
	assert.Equal(t, staff[winner], enq.StaffID)
	assert.Len(t, e.notices.of(enquiry.NoticeTaken), 1)

	again, err := e.svc.Take(e.ctx, id, staff[winner])
	require.NoError(t, err, "taking what one holds is a no-op")
	assert.Equal(t, enq.Version, again.Version)

	_, err = e.svc.Take(e.ctx, id, "mallory")
	assert.ErrorIs(t, err, enquiry.ErrAlreadyTaken)
	e.say("psid-2", "hi")
	_, err = e.svc.Take(e.ctx, e.open("psid-2").ID, "mallory")
	assert.ErrorIs(t, err, enquiry.ErrUnknownStaff)
}

func testReplyWindow(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "hi")
	id := e.take("psid-1", "alice").ID

	e.clock.Advance(23*time.Hour + 59*time.Minute)
	m, err := e.svc.Reply(e.ctx, id, "alice", "Sorry for the wait!")
	require.NoError(t, err)
	assert.Equal(t, store.StateSent, m.State)
	assert.Equal(t, store.AuthorStaff, m.Author)
	assert.Equal(t, "alice", m.StaffID)
	sent := e.sent("psid-1")
	require.Len(t, sent, 2)
	assert.Equal(t, "Sorry for the wait!", sent[1].Text)
	assert.Equal(t, "RESPONSE", sent[1].MessagingType)

	e.clock.Advance(2 * time.Minute) // 24h01m
	_, err = e.svc.Reply(e.ctx, id, "alice", "Are you still there?")
	require.Error(t, err)
	assert.ErrorIs(t, err, enquiry.ErrOutsideWindow)
	assert.ErrorIs(t, err, messenger.ErrOutsideWindow)
	var we *enquiry.WindowError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, "抱歉,您的訊息無法再發送; 24小時訊息發送時限已過去。關閉此查詢,或等訪客再次發送訊息。", we.Message(autoreply.TraditionalChinese))
	assert.Equal(t, "Sorry, your message can no longer be sent; the 24-hour messaging window has passed. Close this enquiry or wait for the visitor to send a message again.", we.Message(autoreply.English))
	assert.Len(t, e.sent("psid-1"), 2, "refused before any Graph call")

	// The visitor writes again: the window opens again.
	e.say("psid-1", "yes!")
	_, err = e.svc.Reply(e.ctx, id, "alice", "Great")
	require.NoError(t, err)
}

func testGraphWindowError(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "hi")
	id := e.take("psid-1", "alice").ID
	e.fb.FailNext(1, messengertest.GraphError{Code: 10, Subcode: 2018278, Message: "(#10) This message is sent outside of allowed window."})
	m, err := e.svc.Reply(e.ctx, id, "alice", "hello")
	var we *enquiry.WindowError
	require.ErrorAs(t, err, &we, "Facebook's 10/2018278 is the RULE-5 error")
	assert.Equal(t, enquiry.WindowTextEnglish, we.Message(autoreply.English))
	var ge *messenger.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, 2018278, ge.Subcode)
	require.NotNil(t, m)
	assert.Equal(t, store.StateFailed, m.State)
	ch, err := e.store.Channel(e.ctx, channelID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelActive, ch.Status, "a window error is not lost rights")
}

func testHumanAgent(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{channel: func(c *store.Channel) { c.HumanAgent = true }})
	e.say("psid-1", "hi")
	id := e.take("psid-1", "alice").ID
	e.clock.Advance(6 * 24 * time.Hour)

	m, err := e.svc.Reply(e.ctx, id, "alice", "Sorry, we were closed for the holidays.")
	require.NoError(t, err, "human staff get 7 days")
	assert.Equal(t, store.StateSent, m.State)
	sent := e.sent("psid-1")
	require.Len(t, sent, 2)
	assert.Equal(t, "MESSAGE_TAG", sent[1].MessagingType)
	assert.Equal(t, "HUMAN_AGENT", sent[1].Tag)

	_, err = e.svc.Close(e.ctx, id, "alice")
	require.NoError(t, err)
	assert.Len(t, e.sent("psid-1"), 2, "the close auto-reply never uses HUMAN_AGENT, so it is not sent at day 6")
	for _, s := range e.fb.Sent("") {
		if s.Tag == "HUMAN_AGENT" {
			assert.Equal(t, "Sorry, we were closed for the holidays.", s.Text, "only the staff reply carries the tag")
		}
	}

	// Day 7 is past even HUMAN_AGENT.
	e2 := newEnv(t, newStore, options{channel: func(c *store.Channel) { c.HumanAgent = true }})
	e2.say("psid-1", "hi")
	id2 := e2.take("psid-1", "alice").ID
	e2.clock.Advance(7*24*time.Hour + time.Minute)
	_, err = e2.svc.Reply(e2.ctx, id2, "alice", "hello?")
	assert.ErrorIs(t, err, enquiry.ErrOutsideWindow)

	// Facebook refusing a HUMAN_AGENT send for the window: the error names
	// the 7-day window the send was judged by, not 24 hours.
	e3 := newEnv(t, newStore, options{channel: func(c *store.Channel) { c.HumanAgent = true }})
	e3.say("psid-1", "hi")
	id3 := e3.take("psid-1", "alice").ID
	e3.clock.Advance(3 * 24 * time.Hour)
	e3.fb.FailNext(1, messengertest.GraphError{Code: 10, Subcode: 2018278, Message: "(#10) This message is sent outside of allowed window."})
	_, err = e3.svc.Reply(e3.ctx, id3, "alice", "hello?")
	var we *enquiry.WindowError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, enquiry.HumanAgentWindow, we.Window)
}

func testReplyLength(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "hi")
	id := e.take("psid-1", "alice").ID

	ok := strings.Repeat("謝", 2000)
	_, err := e.svc.Reply(e.ctx, id, "alice", ok)
	require.NoError(t, err)
	sent := e.sent("psid-1")
	require.Len(t, sent, 2)
	assert.Equal(t, ok, sent[1].Text)

	_, err = e.svc.Reply(e.ctx, id, "alice", ok+"謝")
	var tl *enquiry.TooLongError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, 2001, tl.Chars)
	assert.Equal(t, 2000, tl.Limit)
	assert.ErrorIs(t, err, enquiry.ErrTooLong)
	assert.Len(t, e.sent("psid-1"), 2, "refused before any Graph call")
	assert.Len(t, e.messages(id), 3, "and not recorded")

	_, err = e.svc.Reply(e.ctx, id, "alice", "")
	assert.ErrorIs(t, err, enquiry.ErrEmpty)
	_, err = e.svc.Reply(e.ctx, id, "bob", "hi")
	var nh *enquiry.NotHolderError
	require.ErrorAs(t, err, &nh)
	assert.Equal(t, "alice", nh.Holder)
}

// zeros is a reader of n zero bytes, so large files need no memory here.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

func testFileSize(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "can you send the manual?")
	id := e.take("psid-1", "alice").ID

	before := len(e.fb.Requests())
	_, err := e.svc.ReplyFile(e.ctx, id, "alice", enquiry.File{Name: "big.pdf", ContentType: "application/pdf",
		Size: 25_000_001, Body: &zeros{25_000_001}})
	var tl *enquiry.TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, int64(25_000_001), tl.Size)
	assert.Equal(t, int64(25_000_000), tl.Limit)
	assert.ErrorIs(t, err, enquiry.ErrTooLarge)
	assert.Len(t, e.fb.Requests(), before, "refused before any Graph call")

	// A body longer than its declared size is refused too.
	_, err = e.svc.ReplyFile(e.ctx, id, "alice", enquiry.File{Name: "liar.pdf", ContentType: "application/pdf",
		Size: 10, Body: &zeros{11}})
	require.Error(t, err)

	m, err := e.svc.ReplyFile(e.ctx, id, "alice", enquiry.File{Name: "manual.pdf", ContentType: "application/pdf",
		Size: 25_000_000, Body: &zeros{25_000_000}})
	require.NoError(t, err, "exactly 25,000,000 bytes pass")
	assert.Equal(t, store.StateSent, m.State)
	sent := e.sent("psid-1")
	last := sent[len(sent)-1]
	require.NotNil(t, last.Attachment)
	assert.Equal(t, "file", last.Attachment.Type)
	up, ok := e.fb.Attachment(last.Attachment.ID)
	require.True(t, ok, "sent by the uploaded attachment's id")
	assert.Len(t, up.Data, 25_000_000)
	assert.Equal(t, "manual.pdf", up.Filename)
	require.Len(t, m.Attachments, 1)
	assert.Equal(t, "manual.pdf", m.Attachments[0].Name)

	m, err = e.svc.ReplyFile(e.ctx, id, "alice", enquiry.File{Name: "photo.png", ContentType: "image/png",
		Size: 4, Body: bytes.NewReader([]byte("\x89PNG"))})
	require.NoError(t, err)
	assert.Equal(t, "image", m.Attachments[0].Type)
}

func testServingLimit(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{channel: func(c *store.Channel) { c.AutoReply = autoreply.Settings{} }})
	const n = enquiry.DefaultMaxServing + 1
	ids := make([]string, n)
	for i := range n {
		psid := fmt.Sprintf("psid-%03d", i)
		e.say(psid, "hi")
		ids[i] = e.open(psid).ID
	}
	staff := make([]enquiry.Staff, 4)
	for i := range staff {
		staff[i] = enquiry.Staff{ID: fmt.Sprintf("s%d", i), Available: true}
	}
	e.staff.set(staff...)

	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = e.svc.Take(e.ctx, ids[i], staff[i%len(staff)].ID) })
	}
	wg.Wait()
	var ok, refused int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, enquiry.ErrServingLimit):
			refused++
			var le *enquiry.LimitError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, 200, le.Limit)
			assert.ErrorIs(t, err, store.ErrLimit)
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	assert.Equal(t, 200, ok)
	assert.Equal(t, 1, refused, "the 201st concurrent take is refused")
	count, err := e.store.CountTaken(e.ctx, serviceID)
	require.NoError(t, err)
	assert.Equal(t, 200, count)

	// Inbound is never refused: a new visitor still gets an enquiry, queued.
	e.say("psid-new", "hello")
	assert.Equal(t, store.EnquiryOffered, e.open("psid-new").Status)

	// Closing one makes room.
	var taken *store.Enquiry
	for enq, err := range e.svc.Enquiries(e.ctx, serviceID, store.EnquiryTaken) {
		require.NoError(t, err)
		taken = &enq
		break
	}
	require.NotNil(t, taken)
	_, err = e.svc.Close(e.ctx, taken.ID, taken.StaffID)
	require.NoError(t, err)
	_, err = e.svc.Take(e.ctx, e.open("psid-new").ID, "s0")
	require.NoError(t, err)
}

func testAwayOnce(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.staff.set(
		enquiry.Staff{ID: "alice", Available: false},
		enquiry.Staff{ID: "bob", Available: true, Load: 3, Capacity: 3},
	)
	e.fb.AddProfile("psid-1", messenger.Profile{FirstName: "Mei"})
	d := e.delivery().Text(pageID, "psid-1", "hello?")
	require.Equal(t, http.StatusOK, e.post(d))
	require.Equal(t, http.StatusOK, e.post(d), "a redelivery")
	e.clock.Advance(time.Minute)
	e.say("psid-1", "anyone there?")

	enq := e.open("psid-1")
	assert.Equal(t, store.EnquiryQueued, enq.Status)
	assert.True(t, enq.AwaySent)
	assert.Equal(t, []string{
		e.render(autoreply.Welcome, autoreply.Values{VisitorFirstName: "Mei"}),
		e.render(autoreply.Away, autoreply.Values{VisitorFirstName: "Mei"}),
	}, texts(e.sent("psid-1")), "welcome, then away once")
	assert.Len(t, e.notices.of(enquiry.NoticeQueued), 1)

	// Staff come back: the next message offers the queued enquiry; no
	// second away.
	e.staff.set(enquiry.Staff{ID: "alice", Available: true})
	e.say("psid-1", "hello again")
	enq = e.open("psid-1")
	assert.Equal(t, store.EnquiryOffered, enq.Status)
	assert.Equal(t, []string{"alice"}, enq.OfferedTo)
	assert.Len(t, e.sent("psid-1"), 2)

	// A new enquiry of the same visitor gets its own away, and no welcome.
	_, err := e.svc.Close(e.ctx, enq.ID, "")
	require.NoError(t, err)
	e.staff.set()
	e.say("psid-1", "one more thing")
	got := texts(e.sent("psid-1"))
	assert.Equal(t, e.render(autoreply.Away, autoreply.Values{VisitorFirstName: "Mei"}), got[len(got)-1])
	assert.Equal(t, 1, strings.Count(strings.Join(got, "\n"), e.render(autoreply.Welcome, autoreply.Values{VisitorFirstName: "Mei"})))

	// Dispatch by the host, once staff are back.
	e.staff.set(enquiry.Staff{ID: "bob", Available: true})
	_, err = e.svc.Dispatch(e.ctx, e.open("psid-1").ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"bob"}, e.open("psid-1").OfferedTo)
}

func testCloseNameFormats(t *testing.T, newStore newStoreFunc) {
	tests := []struct {
		format autoreply.NameFormat
		lang   autoreply.Language
		text   string // custom close text; empty for the default
		want   string
	}{
		{autoreply.NameNone, autoreply.English, "Thanks for waiting[, {staff} here]. Bye!", "Thanks for waiting. Bye!"},
		{autoreply.NameFirst, autoreply.English, "Thanks for waiting[, {staff} here]. Bye!", "Thanks for waiting, Alice here. Bye!"},
		{autoreply.NameFull, autoreply.English, "Thanks for waiting[, {staff} here]. Bye!", "Thanks for waiting, Alice Wong here. Bye!"},
		{autoreply.NameFull, autoreply.TraditionalChinese, "", ""},
		{autoreply.NameFirst, autoreply.English, "", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.format)+"-"+string(tt.lang)+"-"+fmt.Sprint(tt.text == ""), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, newStore, options{channel: func(c *store.Channel) {
				c.AutoReply.NameFormat = tt.format
				c.AutoReply.Language = tt.lang
				c.AutoReply.Close.Text = tt.text
			}})
			e.fb.AddProfile("psid-1", messenger.Profile{FirstName: "Mei", LastName: "Lin"})
			e.say("psid-1", "hi")
			id := e.take("psid-1", "alice").ID
			closed, err := e.svc.Close(e.ctx, id, "alice")
			require.NoError(t, err)
			assert.Equal(t, store.EnquiryClosed, closed.Status)
			sent := e.sent("psid-1")
			require.Len(t, sent, 2, "welcome and close")
			want := tt.want
			if want == "" {
				want = e.render(autoreply.Close, autoreply.Values{StaffFirstName: "Alice", StaffLastName: "Wong", VisitorFirstName: "Mei"})
				switch tt.format {
				case autoreply.NameFull:
					assert.Contains(t, want, "Alice Wong")
				case autoreply.NameFirst:
					assert.Contains(t, want, "Alice")
					assert.NotContains(t, want, "Wong")
				}
			}
			assert.Equal(t, want, sent[1].Text)
			assert.Equal(t, "RESPONSE", sent[1].MessagingType)
			msgs := e.messages(id)
			assert.Equal(t, enquiry.AutoReplyPayloadPrefix+"close", msgs[len(msgs)-1].Payload)

			again, err := e.svc.Close(e.ctx, id, "alice")
			require.NoError(t, err, "Close is idempotent")
			assert.Equal(t, id, again.ID)
			assert.Equal(t, store.EnquiryClosed, again.Status)
			assert.True(t, again.ClosedAt.Equal(closed.ClosedAt), "closed once")
			assert.Len(t, e.sent("psid-1"), 2, "one close message")
			_, err = e.svc.Take(e.ctx, id, "bob")
			assert.ErrorIs(t, err, enquiry.ErrClosed, "what needs an open enquiry still says it is closed")
		})
	}
}

func testPausedChannel(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{channel: func(c *store.Channel) { c.Status = store.ChannelPaused }})
	e.say("psid-1", "hello")
	enq := e.open("psid-1")
	assert.Equal(t, store.EnquiryQueued, enq.Status, "recorded, not offered")
	assert.Empty(t, e.sent("psid-1"), "no welcome, no away")
	assert.Len(t, e.messages(enq.ID), 1)

	// Staff may take it, but nothing is sent until the channel is resumed.
	_, err := e.svc.Take(e.ctx, enq.ID, "alice")
	require.NoError(t, err)
	_, err = e.svc.Reply(e.ctx, enq.ID, "alice", "hi")
	assert.ErrorIs(t, err, enquiry.ErrChannelPaused)
	_, err = e.svc.Close(e.ctx, enq.ID, "alice")
	require.NoError(t, err)
	assert.Empty(t, e.sent("psid-1"), "no close message")

	e.setStatus(store.ChannelActive, "")
	e.say("psid-1", "hello again")
	_, err = e.svc.Reply(e.ctx, e.take("psid-1", "alice").ID, "alice", "hi")
	require.NoError(t, err)
}

func testDisconnectedChannel(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{channel: func(c *store.Channel) { c.Status = store.ChannelDisconnected }})
	e.say("psid-1", "hello")
	enq := e.open("psid-1")
	assert.Equal(t, store.EnquiryQueued, enq.Status)
	assert.Empty(t, e.fb.Sent(""))
	_, err := e.svc.Take(e.ctx, enq.ID, "alice")
	require.NoError(t, err)
	_, err = e.svc.Reply(e.ctx, enq.ID, "alice", "hi")
	assert.ErrorIs(t, err, enquiry.ErrChannelDisconnected)
	assert.ErrorContains(t, err, "the Page token was revoked")
	_, err = e.svc.Close(e.ctx, enq.ID, "alice")
	require.NoError(t, err)
	assert.Empty(t, e.fb.Sent(""), "nothing is sent through a disconnected channel")
}

func testInvalidTokenDisconnects(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "hello")
	id := e.take("psid-1", "alice").ID
	e.fb.FailNext(1, messengertest.GraphError{HTTPStatus: 401, Code: 190, Subcode: 460, Message: "Error validating access token"})
	m, err := e.svc.Reply(e.ctx, id, "alice", "hi")
	var ce *enquiry.ChannelError
	require.ErrorAs(t, err, &ce, "the staff member is told why")
	assert.ErrorIs(t, err, enquiry.ErrChannelDisconnected)
	assert.ErrorIs(t, err, messenger.ErrInvalidToken)
	assert.Contains(t, err.Error(), "access token is no longer valid")
	require.NotNil(t, m)
	assert.Equal(t, store.StateFailed, m.State)

	ch, err := e.store.Channel(e.ctx, channelID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDisconnected, ch.Status)
	assert.Contains(t, ch.DisconnectReason, "190")
	require.Len(t, e.notices.of(enquiry.NoticeChannelDisconnected), 1)

	before := len(e.fb.Requests())
	_, err = e.svc.Reply(e.ctx, id, "alice", "hello?")
	assert.ErrorIs(t, err, enquiry.ErrChannelDisconnected)
	assert.Len(t, e.fb.Requests(), before, "nothing more is sent")

	// A permission error disconnects too.
	e2 := newEnv(t, newStore, options{})
	e2.say("psid-1", "hello")
	id2 := e2.take("psid-1", "alice").ID
	e2.fb.FailNext(1, messengertest.GraphError{HTTPStatus: 403, Code: 200, Message: "Permissions error"})
	_, err = e2.svc.Reply(e2.ctx, id2, "alice", "hi")
	assert.ErrorIs(t, err, enquiry.ErrChannelDisconnected)
	assert.ErrorContains(t, err, "lost its permission")
}

func testUncertainSend(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "hello")
	id := e.take("psid-1", "alice").ID
	e.fb.Drop(1)
	m, err := e.svc.Reply(e.ctx, id, "alice", "did this arrive?")
	require.Error(t, err)
	assert.ErrorIs(t, err, enquiry.ErrUncertain)
	assert.ErrorIs(t, err, messenger.ErrMaybeDelivered)
	require.NotNil(t, m)
	assert.Equal(t, store.StateUncertain, m.State)
	sends := 0
	for _, r := range e.fb.Requests() {
		if strings.HasSuffix(r.Path, "/messages") && bytes.Contains(r.Body, []byte("did this arrive?")) {
			sends++
		}
	}
	assert.Equal(t, 1, sends, "never sent twice")

	// The echo (carrying our metadata) proves it went out.
	require.Equal(t, http.StatusOK, e.post(e.delivery().Echo(pageID, "psid-1", "did this arrive?", messengertest.AppID, "pagedesk:"+m.ID)))
	msgs := e.messages(id)
	last := msgs[len(msgs)-1]
	assert.Equal(t, m.ID, last.ID)
	assert.Equal(t, store.StateSent, last.State)
	assert.NotEmpty(t, last.MID)
	assert.Len(t, msgs, 3, "our own echo adds nothing to the transcript")
}

// failing wraps a store, failing chosen calls.
type failing struct {
	store.Store
	mu sync.Mutex
	faults
}

// faults says which calls a failing store fails.
type faults struct {
	inboundFails  int  // RecordInbound calls to fail
	afterCommit   bool // fail after the write committed
	outboundFails int  // AppendOutbound calls to fail (after committing when afterCommit)
	offerFails    int
}

var errInjected = errors.New("injected store failure")

func (f *failing) take(n *int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *n > 0 {
		*n--
		return true
	}
	return false
}

func (f *failing) RecordInbound(ctx context.Context, in store.Inbound) (store.InboundResult, error) {
	if f.take(&f.inboundFails) {
		if f.afterCommit {
			_, _ = f.Store.RecordInbound(ctx, in)
		}
		return store.InboundResult{}, errInjected
	}
	return f.Store.RecordInbound(ctx, in)
}

func (f *failing) AppendOutbound(ctx context.Context, m *store.Message) error {
	if f.take(&f.outboundFails) {
		if f.afterCommit {
			_ = f.Store.AppendOutbound(ctx, m)
		}
		return errInjected
	}
	return f.Store.AppendOutbound(ctx, m)
}

func (f *failing) Offer(ctx context.Context, id string, staffIDs []string) (*store.Enquiry, error) {
	if f.take(&f.offerFails) {
		return nil, errInjected
	}
	return f.Store.Offer(ctx, id, staffIDs)
}

func testStoreFailure(t *testing.T, newStore newStoreFunc) {
	tests := []struct {
		name        string
		f           faults
		wantWelcome int
	}{
		{"record fails before commit", faults{inboundFails: 1}, 1},
		{"record fails after commit", faults{inboundFails: 1, afterCommit: true}, 1},
		{"welcome record fails", faults{outboundFails: 1}, 1},
		{"offer fails", faults{offerFails: 1}, 1},
		// The welcome was recorded but the store said it failed: it is
		// never sent rather than risk sending it twice.
		{"welcome record fails after commit", faults{outboundFails: 1, afterCommit: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, newStore, options{wrap: func(s store.Store) store.Store {
				return &failing{Store: s, faults: tt.f}
			}})
			d := e.delivery().Text(pageID, "psid-1", "is anyone there?")
			code := e.post(d)
			assert.GreaterOrEqual(t, code, 500, "a store failure is a non-2xx, so Facebook redelivers")
			assert.Equal(t, http.StatusOK, e.post(d), "the redelivery")
			assert.Equal(t, http.StatusOK, e.post(d), "and one more")

			enq := e.open("psid-1")
			var visitor int
			for _, m := range e.messages(enq.ID) {
				if m.Author == store.AuthorVisitor {
					visitor++
				}
			}
			assert.Equal(t, 1, visitor, "recorded once")
			assert.Len(t, e.sent("psid-1"), tt.wantWelcome)
			assert.Equal(t, store.EnquiryOffered, enq.Status, "dispatch finished on the redelivery")
		})
	}
}

func testEchoesDeliveriesReads(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "hello")
	id := e.take("psid-1", "alice").ID
	m, err := e.svc.Reply(e.ctx, id, "alice", "Hi, Alice here")
	require.NoError(t, err)
	sent := e.sent("psid-1")
	assert.Equal(t, "pagedesk:"+m.ID, sent[len(sent)-1].Metadata)

	// The echo of our own send adds nothing.
	require.Equal(t, http.StatusOK, e.post(e.delivery().Echo(pageID, "psid-1", "Hi, Alice here", messengertest.AppID, "pagedesk:"+m.ID).MID(m.MID)))
	// A Page admin answers from Facebook's Page inbox.
	e.clock.Advance(time.Second)
	admin := e.delivery().Echo(pageID, "psid-1", "This is the manager", "", "")
	require.Equal(t, http.StatusOK, e.post(admin))
	require.Equal(t, http.StatusOK, e.post(admin), "redelivered")
	msgs := e.messages(id)
	assert.Equal(t, []store.Author{store.AuthorVisitor, store.AuthorAutoReply, store.AuthorStaff, store.AuthorPageAdmin}, authors(msgs))
	assert.Equal(t, "This is the manager", msgs[3].Text)

	// Delivered, then read.
	e.clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, e.post(e.delivery().Delivered(pageID, "psid-1", e.clock.Now())))
	msgs = e.messages(id)
	assert.Equal(t, store.StateDelivered, msgs[1].State)
	assert.Equal(t, store.StateDelivered, msgs[2].State)
	require.Equal(t, http.StatusOK, e.post(e.delivery().Read(pageID, "psid-1", e.clock.Now())))
	msgs = e.messages(id)
	assert.Equal(t, store.StateRead, msgs[2].State)
	// A late delivery never moves read back.
	require.Equal(t, http.StatusOK, e.post(e.delivery().Delivered(pageID, "psid-1", e.clock.Now())))
	assert.Equal(t, store.StateRead, e.messages(id)[2].State)
	// A late echo neither.
	require.Equal(t, http.StatusOK, e.post(e.delivery().Echo(pageID, "psid-1", "Hi, Alice here", messengertest.AppID, "pagedesk:"+m.ID).MID(m.MID)))
	assert.Equal(t, store.StateRead, e.messages(id)[2].State)
	d := e.notices.of(enquiry.NoticeDelivery)
	require.Len(t, d, 2)
	assert.Equal(t, store.StateDelivered, d[0].State)
	assert.Equal(t, store.StateRead, d[1].State)
}

// Facebook's watermarks count milliseconds: a message sent within the
// watermark's millisecond is covered by it.
func testWatermarkMillisecond(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.say("psid-1", "hello")
	id := e.take("psid-1", "alice").ID
	e.clock.Advance(time.Second + 700*time.Microsecond)
	m, err := e.svc.Reply(e.ctx, id, "alice", "Hi")
	require.NoError(t, err)
	wm := e.clock.Now().Truncate(time.Millisecond)
	require.Equal(t, http.StatusOK, e.post(e.delivery().Delivered(pageID, "psid-1", wm)))
	for _, got := range e.messages(id) {
		if got.ID == m.ID {
			assert.Equal(t, store.StateDelivered, got.State)
			return
		}
	}
	t.Fatalf("reply %s not found", m.ID)
}

func testStandby(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	require.Equal(t, http.StatusOK, e.post(e.delivery().Text(pageID, "psid-1", "talking to the bot").Standby()))
	_, err := e.store.OpenEnquiry(e.ctx, channelID, "psid-1")
	assert.ErrorIs(t, err, store.ErrNotFound, "standby opens no enquiry")
	_, err = e.store.Visitor(e.ctx, channelID, "psid-1")
	require.NoError(t, err, "but it is recorded")
	assert.Empty(t, e.fb.Sent(""))
	assert.Empty(t, e.notices.all)

	// With an open enquiry, standby items join it silently.
	e.say("psid-2", "hi")
	n := len(e.notices.all)
	require.Equal(t, http.StatusOK, e.post(e.delivery().Text(pageID, "psid-2", "now with the bot").Standby()))
	msgs := e.messages(e.open("psid-2").ID)
	assert.Equal(t, "now with the bot", msgs[len(msgs)-1].Text)
	assert.Len(t, e.notices.all, n)
	assert.Len(t, e.sent("psid-2"), 1, "the welcome of the real message only")
}

func testItemsRecorded(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	b := e.delivery().
		Postback(pageID, "psid-1", "Get Started", "GET_STARTED").
		QuickReply(pageID, "psid-1", "Billing", "TOPIC_BILLING").
		Attachment(pageID, "psid-1", "image", "https://cdn.test/photo.jpg")
	mid := b.LastMID()
	b = b.Reaction(pageID, "psid-1", mid, "react", "❤").
		Item(pageID, []byte(`{"sender":{"id":"psid-1"},"recipient":{"id":"`+pageID+`"},"timestamp":1772442000000,"referral":{"ref":"summer","source":"SHORTLINK","type":"OPEN_THREAD"}}`))
	require.Equal(t, http.StatusOK, e.post(b))
	enq := e.open("psid-1")
	msgs := e.messages(enq.ID)
	var kinds []store.MessageKind
	for _, m := range msgs {
		kinds = append(kinds, m.Kind)
	}
	assert.Equal(t, []store.MessageKind{store.KindPostback, store.KindMessage, store.KindMessage, store.KindMessage,
		store.KindReaction, store.KindEvent}, kinds)
	assert.Equal(t, "GET_STARTED", msgs[0].Payload, "a Get Started postback opens the enquiry")
	assert.Equal(t, "Get Started", msgs[0].Text)
	assert.Equal(t, store.AuthorAutoReply, msgs[1].Author, "welcome")
	assert.Equal(t, "TOPIC_BILLING", msgs[2].Payload)
	require.Len(t, msgs[3].Attachments, 1)
	assert.Equal(t, "https://cdn.test/photo.jpg", msgs[3].Attachments[0].URL)
	assert.Equal(t, mid, msgs[4].ReplyTo)
	assert.Equal(t, "❤", msgs[4].Reaction)
	assert.Contains(t, msgs[5].Payload, "ref=summer")
}

func testProfile(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	// No profile known to the fake: the fetch fails; recording goes on.
	e.say("psid-1", "hi")
	enq := e.open("psid-1")
	assert.Len(t, e.messages(enq.ID), 2)
	assert.Equal(t, e.render(autoreply.Welcome, autoreply.Values{}), e.sent("psid-1")[0].Text, "welcome without a name")

	e.fb.AddProfile("psid-2", messenger.Profile{FirstName: "Kai"})
	e.say("psid-2", "hi")
	e.say("psid-2", "again")
	assert.Equal(t, 1, profileRequests(e, "psid-2"), "fetched once")
	v, err := e.svc.View(e.ctx, e.open("psid-2").ID)
	require.NoError(t, err)
	assert.Equal(t, "Kai", v.Visitor.FirstName)

	// A returning visitor's new enquiry does not fetch a fetched profile
	// again, nor does a redelivery of the message that opened it.
	_, err = e.svc.Close(e.ctx, e.open("psid-2").ID, "")
	require.NoError(t, err)
	e.clock.Advance(time.Hour)
	again := e.delivery().Text(pageID, "psid-2", "back again")
	require.Equal(t, http.StatusOK, e.post(again))
	require.Equal(t, http.StatusOK, e.post(again))
	assert.Equal(t, 1, profileRequests(e, "psid-2"), "never fetched again")
	v, err = e.svc.View(e.ctx, e.open("psid-2").ID)
	require.NoError(t, err)
	assert.Equal(t, "Kai", v.Visitor.FirstName)
}

// testProfileRetried: a profile fetch failing for a reason that may pass
// (a rate limit, a 5xx) blocks nothing, and the visitor's next enquiry
// fetches it; a message joining the open enquiry does not.
func testProfileRetried(t *testing.T, newStore newStoreFunc) {
	tests := []struct {
		name string
		fail messengertest.GraphError
	}{
		{"rate limited", messengertest.GraphError{Code: 4, Message: "(#4) Application request limit reached"}},
		{"server error", messengertest.GraphError{HTTPStatus: http.StatusServiceUnavailable, Code: 2, Message: "Service temporarily unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, newStore, options{})
			e.fb.AddProfile("psid-1", messenger.Profile{FirstName: "Mei", LastName: "Lin", ProfilePic: "https://pic.test/mei"})
			e.fb.FailNext(1, tt.fail) // the first Graph call: the profile fetch
			e.say("psid-1", "hi")
			require.Equal(t, 1, profileRequests(e, "psid-1"))
			first := e.open("psid-1")
			assert.Len(t, e.messages(first.ID), 2, "the message and the welcome are recorded")
			assert.Equal(t, []string{e.render(autoreply.Welcome, autoreply.Values{})}, texts(e.sent("psid-1")), "welcome without a name")
			v, err := e.store.Visitor(e.ctx, channelID, "psid-1")
			require.NoError(t, err)
			assert.Empty(t, v.FirstName)
			assert.True(t, v.ProfileFetchedAt.IsZero())

			e.say("psid-1", "anyone there?")
			assert.Equal(t, 1, profileRequests(e, "psid-1"), "a message joining the enquiry does not fetch")

			_, err = e.svc.Close(e.ctx, first.ID, "")
			require.NoError(t, err)
			at := e.clock.Advance(time.Hour)
			e.say("psid-1", "back again")
			assert.Equal(t, 2, profileRequests(e, "psid-1"), "the next enquiry fetches again")
			v, err = e.store.Visitor(e.ctx, channelID, "psid-1")
			require.NoError(t, err)
			assert.Equal(t, "Mei", v.FirstName)
			assert.Equal(t, "Lin", v.LastName)
			assert.Equal(t, "https://pic.test/mei", v.ProfilePic)
			assert.True(t, v.ProfileFetchedAt.Equal(at), "fetched at %v, want %v", v.ProfileFetchedAt, at)
			view, err := e.svc.View(e.ctx, e.open("psid-1").ID)
			require.NoError(t, err)
			assert.Equal(t, "Mei", view.Visitor.FirstName)

			_, err = e.svc.Close(e.ctx, e.open("psid-1").ID, "")
			require.NoError(t, err)
			e.clock.Advance(time.Hour)
			e.say("psid-1", "and again")
			assert.Equal(t, 2, profileRequests(e, "psid-1"), "a fetched profile is not fetched again")
		})
	}
}

// profileRequests counts the Graph calls that fetched psid's profile.
func profileRequests(e *env, psid string) int {
	n := 0
	for _, r := range e.fb.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/"+psid) {
			n++
		}
	}
	return n
}

func testDispatchModes(t *testing.T, newStore newStoreFunc) {
	staff := []enquiry.Staff{
		{ID: "alice", Available: true, Load: 2},
		{ID: "bob", Available: true, Load: 0},
		{ID: "carol", Available: true, Load: 1},
		{ID: "dave", Available: false},
	}
	tests := []struct {
		name     string
		dispatch store.Dispatch
		want     [][]string // offers for psid-0, psid-1, ...
	}{
		{"all", store.Dispatch{}, [][]string{{"alice", "bob", "carol"}}},
		{"round robin", store.Dispatch{Mode: store.DispatchRoundRobin},
			[][]string{{"alice"}, {"bob"}, {"carol"}, {"alice"}, {"bob"}}}, // dave is not available
		{"least busy", store.Dispatch{Mode: store.DispatchLeastBusy}, [][]string{{"bob"}, {"bob"}}},
		{"named", store.Dispatch{StaffIDs: []string{"carol", "dave", "ghost"}}, [][]string{{"carol"}}},
		{"group", store.Dispatch{Group: "vip", Mode: store.DispatchLeastBusy}, [][]string{{"carol"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, newStore, options{channel: func(c *store.Channel) {
				c.Dispatch = tt.dispatch
				c.AutoReply = autoreply.Settings{}
			}})
			e.staff.set(staff...)
			e.staff.group["vip"] = []string{"alice", "carol"}
			for i, want := range tt.want {
				psid := fmt.Sprintf("psid-%d", i)
				e.say(psid, "hi")
				enq := e.open(psid)
				assert.Equal(t, store.EnquiryOffered, enq.Status)
				assert.ElementsMatch(t, want, enq.OfferedTo, psid)
			}
		})
	}
}

func testTransferAndView(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{channel: func(c *store.Channel) {
		c.CustomInfo = store.CustomInfo{On: true, Text: "VIP customers: offer free shipping."}
	}})
	e.say("psid-1", "hi")
	id := e.open("psid-1").ID

	v, err := e.svc.View(e.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "VIP customers: offer free shipping.", v.CustomInfo, "shown before anyone takes it (CHAN-5)")
	assert.Equal(t, store.EnquiryOffered, v.Enquiry.Status)
	assert.Len(t, v.Messages, 2)
	assert.Equal(t, "Support", v.Channel.Name)
	assert.True(t, v.ReplyBy.Equal(e.clock.Now().Add(24*time.Hour)))
	assert.True(t, v.CanReply(e.clock.Now().Add(23*time.Hour)))
	assert.False(t, v.CanReply(e.clock.Now().Add(25*time.Hour)))

	e.take("psid-1", "alice")
	_, err = e.svc.Transfer(e.ctx, id, "bob", "alice")
	var nh *enquiry.NotHolderError
	require.ErrorAs(t, err, &nh)
	_, err = e.svc.Transfer(e.ctx, id, "alice", "ghost")
	assert.ErrorIs(t, err, enquiry.ErrUnknownStaff)
	moved, err := e.svc.Transfer(e.ctx, id, "alice", "bob")
	require.NoError(t, err)
	assert.Equal(t, "bob", moved.StaffID)
	tr := e.notices.of(enquiry.NoticeTransferred)
	require.Len(t, tr, 1)
	assert.Equal(t, "alice", tr[0].FromStaffID)
	assert.Equal(t, "bob", tr[0].StaffID)
	_, err = e.svc.Reply(e.ctx, id, "alice", "hi")
	assert.ErrorIs(t, err, enquiry.ErrNotHolder)
	_, err = e.svc.Reply(e.ctx, id, "bob", "Bob here")
	require.NoError(t, err)

	e.update(func(c *store.Channel) { c.CustomInfo.On = false })
	v, err = e.svc.View(e.ctx, id)
	require.NoError(t, err)
	assert.Empty(t, v.CustomInfo, "off: not shown")
	assert.Len(t, v.Messages, 3)

	var open []string
	for enq, err := range e.svc.Enquiries(e.ctx, serviceID, "") {
		require.NoError(t, err)
		open = append(open, enq.ID)
	}
	assert.Equal(t, []string{id}, open)

	_, err = e.svc.View(e.ctx, "nope")
	assert.ErrorIs(t, err, enquiry.ErrNotFound)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testThroughChannelService(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{channels: true})
	e.say("psid-1", "hello")
	id := e.take("psid-1", "alice").ID

	// CONN-8: the self-test's echo comes back through the webhook into the
	// enquiry service, which hands it to package channel.
	e.fb.OnSend(func(m messengertest.SentMessage) {
		if m.Text == channel.SelfTestText {
			code := e.post(e.delivery().Echo(pageID, m.RecipientID, m.Text, messengertest.AppID, m.Metadata).MID(m.MessageID))
			assert.Equal(t, http.StatusOK, code)
		}
	})
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	res, err := e.channels.SelfTest(ctx, serviceID, channelID, "psid-1")
	require.NoError(t, err)
	assert.NotEmpty(t, res.MessageID)
	msgs := e.messages(id)
	require.Len(t, msgs, 3, "the self-test's message reached the visitor: it is on the transcript")
	assert.Equal(t, store.AuthorSystem, msgs[2].Author, "written by PageDesk, not by a Page admin")
	assert.Equal(t, enquiry.SelfTestPayload, msgs[2].Payload)
	assert.Equal(t, channel.SelfTestText, msgs[2].Text)
	assert.Equal(t, res.MessageID, msgs[2].MID)

	// CONN-7 through package channel.
	e.fb.FailNext(1, messengertest.GraphError{HTTPStatus: 401, Code: 190, Message: "Error validating access token"})
	_, err = e.svc.Reply(e.ctx, id, "alice", "hi")
	assert.ErrorIs(t, err, enquiry.ErrChannelDisconnected)
	ch, err := e.store.Channel(e.ctx, channelID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDisconnected, ch.Status)
	e.mu.Lock()
	defer e.mu.Unlock()
	require.Len(t, e.channelNotices, 1)
	assert.Equal(t, channel.NoticeDisconnected, e.channelNotices[0].Kind, "package channel told the host")
	assert.Len(t, e.notices.of(enquiry.NoticeChannelDisconnected), 1)
}

func testConcurrentDeliveries(t *testing.T, newStore newStoreFunc) {
	e := newEnv(t, newStore, options{})
	e.staff.set() // nobody available: the away reply is at stake too
	same := e.delivery().Text(pageID, "psid-1", "hello?")
	const n = 8
	var wg sync.WaitGroup
	codes := make([]int, 2*n)
	for i := range n {
		wg.Go(func() { codes[i] = e.post(same) }) // one event, redelivered at once
		wg.Go(func() { codes[n+i] = e.post(e.delivery().Text(pageID, "psid-1", fmt.Sprint("message ", i))) })
	}
	wg.Wait()
	for _, c := range codes {
		assert.Equal(t, http.StatusOK, c)
	}
	enq := e.open("psid-1")
	var visitor int
	for _, m := range e.messages(enq.ID) {
		if m.Author == store.AuthorVisitor {
			visitor++
		}
	}
	assert.Equal(t, n+1, visitor, "every distinct event recorded once, all on one enquiry")
	// (Their order is not promised when the first messages race.)
	assert.ElementsMatch(t, []string{
		e.render(autoreply.Welcome, autoreply.Values{}),
		e.render(autoreply.Away, autoreply.Values{}),
	}, texts(e.sent("psid-1")), "one welcome and one away, whatever the races")
	assert.True(t, e.open("psid-1").AwaySent)
}
