package store_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
)

// All ranges over a paginated list, fetching pages as the loop goes; the
// loop may stop early.
func ExampleAll() {
	ctx := context.Background()
	s := memstore.New()
	start := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		c := &store.Channel{
			ID: fmt.Sprintf("ch-%d", i), ServiceID: "svc-1", PageID: fmt.Sprintf("page-%d", i),
			Name: fmt.Sprintf("Page %d", i), CreatedAt: start.Add(time.Duration(i) * time.Hour),
		}
		if err := s.CreateChannel(ctx, c); err != nil {
			log.Fatal(err)
		}
	}

	channels := store.All(ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Channel], error) {
		o.Limit = 2 // small pages, to show the paging
		return s.ListChannels(ctx, "svc-1", o)
	})
	for c, err := range channels {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(c.Name)
		if c.ID == "ch-2" {
			break
		}
	}
	// Output:
	// Page 0
	// Page 1
	// Page 2
}
