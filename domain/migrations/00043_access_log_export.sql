-- +goose Up
-- The access log records a client's download of their own data with action
-- 'export' (GET /v1/clients/{clientId}/export). Migration 00040 (the client's
-- access log) widens the same CHECK to read, write, export and denied; this
-- one only does so where that has not happened yet, so it never narrows what
-- an earlier migration allowed, and a second run changes nothing.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = 'access_log'::regclass AND contype = 'c'
                     AND pg_get_constraintdef(oid) LIKE '%''export''%') THEN
        ALTER TABLE access_log DROP CONSTRAINT IF EXISTS access_log_action_check;
        ALTER TABLE access_log ADD CONSTRAINT access_log_action_check
            CHECK (action IN ('read', 'write', 'export', 'denied'));
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- Nothing: rows with action 'export' may exist by then, and 00040 owns the
-- constraint's wider form.
SELECT 1;
