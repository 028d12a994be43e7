package ws

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingConn records each Write the socket sees.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes []string
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, string(p))
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func pipeConn(t *testing.T) (*wsConn, *countingConn, <-chan string) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	cc := &countingConn{Conn: a}
	got := make(chan string, 1)
	go func() {
		all, _ := io.ReadAll(b)
		got <- string(all)
	}()
	return &wsConn{Conn: cc}, cc, got
}

// TestCorkGathersWritesIntoOne: frames written while corked reach the
// socket in one write, in order, when uncorked; uncorked writes go straight
// through.
func TestCorkGathersWritesIntoOne(t *testing.T) {
	c, cc, got := pipeConn(t)
	c.Write([]byte("hello "))
	c.cork()
	for _, s := range []string{"one ", "two ", "three "} {
		if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("corked write: %d, %v", n, err)
		}
	}
	if err := c.uncork(time.Second); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("bye"))
	c.Conn.Close()
	if s := <-got; s != "hello one two three bye" {
		t.Fatalf("peer read %q", s)
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if want := []string{"hello ", "one two three ", "bye"}; strings.Join(cc.writes, "|") != strings.Join(want, "|") {
		t.Fatalf("socket writes %q, want %q", cc.writes, want)
	}
	if c.wbuf != nil {
		t.Fatal("an uncorked connection still holds a buffer")
	}
}

// TestCloseSendsWhatWasGathered: gws writes a close frame and closes the
// socket at once; a close frame gathered while corked must still go out.
func TestCloseSendsWhatWasGathered(t *testing.T) {
	c, _, got := pipeConn(t)
	c.cork()
	c.Write([]byte("frame, then close frame"))
	c.Close()
	if s := <-got; s != "frame, then close frame" {
		t.Fatalf("peer read %q", s)
	}
}

// TestCorkFlushesEarlyWhenLarge: a long run of frames is written in
// chunks, never held in a buffer without bound.
func TestCorkFlushesEarlyWhenLarge(t *testing.T) {
	c, cc, got := pipeConn(t)
	c.cork()
	chunk := strings.Repeat("x", 1000)
	for range 200 {
		c.Write([]byte(chunk))
	}
	if err := c.uncork(time.Second); err != nil {
		t.Fatal(err)
	}
	c.Conn.Close()
	if s := <-got; len(s) != 200_000 {
		t.Fatalf("peer read %d bytes", len(s))
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for _, w := range cc.writes {
		if len(w) > maxGather+len(chunk) {
			t.Fatalf("one write of %d bytes: the buffer grew past its bound", len(w))
		}
	}
	if len(cc.writes) < 200_000/(maxGather+len(chunk)) {
		t.Fatalf("%d writes", len(cc.writes))
	}
}
