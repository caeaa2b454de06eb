package storetest_test

import (
	"testing"

	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
	"github.com/pagedesk/pagedesk/store/storetest"
)

// A host checks its own store by calling Run from a test in its store's
// package. Run needs the *testing.T of a real test, so this example is
// compiled but not run; TestMyStore below is the function to copy into a
// _test.go file.
func ExampleRun() {
	TestMyStore := func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			// Return your store. A database-backed store may return one
			// store for every call (the subtests share nothing), or one
			// per t, cleaned up with t.Cleanup.
			return memstore.New()
		})
	}
	_ = TestMyStore
}
