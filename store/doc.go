// Package store is PageDesk's data model and the storage interfaces that
// hosts plug their storage into. It knows nothing of HTTP or Facebook.
//
// The records (Channel, Visitor, Enquiry, Message) are plain structs. The
// interfaces (Channels, Visitors, Enquiries, Messages, and Store, which
// joins them) offer domain operations rather than CRUD plus transactions
// managed by the caller: RecordInbound, Take, Offer, Close and the rest are
// each one atomic step, so every store, in memory or in a database shared
// by many processes, keeps the same promises.
//
// # The promises
//
//  1. At most one open enquiry per (channel, visitor), even when many
//     processes record at once (Enquiries, Messages.RecordInbound).
//  2. An inbound item is recorded at most once by its idempotency key, per
//     channel; recording it is atomic: dedup, create the visitor,
//     find or open the enquiry, append the message, move the 24-hour
//     window, all or nothing (Messages.RecordInbound).
//  3. A Page is held by at most one channel that is not deleted, among all
//     services (CONN-6); deleting the channel frees it (Channels).
//  4. Taking an enquiry is a compare-and-set: of concurrent takes exactly
//     one wins and the others get a *TakenError naming the winner; with a
//     limit, the count of taken enquiries and the take are one step, so
//     concurrent takes never exceed it (RULE-4) (Enquiries.Take).
//  5. Channel settings are updated optimistically: a stale Version gets
//     ErrConflict and nothing is overwritten (Channels.UpdateChannel).
//  6. Lists are paginated with opaque cursors (ListOptions, Page) and can
//     be ranged over with All, stopping early without reading the rest.
//  7. Errors match this package's sentinels (ErrNotFound, ErrConflict,
//     ErrDuplicate, ErrPageTaken, ErrAlreadyTaken, ErrClosed, ErrLimit,
//     ErrInvalid) with errors.Is; no driver error leaks unwrapped.
//
// The rules every method follows (cancelled contexts, empty ids, copies,
// times) are written on Store; each method's own are written on it.
//
// # Implementations
//
// store/memstore keeps everything in memory, for tests, demos and
// single-process hosts; store/sqlstore keeps it in PostgreSQL, for many
// processes sharing one database. A host may write its own: it proves it
// keeps the promises by passing store/storetest.Run, the suite that checks
// every promise above, races included.
package store
