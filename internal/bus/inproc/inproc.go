// Package inproc is the single-node Bus: Publish hands the event straight to
// this process's subscribers.
package inproc

import (
	"context"

	"github.com/kefu-chat/kefu/internal/bus"
	"github.com/kefu-chat/kefu/internal/kefu"
)

var _ kefu.Bus = (*Bus)(nil)

// Bus delivers synchronously on the publisher's goroutine.
type Bus struct{ subs bus.Subscribers }

func New() *Bus { return &Bus{} }

func (b *Bus) Publish(_ context.Context, e *kefu.Event) error {
	b.subs.Deliver(e)
	return nil
}

func (b *Bus) Subscribe(h func(*kefu.Event)) func() { return b.subs.Add(h) }

func (b *Bus) Close() error { return nil }
