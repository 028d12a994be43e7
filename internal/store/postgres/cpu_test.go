package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefutest"
)

// appendMeter counts the commits and messages of an append benchmark and,
// from its first commit on (so the fixture's setup is left out), the CPU
// time spent by this process and, when PostgreSQL runs on this machine, by
// the server backends of the benchmark's store. On a machine the database
// shares with the application the server's CPU per message is what limits
// throughput, and wall-clock rates alone hide it. Only the store's own
// backends (found by application_name) are counted because other work may
// use the same server; the WAL writer and checkpointer are left out.
type appendMeter struct {
	url  string // the benchmark's database, tagged with app
	app  string
	conn *pgx.Conn // to list the store's backends; nil if the server is not local

	batches, msgs atomic.Int64
	startOnce     sync.Once
	startMsgs     int64
	startGo       time.Duration
	startServer   map[int]time.Duration
}

func newAppendMeter(tb testing.TB) *appendMeter {
	var buf [4]byte
	_, _ = rand.Read(buf[:])
	m := &appendMeter{app: "kefu-bench-" + hex.EncodeToString(buf[:])}
	u, err := url.Parse(kefutest.PostgresURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", m.app)
	u.RawQuery = kefutest.EncodeQuery(q)
	m.url = u.String()

	conn, err := pgx.Connect(tb.Context(), m.url)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	var pid int
	if err := conn.QueryRow(tb.Context(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		tb.Fatalf("backend pid: %v", err)
	}
	if _, err := procStat(pid); err == nil {
		m.conn = conn
	}
	return m
}

// observe is a postgres.Options.Observe.
func (m *appendMeter) observe(n int, _ time.Duration) {
	m.startOnce.Do(func() {
		m.startGo, m.startServer = selfCPU(), m.serverCPU()
		m.startMsgs = int64(n)
	})
	m.batches.Add(1)
	m.msgs.Add(int64(n))
}

// report adds the meter's metrics to b; call it once the benchmark's
// appends are all done, before the store is closed.
func (m *appendMeter) report(b *testing.B) {
	if n := m.batches.Load(); n > 0 {
		b.ReportMetric(float64(m.msgs.Load())/float64(n), "msgs/commit")
	}
	msgs := m.msgs.Load() - m.startMsgs
	if msgs <= 0 {
		return
	}
	b.ReportMetric(float64((selfCPU()-m.startGo).Microseconds())/float64(msgs), "go-µs/msg")
	if m.conn == nil {
		return
	}
	var spent time.Duration
	for pid, t := range m.serverCPU() {
		spent += t - m.startServer[pid]
	}
	b.ReportMetric(float64(spent.Microseconds())/float64(msgs), "pg-µs/msg")
}

// serverCPU is the CPU time of each backend of the store, by pid.
func (m *appendMeter) serverCPU() map[int]time.Duration {
	if m.conn == nil {
		return nil
	}
	rows, err := m.conn.Query(context.Background(),
		"SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", m.app)
	if err != nil {
		return nil
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil
	}
	out := make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		if f, err := procStat(pid); err == nil {
			out[pid] = ticks(f, 11, 12) // utime stime
		}
	}
	return out
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStat returns the fields of /proc/pid/stat after the command name:
// index 0 is the state, 1 the parent pid, 11 utime and so on.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, os.ErrInvalid
	}
	f := bytes.Fields(b[i+1:])
	out := make([]string, len(f))
	for i, x := range f {
		out[i] = string(x)
	}
	if len(out) < 15 {
		return nil, os.ErrInvalid
	}
	return out, nil
}

// ticks sums the given clock-tick fields; Linux reports them in USER_HZ,
// which is 100 on every platform Go supports there.
func ticks(f []string, idx ...int) time.Duration {
	var n int64
	for _, i := range idx {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		n += v
	}
	return time.Duration(n) * 10 * time.Millisecond
}
