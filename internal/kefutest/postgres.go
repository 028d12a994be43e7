// Package kefutest holds helpers shared by tests across packages: fresh
// databases and, later, running services.
package kefutest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgresURL is the server the tests use unless
// KEFU_TEST_POSTGRES_URL names another.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns a URL to a fresh, empty schema on the test server:
// every connection made with it has the schema as its search_path, so
// tests can run side by side in one database. The schema is dropped when
// the test ends.
//
// PostgreSQL is a required service: if it cannot be reached the test
// fails. Setting KEFU_TEST_SKIP_POSTGRES=1 skips instead; that is an escape
// hatch for a laptop without PostgreSQL, and CI never sets it.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	if os.Getenv("KEFU_TEST_SKIP_POSTGRES") == "1" {
		tb.Skip("KEFU_TEST_SKIP_POSTGRES=1: skipping a test that needs PostgreSQL")
	}
	base := os.Getenv("KEFU_TEST_POSTGRES_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("PostgreSQL required: cannot connect to %s (set KEFU_TEST_POSTGRES_URL to use another server): %v", redact(base), err)
	}
	defer conn.Close(ctx)

	var buf [8]byte
	if _, err := rand.Read(buf[:]); err != nil {
		tb.Fatalf("random schema name: %v", err)
	}
	schema := "kefutest_" + hex.EncodeToString(buf[:])
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		tb.Fatalf("PostgreSQL required: create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		// The test's own connections are closed by now (cleanups run last
		// in, first out, and this one was registered before the store's).
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: connect: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+ident+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse KEFU_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	// "options" is the libpq startup parameter, so the URL works for psql
	// too: psql "$URL" lands in the test's schema.
	q.Set("options", "-c search_path="+schema)
	u.RawQuery = EncodeQuery(q)
	return u.String()
}

// EncodeQuery encodes connection URL parameters with spaces as %20: pgx,
// like libpq, does not read "+" in a query value as a space.
func EncodeQuery(q url.Values) string {
	// Encode turns a literal "+" into %2B, so every "+" left is a space.
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// redact hides a password in a connection URL before it is printed.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
