package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/sqlstore"
)

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	const unreachable = "postgres://pagedesk:s3cret-pw@127.0.0.1:1/pagedesk?sslmode=disable&connect_timeout=5"
	for _, tc := range []struct {
		name string
		cfg  sqlstore.Config
		want string // in the error
	}{
		{"neither DSN nor Pool", sqlstore.Config{}, "exactly one of DSN and Pool"},
		{"both DSN and Pool", sqlstore.Config{DSN: unreachable, Pool: &pgxpool.Pool{}}, "exactly one of DSN and Pool"},
		{"schema with a dash", sqlstore.Config{DSN: unreachable, Schema: "page-desk"}, `Config.Schema "page-desk"`},
		{"schema starting with a digit", sqlstore.Config{DSN: unreachable, Schema: "1pagedesk"}, "Config.Schema"},
		{"schema of 64 bytes", sqlstore.Config{DSN: unreachable, Schema: strings.Repeat("s", 64)}, "at most 63 bytes"},
		{"key of 16 bytes", sqlstore.Config{DSN: unreachable, TokenKey: make([]byte, 16)}, "Config.TokenKey is 16 bytes; it must be 32"},
		{"key of 33 bytes", sqlstore.Config{DSN: unreachable, TokenKey: make([]byte, 33)}, "Config.TokenKey is 33 bytes; it must be 32"},
		{"DSN that does not parse", sqlstore.Config{DSN: "postgres://pagedesk:s3cret-pw@127.0.0.1:bad-port/x"}, "Config.DSN is not a valid"},
		{"unreachable server", sqlstore.Config{DSN: unreachable}, "sqlstore: connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := sqlstore.New(t.Context(), tc.cfg)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "s3cret-pw", "the password never appears in an error")
		})
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	dsn(t)
	s := open(t, sqlstore.Config{})
	assert.Equal(t, sqlstore.DefaultSchema, s.Schema())

	owned, err := sqlstore.New(t.Context(), sqlstore.Config{DSN: dsn(t), Schema: "custom_schema"})
	require.NoError(t, err)
	assert.Equal(t, "custom_schema", owned.Schema())
	owned.ClosePool()
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	s := open(t, sqlstore.Config{Schema: schema})
	ctx := t.Context()

	_, err := s.Channel(ctx, "ch-1")
	require.Error(t, err, "before Migrate")
	assert.Contains(t, err.Error(), "run Migrate", "the error says what to do")

	require.NoError(t, s.Migrate(ctx))
	c := &store.Channel{ID: "ch-1", ServiceID: "svc", PageID: "page-1", CreatedAt: at(1, 0)}
	require.NoError(t, s.CreateChannel(ctx, c))
	require.NoError(t, s.Migrate(ctx), "a second Migrate")
	assert.Equal(t, sqlstore.SchemaVersion(), migrationsRecorded(t, schema), "each migration recorded once")
	got, err := s.Channel(ctx, "ch-1")
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID, "a second Migrate keeps the data")
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	const procs = 8
	// Each "process" has a pool of its own, so each holds its own
	// connection while it waits for the advisory lock.
	stores := make([]*sqlstore.Store, procs)
	for i := range stores {
		stores[i] = open(t, sqlstore.Config{Schema: schema, Pool: ownPool(t, "", 2)})
	}
	errs := make([]error, procs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, s := range stores {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "process %d", i)
	}
	assert.Equal(t, sqlstore.SchemaVersion(), migrationsRecorded(t, schema), "each migration recorded once")
	require.NoError(t, stores[0].CreateChannel(t.Context(), &store.Channel{ID: "c", ServiceID: "s", PageID: "p"}))
}

func migrationsRecorded(t *testing.T, schema string) int {
	t.Helper()
	var n int
	err := sharedPool.QueryRow(t.Context(),
		"SELECT count(*) FROM "+pgx.Identifier{schema, "sqlstore_migrations"}.Sanitize()).Scan(&n)
	require.NoError(t, err)
	return n
}

// rawToken reads a channel's page_token column as stored.
func rawToken(t *testing.T, schema, channelID string) []byte {
	t.Helper()
	var raw []byte
	err := sharedPool.QueryRow(t.Context(), "SELECT page_token FROM "+pgx.Identifier{schema, "channels"}.Sanitize()+
		" WHERE id = $1", channelID).Scan(&raw)
	require.NoError(t, err)
	return raw
}

func TestTokenSealedAtRest(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	ctx := t.Context()
	sealed := newStore(t, sqlstore.Config{Schema: schema, TokenKey: testKey(1)})
	const token = "EAAB-secret-page-token-0123456789"

	a := &store.Channel{ID: "ch-a", ServiceID: "svc", PageID: "page-a", PageToken: token}
	require.NoError(t, sealed.CreateChannel(ctx, a))
	assert.Equal(t, token, a.PageToken, "the caller gets the token back")
	raw := rawToken(t, schema, "ch-a")
	assert.NotContains(t, string(raw), token, "the column does not hold the token")
	assert.NotContains(t, string(raw), "EAAB", "nor any part of it")
	got, err := sealed.Channel(ctx, "ch-a")
	require.NoError(t, err)
	assert.Equal(t, token, got.PageToken, "read back with the key")

	b := &store.Channel{ID: "ch-b", ServiceID: "svc", PageID: "page-b", PageToken: token}
	require.NoError(t, sealed.CreateChannel(ctx, b))
	assert.NotEqual(t, raw, rawToken(t, schema, "ch-b"), "a fresh nonce each time")

	for _, tc := range []struct {
		name string
		key  []byte
		want string
	}{
		{"no key", nil, "Config.TokenKey is not set"},
		{"another key", testKey(2), "wrong key"},
	} {
		other := open(t, sqlstore.Config{Schema: schema, TokenKey: tc.key})
		_, err := other.Channel(ctx, "ch-a")
		require.ErrorIs(t, err, sqlstore.ErrTokenKey, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
		assert.Contains(t, err.Error(), "ch-a", "%s: the error names the channel", tc.name)
		assert.NotContains(t, err.Error(), token, tc.name)
		_, err = other.ListChannels(ctx, "svc", store.ListOptions{})
		assert.ErrorIs(t, err, sqlstore.ErrTokenKey, "%s: listing", tc.name)
	}

	// A sealed token is bound to its channel: moved to another row, it
	// does not open.
	_, err = sharedPool.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "channels"}.Sanitize()+
		" SET page_token = $1 WHERE id = 'ch-b'", raw)
	require.NoError(t, err)
	_, err = sealed.Channel(ctx, "ch-b")
	assert.ErrorIs(t, err, sqlstore.ErrTokenKey, "a token moved to another channel")

	// Deleting forgets the token.
	_, err = sealed.SetChannelStatus(ctx, "ch-a", store.ChannelDeleted, "", at(2, 0))
	require.NoError(t, err)
	assert.Empty(t, rawToken(t, schema, "ch-a"))
}

func TestTokenKeyAddedLater(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	ctx := t.Context()
	plain := newStore(t, sqlstore.Config{Schema: schema})
	const token = "EAAB-plain-token"
	c := &store.Channel{ID: "ch", ServiceID: "svc", PageID: "page", PageToken: token}
	require.NoError(t, plain.CreateChannel(ctx, c))
	assert.Equal(t, token, string(rawToken(t, schema, "ch")), "without a key the token is stored as it is")

	sealed := open(t, sqlstore.Config{Schema: schema, TokenKey: testKey(7)})
	got, err := sealed.Channel(ctx, "ch")
	require.NoError(t, err)
	assert.Equal(t, token, got.PageToken, "a plain token is read by a store with a key")
	got.Name = "edited"
	require.NoError(t, sealed.UpdateChannel(ctx, got))
	assert.NotContains(t, string(rawToken(t, schema, "ch")), token, "and sealed on its next write")
	again, err := sealed.Channel(ctx, "ch")
	require.NoError(t, err)
	assert.Equal(t, token, again.PageToken)
}

func TestErrorsWrapTheDriver(t *testing.T) {
	t.Parallel()
	s := newStore(t, sqlstore.Config{})
	ctx := t.Context()
	c := &store.Channel{ID: "ch", ServiceID: "svc", PageID: "page"}
	require.NoError(t, s.CreateChannel(ctx, c))

	for _, tc := range []struct {
		name string
		c    *store.Channel
		want error
	}{
		{"same id", &store.Channel{ID: "ch", ServiceID: "svc", PageID: "page-2"}, store.ErrDuplicate},
		{"same page", &store.Channel{ID: "ch-2", ServiceID: "svc-2", PageID: "page"}, store.ErrPageTaken},
		{"NUL in a name", &store.Channel{ID: "ch-3", ServiceID: "svc", PageID: "page-3", Name: "a\x00b"}, store.ErrInvalid},
		{"invalid UTF-8", &store.Channel{ID: "ch-4", ServiceID: "svc", PageID: "page-4", Name: "a\xffb"}, store.ErrInvalid},
	} {
		err := s.CreateChannel(ctx, tc.c)
		require.ErrorIs(t, err, tc.want, tc.name)
		assert.True(t, strings.HasPrefix(err.Error(), "sqlstore: "), "%s: %v", tc.name, err)
		var pe *pgconn.PgError
		assert.ErrorAs(t, err, &pe, "%s: the driver's error is wrapped, still there for those who look", tc.name)
	}
}

func TestClosedPool(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	s, err := sqlstore.New(t.Context(), sqlstore.Config{DSN: dsn(t), Schema: schema})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	s.ClosePool()
	ctx := t.Context()
	_, err = s.Channel(ctx, "ch")
	assert.Error(t, err)
	_, err = s.RecordInbound(ctx, store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: "p", EnquiryID: "e", Open: true,
		Message: store.Message{ID: "m", Key: "k"}})
	assert.Error(t, err)
	_, err = s.Take(ctx, "e", "staff", 1, at(1, 0))
	assert.Error(t, err)
	assert.Error(t, s.Migrate(ctx))
}

// blockedInbound starts a RecordInbound that opens an enquiry and leaves
// it waiting, inside its transaction, on a row lock held by another
// transaction: its visitor is already written (not committed) and it
// waits to insert its enquiry. It returns the store, the inbound, the pid
// of the waiting backend, the channel its result arrives on, and a
// function that rolls the blocking transaction back.
func blockedInbound(t *testing.T, ctx context.Context) (*sqlstore.Store, store.Inbound, uint32, <-chan error, func()) {
	t.Helper()
	schema := newSchema(t)
	app := "sqlstore_test_" + schema
	s := newStore(t, sqlstore.Config{Schema: schema, Pool: ownPool(t, app, 2)})
	require.NoError(t, s.CreateChannel(t.Context(), &store.Channel{ID: "ch", ServiceID: "svc", PageID: "page"}))

	blocker, err := sharedPool.Begin(t.Context())
	require.NoError(t, err)
	rollback := func() { _ = blocker.Rollback(context.WithoutCancel(t.Context())) }
	t.Cleanup(rollback)
	_, err = blocker.Exec(t.Context(), "INSERT INTO "+pgx.Identifier{schema, "enquiries"}.Sanitize()+
		" (id, service_id, channel_id, psid, status, opened_at) VALUES ('blocker', 'svc', 'ch', 'psid-1', 'queued', now())")
	require.NoError(t, err)

	in := store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: "psid-1", EnquiryID: "enq-1", Open: true, Window: true,
		Message: store.Message{ID: "msg-1", Key: "key-1", MID: "mid-1", Text: "hello", Direction: store.DirectionIn,
			Author: store.AuthorVisitor, Kind: store.KindMessage, State: store.StateReceived, CreatedAt: at(9, 0)}}
	done := make(chan error, 1)
	go func() {
		_, err := s.RecordInbound(ctx, in)
		done <- err
	}()

	// Wait until the store's backend is waiting on the blocker's lock.
	for {
		var pid uint32
		err := sharedPool.QueryRow(t.Context(), `SELECT pid FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&pid)
		if err == nil {
			return s, in, pid, done, rollback
		}
		require.ErrorIs(t, err, pgx.ErrNoRows)
		select {
		case err := <-done:
			t.Fatalf("RecordInbound returned before it blocked: %v", err)
		default:
		}
	}
}

// assertNothingRecorded checks that no trace of in was committed.
func assertNothingRecorded(t *testing.T, s *sqlstore.Store, in store.Inbound) {
	t.Helper()
	ctx := t.Context()
	_, err := s.Visitor(ctx, in.ChannelID, in.PSID)
	assert.ErrorIs(t, err, store.ErrNotFound, "no visitor")
	_, err = s.Enquiry(ctx, in.EnquiryID)
	assert.ErrorIs(t, err, store.ErrNotFound, "no enquiry")
	_, err = s.MessageByMID(ctx, in.ChannelID, in.Message.MID)
	assert.ErrorIs(t, err, store.ErrNotFound, "no message")
}

func TestPostgresGoesAwayMidTransaction(t *testing.T) {
	t.Parallel()
	s, in, pid, done, rollback := blockedInbound(t, t.Context())

	var terminated bool
	require.NoError(t, sharedPool.QueryRow(t.Context(), "SELECT pg_terminate_backend($1)", pid).Scan(&terminated))
	require.True(t, terminated)
	err := <-done
	require.Error(t, err, "the connection died in the middle of RecordInbound")
	assert.True(t, strings.HasPrefix(err.Error(), "sqlstore: "), "a wrapped error: %v", err)
	for _, sentinel := range []error{store.ErrNotFound, store.ErrDuplicate, store.ErrConflict, store.ErrInvalid} {
		assert.NotErrorIs(t, err, sentinel, "a lost connection is not a store outcome")
	}

	rollback()
	assertNothingRecorded(t, s, in)

	// The store recovers on a new connection, and the retried item is
	// recorded whole.
	r, err := s.RecordInbound(t.Context(), in)
	require.NoError(t, err)
	assert.True(t, r.NewEnquiry)
	assert.True(t, r.NewVisitor)
	assert.False(t, r.Duplicate)
}

func TestContextCancelledMidTransaction(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	s, in, _, done, rollback := blockedInbound(t, ctx)
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	rollback()
	assertNothingRecorded(t, s, in)
}

// TestTwoProcesses races two stores, each with a pool of its own, on one
// schema: the promises hold across processes because the database keeps
// them.
func TestTwoProcesses(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	procs := []*sqlstore.Store{
		newStore(t, sqlstore.Config{Schema: schema, Pool: ownPool(t, "", 8)}),
		open(t, sqlstore.Config{Schema: schema, Pool: ownPool(t, "", 8)}),
	}
	ctx := t.Context()
	const racers = 32
	require.NoError(t, procs[0].CreateChannel(ctx, &store.Channel{ID: "ch", ServiceID: "svc", PageID: "page"}))

	race := func(fn func(i int, s *sqlstore.Store)) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				fn(i, procs[i%len(procs)])
			})
		}
		close(start)
		wg.Wait()
	}

	// A visitor's first messages, delivered to both processes at once.
	results := make([]store.InboundResult, racers)
	errs := make([]error, racers)
	race(func(i int, s *sqlstore.Store) {
		results[i], errs[i] = s.RecordInbound(ctx, store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: "psid",
			EnquiryID: fmt.Sprintf("enq-%d", i), Open: true, Window: true,
			Message: store.Message{ID: fmt.Sprintf("msg-%d", i), Key: fmt.Sprintf("key-%d", i), CreatedAt: at(10, i)}})
	})
	opened := 0
	for i := range racers {
		require.NoError(t, errs[i])
		if results[i].NewEnquiry {
			opened++
		}
		assert.Equal(t, results[0].Enquiry.ID, results[i].Enquiry.ID)
	}
	assert.Equal(t, 1, opened, "one enquiry opened")

	// One event delivered to both processes many times.
	race(func(i int, s *sqlstore.Store) {
		results[i], errs[i] = s.RecordInbound(ctx, store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: "psid-2",
			EnquiryID: fmt.Sprintf("enq-2-%d", i), Open: true, Window: true,
			Message: store.Message{ID: fmt.Sprintf("msg-2-%d", i), Key: "the-key", CreatedAt: at(11, 0)}})
	})
	recorded := 0
	for i := range racers {
		require.NoError(t, errs[i])
		if !results[i].Duplicate {
			recorded++
		}
	}
	assert.Equal(t, 1, recorded, "the event recorded once")

	// RULE-4 across processes: takes of many enquiries with a limit.
	const limit = 5
	enqs := make([]string, racers)
	for i := range enqs {
		r, err := procs[0].RecordInbound(ctx, store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: fmt.Sprintf("v-%d", i),
			EnquiryID: fmt.Sprintf("limit-enq-%d", i), Open: true,
			Message: store.Message{ID: fmt.Sprintf("limit-msg-%d", i), Key: fmt.Sprintf("limit-key-%d", i)}})
		require.NoError(t, err)
		enqs[i] = r.Enquiry.ID
	}
	race(func(i int, s *sqlstore.Store) {
		_, errs[i] = s.Take(ctx, enqs[i], fmt.Sprintf("staff-%d", i), limit, at(12, 0))
	})
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		assert.ErrorIs(t, err, store.ErrLimit, "racer %d", i)
	}
	assert.Equal(t, limit, won)
	n, err := procs[1].CountTaken(ctx, "svc")
	require.NoError(t, err)
	assert.Equal(t, limit, n)

	// Round-robin turns handed out by both processes.
	turns := make([]int64, racers)
	race(func(i int, s *sqlstore.Store) { turns[i], errs[i] = s.NextTurn(ctx, "ch") })
	seen := map[int64]bool{}
	for i := range racers {
		require.NoError(t, errs[i])
		assert.False(t, seen[turns[i]], "turn %d handed out twice", turns[i])
		seen[turns[i]] = true
	}
	assert.Len(t, seen, racers)
}

func TestDriverErrorIsNotASentinel(t *testing.T) {
	t.Parallel()
	// A store whose schema was never migrated: every call fails with a
	// wrapped driver error, never a store outcome.
	s := open(t, sqlstore.Config{Schema: newSchema(t)})
	_, err := s.RecordInbound(t.Context(), store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: "p",
		EnquiryID: "e", Open: true, Message: store.Message{ID: "m", Key: "k"}})
	require.Error(t, err)
	assert.False(t, errors.Is(err, store.ErrNotFound))
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "42P01", pe.Code)
}

// TestZeroTimes checks that zero times are stored as given and come back
// zero, whether the column is nullable or not, as in memstore.
func TestZeroTimes(t *testing.T) {
	t.Parallel()
	s := newStore(t, sqlstore.Config{})
	ctx := t.Context()
	c := &store.Channel{ID: "ch", ServiceID: "svc", PageID: "page"}
	require.NoError(t, s.CreateChannel(ctx, c))
	assert.True(t, c.CreatedAt.IsZero())
	assert.True(t, c.UpdatedAt.IsZero())
	assert.Equal(t, time.Time{}, c.CreatedAt, "the zero time itself, in no location")

	r, err := s.RecordInbound(ctx, store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: "p", EnquiryID: "e", Open: true,
		Window: true, Message: store.Message{ID: "m", Key: "k"}})
	require.NoError(t, err)
	assert.True(t, r.Enquiry.OpenedAt.IsZero())
	assert.True(t, r.Enquiry.LastInboundAt.IsZero())
	v, err := s.Visitor(ctx, "ch", "p")
	require.NoError(t, err)
	assert.True(t, v.FirstSeenAt.IsZero())
	e, err := s.Take(ctx, "e", "staff", 0, time.Time{})
	require.NoError(t, err)
	assert.True(t, e.TakenAt.IsZero())
	e, err = s.Close(ctx, "e", time.Time{})
	require.NoError(t, err)
	assert.True(t, e.ClosedAt.IsZero())
	got, err := s.SetChannelStatus(ctx, "ch", store.ChannelDisconnected, "token expired", time.Time{})
	require.NoError(t, err)
	assert.True(t, got.DisconnectedAt.IsZero())

	// A zero-time message is at or before a zero watermark.
	out := &store.Message{ID: "out", EnquiryID: "e", Direction: store.DirectionOut, State: store.StatePending}
	require.NoError(t, s.AppendOutbound(ctx, out))
	assert.True(t, out.CreatedAt.IsZero())
	require.NoError(t, s.SetState(ctx, "out", store.StateSent, "mid-out", ""))
	n, err := s.MarkWatermark(ctx, "ch", "p", time.Time{}, store.StateDelivered)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Listing walks past zero times too.
	p, err := s.ListChannels(ctx, "svc", store.ListOptions{Limit: 1})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	assert.Empty(t, p.Next)
}

// TestOutboundKeyNotDeduplicated: only items recorded by RecordInbound are
// deduplicated by key.
func TestOutboundKeyNotDeduplicated(t *testing.T) {
	t.Parallel()
	s := newStore(t, sqlstore.Config{})
	ctx := t.Context()
	require.NoError(t, s.CreateChannel(ctx, &store.Channel{ID: "ch", ServiceID: "svc", PageID: "page"}))
	r, err := s.RecordInbound(ctx, store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: "p", EnquiryID: "e", Open: true,
		Message: store.Message{ID: "in", Key: "k"}})
	require.NoError(t, err)
	for _, id := range []string{"out-1", "out-2"} {
		require.NoError(t, s.AppendOutbound(ctx, &store.Message{ID: id, EnquiryID: "e", Key: "k", Direction: store.DirectionOut}))
	}
	again, err := s.RecordInbound(ctx, store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: "p", EnquiryID: "e2", Open: true,
		Message: store.Message{ID: "in-2", Key: "k"}})
	require.NoError(t, err)
	assert.True(t, again.Duplicate)
	assert.Equal(t, r.Message.ID, again.Message.ID, "the inbound item, not an outbound one with the same key")
}

// TestVersionOnlyOnChange: an item that leaves the enquiry as it was (an
// earlier time, or Window unset) does not move its Version, as in
// memstore; one that moves a time does.
func TestVersionOnlyOnChange(t *testing.T) {
	t.Parallel()
	s := newStore(t, sqlstore.Config{})
	ctx := t.Context()
	require.NoError(t, s.CreateChannel(ctx, &store.Channel{ID: "ch", ServiceID: "svc", PageID: "page"}))
	n := 0
	record := func(hour int, open, window bool) int64 {
		t.Helper()
		n++
		r, err := s.RecordInbound(ctx, store.Inbound{ServiceID: "svc", ChannelID: "ch", PSID: "p", EnquiryID: "e",
			Open: open, Window: window, Message: store.Message{ID: fmt.Sprint("m", n), Key: fmt.Sprint("k", n), CreatedAt: at(hour, 0)}})
		require.NoError(t, err)
		return r.Enquiry.Version
	}
	assert.Equal(t, int64(1), record(10, true, true), "opened")
	assert.Equal(t, int64(1), record(9, true, true), "an earlier item")
	assert.Equal(t, int64(1), record(11, true, false), "Window unset")
	assert.Equal(t, int64(1), record(9, false, true), "an earlier item joining without Open")
	assert.Equal(t, int64(2), record(11, false, true), "a later item moves the window")
	assert.Equal(t, int64(3), record(12, true, true), "a later item moves the window")

	version := func() int64 {
		e, err := s.Enquiry(ctx, "e")
		require.NoError(t, err)
		return e.Version
	}
	require.NoError(t, s.AppendOutbound(ctx, &store.Message{ID: "o1", EnquiryID: "e", CreatedAt: at(13, 0)}))
	assert.Equal(t, int64(4), version(), "LastOutboundAt moved")
	require.NoError(t, s.AppendOutbound(ctx, &store.Message{ID: "o2", EnquiryID: "e", CreatedAt: at(12, 0)}))
	assert.Equal(t, int64(4), version(), "an earlier outbound message")
}

// TestIDsCompareBytewise lists channels that share a creation time in a
// database whose locale sorts text otherwise (ICU en-US: "_" < "a" < "B"),
// and expects them by id byte by byte, as every store orders them.
func TestIDsCompareBytewise(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := newSchema(t) // a fresh name; the schema itself is not used
	_, err := sharedPool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()+
		" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
	if err != nil {
		t.Skipf("this PostgreSQL cannot create a database with an ICU locale: %v", err)
	}
	t.Cleanup(func() {
		_, err := sharedPool.Exec(context.WithoutCancel(ctx), "DROP DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
		assert.NoError(t, err)
	})
	cfg, err := pgxpool.ParseConfig(dsn(t))
	require.NoError(t, err)
	cfg.ConnConfig.Database = db
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close) // runs before the DROP DATABASE registered above
	s := newStore(t, sqlstore.Config{Pool: pool, Schema: "pagedesk"})

	ids := []string{"a", "B", "_", "Z", "b"}
	var localeOrder []string
	require.NoError(t, pool.QueryRow(ctx, "SELECT array_agg(x ORDER BY x) FROM unnest($1::text[]) AS x", ids).Scan(&localeOrder))
	want := []string{"B", "Z", "_", "a", "b"}
	require.NotEqual(t, want, localeOrder, "the database's locale orders text otherwise, or the test proves nothing")

	for _, id := range ids {
		require.NoError(t, s.CreateChannel(ctx, &store.Channel{ID: id, ServiceID: "svc", PageID: "page-" + id, CreatedAt: at(8, 0)}))
	}
	var got []string
	for c, err := range store.All(ctx, func(ctx context.Context, o store.ListOptions) (store.Page[store.Channel], error) {
		o.Limit = 2
		return s.ListChannels(ctx, "svc", o)
	}) {
		require.NoError(t, err)
		got = append(got, c.ID)
	}
	assert.Equal(t, want, got)
}
