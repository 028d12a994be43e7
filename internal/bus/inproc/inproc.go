// Package inproc is the single-node Bus: Publish hands the event straight to
// this process's subscribers.
package inproc

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/kefu-chat/kefu/internal/kefu"
)

var _ kefu.Bus = (*Bus)(nil)

type sub struct{ h func(*kefu.Event) }

// Bus delivers synchronously on the publisher's goroutine. Subscribers are
// kept in a copy-on-write slice so Publish takes no lock.
type Bus struct {
	mu   sync.Mutex
	subs atomic.Pointer[[]*sub]
}

func New() *Bus {
	b := &Bus{}
	b.subs.Store(&[]*sub{})
	return b
}

func (b *Bus) Publish(_ context.Context, e *kefu.Event) error {
	for _, s := range *b.subs.Load() {
		s.h(e)
	}
	return nil
}

func (b *Bus) Subscribe(h func(*kefu.Event)) func() {
	s := &sub{h: h}
	b.mu.Lock()
	next := append(append([]*sub{}, *b.subs.Load()...), s)
	b.subs.Store(&next)
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			cur := *b.subs.Load()
			next := make([]*sub, 0, len(cur))
			for _, x := range cur {
				if x != s {
					next = append(next, x)
				}
			}
			b.subs.Store(&next)
		})
	}
}

func (b *Bus) Close() error { return nil }
