package enquiry_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
)

// exampleService is what the examples share: a channel on memstore, the
// fake Graph API, the service and the real webhook in front of it.
func exampleService(now func() time.Time, notifier enquiry.Notifier) (*enquiry.Service, *messengertest.Server, *messenger.Webhook, store.Store) {
	fb := messengertest.New()
	fb.AddPage("1000001", "Acme Support", "page-token")
	fb.AddProfile("psid-mei", messenger.Profile{FirstName: "Mei", LastName: "Lin"})
	graph, err := messenger.New(fb.Config())
	if err != nil {
		log.Fatal(err)
	}
	st := memstore.New()
	err = st.CreateChannel(context.Background(), &store.Channel{
		ID: "ch-1", ServiceID: "svc-1", PageID: "1000001", PageName: "Acme Support", Name: "Support",
		Status: store.ChannelActive, PageToken: "page-token",
		AutoReply: autoreply.Settings{
			Welcome:    autoreply.Message{On: true},
			Close:      autoreply.Message{On: true, Text: "Thanks, {visitor}! [{staff} ]closed this conversation."},
			NameFormat: autoreply.NameFirst,
		},
		CustomInfo: store.CustomInfo{On: true, Text: "Orders ship within 2 working days."},
	})
	if err != nil {
		log.Fatal(err)
	}
	svc, err := enquiry.New(enquiry.Config{
		Store: st,
		Graph: graph,
		Staff: &enquiry.StaticDirectory{Staff: []enquiry.Staff{
			{ID: "alice", FirstName: "Alice", LastName: "Wong", Available: true},
		}},
		Notifier: notifier,
		Now:      now,
	})
	if err != nil {
		log.Fatal(err)
	}
	wh, err := messenger.NewWebhook(messenger.WebhookConfig{AppSecret: fb.AppSecret, VerifyToken: "verify-me", Handler: svc})
	if err != nil {
		log.Fatal(err)
	}
	return svc, fb, wh, st
}

// A visitor's message arrives through the webhook and becomes an enquiry;
// a staff member takes it, answers and closes it.
func Example() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc, fb, wh, st := exampleService(func() time.Time { return now }, enquiry.NotifierFunc(func(_ context.Context, n enquiry.Notice) {
		fmt.Println("notice:", n.Kind)
	}))
	defer fb.Close()
	ctx := context.Background()

	// Facebook delivers a signed webhook.
	rec := httptest.NewRecorder()
	wh.ServeHTTP(rec, messengertest.Delivery(fb.AppSecret).At(now).Text("1000001", "psid-mei", "Where is my order?").Request("https://example.test/webhook"))
	fmt.Println("webhook answered", rec.Code)

	enq, err := st.OpenEnquiry(ctx, "ch-1", "psid-mei")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Take(ctx, enq.ID, "alice"); err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Reply(ctx, enq.ID, "alice", "Hi Mei, it left our warehouse this morning."); err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Close(ctx, enq.ID, "alice"); err != nil {
		log.Fatal(err)
	}
	for _, m := range fb.Sent("1000001") {
		fmt.Printf("sent to %s: %s\n", m.RecipientID, m.Text)
	}
	// Output:
	// notice: enquiry.opened
	// notice: message.in
	// notice: message.out
	// notice: enquiry.offered
	// webhook answered 200
	// notice: enquiry.taken
	// notice: message.out
	// notice: enquiry.closed
	// notice: message.out
	// sent to psid-mei: Hi Mei, thanks for your message to Acme Support! Someone from our team will be with you shortly.
	// sent to psid-mei: Hi Mei, it left our warehouse this morning.
	// sent to psid-mei: Thanks, Mei! Alice closed this conversation.
}

// After 24 hours without a message from the visitor, a reply is refused
// with the RULE-5 text, in the staff member's language.
func ExampleWindowError() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	svc, fb, wh, st := exampleService(clock, nil)
	defer fb.Close()
	ctx := context.Background()
	wh.ServeHTTP(httptest.NewRecorder(), messengertest.Delivery(fb.AppSecret).At(now).Text("1000001", "psid-mei", "Hello?").Request("https://example.test/webhook"))
	enq, _ := st.OpenEnquiry(ctx, "ch-1", "psid-mei")
	if _, err := svc.Take(ctx, enq.ID, "alice"); err != nil {
		log.Fatal(err)
	}

	now = now.Add(24*time.Hour + time.Minute)
	_, err := svc.Reply(ctx, enq.ID, "alice", "Sorry for the wait!")
	var we *enquiry.WindowError
	if errors.As(err, &we) {
		fmt.Println(we.Message(autoreply.TraditionalChinese))
		fmt.Println(we.Message(autoreply.English))
	}
	fmt.Println(errors.Is(err, enquiry.ErrOutsideWindow), errors.Is(err, messenger.ErrOutsideWindow))
	// Output:
	// 抱歉,您的訊息無法再發送; 24小時訊息發送時限已過去。關閉此查詢,或等訪客再次發送訊息。
	// Sorry, your message can no longer be sent; the 24-hour messaging window has passed. Close this enquiry or wait for the visitor to send a message again.
	// true true
}

// The enquiry view shows the channel's custom info to staff, even before
// anyone takes the enquiry (CHAN-5).
func ExampleService_View() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc, fb, wh, st := exampleService(func() time.Time { return now }, nil)
	defer fb.Close()
	ctx := context.Background()
	wh.ServeHTTP(httptest.NewRecorder(), messengertest.Delivery(fb.AppSecret).At(now).Text("1000001", "psid-mei", "Do you ship to Taichung?").Request("https://example.test/webhook"))
	enq, _ := st.OpenEnquiry(ctx, "ch-1", "psid-mei")

	v, err := svc.View(ctx, enq.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("status:", v.Enquiry.Status)
	fmt.Println("custom info:", v.CustomInfo)
	fmt.Println("visitor:", v.Visitor.FirstName, v.Visitor.LastName)
	fmt.Println("reply by:", v.ReplyBy.Format(time.RFC3339))
	for _, m := range v.Messages {
		fmt.Printf("%s: %s\n", m.Author, m.Text)
	}
	// Output:
	// status: offered
	// custom info: Orders ship within 2 working days.
	// visitor: Mei Lin
	// reply by: 2026-03-03T09:00:00Z
	// visitor: Do you ship to Taichung?
	// autoreply: Hi Mei, thanks for your message to Acme Support! Someone from our team will be with you shortly.
}

// Taking an enquiry is a compare-and-set: the second staff member is told
// who was first.
func ExampleService_Take() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc, fb, wh, st := exampleService(func() time.Time { return now }, nil)
	defer fb.Close()
	ctx := context.Background()
	wh.ServeHTTP(httptest.NewRecorder(), messengertest.Delivery(fb.AppSecret).At(now).Text("1000001", "psid-mei", "Hi").Request("https://example.test/webhook"))
	enq, _ := st.OpenEnquiry(ctx, "ch-1", "psid-mei")

	if _, err := svc.Take(ctx, enq.ID, "alice"); err != nil {
		log.Fatal(err)
	}
	_, err := svc.Take(ctx, enq.ID, "bob")
	var te *enquiry.TakenError
	if errors.As(err, &te) {
		fmt.Println("bob was too late; the enquiry is held by", te.StaffID)
	}
	// Output:
	// bob was too late; the enquiry is held by alice
}
