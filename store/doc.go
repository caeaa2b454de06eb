// Package store is PageDesk's data model and the storage interfaces that
// hosts plug their storage into. It knows nothing of HTTP or Facebook.
//
// Implementations: store/memstore (in memory, for tests and demos) and
// store/sqlstore (PostgreSQL). store/storetest checks that any
// implementation keeps the promises written on each interface.
package store
