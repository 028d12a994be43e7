package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-chat/kefu/internal/kefu"
)

var _ kefu.RatingStore = (*Store)(nil)

// decodeWidget reads an inbox's widget settings; a damaged value reads as
// the defaults rather than making the inbox unreadable.
func decodeWidget(b []byte) kefu.WidgetSettings {
	var w kefu.WidgetSettings
	_ = json.Unmarshal(b, &w)
	w.Normalize()
	return w
}

func widgetJSON(w *kefu.WidgetSettings) ([]byte, error) {
	w.Normalize()
	return json.Marshal(w)
}

// ratingCols are a conversation's rating columns as scanned.
type ratingCols struct {
	score   *int16
	comment string
	at      *time.Time
}

func (r *ratingCols) rating() *kefu.Rating {
	if r.score == nil || r.at == nil {
		return nil
	}
	return &kefu.Rating{Score: int(*r.score), Comment: r.comment, RatedAt: r.at.UTC()}
}

// RateConversation sets the rating of a resolved conversation; the status
// is checked in the statement that writes, so a conversation reopened a
// moment ago is not rated.
func (s *Store) RateConversation(ctx context.Context, workspaceID, conversationID int64, r kefu.Rating) (*kefu.Conversation, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	r.RatedAt = orNow(r.RatedAt)
	c, err := scanConversation(s.pool.QueryRow(ctx, `UPDATE conversations SET rating_score = $3, rating_comment = $4, rated_at = $5
		WHERE workspace_id = $1 AND id = $2 AND status = 'resolved' RETURNING `+conversationColumns,
		workspaceID, conversationID, r.Score, r.Comment, r.RatedAt))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := s.GetConversation(ctx, workspaceID, conversationID); err != nil {
			return nil, err
		}
		return nil, kefu.Errorf(kefu.EConflict, "only a resolved conversation can be rated")
	}
	return c, wrap(err, "conversation")
}
