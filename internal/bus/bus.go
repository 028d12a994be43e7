// Package bus holds what every kefu.Bus implementation shares: the set of
// local subscribers. The implementations live in inproc and natsbus.
package bus

import (
	"sync"
	"sync/atomic"

	"github.com/kefu-chat/kefu/internal/kefu"
)

type handler struct{ h func(*kefu.Event) }

// Subscribers is a copy-on-write list of handlers: Deliver takes no lock,
// which matters because it runs for every event.
type Subscribers struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*handler]
}

// Deliver calls every handler with e, in subscription order.
func (s *Subscribers) Deliver(e *kefu.Event) {
	if l := s.list.Load(); l != nil {
		for _, h := range *l {
			h.h(e)
		}
	}
}

// Add registers h and returns a function that removes it (idempotent).
func (s *Subscribers) Add(h func(*kefu.Event)) func() {
	hd := &handler{h: h}
	s.mu.Lock()
	var cur []*handler
	if l := s.list.Load(); l != nil {
		cur = *l
	}
	next := append(append([]*handler{}, cur...), hd)
	s.list.Store(&next)
	s.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { s.remove(hd) }) }
}

func (s *Subscribers) remove(hd *handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := *s.list.Load()
	next := make([]*handler, 0, len(cur))
	for _, x := range cur {
		if x != hd {
			next = append(next, x)
		}
	}
	s.list.Store(&next)
}
