// Package natsbus fans events out between Kefu nodes through NATS core
// pub/sub. Each node delivers its own events to its local subscribers
// directly and publishes them for the others (the connection sets NoEcho,
// so a node never hears itself twice). Delivery between nodes is at most
// once and ordered per publisher, which is all the hub needs: it fills any
// seq gap from the shared store.
package natsbus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/kefu-chat/kefu/internal/bus"
	"github.com/kefu-chat/kefu/internal/kefu"
)

var _ kefu.Bus = (*Bus)(nil)

// DefaultSubject is the prefix of every event subject:
// kefu.ev.<workspace id>. Clusters sharing one NATS use different prefixes.
const DefaultSubject = "kefu.ev"

// Bus is a kefu.Bus over one NATS connection.
type Bus struct {
	nc      *nats.Conn
	sub     *nats.Subscription
	log     *slog.Logger
	subject string

	subs    bus.Subscribers
	dropped atomic.Int64
}

// New connects to url and starts receiving other nodes' events published
// under subject (DefaultSubject if empty).
func New(url, subject string, log *slog.Logger) (*Bus, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if subject == "" {
		subject = DefaultSubject
	}
	b := &Bus{log: log, subject: subject}
	nc, err := nats.Connect(url,
		nats.Name("kefu"),
		nats.NoEcho(),
		nats.MaxReconnects(-1),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			// A slow-consumer error means events were dropped; the hub
			// fills message gaps from the store, so it is logged, not fatal.
			b.dropped.Add(1)
			log.Warn("nats async error", "err", err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("nats disconnected", "err", err) }),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect %s: %w", url, err)
	}
	sub, err := nc.Subscribe(subject+".>", b.receive)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsbus: subscribe: %w", err)
	}
	// Generous pending limits: a burst is better buffered than dropped.
	_ = sub.SetPendingLimits(1_000_000, 512<<20)
	if err := nc.Flush(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsbus: %w", err)
	}
	b.nc, b.sub = nc, sub
	return b, nil
}

func (b *Bus) receive(m *nats.Msg) {
	var e kefu.Event
	if err := json.Unmarshal(m.Data, &e); err != nil {
		b.log.Warn("natsbus: undecodable event", "subject", m.Subject, "err", err)
		return
	}
	b.deliver(&e)
}

func (b *Bus) deliver(e *kefu.Event) { b.subs.Deliver(e) }

// Publish delivers e locally, then sends it to the other nodes.
func (b *Bus) Publish(_ context.Context, e *kefu.Event) error {
	b.deliver(e)
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("natsbus: encode: %w", err)
	}
	if err := b.nc.Publish(fmt.Sprintf("%s.%d", b.subject, e.WorkspaceID), data); err != nil {
		return fmt.Errorf("natsbus: publish: %w", err)
	}
	return nil
}

// Subscribe registers h for events from this node and every other.
func (b *Bus) Subscribe(h func(*kefu.Event)) func() { return b.subs.Add(h) }

// Dropped counts async errors (slow-consumer drops among them).
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Close flushes what was published and disconnects.
func (b *Bus) Close() error {
	if b.nc == nil {
		return nil
	}
	_ = b.sub.Unsubscribe()
	err := b.nc.Drain()
	return err
}
