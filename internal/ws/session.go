package ws

import (
	"context"
	"time"

	"github.com/lxzan/gws"

	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/protocol"
)

// session is the per-connection state of the read side. It is touched only
// by the connection's reader (one at a time, under wsConn.readMu), so it
// needs no lock of its own.
type session struct {
	s       *Server
	sock    *gws.Conn
	hc      *hub.Conn
	actor   kefu.Actor
	role    string
	rate    float64 // frames per second allowed
	burst   float64
	tokens  float64 // rate limiter bucket
	last    int64   // unix nanos of the last refill
	strikes int     // frames over the limit in a row
}

// message handles one complete data message from the client.
func (s *session) message(text bool, payload []byte) {
	if !s.allow() {
		return
	}
	if !text {
		s.fail("", kefu.Errorf(protocol.EBadJSON, "frames must be JSON text"))
		return
	}
	f, err := protocol.Decode(payload)
	if err != nil {
		id := ""
		if f != nil {
			id = f.ID
		}
		s.fail(id, err)
		return
	}
	s.s.opts.Metrics.FramesIn.WithLabelValues(f.Type).Inc()
	if err := s.handle(f); err != nil {
		s.fail(f.ID, err)
	}
}

// allow applies the per-connection token bucket. A client far over the
// limit (a hundred rejected frames in a row) is cut off.
func (s *session) allow() bool {
	now := time.Now().UnixNano()
	s.tokens += float64(now-s.last) / 1e9 * s.rate
	s.last = now
	if s.tokens > s.burst {
		s.tokens = s.burst
	}
	if s.tokens >= 1 {
		s.tokens--
		s.strikes = 0
		return true
	}
	s.strikes++
	if s.strikes >= 100 {
		s.s.opts.Metrics.DisconnectsTotal.WithLabelValues("rate_limited").Inc()
		s.hc.Close(protocol.CloseRateLimited, "rate limited")
		return false
	}
	s.fail("", kefu.Errorf(kefu.ERateLimited, "more than %.0f frames per second", s.rate))
	return false
}

// fail sends an error frame. It reads only fields fixed at connection setup,
// so the store's commit callback may call it too.
func (s *session) fail(id string, err error) {
	code := kefu.ErrorCode(err)
	s.s.opts.Metrics.FrameErrors.WithLabelValues(code).Inc()
	if code == kefu.EInternal {
		s.s.opts.Log.Error("frame failed", "role", s.role, "workspace_id", s.actor.WorkspaceID, "err", err)
	}
	s.hc.Send(protocol.EncodeError(id, err))
}

func (s *session) handle(f *protocol.ClientFrame) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.s.opts.SendTimeout)
	defer cancel()
	c := s.s.chat
	switch f.Type {
	case protocol.TypeSend:
		// The read loop does not wait for the commit: the next frame can
		// be read (and its message queued behind this one) at once. The
		// ack follows the commit, from the store's callback.
		id := f.ID
		return c.SendAsync(ctx, s.actor, chat.SendInput{ConversationID: f.ConversationID, ClientMsgID: f.ClientMsgID,
			Kind: kefu.MessageKind(f.Kind), Body: f.Body, AttachmentIDs: f.Attachments}, func(res *kefu.AppendResult, err error) {
			// Runs on the store's goroutine; fail and Send touch only
			// what is immutable or locked.
			if err != nil {
				s.fail(id, err)
				return
			}
			m := res.Message
			s.hc.Send(protocol.Encode(&protocol.Ack{Type: protocol.TypeAck, ID: id, ConversationID: m.ConversationID, MessageID: m.ID,
				Seq: m.Seq, ClientMsgID: m.ClientMsgID, Duplicate: res.Duplicate, CreatedAt: m.CreatedAt}))
		})
	case protocol.TypeTyping:
		return c.Typing(ctx, s.actor, f.ConversationID, f.On, s.hc.ID())
	case protocol.TypeRead:
		_, err := c.MarkRead(ctx, s.actor, f.ConversationID, f.Seq)
		return err
	case protocol.TypePresence:
		return c.SetPresence(ctx, s.actor, f.Status)
	case protocol.TypeResume:
		convs, _ := f.ConversationSeqs()
		s.hc.Resume(convs)
	case protocol.TypeSubscribe, protocol.TypeUnsubscribe:
		if !s.actor.IsAgent() {
			return kefu.Errorf(kefu.EForbidden, "only agents subscribe; visitors receive their own conversations")
		}
		convs, _ := f.ConversationSeqs()
		if f.Type == protocol.TypeUnsubscribe {
			s.hc.Unsubscribe(convs)
			if f.All {
				s.hc.SubscribeAll(false)
			}
			return nil
		}
		if f.All {
			s.hc.SubscribeAll(true)
		}
		s.hc.Resume(convs)
	case protocol.TypePing:
		s.hc.Send(protocol.Encode(&protocol.Pong{Type: protocol.TypePong, ServerTime: time.Now().UnixMilli()}))
	}
	return nil
}
