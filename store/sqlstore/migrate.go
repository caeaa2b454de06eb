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
// applying in order the embedded migrations the database has not
// recorded yet. Each migration runs in its own transaction with its row in
// the schema's sqlstore_migrations table, so it is applied entirely or
// not at all. Migrate is idempotent, and safe when several processes call
// it at once: they queue on a PostgreSQL advisory lock and the later ones
// find nothing left to do. A database migrated by a newer version of this
// package is left as it is.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.wrap(ctx, "migrate", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", s.lockKey); err != nil {
		return s.wrap(ctx, "migrate: lock", err)
	}
	defer func() {
		// A session lock outlives a failed statement; release it even if
		// ctx has ended. If the connection is broken the lock went with it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", s.lockKey); err != nil {
			conn.Conn().PgConn().Close(context.WithoutCancel(ctx))
		}
	}()

	setup := s.q(`CREATE SCHEMA IF NOT EXISTS ` + strings.TrimSuffix(s.prefix, ".") + `;
CREATE TABLE IF NOT EXISTS {s}sqlstore_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`)
	if _, err := conn.Exec(ctx, setup); err != nil {
		return s.wrap(ctx, "migrate: create schema", err)
	}
	rows, err := conn.Query(ctx, s.q(`SELECT version FROM {s}sqlstore_migrations`))
	if err != nil {
		return s.wrap(ctx, "migrate: read versions", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return s.wrap(ctx, "migrate: read versions", err)
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		done[int(v)] = true
	}
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('search_path', $1, true)`, pgx.Identifier{s.schema}.Sanitize()); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, s.q(`INSERT INTO {s}sqlstore_migrations (version, name) VALUES ($1, $2)`), m.version, m.name)
			return err
		})
		if err != nil {
			return s.wrap(ctx, fmt.Sprintf("migrate: apply %04d_%s", m.version, m.name), err)
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "sqlstore: migration applied",
			slog.String("schema", s.schema), slog.Int("version", m.version), slog.String("name", m.name))
	}
	return nil
}
