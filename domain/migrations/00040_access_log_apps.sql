-- +goose Up
-- The access log becomes the client's to read (issue 11, part 1): every entry
-- carries what a front end needs to say it in plain words, decided when it is
-- written: the actor's relationship to the client, a human label of the
-- record (a goal's title at the time) and the request id. Denied attempts and
-- exports are logged too.
ALTER TABLE access_log
    ADD COLUMN relationship text NOT NULL DEFAULT 'app'
        CONSTRAINT access_log_relationship_check
        CHECK (relationship IN ('care_team_worker', 'supporter', 'administrator', 'provider', 'app')),
    ADD COLUMN label text NOT NULL DEFAULT '',
    ADD COLUMN request_id text NOT NULL DEFAULT '';
ALTER TABLE access_log DROP CONSTRAINT access_log_action_check,
    ADD CONSTRAINT access_log_action_check CHECK (action IN ('read', 'write', 'export', 'denied'));

-- Rows written before: only successful accesses were logged, and only a
-- care-team worker could read or write a client's shared plans, so a worker's
-- entry was a care-team worker's; an administrator's (the client record, the
-- care team) an administrator's. Resource names become one per kind of record.
UPDATE access_log l SET relationship = CASE
        WHEN jsonb_exists(p.roles, 'worker') AND NOT (l.resource = 'care_team' AND l.action = 'write') THEN 'care_team_worker'
        WHEN jsonb_exists(p.roles, 'admin') THEN 'administrator'
        ELSE 'app' END,
    resource = CASE l.resource WHEN 'referrals' THEN 'referral' WHEN 'saved_services' THEN 'saved_service'
        WHEN 'messages' THEN 'conversation' ELSE l.resource END,
    resource_id = CASE WHEN l.resource IN ('referrals', 'saved_services') AND l.action = 'read' THEN '' ELSE l.resource_id END
FROM people p WHERE p.id = l.actor_person_id;
-- From now on the writer decides the relationship (domain.relationshipSQL).
ALTER TABLE access_log ALTER COLUMN relationship DROP DEFAULT;

-- Retention prunes by age; the time filters of the client's view use it too.
CREATE INDEX access_log_at_idx ON access_log (at);

-- Append-only: no UPDATE, DELETE or TRUNCATE, except by the retention pruner,
-- which sets waypoint.prune_access_log for its own transaction only (SET
-- LOCAL). The application owns the table, so grants could not hold it back;
-- a trigger does, whatever code path or injected statement tries. Deleting a
-- client cascades here and fails the same way: no API deletes clients, and an
-- erasure of a client (a deliberate act of a DBA) must set the flag.
-- +goose StatementBegin
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('waypoint.prune_access_log', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'only the retention pruner deletes, with waypoint.prune_access_log set for its transaction';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();

-- The apps (OAuth2 clients, the token's azp or client_id) that acted on a
-- client's data, the client's own requests through an app included, and the
-- client's decision about each (issue 11, part 2). Keyed by client first, so
-- it shards with the client; the partial index finds, at authentication,
-- the clients who revoked an app (usually none: an empty index probe).
CREATE TABLE client_apps (
    client_id     uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    app_id        text        NOT NULL CHECK (app_id <> ''),
    first_used_at timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    scopes_used   text[]      NOT NULL DEFAULT '{}',
    -- Set while the client has revoked the app (only the client can): when.
    revoked_at    timestamptz,
    PRIMARY KEY (client_id, app_id)
);
CREATE INDEX client_apps_revoked_idx ON client_apps (app_id, client_id) WHERE revoked_at IS NOT NULL;

-- +goose Down
DROP TABLE client_apps;
DROP TRIGGER access_log_no_truncate ON access_log;
DROP TRIGGER access_log_append_only ON access_log;
DROP FUNCTION access_log_append_only();
DROP INDEX access_log_at_idx;
DELETE FROM access_log WHERE action NOT IN ('read', 'write');
ALTER TABLE access_log DROP CONSTRAINT access_log_action_check,
    ADD CONSTRAINT access_log_action_check CHECK (action IN ('read', 'write'));
ALTER TABLE access_log DROP COLUMN request_id, DROP COLUMN label, DROP COLUMN relationship;
