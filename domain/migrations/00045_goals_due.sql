-- +goose Up
-- "My clients with goals due this week" (GET /v1/clients?goal_due_from&goal_due_to):
-- for each client of the caseload, one probe of the client's goals by target
-- date. Goals without a target date are never due, so they stay out of it.
CREATE INDEX goals_due_idx ON goals (client_id, target_date) WHERE target_date IS NOT NULL;

-- +goose Down
DROP INDEX goals_due_idx;
