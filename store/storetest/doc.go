// Package storetest is a conformance suite for store.Store implementations:
// memstore and sqlstore run it, and so should a host's own store.
//
// Run checks every promise written in package store, each in a subtest
// that fails if the promise is broken: at most one open enquiry per
// visitor (32 goroutines delivering a visitor's first message at once),
// inbound dedup (one key delivered 32 times at once), the atomicity of
// RecordInbound, one Page per channel (32 services connecting one Page at
// once), Take as a compare-and-set with the RULE-4 limit, optimistic
// channel updates, paginated lists and their cursors, the error sentinels,
// cancelled contexts, empty ids and copy safety.
//
// The suite uses only the store.Store interface. Every subtest calls
// t.Parallel and works on ids of its own with a random suffix, so one
// store (one database) can serve every subtest, and several runs at once.
//
// Like the drivertest packages of gocloud.dev, it is test support code: it
// imports testing and testify, so import it only from _test.go files.
package storetest
