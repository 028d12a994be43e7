package httpapi

import (
	"math"
	"net/http"

	"github.com/kefu-chat/kefu/internal/chat"
	"github.com/kefu-chat/kefu/internal/kefu"
)

type messagePage struct {
	Data    []*kefu.Message `json:"data"`
	HasMore bool            `json:"has_more"`
}

// listMessages pages through a conversation by seq. With after_seq (and no
// before_seq) it reads forward from there, 0 being the start: catching up
// after a gap. Otherwise it returns the newest limit
// messages below before_seq (or the newest of all). Either way the page is
// in ascending seq order and has_more says whether the read could go on in
// its direction. Visitors never see notes.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	after, err := queryInt(r, "after_seq", 0, 0, math.MaxInt64)
	if err != nil {
		return err
	}
	before, err := queryInt(r, "before_seq", 0, 0, math.MaxInt64)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", defaultMsgLimit, 1, maxMsgLimit)
	if err != nil {
		return err
	}
	forward := r.URL.Query().Has("after_seq") && before == 0
	rng := kefu.MessageRange{ConversationID: id, AfterSeq: after, BeforeSeq: before, Limit: int(limit) + 1}
	if !forward && before == 0 {
		rng.BeforeSeq = math.MaxInt64
	}
	msgs, err := s.chat.Messages(r.Context(), a, rng)
	if err != nil {
		return err
	}
	more := len(msgs) > int(limit)
	if more {
		if forward {
			msgs = msgs[:limit]
		} else {
			msgs = msgs[1:]
		}
	}
	if msgs == nil {
		msgs = []*kefu.Message{}
	}
	writeJSON(w, http.StatusOK, messagePage{Data: msgs, HasMore: more})
	return nil
}

type sendMessageRequest struct {
	Body        string  `json:"body"`
	Kind        string  `json:"kind"`
	ClientMsgID string  `json:"client_msg_id"`
	Attachments []int64 `json:"attachments"`
}

type sendMessageResponse struct {
	Message   *kefu.Message `json:"message"`
	Duplicate bool          `json:"duplicate"`
}

// sendMessage stores a message durably and announces it. A repeated
// client_msg_id answers 200 with the original message.
func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req sendMessageRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	switch kefu.MessageKind(req.Kind) {
	case "", kefu.KindText, kefu.KindNote, kefu.KindAttachment:
	default:
		return kefu.Errorf(kefu.EInvalid, "kind must be text, note or attachment")
	}
	res, err := s.chat.Send(r.Context(), a, chat.SendInput{ConversationID: id, ClientMsgID: req.ClientMsgID,
		Kind: kefu.MessageKind(req.Kind), Body: req.Body, AttachmentIDs: req.Attachments})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res.Duplicate {
		status = http.StatusOK
	}
	writeJSON(w, status, sendMessageResponse{Message: res.Message, Duplicate: res.Duplicate})
	return nil
}
