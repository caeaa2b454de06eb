package memstore_test

import (
	"testing"

	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
	"github.com/pagedesk/pagedesk/store/storetest"
)

func TestMemstore(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}

// TestMemstoreShared runs the suite on one store shared by every subtest,
// as a database would be.
func TestMemstoreShared(t *testing.T) {
	s := memstore.New()
	storetest.Run(t, func(*testing.T) store.Store { return s })
}
