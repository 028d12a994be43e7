package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/kefu-chat/kefu/internal/kefu"
)

var _ kefu.RatingStore = (*Store)(nil)

// decodeWidget reads an inbox's widget settings; a damaged value reads as
// the defaults rather than making the inbox unreadable.
func decodeWidget(s string) kefu.WidgetSettings {
	var w kefu.WidgetSettings
	_ = json.Unmarshal([]byte(s), &w)
	w.Normalize()
	return w
}

// ratingCols are a conversation's rating columns as scanned.
type ratingCols struct {
	score   sql.NullInt64
	comment string
	at      sql.NullInt64
}

func (r *ratingCols) rating() *kefu.Rating {
	if !r.score.Valid || !r.at.Valid {
		return nil
	}
	return &kefu.Rating{Score: int(r.score.Int64), Comment: r.comment, RatedAt: fromMicros(r.at.Int64)}
}

func (s *Store) RateConversation(ctx context.Context, workspaceID, conversationID int64, r kefu.Rating) (*kefu.Conversation, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.RatedAt.IsZero() {
		r.RatedAt = kefu.Now()
	}
	// The status is checked in the same statement that writes, so a
	// conversation reopened a moment ago is not rated.
	c, err := scanConversation(s.wc.QueryRowContext(ctx, `UPDATE conversations SET rating_score = ?, rating_comment = ?, rated_at = ?
		WHERE id = ? AND workspace_id = ? AND status = 'resolved' RETURNING `+convCols,
		r.Score, r.Comment, micros(r.RatedAt), conversationID, workspaceID))
	if err == sql.ErrNoRows {
		if _, err := s.GetConversation(ctx, workspaceID, conversationID); err != nil {
			return nil, err
		}
		return nil, kefu.Errorf(kefu.EConflict, "only a resolved conversation can be rated")
	}
	return c, mapErr(err, "conversation")
}
