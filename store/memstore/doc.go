// Package memstore is an in-memory store.Store for tests, demos and
// single-process deployments.
//
// One lock guards the whole store, so each method is one atomic step and
// every promise of package store holds, races included; the store starts
// no goroutines. Records are copied in and out, slices included, so
// nothing a caller holds aliases stored state. Nothing is ever evicted:
// memory grows with the history, about 8 KB per enquiry of ten messages
// with realistic ids, keys and texts, of which about 5.5 KB is the store's
// own (see BenchmarkMemory). Recording an inbound message takes about
// 1.4 µs and one allocation (BenchmarkRecordInbound).
//
// Lookups by id, RecordInbound, Take and the other writes take time
// independent of the store's size; a page of a list takes time in
// proportion to the page, except listing closed enquiries, which may walk
// the service's history, and ForgetVisitor, which walks every visitor.
// List cursors are opaque base64 text; a malformed one gets
// store.ErrInvalid.
//
// memstore passes storetest.Run.
package memstore
