-- +goose Up
-- A history row keeps the sensitivity label the goal had when it was written
-- (or, for the change of the label itself, the label it had or got). Who may
-- read a row is decided by its own label, so a client who clears a goal's sud
-- label does not disclose to the care team what was written while it was
-- labelled, nor that it was labelled (both are Part 2 information).
ALTER TABLE goal_history ADD COLUMN sensitivity text CHECK (sensitivity IN ('sud'));

-- Rows written before: the label in force at the time, from the goal's own
-- history of label changes (the creation row carries the first label).
UPDATE goal_history h SET sensitivity = COALESCE(
        CASE WHEN h.field = 'sensitivity' THEN COALESCE(h.new_value #>> '{}', h.old_value #>> '{}') END,
        (SELECT s.new_value #>> '{}' FROM goal_history s
            WHERE s.client_id = h.client_id AND s.goal_id = h.goal_id AND s.field = 'sensitivity' AND s.id < h.id
            ORDER BY s.id DESC LIMIT 1),
        (SELECT c.new_value #>> '{sensitivity}' FROM goal_history c
            WHERE c.client_id = h.client_id AND c.goal_id = h.goal_id AND c.field = 'goal'
              AND NOT EXISTS (SELECT 1 FROM goal_history s WHERE s.client_id = h.client_id AND s.goal_id = h.goal_id
                  AND s.field = 'sensitivity' AND s.id < h.id)
            ORDER BY c.id LIMIT 1))
WHERE EXISTS (SELECT 1 FROM goal_history l WHERE l.client_id = h.client_id AND l.goal_id = h.goal_id
    AND (l.field = 'sensitivity' OR (l.field = 'goal' AND l.new_value ->> 'sensitivity' IS NOT NULL)));

-- +goose Down
ALTER TABLE goal_history DROP COLUMN sensitivity;
