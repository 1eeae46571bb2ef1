-- +goose Up
-- Outbox of events for live delivery (SSE). Written in the same transaction
-- as the change it reports; recipients are resolved at write time, so a worker
-- who leaves the care team stops receiving the client's events.
CREATE TABLE events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         uuid        NOT NULL UNIQUE,
    client_id  uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    type       text        NOT NULL,
    subject_id uuid,
    recipients uuid[]      NOT NULL,
    data       jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_recipients_idx ON events USING gin (recipients);
CREATE INDEX events_created_at_idx ON events (created_at);

-- Idempotency keys for creating POSTs, scoped per person. A finished request
-- keeps its response for 24 hours so a retry replays it byte for byte.
CREATE TABLE idempotency_keys (
    person_id    uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    state        text        NOT NULL CHECK (state IN ('running', 'done')),
    status       integer,
    headers      jsonb,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz NOT NULL,
    PRIMARY KEY (person_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE events;
