package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store/sqlstore"
)

// The tests run against the PostgreSQL named by SQLSTORE_DSN, each in a
// schema of its own created for it and dropped after it, so that they can
// run in parallel on one database.
const skipMessage = "SQLSTORE_DSN not set: skipping PostgreSQL tests; see README"

// sharedPool is one pool for every test of the package (opened in
// TestMain), so that parallel tests do not each open their own.
var sharedPool *pgxpool.Pool

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if dsn := os.Getenv("SQLSTORE_DSN"); dsn != "" {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			fmt.Fprintln(os.Stderr, "SQLSTORE_DSN is not a valid PostgreSQL connection string")
			return 1
		}
		cfg.MaxConns = 16
		if sharedPool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
			fmt.Fprintln(os.Stderr, "SQLSTORE_DSN:", err)
			return 1
		}
		defer sharedPool.Close()
	}
	return m.Run()
}

// dsn returns SQLSTORE_DSN, skipping the test when it is not set.
func dsn(t testing.TB) string {
	t.Helper()
	d := os.Getenv("SQLSTORE_DSN")
	if d == "" {
		t.Skip(skipMessage)
	}
	return d
}

// newSchema returns the name of a fresh schema, dropped when the test ends.
// The schema itself is created by Migrate.
func newSchema(t testing.TB) string {
	t.Helper()
	dsn(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "sqlstore_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		_, err := sharedPool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// open returns a store on schema through the shared pool, not migrated.
func open(t testing.TB, cfg sqlstore.Config) *sqlstore.Store {
	t.Helper()
	if cfg.Pool == nil && cfg.DSN == "" {
		cfg.Pool = sharedPool
	}
	s, err := sqlstore.New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(s.ClosePool)
	return s
}

// newStore returns a migrated store in a fresh schema.
func newStore(t testing.TB, cfg sqlstore.Config) *sqlstore.Store {
	t.Helper()
	if cfg.Schema == "" {
		cfg.Schema = newSchema(t)
	}
	s := open(t, cfg)
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

// ownPool opens a pool of its own on SQLSTORE_DSN, standing for another
// process sharing the database; appName tags its connections.
func ownPool(t testing.TB, appName string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn(t))
	require.NoError(t, err)
	cfg.MaxConns = maxConns
	if appName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = appName
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// at is a time on a fixed day, at PostgreSQL's precision.
func at(hour, minute int) time.Time {
	return time.Date(2026, 3, 14, hour, minute, 0, 0, time.UTC)
}
