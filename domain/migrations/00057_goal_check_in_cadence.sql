-- +goose Up
-- A goal's check-in cadence, chosen by the client (ISO 8601 duration such as
-- P7D, P2W or P1M; null: none). check_in_since is when the cadence was set:
-- the first check-in is due a cadence after it, later ones a cadence after
-- the client's last check-in (GET /v1/me/agenda, the reminder scheduler).
ALTER TABLE goals
    ADD COLUMN check_in_every text CHECK (char_length(check_in_every) BETWEEN 3 AND 12),
    ADD COLUMN check_in_since timestamptz;

-- The agenda's arms: goals with a cadence, open steps with a due date,
-- referrals still waiting on someone (follow-up 14 days after the last change).
CREATE INDEX goals_check_in_idx ON goals (client_id) WHERE check_in_every IS NOT NULL;
CREATE INDEX goal_steps_open_due_idx ON goal_steps (due_date, client_id) WHERE due_date IS NOT NULL AND done_at IS NULL;
CREATE INDEX referrals_open_updated_idx ON referrals (updated_at, client_id)
    WHERE status IN ('sent', 'acknowledged', 'accepted');

-- +goose Down
DROP INDEX referrals_open_updated_idx;
DROP INDEX goal_steps_open_due_idx;
DROP INDEX goals_check_in_idx;
ALTER TABLE goals DROP COLUMN check_in_since, DROP COLUMN check_in_every;
