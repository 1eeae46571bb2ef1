-- +goose Up
-- Writers no longer position events at commit. The trigger of 00030 took one
-- advisory lock per committing transaction and held it through the commit,
-- so every write that emitted an event queued behind every other one (about
-- 88 % of backends waited on it under PATCH load), and its NOTIFY took
-- PostgreSQL's global notify lock at commit as well.
-- Now a writer only inserts its event with seq NULL. After commit a
-- positioner (Store.PositionEvents, one loop per process) gives committed
-- events their positions in batches, in transactions serialised by their own
-- advisory lock, and notifies once per batch. Readers only see positioned
-- rows, and a batch is committed before the next one takes its numbers, so
-- seq still grows in the order positions become visible: a reader that has
-- seen N never later finds a committed position below N.
DROP TRIGGER events_assign_seq ON events;
DROP FUNCTION events_assign_seq();
-- The positioner's queue: committed rows still waiting for a position.
CREATE INDEX events_unpositioned_idx ON events (id) WHERE seq IS NULL;

-- +goose Down
DROP INDEX events_unpositioned_idx;
-- Position whatever is waiting, in id order, before the trigger returns.
UPDATE events SET seq = p.seq FROM (SELECT id, nextval('events_seq') AS seq
	FROM (SELECT id FROM events WHERE seq IS NULL ORDER BY id) o) p WHERE events.id = p.id;
-- +goose StatementBegin
CREATE FUNCTION events_assign_seq() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7263100001);
    s := nextval('events_seq');
    UPDATE events SET seq = s WHERE id = NEW.id;
    PERFORM pg_notify('waypoint_events', s::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER events_assign_seq AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION events_assign_seq();
