package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
)

// A visitor's message opens an enquiry; a redelivery of the same webhook
// event is recognised; two staff race to take the enquiry and one wins.
func Example() {
	ctx := context.Background()
	s := memstore.New()
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)

	ch := &store.Channel{ID: "ch-1", ServiceID: "svc-1", PageID: "page-1", Name: "Support", CreatedAt: now}
	if err := s.CreateChannel(ctx, ch); err != nil {
		log.Fatal(err)
	}

	in := store.Inbound{
		ServiceID: "svc-1", ChannelID: "ch-1", PSID: "psid-1",
		Message: store.Message{
			ID: "msg-1", Key: "mid.1", MID: "mid.1", Text: "Hello?",
			Kind: store.KindMessage, Direction: store.DirectionIn, Author: store.AuthorVisitor,
			State: store.StateReceived, CreatedAt: now,
		},
		EnquiryID: "enq-1", Open: true, Window: true,
	}
	r, err := s.RecordInbound(ctx, in)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new enquiry:", r.NewEnquiry, r.Enquiry.ID, r.Enquiry.Status)

	r, _ = s.RecordInbound(ctx, in) // Facebook redelivers the event
	fmt.Println("duplicate:", r.Duplicate)

	if _, err := s.Take(ctx, "enq-1", "alice", 200, now.Add(time.Minute)); err != nil {
		log.Fatal(err)
	}
	_, err = s.Take(ctx, "enq-1", "bob", 200, now.Add(time.Minute))
	var taken *store.TakenError
	if errors.As(err, &taken) {
		fmt.Println("bob lost to", taken.StaffID)
	}
	// Output:
	// new enquiry: true enq-1 queued
	// duplicate: true
	// bob lost to alice
}
