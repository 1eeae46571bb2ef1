-- +goose Up
-- A client's bookmarks of directory services. Membership is the primary key
-- (client, service), so saving twice is one row; id (UUIDv7) orders the list.
CREATE TABLE saved_services (
    client_id  uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    service_id uuid        NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    id         uuid        NOT NULL,
    saved_by   uuid        NOT NULL REFERENCES people (id),
    saved_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, service_id)
);
CREATE INDEX saved_services_list_idx ON saved_services (client_id, id);
CREATE INDEX saved_services_service_idx ON saved_services (service_id);

-- A referral of a client to a service, optionally for one of the client's
-- goals. The status follows the table in domain/referrals.go; every change is
-- a row of referral_status_history. A service with referrals cannot be
-- deleted (the client's history needs it); a goal can go, leaving the
-- referral unlinked.
CREATE TABLE referrals (
    client_id  uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    id         uuid        NOT NULL,
    service_id uuid        NOT NULL REFERENCES services (id) ON DELETE RESTRICT,
    goal_id    uuid,
    status     text        NOT NULL CHECK (status IN ('sent', 'acknowledged', 'accepted', 'declined', 'completed', 'cancelled')),
    note       text        NOT NULL DEFAULT '' CHECK (char_length(note) <= 2000),
    created_by uuid        NOT NULL REFERENCES people (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    bigint      NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, id),
    FOREIGN KEY (client_id, goal_id) REFERENCES goals (client_id, id) ON DELETE SET NULL (goal_id)
);
CREATE INDEX referrals_id_idx ON referrals (id);
CREATE INDEX referrals_service_idx ON referrals (service_id);
CREATE INDEX referrals_goal_idx ON referrals (client_id, goal_id) WHERE goal_id IS NOT NULL;

-- Who moved a referral to which status, when. from_status is NULL for the
-- row that records the referral being made.
CREATE TABLE referral_status_history (
    client_id   uuid        NOT NULL,
    id          uuid        NOT NULL,
    referral_id uuid        NOT NULL,
    from_status text,
    to_status   text        NOT NULL,
    changed_by  uuid        NOT NULL REFERENCES people (id),
    actor_role  text        NOT NULL CHECK (actor_role IN ('client', 'worker', 'admin', 'other')),
    changed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (client_id, id),
    FOREIGN KEY (client_id, referral_id) REFERENCES referrals (client_id, id) ON DELETE CASCADE
);
CREATE INDEX referral_status_history_referral_idx ON referral_status_history (client_id, referral_id, id);

-- +goose Down
DROP TABLE referral_status_history;
DROP TABLE referrals;
DROP TABLE saved_services;
