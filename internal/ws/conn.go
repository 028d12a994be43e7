package ws

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kefu-chat/kefu/internal/protocol"
)

// wsConn is one WebSocket connection: the hijacked socket (gws writes
// through it; its Close is hooked so the connection is cleaned up however it
// ends), the read side's state, and the idle timer.
//
// The read side keeps no goroutine while the client is quiet: on Linux an
// epoll poller wakes a short-lived goroutine when bytes arrive (see
// poll_linux.go); elsewhere, or when the socket has no file descriptor, a
// goroutine blocks in Read as usual. A goroutine parked in a read costs its
// stack (4–8 KiB once a frame has been handled on it), which was most of an
// idle connection's memory.
type wsConn struct {
	net.Conn
	session

	raw    syscall.RawConn // set by poller.add
	id     uint64          // the poller's key; 0 when not polled
	readMu sync.Mutex      // one reader at a time; orders handovers between them
	fr     frameReader
	active atomic.Int64 // unix nanos of the last frame from the client
	timer  *time.Timer  // idle timeout
	state  atomic.Int32

	// Write gathering, see cork.
	wmu    sync.Mutex
	corked bool
	wbuf   *[]byte // from gatherPool while corked and holding bytes
}

// Write gathering. The hub corks a connection while it writes a run of
// queued frames and flushes once at the end, so a busy connection (an agent
// receiving hundreds of messages a second, a sender's ack and the echo of
// its message, a resume replay) costs one write syscall per run instead of
// one per frame. An idle connection holds no buffer.
const maxGather = 64 << 10 // flush early past this many bytes

var gatherPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// Write is how gws writes frames (and the upgrade response) to the socket.
func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	if c.wbuf == nil {
		c.wbuf = gatherPool.Get().(*[]byte)
	}
	*c.wbuf = append(*c.wbuf, p...)
	if len(*c.wbuf) >= maxGather {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// cork starts gathering writes until uncork.
func (c *wsConn) cork() {
	c.wmu.Lock()
	c.corked = true
	c.wmu.Unlock()
}

// uncork writes what was gathered, within timeout, and stops gathering.
func (c *wsConn) uncork(timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.corked = false
	if c.wbuf == nil {
		return nil
	}
	_ = c.Conn.SetWriteDeadline(time.Now().Add(timeout))
	return c.flushLocked()
}

func (c *wsConn) flushLocked() error {
	b := c.wbuf
	_, err := c.Conn.Write(*b)
	*b = (*b)[:0]
	if cap(*b) <= maxGather*2 {
		gatherPool.Put(b)
	}
	c.wbuf = nil
	return err
}

const (
	connSetup  = iota // upgrading and registering with the hub
	connLive          // reading
	connClosed        // closed; cleanup has run or will
)

// errPeerClosed stops reading after the client's close frame was answered.
var errPeerClosed = errors.New("closed by peer")

// Close closes the socket and, once the connection is live, runs the
// cleanup exactly once, on its own goroutine (it may be called from inside
// the hub or gws).
func (c *wsConn) Close() error {
	// gws closes right after writing a close frame, which may still be
	// gathered: send it, unless a write is under way (then the socket is
	// stuck or busy, and closing it is what unblocks that write).
	if c.wmu.TryLock() {
		if c.wbuf != nil {
			_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
			_ = c.flushLocked()
		}
		c.corked = false
		c.wmu.Unlock()
	}
	err := c.Conn.Close()
	if c.state.Swap(connClosed) == connLive {
		go c.cleanup()
	}
	return err
}

// live ends the setup; if the socket was closed meanwhile it cleans up.
func (c *wsConn) live() bool {
	if c.state.CompareAndSwap(connSetup, connLive) {
		return true
	}
	c.cleanup()
	return false
}

func (c *wsConn) cleanup() {
	if c.timer != nil {
		c.timer.Stop()
	}
	if p := c.s.poll; p != nil {
		p.remove(c) // reads c.id under the poller's lock: add may be racing
	}
	if c.hc == nil {
		return
	}
	c.hc.Close(protocol.CloseNormal, "")
	c.s.opts.Metrics.Connections.WithLabelValues(c.role).Dec()
	c.s.opts.Metrics.DisconnectsTotal.WithLabelValues("closed").Inc()
	if c.actor.IsAgent() && !c.s.hub.AgentConnected(c.actor.WorkspaceID, c.actor.ID) {
		// The agent's last connection is gone; routing (which wants a
		// grace period) builds on this.
		c.s.chat.Disconnected(context.Background(), c.actor)
	}
}

func (c *wsConn) touch() { c.active.Store(time.Now().UnixNano()) }

// checkIdle runs on the idle timer: it closes a connection that has sent
// nothing for the idle timeout with 4009, so the client learns why, and
// otherwise sets the timer for the rest of the period.
func (c *wsConn) checkIdle() {
	if c.state.Load() == connClosed {
		return
	}
	idle := c.s.opts.IdleTimeout
	if rest := idle - time.Duration(time.Now().UnixNano()-c.active.Load()); rest > 0 {
		c.timer.Reset(rest)
		return
	}
	// A read in progress means the client just sent something that is
	// not parsed yet: look again shortly rather than close a live client.
	if !c.readMu.TryLock() {
		c.timer.Reset(idle / 10)
		return
	}
	c.readMu.Unlock()
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.sock.WriteClose(protocol.CloseIdle, []byte("idle timeout"))
}

// consume parses bytes read from the client and handles what they complete.
// It reports false when the connection has ended.
func (c *wsConn) consume(p []byte) bool {
	if err := c.fr.feed(p, c.frame); err != nil {
		c.fail(err)
		return false
	}
	return true
}

// fail ends the connection after a read error or a protocol violation.
func (c *wsConn) fail(err error) {
	if errors.Is(err, errPeerClosed) {
		return
	}
	code, reason := uint16(closeNormal), ""
	var ce *closeError
	if errors.As(err, &ce) {
		code, reason = ce.code, ce.reason
	}
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	if c.sock.WriteClose(code, []byte(reason)) != nil {
		_ = c.Close()
	}
}

// frame handles one message or control frame from the client.
func (c *wsConn) frame(op byte, payload []byte) error {
	switch op {
	case opPing:
		c.touch()
		// Its own deadline: the last one set may have long passed.
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
		_ = c.sock.WritePong(payload)
	case opPong:
		c.touch()
	case opClose:
		_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		_ = c.sock.WriteClose(closeReply(payload), nil)
		return errPeerClosed
	default:
		c.touch()
		c.message(op == opText, payload)
	}
	return nil
}

// readLoop is the portable read side: a goroutine blocked in Read.
func (c *wsConn) readLoop() {
	buf := make([]byte, 512)
	for {
		n, err := c.Conn.Read(buf)
		c.readMu.Lock()
		ok := n == 0 || c.consume(buf[:n])
		c.readMu.Unlock()
		if !ok {
			return
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
}
