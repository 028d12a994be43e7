package chat

import (
	"context"
	"strings"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Rate records the contact's satisfaction rating on its own resolved
// conversation and tells the agents. The contact may change its rating
// while the conversation stays resolved; the newest one counts.
func (s *Service) Rate(ctx context.Context, actor kefu.Actor, conversationID int64, score int, comment string) (*kefu.Conversation, error) {
	if !actor.IsContact() {
		return nil, kefu.Errorf(kefu.EForbidden, "only the visitor rates a conversation")
	}
	r := kefu.Rating{Score: score, Comment: strings.TrimSpace(comment), RatedAt: kefu.Now()}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.access(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	c, err := s.store.RateConversation(ctx, actor.WorkspaceID, conversationID, r)
	if err != nil {
		return nil, err
	}
	s.publishConversation(ctx, "updated", []string{"rating"}, c)
	return c, nil
}
