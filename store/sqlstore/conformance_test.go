package sqlstore_test

import (
	"testing"

	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/sqlstore"
	"github.com/pagedesk/pagedesk/store/storetest"
)

// TestConformance runs the store conformance suite against PostgreSQL,
// each subtest on a store of its own in a fresh schema, with Page tokens
// sealed.
func TestConformance(t *testing.T) {
	dsn(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, sqlstore.Config{TokenKey: testKey(1)})
	})
}

// TestConformanceSharedStore runs the suite again on one store shared by
// every subtest, as many processes share one database: the subtests run in
// parallel on the same tables.
func TestConformanceSharedStore(t *testing.T) {
	dsn(t)
	shared := newStore(t, sqlstore.Config{})
	storetest.Run(t, func(*testing.T) store.Store { return shared })
}

// testKey returns a TokenKey made of one repeated byte.
func testKey(b byte) []byte {
	k := make([]byte, sqlstore.TokenKeySize)
	for i := range k {
		k[i] = b
	}
	return k
}
