-- +goose Up
-- One row per agenda item that came due, written once (the primary key) by
-- the scheduler, with the agenda.due event in the same transaction.
CREATE TABLE reminders (
    client_id  uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    kind       text        NOT NULL CHECK (kind IN ('step_due', 'check_in_due', 'group_session', 'referral_follow_up')),
    ref_id     uuid        NOT NULL,
    due_at     timestamptz NOT NULL,
    id         uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, kind, ref_id, due_at),
    UNIQUE (client_id, id)
);

-- The idempotency record of one reminder's push to one subscription: created
-- with the reminder (available at once), claimed by moving lease_until into
-- the future in its own commit before the push is sent, marked sent after
-- it. A claim whose lease ran out without sent_at (the sender crashed or the
-- push failed) is taken again; failures push lease_until out (backoff).
CREATE TABLE push_deliveries (
    client_id       uuid        NOT NULL,
    reminder_id     uuid        NOT NULL,
    subscription_id uuid        NOT NULL,
    lease_until     timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    sent_at         timestamptz,
    gave_up_at      timestamptz,
    PRIMARY KEY (client_id, reminder_id, subscription_id),
    FOREIGN KEY (client_id, reminder_id) REFERENCES reminders (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, subscription_id) REFERENCES push_subscriptions (client_id, id) ON DELETE CASCADE
);
CREATE INDEX push_deliveries_pending_idx ON push_deliveries (lease_until) WHERE sent_at IS NULL AND gave_up_at IS NULL;

-- in_quiet_hours: whether at is inside the client's quiet hours, read from
-- their contact preferences (time_zone, quiet_hours.start/end as HH:MM local
-- times; the span may cross midnight). Without quiet_hours: 21:00 to 08:00
-- (no reminder in the night on a shared phone). Without time_zone: UTC.
-- +goose StatementBegin
CREATE FUNCTION waypoint_in_quiet_hours(prefs jsonb, at timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN s < e THEN t >= s AND t < e WHEN s > e THEN t >= s OR t < e ELSE FALSE END
    FROM (SELECT (at AT TIME ZONE COALESCE(prefs ->> 'time_zone', 'UTC'))::time AS t,
                 COALESCE(prefs #>> '{quiet_hours,start}', '21:00')::time AS s,
                 COALESCE(prefs #>> '{quiet_hours,end}', '08:00')::time AS e) q
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION waypoint_in_quiet_hours(jsonb, timestamptz);
DROP TABLE push_deliveries;
DROP TABLE reminders;
