package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded migration: migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. The file
// names are checked by TestMigrationsWellFormed, so an error here is a
// broken build, reported rather than panicked on.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok {
			continue
		}
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration file %s is not named NNNN_name.sql", e.Name())
		}
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("sqlstore: migration %d (%s) is out of sequence; expected version %d", m.version, m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this package's migrations bring a
// database to.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// advisoryKey is the key of the advisory lock Migrate holds, one per
// schema, so migrations of different schemas do not wait for each other.
func advisoryKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/pagedesk/pagedesk/store/sqlstore:" + schema))
	return int64(h.Sum64())
}

// Migrate creates the store's schema and tables, or brings them up to date,
// applying in order the embedded migrations the database has not recorded
// yet, in one transaction with their rows in the schema's
// sqlstore_migrations table: all of them are applied, or none. Migrate is
// idempotent, and safe when several processes call it at once: the
// transaction first takes a PostgreSQL advisory lock (one per schema,
// released when it ends), so the others wait, then find nothing left to
// do. Being transaction-scoped, the lock also works through a pooler such
// as PgBouncer in transaction mode. A database migrated by a newer version
// of this package is left as it is.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var applied []migration
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		applied = nil
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey); err != nil {
			return err
		}
		// Statements after the lock see what an earlier holder committed.
		setup := s.q(`CREATE SCHEMA IF NOT EXISTS ` + strings.TrimSuffix(s.prefix, ".") + `;
CREATE TABLE IF NOT EXISTS {s}sqlstore_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`)
		if _, err := tx.Exec(ctx, setup); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, s.q(`SELECT version FROM {s}sqlstore_migrations`))
		if err != nil {
			return err
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		done := make(map[int]bool, len(versions))
		for _, v := range versions {
			done[int(v)] = true
		}
		// The migrations name no schema: they run with search_path set to
		// the store's, for this transaction only.
		if _, err := tx.Exec(ctx, `SELECT set_config('search_path', $1, true)`, pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return err
		}
		for _, m := range ms {
			if done[m.version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("apply %04d_%s: %w", m.version, m.name, err)
			}
			_, err := tx.Exec(ctx, s.q(`INSERT INTO {s}sqlstore_migrations (version, name) VALUES ($1, $2)`), m.version, m.name)
			if err != nil {
				return err
			}
			applied = append(applied, m)
		}
		return nil
	})
	if err != nil {
		return s.wrap(ctx, "migrate schema "+s.schema, err)
	}
	for _, m := range applied {
		s.log.LogAttrs(ctx, slog.LevelInfo, "sqlstore: migration applied",
			slog.String("schema", s.schema), slog.Int("version", m.version), slog.String("name", m.name))
	}
	return nil
}
