// Package sqlstore is a store.Store on PostgreSQL, through pgx v5, for many
// processes sharing one database.
//
// Every promise of package store is kept by the database itself (unique
// indexes, row locks, transactions), never by a lock inside the process,
// so any number of processes behind a load balancer may record, take and
// close enquiries at once. It passes store/storetest.
//
// # Use
//
//	s, err := sqlstore.New(ctx, sqlstore.Config{
//		DSN:      os.Getenv("DATABASE_URL"), // or Pool: an existing *pgxpool.Pool
//		TokenKey: key,                       // 32 bytes: Page tokens sealed at rest
//	})
//	if err != nil { ... }
//	defer s.ClosePool()
//	if err := s.Migrate(ctx); err != nil { ... } // at start-up, or from a deploy step
//	// s is a store.Store: give it to the channel and enquiry services.
//
// New checks the Config and pings the database; it changes nothing.
// Migrate creates the schema (Config.Schema, "pagedesk" by default) and its
// tables, or brings them up to date, applying the migrations embedded in
// the package that the database has not recorded yet, all in one
// transaction. It is idempotent, and safe to run from every process at
// start-up: concurrent calls queue on a transaction-scoped PostgreSQL
// advisory lock (one per schema), which also works through PgBouncer in
// transaction mode. ClosePool closes the pool New opened from a DSN; a pool passed
// in Config.Pool belongs to the caller and is left open. (The method is
// not called Close: that name is store.Enquiries' Close, which closes an
// enquiry.)
//
// Page tokens: with Config.TokenKey set (32 bytes, for example from
// `openssl rand -hex 32`, decoded, kept in the host's secret store), each
// token is sealed with AES-256-GCM under a fresh random nonce, bound to its
// channel id, before it is written; the column never holds the token.
// Reading a sealed token without the key, or with another key, fails with
// an error matching ErrTokenKey that names the channel. Tokens written in
// plain text before a key was configured are still read, and are sealed
// on their next write. Deleting a channel erases its token.
//
// Times are stored as timestamptz: PostgreSQL keeps microseconds, and the
// store returns times in UTC. Every time comes from the caller, as the
// store contracts say (the store reads no clock, so it has no Now to
// inject); a zero time is stored as given and read back zero.
//
// Errors match the store sentinels with errors.Is (a unique violation on
// a channel id is store.ErrDuplicate, on a live Page store.ErrPageTaken,
// and so on; bad text such as a NUL byte is store.ErrInvalid). Driver
// errors are wrapped, with the operation named; the *pgconn.PgError stays
// reachable with errors.As. A cancelled ctx gives an error matching
// ctx.Err(), and nothing is written. Deadlocks and serialization failures
// are retried a few times.
//
// # Schema
//
// All tables live in Config.Schema (see migrations/0001_init.sql):
//
//   - channels: one row per channel, deleted ones included.
//     Unique index channels_live_page_key on (page_id) WHERE status <>
//     'deleted': at most one live channel per Page (CONN-6); deleting
//     frees the Page. next_turn is the round-robin counter: NextTurn is a
//     single UPDATE ... SET next_turn = next_turn + 1 RETURNING. Settings
//     updates are UPDATE ... WHERE id = $1 AND version = $2: a stale
//     version matches no row and gets store.ErrConflict.
//   - visitors: primary key (channel_id, psid).
//   - enquiries: unique index enquiries_one_open_key on (channel_id, psid)
//     WHERE status <> 'closed': at most one open enquiry per visitor and
//     channel. Take, Offer, Transfer and Close are conditional UPDATEs (a
//     compare-and-set on status and holder).
//   - service_locks: one row per service, locked FOR UPDATE by every Take
//     before it counts the service's taken enquiries and takes one, in a
//     statement that starts once the lock is held: the RULE-4 count and
//     the take are one step across processes.
//   - messages: primary key id; seq (an identity) gives the recorded
//     order and the list cursor; unique index messages_inbound_key_key on
//     (channel_id, key) of the items recorded by RecordInbound (inbound):
//     an inbound item is recorded once per channel.
//   - sqlstore_migrations: the migrations applied (version, name, time).
//
// RecordInbound is one READ COMMITTED transaction whose BEGIN and three
// statements are sent together, in one round trip, then committed (or
// rolled back) in a second: read the channel's service; upsert the visitor; then, in one statement, INSERT the enquiry
// ... ON CONFLICT on the open-enquiry index DO UPDATE (open it, or join
// the open one) and INSERT the message ... ON CONFLICT on the key index
// DO NOTHING. If the key was already recorded, the transaction is rolled
// back, so a duplicate writes nothing, and the stored message is returned.
// The unique indexes make concurrent first messages open one enquiry, and
// concurrent deliveries of one event record one message, in any number of
// processes. Take is sent the same way.
//
// Cursors are opaque (base64url JSON naming the list and the sort key of
// the last item: (created_at, id) for channels, (opened_at, id) for
// enquiries, seq for messages), so a list read page by page neither
// repeats nor skips an item whatever is written in between.
//
// # Running the PostgreSQL tests locally
//
// The tests need a PostgreSQL (any recent version; CI uses the one from
// apt) named by SQLSTORE_DSN; without it they are skipped with "SQLSTORE_DSN
// not set: skipping PostgreSQL tests; see README". Each test works in a
// schema of its own, created and dropped by the test, so they run in
// parallel and leave nothing behind; the role needs the right to create
// schemas in the database. Any of these gives one:
//
// With Docker:
//
//	docker run -d --name pagedesk-pg -p 127.0.0.1:5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17
//	export SQLSTORE_DSN='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
//	go test -race ./store/sqlstore/...
//	docker rm -f pagedesk-pg
//
// With PostgreSQL installed (apt-get install postgresql), a throwaway
// cluster owned by you (initdb refuses to run as root: as root, prefix the
// initdb and pg_ctl commands with `runuser -u postgres --` and chown the
// directory to postgres):
//
//	PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
//	DIR=$(mktemp -d)
//	$PGBIN/initdb -D $DIR/data -U postgres -A trust --no-sync
//	$PGBIN/pg_ctl -D $DIR/data -l $DIR/log -w -o "-c listen_addresses=127.0.0.1 -p 55432 -k $DIR -c fsync=off" start
//	export SQLSTORE_DSN='postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable'
//	go test -race ./store/sqlstore/...
//	$PGBIN/pg_ctl -D $DIR/data -m immediate stop && rm -rf $DIR
//
// Or run the whole CI, which does the same (as root or not) unless
// SQLSTORE_DSN is already set: bash .ci/run
//
// The benchmarks record inbound messages with 1 and 8 concurrent writers
// and report events per second:
//
//	go test -run '^$' -bench RecordInbound -benchtime 2000x ./store/sqlstore/
package sqlstore
