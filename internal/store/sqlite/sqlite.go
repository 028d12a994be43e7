// Package sqlite is Kefu's embedded store: a single SQLite file in WAL mode
// with synchronous=FULL, so a committed message survives power loss. All
// writes go through one connection; message appends are group-committed so
// the fsync is shared by every message that arrives while one is in flight.
// Reads use a separate pool of read-only connections, which WAL lets run
// alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/groupcommit"
)

var (
	_ kefu.Store         = (*Store)(nil)
	_ kefu.AsyncAppender = (*Store)(nil)
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a Store.
type Options struct {
	Log *slog.Logger
	// Synchronous is the SQLite synchronous mode: "FULL" (default: durable
	// against power loss) or "NORMAL" (an explicit opt-in that may lose the
	// last transactions on power loss, though not on a process crash).
	Synchronous string
	// Observe is called after every group commit with its size and duration.
	Observe func(n int, d time.Duration)
	// MaxBatch bounds messages per group commit (default 1000).
	MaxBatch int
	// Readers is the size of the read pool (default 2×GOMAXPROCS, at least 4).
	Readers int
}

const (
	walPages = 3_000
	walLimit = 64 << 20
)

// Store is a kefu.Store over one SQLite database file.
type Store struct {
	w       *sql.DB // exactly one connection: SQLite has one writer anyway
	r       *sql.DB // read-only pool
	log     *slog.Logger
	batcher *groupcommit.Batcher[*kefu.Message, *kefu.AppendResult]
	app     *appender
	rc, wc  *stmtCache // prepared statements on the read pool and the writer

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite: synchronous must be FULL or NORMAL, not %q", opts.Synchronous)
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create data folder: %w", err)
		}
	}
	common := []string{"busy_timeout(10000)", "foreign_keys(ON)", "journal_mode(WAL)"}
	// The writer checkpoints the WAL itself once it holds walPages pages,
	// inside the commit that crossed the mark, and every message committed
	// behind that commit waits for it. SQLite's default (1,000) meant a
	// checkpoint every batch or two at load, each copying the same hot
	// pages (conversation rows and indexes) again: 7% of the append's CPU.
	// At 10,000 that fell to 2%, but each checkpoint took long enough to be
	// the chat p99 (22-24 ms at 10,000 msg/s, p50 1.2 ms). 3,000 measured
	// p50 1.5 ms, p99 16-17 ms and the same throughput (17,300/s end to
	// end); 1,000 gave p99 15-16 ms but p50 1.8-2.1 ms. The WAL file stays
	// at about 12 MB; walLimit trims what is left after a reader held a
	// checkpoint back and let the WAL grow past it.
	w, err := sql.Open("sqlite", dsn(path, append(common, "synchronous("+sync+")", "temp_store(MEMORY)", "cache_size(-16000)",
		fmt.Sprintf("wal_autocheckpoint(%d)", walPages), fmt.Sprintf("journal_size_limit(%d)", walLimit)), "immediate"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, log: opts.Log}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, append(common, "query_only(1)"), ""))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	s.r = r
	s.rc, s.wc = newStmtCache(r), newStmtCache(w)
	s.app = newAppender()
	if err := s.raw(s.app.bind); err != nil {
		s.w.Close()
		s.r.Close()
		return nil, err
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	s.batcher = groupcommit.New(groupcommit.Options{Shards: 1, MaxBatch: opts.MaxBatch, Observe: opts.Observe}, s.flush)
	return s, nil
}

func dsn(path string, pragmas []string, txlock string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if txlock != "" {
		q.Set("_txlock", txlock)
	}
	return "file:" + path + "?" + q.Encode()
}

// Close flushes pending appends and closes the database. Calling it again
// does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.batcher.Close()
		s.closeAppender()
		s.rc.close()
		s.wc.close()
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// closeAppender finalizes the appender's statements, which database/sql
// does not know of, while their connection is still open.
func (s *Store) closeAppender() {
	s.raw(func(dc any) error {
		s.app.close(dc)
		return nil
	})
}

// raw runs f on the writer's driver connection, past database/sql. If f
// returns an error that is driver.ErrBadConn, database/sql drops the
// connection.
func (s *Store) raw(f func(dc any) error) error {
	conn, err := s.w.Conn(context.Background())
	if err != nil {
		return fmt.Errorf("sqlite: writer connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(f)
}

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return err
	}
	return s.r.PingContext(ctx)
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		var n int
		if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, micros(kefu.Now())); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", version, err)
		}
		s.log.Info("migration applied", "store", "sqlite", "version", version)
	}
	return nil
}

// Migrate is exposed for `kefu migrate`; Open already migrates.
func (s *Store) Migrate(ctx context.Context) error { return s.migrate(ctx) }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// mapErr turns driver errors into kefu errors: a constraint violation is a
// conflict, no rows is not-found; anything else is wrapped as internal.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return kefu.Errorf(kefu.ENotFound, "%s not found", what)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return kefu.Errorf(kefu.EConflict, "%s already exists", what)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// A missing referent and another tenant's look the same.
			return kefu.Errorf(kefu.ENotFound, "%s refers to a record that does not exist", what)
		}
	}
	var ke *kefu.Error
	if errors.As(err, &ke) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}
