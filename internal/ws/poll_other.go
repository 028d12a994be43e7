//go:build !linux

package ws

import (
	"errors"
	"log/slog"
)

// poller is Linux only (epoll); elsewhere every connection is read by a
// goroutine of its own.
type poller struct{}

func newPoller(*slog.Logger) (*poller, error) { return nil, errors.New("ws: no poller on this system") }

func (p *poller) add(*wsConn) error { return errors.New("ws: no poller on this system") }
func (p *poller) remove(*wsConn)    {}
func (p *poller) close()            {}
