package ws

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
)

// poller wakes a connection's reader only when its socket has bytes (or has
// been closed), so a quiet connection holds no goroutine. It is one epoll
// set beside the Go runtime's own: the runtime still owns each descriptor
// and its deadlines and writes; this set only learns of readability.
//
// Each socket is registered one-shot: after an event nothing more is
// reported for it until its reader, having read all there was, re-arms it.
// So at most one reader runs per connection and frames are handled in order.
// Events carry a connection id, not the descriptor, so an event for a
// closed connection whose number was reused finds nothing.
type poller struct {
	epfd int
	log  *slog.Logger
	stop atomic.Bool
	done chan struct{}

	// Buffers for readers, taken only while bytes are being read.
	scratch sync.Pool

	mu    sync.Mutex
	next  uint64
	conns map[uint64]*wsConn
}

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func newPoller(log *slog.Logger) (*poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	p := &poller{epfd: fd, log: log, done: make(chan struct{}), conns: map[uint64]*wsConn{}}
	p.scratch.New = func() any { b := make([]byte, 4096); return &b }
	go p.run()
	return p, nil
}

// add starts reading c. It fails when c's socket cannot be polled; the
// caller then reads with a goroutine.
func (p *poller) add(c *wsConn) error {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return errors.New("ws: socket has no descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.next++
	c.id, c.raw = p.next, raw
	p.conns[c.id] = c
	p.mu.Unlock()
	if err := p.ctl(c, syscall.EPOLL_CTL_ADD); err != nil {
		p.remove(c)
		return err
	}
	return nil
}

// ctl registers or re-arms c. Control holds the descriptor open, so the
// call cannot reach a socket that replaced a closed one under its number.
func (p *poller) ctl(c *wsConn, op int) error {
	ev := syscall.EpollEvent{Events: pollEvents, Fd: int32(uint32(c.id)), Pad: int32(uint32(c.id >> 32))}
	var err error
	if cerr := c.raw.Control(func(fd uintptr) { err = syscall.EpollCtl(p.epfd, op, int(fd), &ev) }); cerr != nil {
		return cerr
	}
	return err
}

func (p *poller) remove(c *wsConn) {
	p.mu.Lock()
	delete(p.conns, c.id)
	p.mu.Unlock()
}

func (p *poller) close() {
	if p.stop.CompareAndSwap(false, true) {
		<-p.done
	}
}

// run hands each ready connection to a goroutine of its own. The wait has
// a timeout so that close is noticed.
func (p *poller) run() {
	defer close(p.done)
	defer syscall.Close(p.epfd)
	events := make([]syscall.EpollEvent, 256)
	for !p.stop.Load() {
		n, err := syscall.EpollWait(p.epfd, events, 500)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			p.log.Error("epoll wait failed", "err", err)
			return
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			if c := p.conns[uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32]; c != nil {
				// Bytes arrived now: the client is alive even if the reader
				// below is slow to be scheduled.
				c.touch()
				go c.serve()
			}
		}
		p.mu.Unlock()
	}
}

// serve reads what the socket has, handles it, and re-arms the socket once
// a read finds nothing more (or after a few reads, to let others run).
func (c *wsConn) serve() {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	bp := c.s.poll.scratch.Get().(*[]byte)
	defer c.s.poll.scratch.Put(bp)
	for range 16 {
		n, err := c.read(*bp)
		switch {
		case err == syscall.EAGAIN:
			c.rearm()
			return
		case err != nil:
			c.fail(err)
			return
		case n == 0:
			c.fail(errors.New("EOF"))
			return
		}
		if !c.consume((*bp)[:n]) {
			return
		}
	}
	c.rearm()
}

func (c *wsConn) rearm() {
	if err := c.s.poll.ctl(c, syscall.EPOLL_CTL_MOD); err != nil {
		// Closed meanwhile, most likely; make sure of it.
		_ = c.Close()
	}
}

// read is one non-blocking read; syscall.EAGAIN when nothing is there.
func (c *wsConn) read(b []byte) (int, error) {
	var n int
	var err error
	cerr := c.raw.Read(func(fd uintptr) bool {
		for {
			n, err = syscall.Read(int(fd), b)
			if err != syscall.EINTR {
				return true // never wait in the runtime's poller
			}
		}
	})
	if cerr != nil {
		return 0, cerr
	}
	if n < 0 {
		n = 0
	}
	return n, err
}
