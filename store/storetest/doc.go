// Package storetest is a conformance suite for store.Store implementations.
package storetest
