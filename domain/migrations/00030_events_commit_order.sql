-- +goose Up
-- Live delivery needs event positions that follow commit order: a reader that
-- has seen seq N must never later find a committed event below N (that is
-- what makes "seq > Last-Event-ID" a complete replay). An identity value is
-- taken at INSERT time, and two transactions can commit in the other order.
-- So seq is now assigned by a deferred trigger at COMMIT, under a transaction
-- advisory lock that is held until the commit is visible. NOTIFY already
-- serialises committing notifiers the same way (a global lock held through
-- commit), so the lock adds no new bottleneck, and it is taken after all of
-- the transaction's own work, so it cannot take part in a deadlock.
-- Rows with seq NULL are pending inside an uncommitted transaction; nobody
-- else can see them.
ALTER TABLE events ALTER COLUMN seq DROP IDENTITY;
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ALTER COLUMN seq DROP NOT NULL;
ALTER TABLE events DROP CONSTRAINT events_id_key, ADD CONSTRAINT events_pkey PRIMARY KEY (id);
CREATE SEQUENCE events_seq AS bigint OWNED BY events.seq;
SELECT setval('events_seq', COALESCE((SELECT max(seq) FROM events), 0) + 1, false);
CREATE UNIQUE INDEX events_seq_key ON events (seq);

-- +goose StatementBegin
CREATE FUNCTION events_assign_seq() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
BEGIN
    -- 7263100001: this lock's fixed key; released when the commit completes.
    PERFORM pg_advisory_xact_lock(7263100001);
    s := nextval('events_seq');
    UPDATE events SET seq = s WHERE id = NEW.id;
    -- Payload is only the position; listeners read the row from the outbox.
    PERFORM pg_notify('waypoint_events', s::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER events_assign_seq AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION events_assign_seq();

-- +goose Down
DROP TRIGGER events_assign_seq ON events;
DROP FUNCTION events_assign_seq();
DELETE FROM events WHERE seq IS NULL;
DROP INDEX events_seq_key;
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD CONSTRAINT events_id_key UNIQUE (id);
ALTER TABLE events ALTER COLUMN seq SET NOT NULL;
ALTER TABLE events ADD PRIMARY KEY (seq);
DROP SEQUENCE events_seq;
ALTER TABLE events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
