-- +goose Up
-- A goal PATCH is one statement (issue #12): the conditional update, its
-- history, event, access log and app use as data-modifying WITH clauses.
-- A patch that turns out to change nothing must leave no trace (no new
-- version, no event), and a statement cannot roll itself back, so it calls
-- this guard with the number of changed fields: zero aborts the whole
-- statement with SQLSTATE WP001, which the domain reads as "no change".
-- +goose StatementBegin
CREATE FUNCTION waypoint_changed(n bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'the change changes nothing' USING ERRCODE = 'WP001';
    END IF;
    RETURN n;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION waypoint_changed(bigint);
