-- Widget customisation per inbox (kefu.WidgetSettings as JSON) and the
-- visitor's satisfaction rating on a conversation.
ALTER TABLE inboxes ADD COLUMN widget TEXT NOT NULL DEFAULT '{}';
ALTER TABLE conversations ADD COLUMN rating_score INTEGER CHECK (rating_score BETWEEN 1 AND 5);
ALTER TABLE conversations ADD COLUMN rating_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN rated_at INTEGER;
