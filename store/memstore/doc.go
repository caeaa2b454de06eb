// Package memstore is an in-memory store.Store for tests, demos and
// single-process deployments.
package memstore
