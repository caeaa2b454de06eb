package sqlstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pagedesk/pagedesk/store"
)

// DefaultSchema is the PostgreSQL schema the store's tables live in when
// Config.Schema is empty.
const DefaultSchema = "pagedesk"

// TokenKeySize is the length of Config.TokenKey: an AES-256 key.
const TokenKeySize = 32

// ErrTokenKey means a stored Page token cannot be read with the configured
// Config.TokenKey: it was sealed with another key, or it is sealed and no
// key is configured.
var ErrTokenKey = errors.New("sqlstore: page token cannot be decrypted with the configured TokenKey")

// Config configures a Store. Exactly one of DSN and Pool must be set.
type Config struct {
	// DSN is a PostgreSQL connection string (URL or key=value form) from
	// which New opens its own pool, closed by ClosePool. Pool settings such
	// as pool_max_conns may be given in it.
	DSN string
	// Pool is an existing pool to use instead of DSN, for example one
	// shared by several stores in different schemas. The store does not
	// close it: its owner does, once the store is no longer used.
	Pool *pgxpool.Pool
	// Schema is the PostgreSQL schema holding the store's tables; empty
	// means DefaultSchema. It is created by Migrate. Several stores (for
	// example tests run in parallel) can share one database by using
	// different schemas. It must be a plain identifier: a letter or
	// underscore, then letters, digits or underscores, at most 63 bytes.
	Schema string
	// TokenKey, when set, must be TokenKeySize (32) bytes: Page tokens are
	// then sealed at rest with AES-256-GCM under this key. Tokens stored in
	// plain text before a key was configured are still read, and sealed on
	// their next write. When it is empty tokens are stored in plain text,
	// and reading a sealed token fails with ErrTokenKey.
	TokenKey []byte
	// Logger receives what the store does (migrations applied); nil
	// discards. Tokens and message texts are never logged.
	Logger *slog.Logger
}

// Store is a store.Store on PostgreSQL. It is safe for concurrent use by
// many goroutines, and any number of processes may share one database:
// every promise of the store interfaces is kept by the database itself
// (unique indexes, row locks, transactions), never by a lock in the
// process.
type Store struct {
	pool     *pgxpool.Pool
	ownPool  bool
	schema   string
	prefix   string // the quoted schema and a dot, put before table names
	aead     cipher.AEAD
	log      *slog.Logger
	lockKey  int64 // the advisory lock key Migrate takes
	replacer *strings.Replacer
}

var _ store.Store = (*Store)(nil)

var schemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// New checks cfg, connects (opening a pool from cfg.DSN, or using
// cfg.Pool) and pings the database. It does not create or change the
// schema: call Migrate for that.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if (cfg.DSN == "") == (cfg.Pool == nil) {
		return nil, errors.New("sqlstore: Config: set exactly one of DSN and Pool")
	}
	schema := cfg.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	if !schemaName.MatchString(schema) {
		return nil, fmt.Errorf("sqlstore: Config.Schema %q is not a plain identifier (a letter or _, then letters, digits or _, at most 63 bytes)", schema)
	}
	s := &Store{
		schema: schema,
		prefix: pgx.Identifier{schema}.Sanitize() + ".",
		log:    cfg.Logger,
	}
	s.replacer = strings.NewReplacer("{s}", s.prefix)
	s.lockKey = advisoryKey(schema)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.TokenKey) > 0 {
		if len(cfg.TokenKey) != TokenKeySize {
			return nil, fmt.Errorf("sqlstore: Config.TokenKey is %d bytes; it must be %d (AES-256)", len(cfg.TokenKey), TokenKeySize)
		}
		block, err := aes.NewCipher(cfg.TokenKey)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: Config.TokenKey: %w", err)
		}
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("sqlstore: Config.TokenKey: %w", err)
		}
	}
	if cfg.Pool != nil {
		s.pool = cfg.Pool
	} else {
		pc, err := pgxpool.ParseConfig(cfg.DSN)
		if err != nil {
			// The parse error may quote the DSN, password included: drop it.
			return nil, errors.New("sqlstore: Config.DSN is not a valid PostgreSQL connection string")
		}
		if s.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
			return nil, s.wrap(ctx, "connect", err)
		}
		s.ownPool = true
	}
	if err := s.pool.Ping(ctx); err != nil {
		if s.ownPool {
			s.pool.Close()
		}
		return nil, s.wrap(ctx, "connect", err)
	}
	return s, nil
}

// ClosePool closes the pool the store opened from Config.DSN and waits for
// its connections to be released; a pool given as Config.Pool is left
// open. The store must not be used afterwards. (It is not named Close:
// that is store.Enquiries' Close, which closes an enquiry.)
func (s *Store) ClosePool() {
	if s.ownPool {
		s.pool.Close()
	}
}

// Schema returns the PostgreSQL schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// q puts the store's schema before the table names of a query written
// with {s}: "FROM {s}channels".
func (s *Store) q(query string) string { return s.replacer.Replace(query) }

// maxAttempts bounds the retries of an operation that failed on a
// deadlock or serialization failure, which PostgreSQL resolves by aborting
// one of the transactions involved.
const maxAttempts = 5

// retry runs fn until it succeeds, fails with an error that retrying
// cannot help, or has been tried maxAttempts times.
func (s *Store) retry(ctx context.Context, fn func() error) error {
	var err error
	for range maxAttempts {
		if err = fn(); err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// inTx runs fn in a READ COMMITTED transaction, committed if fn returns
// nil and rolled back otherwise, retried as retry does.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.retry(ctx, func() error {
		return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
	})
}

// batchTx runs the statements of a batch as one READ COMMITTED
// transaction in a single round trip: BEGIN and the statements are sent
// together, read reads their results, and the transaction is then
// committed if read returns nil and rolled back otherwise (a second round
// trip). It is retried as retry does; queue queues the statements afresh
// for each attempt.
func (s *Store) batchTx(ctx context.Context, queue func(b *pgx.Batch), read func(br pgx.BatchResults) error) error {
	return s.retry(ctx, func() error {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		// A connection left in a transaction (a failed ROLLBACK) is closed
		// by Release rather than returned to the pool.
		defer conn.Release()
		b := &pgx.Batch{}
		b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
		queue(b)
		br := conn.SendBatch(ctx, b)
		_, err = br.Exec()
		if err == nil {
			err = read(br)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			if conn.Conn().PgConn().TxStatus() != 'I' {
				if _, rerr := conn.Exec(ctx, "ROLLBACK"); rerr != nil {
					_ = conn.Conn().Close(ctx)
				}
			}
			return err
		}
		_, err = conn.Exec(ctx, "COMMIT")
		return err
	})
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	return false
}

// The names of the unique indexes, as written in the migrations, that map
// to store errors.
var uniqueErrors = map[string]error{
	"channels_pkey":            store.ErrDuplicate,
	"channels_live_page_key":   store.ErrPageTaken,
	"enquiries_pkey":           store.ErrDuplicate,
	"enquiries_one_open_key":   store.ErrConflict,
	"messages_pkey":            store.ErrDuplicate,
	"messages_inbound_key_key": store.ErrDuplicate,
}

// wrap turns a driver error into the store's: prefixed with the operation,
// unique violations and bad input mapped to the store sentinels, and the
// context's error kept matchable when ctx ended. Store errors pass as they
// are.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	for _, sentinel := range []error{store.ErrNotFound, store.ErrConflict, store.ErrDuplicate, store.ErrPageTaken,
		store.ErrAlreadyTaken, store.ErrClosed, store.ErrLimit, store.ErrInvalid, ErrTokenKey} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, cerr, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			if sentinel, ok := uniqueErrors[pe.ConstraintName]; ok {
				return fmt.Errorf("sqlstore: %s: %w: %w", op, sentinel, err)
			}
		case pe.Code == "22021", pe.Code == "22P05", // invalid byte sequence; untranslatable character (NUL in jsonb)
			pe.Code == "23514", pe.Code == "23502", // check_violation, not_null_violation
			pe.Code == "22001": // string_data_right_truncation
			return fmt.Errorf("sqlstore: %s: %w: %w", op, store.ErrInvalid, err)
		case pe.Code == "42P01" || pe.Code == "3F000": // undefined_table, invalid_schema_name
			return fmt.Errorf("sqlstore: %s: schema %q is not set up (run Migrate): %w", op, s.schema, err)
		}
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}
