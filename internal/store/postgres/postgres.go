// Package postgres implements kefu.Store on PostgreSQL with pgx.
//
// Several Kefu nodes may share one database, so nothing here relies on
// in-process locks for correctness: messages are appended under their
// conversation's row lock (which orders concurrent writers on any node),
// their seq comes from the conversation row, and idempotency from a
// lookup under that lock, backed by a unique index. In-process group
// commit only makes the common case cheap.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/groupcommit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a Store. The zero value is usable.
type Options struct {
	Logger *slog.Logger // nil: discard
	// Observe, if set, is called after every group commit of appends with
	// the batch size and how long the commit took.
	Observe func(batchSize int, d time.Duration)
	// Shards is the number of append writers (default 2); each has a
	// connection of its own. Conversations are spread over them. Fewer
	// writers make bigger batches, and the database's CPU per message
	// falls steeply with batch size (a batch pays a round trip, two
	// statement start-ups and a WAL flush however many messages it holds);
	// two keep a commit in flight while the next batch forms.
	Shards int
	// MaxBatch caps the messages committed in one transaction (default 500).
	MaxBatch int
	// WriteTimeout bounds one group commit, retries included (default 30s).
	WriteTimeout time.Duration
	// MaxConns caps the pool of everything but appends; 0 keeps pgxpool's
	// default (or the URL's pool_max_conns). The append writers' Shards
	// connections come on top.
	MaxConns int32
}

// Store is a kefu.Store on PostgreSQL.
type Store struct {
	pool    *pgxpool.Pool
	writers *pgxpool.Pool // the append writers' connections; see openWriters
	log     *slog.Logger
	appends *groupcommit.Batcher[*kefu.Message, *kefu.AppendResult]

	writeTimeout time.Duration

	closeOnce sync.Once
}

var (
	_ kefu.Store         = (*Store)(nil)
	_ kefu.AsyncAppender = (*Store)(nil)
)

// Open connects to url, applies pending migrations and starts the append
// writers.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Shards < 1 {
		opts.Shards = 2
	}
	if opts.MaxBatch < 1 {
		opts.MaxBatch = 500
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	// AppendMessage promises the message is durable when it returns. "on"
	// is the server default, but a role or database default could have
	// turned it off; set it per connection so the promise holds anyway.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	// Every timestamptz we hand out is UTC, like the SQLite store's.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// Plan every query for its own arguments and the tables as they are
	// now. pgx prepares statements, and the server soon switches a
	// prepared statement to a generic plan it then keeps for the life of
	// the connection; made while a new install's tables were nearly empty,
	// those plans walked the wrong index (every conversation of the
	// workspace to find one by id, every message of the workspace to
	// resume one conversation) and got slower with every row. Planning
	// costs tens of microseconds; these are not the message hot path,
	// which has its own writers (see openWriters).
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	writers, err := openWriters(ctx, cfg, opts.Shards)
	if err != nil {
		return nil, err
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		writers.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, pool, opts.Logger); err != nil {
		pool.Close()
		writers.Close()
		return nil, err
	}
	s := &Store{pool: pool, writers: writers, log: opts.Logger, writeTimeout: opts.WriteTimeout}
	s.appends = groupcommit.New(groupcommit.Options{
		Shards:   opts.Shards,
		MaxBatch: opts.MaxBatch,
		Observe:  opts.Observe,
	}, s.flushAppends)
	return s, nil
}

// openWriters opens the append writers' pool: one connection per shard,
// so appends never wait for a reader's connection nor readers for theirs.
// Its connections use generic plans only. The append statements are built
// to be cheap whatever the plan's row estimates (see lockSQL), while
// planning appendSQL afresh costs more than running a small batch; left to
// itself the server keeps planning it afresh for every batch smaller than
// the generic plan's guess of ten rows.
func openWriters(ctx context.Context, cfg *pgxpool.Config, shards int) (*pgxpool.Pool, error) {
	wcfg := cfg.Copy()
	wcfg.MaxConns = int32(shards)
	wcfg.MinConns = 0
	wcfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	writers, err := pgxpool.NewWithConfig(ctx, wcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return writers, nil
}

// Close stops the append writers after they commit what is queued, then
// closes the pool. Calling it again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.appends.Close()
		s.writers.Close()
		s.pool.Close()
	})
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// migrateLockKey names the advisory lock that serialises migrations when
// several nodes start at once. Any constant works; this one spells "kefu".
const migrateLockKey = 0x6b656675

// migrate applies every embedded migration not yet recorded in
// schema_migrations, each in its own transaction under the advisory lock,
// so two nodes starting together apply each file exactly once.
func migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("postgres: read %s: %w", name, err)
		}
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		applied, err := applyMigration(ctx, pool, version, string(body))
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", version, err)
		}
		if applied {
			log.Info("applied migration", "version", version)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, pool *pgxpool.Pool, version, body string) (applied bool, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLockKey)); err != nil {
			return err
		}
		// Created under the lock: concurrent CREATE TABLE IF NOT EXISTS
		// can still collide on the catalog.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    TEXT PRIMARY KEY,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		if _, err := tx.Exec(ctx, body); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", version); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}

// PostgreSQL error codes we classify.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	pgNotNullViolation    = "23502"
	pgUntranslatable      = "22P05" // e.g. a character the database encoding lacks
	pgInvalidEncoding     = "22021" // e.g. a NUL byte, which text cannot hold
	pgSerializationFail   = "40001"
	pgDeadlockDetected    = "40P01"
)

// wrap turns a database error into what callers may branch on: a missing
// row is ENotFound, a unique violation EConflict, a broken reference
// ENotFound (the referenced record does not exist for this caller), a
// violated check EInvalid. Anything else keeps its cause and becomes
// "internal" at the edge.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return kefu.Errorf(kefu.ENotFound, "%s not found", what)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			return kefu.Errorf(kefu.EConflict, "%s already exists", what)
		case pgForeignKeyViolation:
			return kefu.Errorf(kefu.ENotFound, "%s refers to a record that does not exist", what)
		case pgCheckViolation, pgNotNullViolation, pgUntranslatable, pgInvalidEncoding:
			return kefu.Errorf(kefu.EInvalid, "invalid %s", what)
		}
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// retryable reports whether a transaction failed only because of a
// concurrent one and may succeed if simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case pgUniqueViolation, pgSerializationFail, pgDeadlockDetected:
		return true
	}
	return false
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// nullID stores a zero id as NULL: 0 means "none" in the domain.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// nullText stores an empty string as NULL, so partial unique indexes only
// see real values.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonArg encodes v for a jsonb column. It is done here rather than by pgx
// so that nil slices and maps are stored as [] and {}, never null.
func jsonArg(v any, empty string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return []byte(empty), nil
	}
	return b, nil
}

func stringsJSON(v []string) ([]byte, error) { return jsonArg(v, "[]") }

// decodeStrings decodes a jsonb array, always into a non-nil slice.
func decodeStrings(b []byte) ([]string, error) {
	out := []string{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// orNow returns t, or the current time if t is zero: callers may leave
// creation times to the store.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return kefu.Now()
	}
	return t.UTC().Truncate(time.Microsecond)
}
