package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
	"github.com/pagedesk/pagedesk/store/storetest"
)

// A test of your own backend: a fake Facebook, an in-memory store, a clock
// you move, and deliveries signed exactly as Facebook signs them.
func TestMyBackend(t *testing.T) {
	fake := messengertest.NewServer(t) // a fake Graph API, closed when the test ends
	fake.AddPage("1001", "My Page", "page-token")
	st := memstore.New()
	err := st.CreateChannel(t.Context(), &store.Channel{ID: "ch", ServiceID: "svc", Name: "My Page",
		PageID: "1001", PageToken: "page-token", Status: store.ChannelActive})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	desk, err := enquiry.New(enquiry.Config{Store: st, Graph: fake.Client(t), Now: func() time.Time { return now },
		Staff: &enquiry.StaticDirectory{Staff: []enquiry.Staff{{ID: "sam", Available: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	webhook, err := messenger.NewWebhook(messenger.WebhookConfig{AppSecret: fake.AppSecret, VerifyToken: "v", Handler: desk})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webhook)
	defer srv.Close()

	// A visitor writes: Facebook's signed delivery, built by messengertest.
	delivery := messengertest.Delivery(fake.AppSecret).At(now).Text("1001", "psid-1", "hello")
	res, err := http.DefaultClient.Do(delivery.Request(srv.URL))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("delivery: %v %v", res, err)
	}
	res.Body.Close()
	enq, err := st.OpenEnquiry(t.Context(), "ch", "psid-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Take(t.Context(), enq.ID, "sam"); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Reply(t.Context(), enq.ID, "sam", "Hi! How can we help?"); err != nil {
		t.Fatal(err)
	}
	if sent := fake.Sent("1001"); len(sent) != 1 || sent[0].Text != "Hi! How can we help?" {
		t.Fatalf("Facebook got %+v", sent)
	}

	// 25 hours later, without sleeping: the 24-hour window has passed (RULE-5).
	now = now.Add(25 * time.Hour)
	_, err = desk.Reply(t.Context(), enq.ID, "sam", "Still there?")
	var window *enquiry.WindowError
	if !errors.As(err, &window) {
		t.Fatalf("got %v, want a *enquiry.WindowError", err)
	}
	t.Log(window.Message("zh-Hant")) // 抱歉,您的訊息無法再發送; 24小時訊息發送時限已過去。…
}

// Your own store keeps PageDesk's promises if it passes the conformance
// suite, races included. Here it checks memstore; give it yours.
func TestMyStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}
