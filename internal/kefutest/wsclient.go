package kefutest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lxzan/gws"
)

// WSClient is a test WebSocket client that speaks Kefu's protocol: it
// collects every frame it receives, in order, for the test to wait on.
type WSClient struct {
	t      testing.TB
	conn   *gws.Conn
	mu     sync.Mutex
	cond   *sync.Cond
	frames []Frame
	read   int // frames consumed by Next
	closed bool
	Code   int // close code once closed
}

// Frame is a received server frame, decoded loosely.
type Frame map[string]any

func (f Frame) Type() string { s, _ := f["type"].(string); return s }

// Int reads a numeric field.
func (f Frame) Int(key string) int64 { v, _ := f[key].(float64); return int64(v) }

// Message returns the "message" object of a message frame.
func (f Frame) Message() Frame { m, _ := f["message"].(map[string]any); return Frame(m) }

type wsEvents struct{ c *WSClient }

func (e wsEvents) OnOpen(*gws.Conn) {}
func (e wsEvents) OnClose(_ *gws.Conn, err error) {
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	e.c.closed = true
	if ce, ok := err.(*gws.CloseError); ok {
		e.c.Code = int(ce.Code)
	}
	e.c.cond.Broadcast()
}
func (e wsEvents) OnPing(c *gws.Conn, p []byte) { _ = c.WritePong(p) }
func (e wsEvents) OnPong(*gws.Conn, []byte)     {}
func (e wsEvents) OnMessage(_ *gws.Conn, m *gws.Message) {
	defer m.Close()
	var f Frame
	if err := json.Unmarshal(m.Bytes(), &f); err != nil {
		f = Frame{"type": "!undecodable", "raw": m.Data.String()}
	}
	e.c.mu.Lock()
	e.c.frames = append(e.c.frames, f)
	e.c.cond.Broadcast()
	e.c.mu.Unlock()
}

// DialWS connects to url (ws://...) with optional headers.
func DialWS(t testing.TB, url string, header http.Header) (*WSClient, *http.Response, error) {
	c := &WSClient{t: t}
	c.cond = sync.NewCond(&c.mu)
	conn, resp, err := gws.NewClient(wsEvents{c}, &gws.ClientOption{Addr: url, RequestHeader: header, ReadMaxPayloadSize: 1 << 20})
	if err != nil {
		return nil, resp, err
	}
	c.conn = conn
	go conn.ReadLoop()
	t.Cleanup(func() { c.Close() })
	return c, resp, nil
}

// MustDialWS is DialWS that fails the test on error.
func MustDialWS(t testing.TB, url string) *WSClient {
	t.Helper()
	c, _, err := DialWS(t, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

// Send writes one frame (any JSON value, or raw []byte as is) and fails
// the test if it cannot. Call it from the test's goroutine only.
func (c *WSClient) Send(v any) {
	c.t.Helper()
	if err := c.TrySend(v); err != nil {
		c.t.Fatalf("ws send: %v", err)
	}
}

// TrySend is Send that returns the error, for use from other goroutines.
func (c *WSClient) TrySend(v any) error {
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return c.conn.WriteMessage(gws.OpcodeText, b)
}

// Next returns the next frame (after the last one Next returned) of type
// typ, skipping others; "" matches any. It fails the test after timeout.
func (c *WSClient) Next(typ string, timeout time.Duration) Frame {
	c.t.Helper()
	f, err := c.next(typ, timeout)
	if err != nil {
		c.t.Fatal(err)
	}
	return f
}

func (c *WSClient) next(typ string, timeout time.Duration) (Frame, error) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for c.read < len(c.frames) {
			f := c.frames[c.read]
			c.read++
			if typ == "" || f.Type() == typ {
				return f, nil
			}
		}
		if c.closed {
			return nil, fmt.Errorf("connection closed (code %d) while waiting for %q", c.Code, typ)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no %q frame within %s; got %v", typ, timeout, c.frames)
		}
		c.cond.Wait()
	}
}

// WaitClosed waits for the server to close the connection and returns the code.
func (c *WSClient) WaitClosed(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.closed {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("still open after %s", timeout)
		}
		c.cond.Wait()
	}
	return c.Code, nil
}

// Frames returns a copy of every frame received so far.
func (c *WSClient) Frames() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Frame(nil), c.frames...)
}

// Close closes the connection from the client side.
func (c *WSClient) Close() {
	if c.conn != nil {
		_ = c.conn.WriteClose(1000, nil)
	}
}

// Drop cuts the TCP connection without a close frame, like a network failure.
func (c *WSClient) Drop() {
	if c.conn != nil {
		_ = c.conn.NetConn().Close()
	}
}
