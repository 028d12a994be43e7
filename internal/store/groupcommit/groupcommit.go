// Package groupcommit batches concurrent writes into shared transactions.
//
// An fsync costs the same for one row as for a thousand, so a store that
// must be durable before it acknowledges gets its throughput by letting
// every writer that arrives while a commit is in flight ride the next one.
// Calls are routed to shards by key; each shard has one goroutine that
// drains whatever is waiting (up to MaxBatch) and hands it to Flush. Work
// for one key always lands on the same shard, so per-key order is kept and
// shards never contend for the same rows.
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("groupcommit: closed")

// Flush commits a batch. It must return exactly one result and one error per
// request, in order; a failure of one request must not fail the others.
type Flush[Req, Res any] func(ctx context.Context, reqs []Req) ([]Res, []error)

// Options tune a Batcher.
type Options struct {
	Shards   int // independent writer goroutines; 1 for SQLite (one writer)
	MaxBatch int // requests per flush at most
	QueueLen int // waiting requests per shard before Do blocks
	// Observe, if set, is called after every flush with its size and duration.
	Observe func(n int, d time.Duration)
}

type call[Req, Res any] struct {
	req  Req
	res  Res
	err  error
	done chan struct{}
	cb   func(Res, error) // set by Go: called instead of signalling done
}

// notice is a flushed call whose callback is due.
type notice[Req, Res any] struct {
	cb  func(Res, error)
	res Res
	err error
}

// Batcher runs Flush over batches of concurrent calls.
type Batcher[Req, Res any] struct {
	opts   Options
	flush  Flush[Req, Res]
	queues []chan *call[Req, Res]
	// notify carries callbacks of each shard to its own goroutine, in
	// commit order, so a slow callback never holds up the next commit.
	notify []chan []notice[Req, Res]
	wg     sync.WaitGroup
	nwg    sync.WaitGroup
	mu     sync.RWMutex
	closed bool
	pool   sync.Pool
}

// New starts the shard goroutines.
func New[Req, Res any](opts Options, flush Flush[Req, Res]) *Batcher[Req, Res] {
	if opts.Shards < 1 {
		opts.Shards = 1
	}
	if opts.MaxBatch < 1 {
		opts.MaxBatch = 1000
	}
	if opts.QueueLen < 1 {
		opts.QueueLen = 4 * opts.MaxBatch
	}
	b := &Batcher[Req, Res]{opts: opts, flush: flush}
	b.pool.New = func() any { return &call[Req, Res]{done: make(chan struct{}, 1)} }
	for i := 0; i < opts.Shards; i++ {
		q := make(chan *call[Req, Res], opts.QueueLen)
		n := make(chan []notice[Req, Res], 64)
		b.queues = append(b.queues, q)
		b.notify = append(b.notify, n)
		b.wg.Add(1)
		b.nwg.Add(1)
		go b.run(q, n)
		go b.callbacks(n)
	}
	return b
}

func (b *Batcher[Req, Res]) callbacks(n chan []notice[Req, Res]) {
	defer b.nwg.Done()
	for batch := range n {
		for _, x := range batch {
			x.cb(x.res, x.err)
		}
	}
}

// Go submits req to the shard for key without waiting for the commit: once
// the batch holding it is flushed, cb is called with the result. Callbacks
// of one shard run one at a time, in commit order, on a goroutine of the
// batcher, so they must not block for long. Go itself blocks only while the
// shard's queue is full (backpressure), and returns an error, without
// calling cb, if the request could not be queued.
func (b *Batcher[Req, Res]) Go(ctx context.Context, key uint64, req Req, cb func(Res, error)) error {
	c := &call[Req, Res]{req: req, cb: cb}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	select {
	case b.queues[key%uint64(len(b.queues))] <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Do submits req to the shard for key and waits until its batch is flushed.
// If ctx ends first, Do returns ctx.Err() but the request may still commit:
// callers that need exactly-once make requests idempotent.
func (b *Batcher[Req, Res]) Do(ctx context.Context, key uint64, req Req) (Res, error) {
	var zero Res
	c := b.pool.Get().(*call[Req, Res])
	c.req = req
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		b.pool.Put(c)
		return zero, ErrClosed
	}
	select {
	case b.queues[key%uint64(len(b.queues))] <- c:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		b.pool.Put(c)
		return zero, ctx.Err()
	}
	select {
	case <-c.done:
		res, err := c.res, c.err
		var zreq Req
		c.req, c.res, c.err = zreq, zero, nil
		b.pool.Put(c)
		return res, err
	case <-ctx.Done():
		// The shard still owns c and will signal done into its buffer; c
		// is simply not reused.
		return zero, ctx.Err()
	}
}

// Close stops accepting calls, flushes what is queued and waits.
func (b *Batcher[Req, Res]) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	for _, q := range b.queues {
		close(q)
	}
	b.mu.Unlock()
	b.wg.Wait()
	for _, n := range b.notify {
		close(n)
	}
	b.nwg.Wait()
}

func (b *Batcher[Req, Res]) run(q chan *call[Req, Res], notify chan []notice[Req, Res]) {
	defer b.wg.Done()
	batch := make([]*call[Req, Res], 0, b.opts.MaxBatch)
	reqs := make([]Req, 0, b.opts.MaxBatch)
	for first := range q {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < b.opts.MaxBatch {
			select {
			case c, ok := <-q:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		reqs = reqs[:0]
		for _, c := range batch {
			reqs = append(reqs, c.req)
		}
		start := time.Now()
		// The flush runs detached from any caller's context: once a batch
		// starts, it finishes, so a cancelled caller cannot tear a commit.
		res, errs := b.flush(context.Background(), reqs)
		if b.opts.Observe != nil {
			b.opts.Observe(len(batch), time.Since(start))
		}
		var due []notice[Req, Res]
		for i, c := range batch {
			if c.cb != nil {
				due = append(due, notice[Req, Res]{cb: c.cb, res: res[i], err: errs[i]})
				continue
			}
			c.res, c.err = res[i], errs[i]
			c.done <- struct{}{}
		}
		if len(due) > 0 {
			notify <- due
		}
		clear(batch)
	}
}
