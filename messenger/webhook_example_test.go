package messenger_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

func ExampleNewWebhook() {
	wh, err := messenger.NewWebhook(messenger.WebhookConfig{
		AppSecret:   "app-secret",   // from the app's dashboard
		VerifyToken: "verify-token", // what you typed in the webhook settings
		Handler: messenger.HandlerFunc(func(ctx context.Context, events []messenger.Event) error {
			for _, e := range events {
				if e.Kind == messenger.KindMessage && !e.Standby {
					// Store it under e.Key(), so that a redelivery is
					// recognised, before returning nil.
					fmt.Printf("%s from %s: %q\n", e.Key(), e.SenderID, e.Message.Text)
				}
			}
			return nil // 200: Facebook forgets the delivery
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", wh)

	// What Facebook does, with a delivery from messengertest.
	req := messengertest.Delivery("app-secret").Text("1001", "2001", "hello").MID("m_1").Request("/webhook")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output:
	// message:1001:2001:m_1 from 2001: "hello"
	// 200
}

func ExampleRequireSignature() {
	mux := http.NewServeMux()
	mux.Handle("GET /webhook", messenger.Handshake("verify-token"))
	mux.Handle("POST /webhook", messenger.RequireSignature("app-secret")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			events, _ := messenger.EventsFromRequest(r)
			fmt.Println(len(events), "verified events")
			w.WriteHeader(http.StatusOK) // only once they are safe
		})))

	d := messengertest.Delivery("app-secret").Text("1001", "2001", "hi").Read("1001", "2001", time.Now())
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, d.Request("/webhook"))
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, d.BadSignatureRequest("/webhook"))
	fmt.Println(w.Code)
	// Output:
	// 2 verified events
	// 403
}

// A host with its own router checks deliveries with a Webhook's settings
// (here a 4 MiB cap and a logger) through its Middleware, and answers the
// GET handshake with the Webhook itself.
func ExampleWebhook_Middleware() {
	wh, err := messenger.NewWebhook(messenger.WebhookConfig{
		AppSecret:    "app-secret",
		VerifyToken:  "verify-token",
		MaxBodyBytes: 4 << 20,
		Logger:       slog.New(slog.DiscardHandler), // your logger
		// Every POST goes through Middleware: a delivery routed to wh by
		// mistake gets 500, so Facebook redelivers it rather than lose it.
		Handler: messenger.HandlerFunc(func(context.Context, []messenger.Event) error {
			return errors.New("POST /webhook is served by the middleware")
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /webhook", wh)
	mux.Handle("POST /webhook", wh.Middleware()(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			events, _ := messenger.EventsFromRequest(r)
			fmt.Println(len(events), "verified events")
			w.WriteHeader(http.StatusOK) // only once they are safe
		})))

	d := messengertest.Delivery("app-secret").Text("1001", "2001", "hi")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, d.Request("/webhook"))
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, d.BadSignatureRequest("/webhook"))
	fmt.Println(w.Code)
	// Output:
	// 1 verified events
	// 403
}

// A queue consumer or a serverless function verifies and parses without
// HTTP.
func ExampleParseWebhook() {
	d := messengertest.Delivery("app-secret").Postback("1001", "2001", "Get Started", "GET_STARTED")
	body, header := d.Body(), d.Signature() // as taken off the queue

	if err := messenger.VerifySignature(body, header, "app-secret"); err != nil {
		fmt.Println(err)
		return
	}
	events, err := messenger.ParseWebhook(body)
	switch {
	case errors.Is(err, messenger.ErrUnsupportedObject):
		return // not Messenger: acknowledge and drop
	case err != nil:
		fmt.Println(err)
		return
	}
	for _, e := range events {
		fmt.Println(e.Kind, e.Postback.Payload)
	}
	fmt.Println(messenger.VerifySignature(body, header, "another-secret"))
	// Output:
	// postback GET_STARTED
	// messenger: bad webhook signature: the signature does not match the body
}

func ExampleParseSignedRequest() {
	// Facebook posts signed_request to the Deauthorize and Data Deletion
	// callbacks as a form field.
	signed := messengertest.SignedRequest("app-secret", "6270539092939364")

	sr, err := messenger.ParseSignedRequest(signed, "app-secret")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sr.Algorithm, sr.UserID)

	_, err = messenger.ParseSignedRequest(signed, "another-secret")
	fmt.Println(errors.Is(err, messenger.ErrBadSignedRequest))
	// Output:
	// HMAC-SHA256 6270539092939364
	// true
}
