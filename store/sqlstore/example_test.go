package sqlstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"log"
	"os"

	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/sqlstore"
)

// A host opens the store at start-up, brings the schema up to date and
// hands the store to the PageDesk services. It needs a database, so it is
// compiled but not run by go test.
func Example() {
	ctx := context.Background()
	// The token key comes from the host's secret store: 64 hex digits.
	key, err := hex.DecodeString(os.Getenv("PAGEDESK_TOKEN_KEY"))
	if err != nil {
		log.Fatal("PAGEDESK_TOKEN_KEY is not hex")
	}
	s, err := sqlstore.New(ctx, sqlstore.Config{
		DSN:      os.Getenv("DATABASE_URL"),
		TokenKey: key,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.ClosePool()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	var st store.Store = s // for channel.New, enquiry.New, ...
	c, err := st.ChannelByPage(ctx, "1234567890")
	switch {
	case err == nil:
		log.Printf("page 1234567890 is channel %s", c.ID)
	case errors.Is(err, store.ErrNotFound):
		log.Print("page 1234567890 is not connected")
	default:
		log.Fatal(err)
	}
}

// Tests of a host's own code can run on PostgreSQL with a schema of their
// own, sharing one pool, and drop it afterwards.
func ExampleConfig_schemaPerTest() {
	ctx := context.Background()
	s, err := sqlstore.New(ctx, sqlstore.Config{
		DSN:    os.Getenv("SQLSTORE_DSN"),
		Schema: "test_checkout_flow",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.ClosePool()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	// ... the test ..., then: DROP SCHEMA test_checkout_flow CASCADE
}
