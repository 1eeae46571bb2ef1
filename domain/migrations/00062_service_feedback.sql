-- +goose Up
-- Barriers reported on a service by clients and workers (issue #16 part 2):
-- a queue for directory editors. The text is read only by administrators
-- and directory editors (and by the reporting client in their export), never
-- by providers, the public or other clients; the queue never shows who
-- reported it. Each report also counts as an anonymous unmet need.
CREATE TABLE service_feedback (
    id                 uuid        PRIMARY KEY,
    service_id         uuid        NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    -- The referral the barrier was met on, if any (a referral to this
    -- service the reporter can see); its client id completes the key.
    referral_client_id uuid,
    referral_id        uuid,
    kind               text        NOT NULL CHECK (kind IN ('closed_when_listed_open', 'wrong_information', 'language', 'cost',
                                                            'transport', 'eligibility', 'discrimination', 'other')),
    text               text        CHECK (char_length(text) <= 2000),
    reporter_person_id uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    reporter_role      text        NOT NULL CHECK (reporter_role IN ('client', 'worker')),
    -- The reporting client's record, so their export holds what they reported.
    client_id          uuid        REFERENCES clients (id) ON DELETE CASCADE,
    status             text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution_note    text        NOT NULL DEFAULT '' CHECK (char_length(resolution_note) <= 2000),
    resolved_by        uuid        REFERENCES people (id) ON DELETE SET NULL,
    resolved_at        timestamptz,
    version            bigint      NOT NULL DEFAULT 1,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (referral_client_id, referral_id) REFERENCES referrals (client_id, id) ON DELETE SET NULL,
    CHECK ((referral_id IS NULL) = (referral_client_id IS NULL)),
    CHECK ((reporter_role = 'client') = (client_id IS NOT NULL)),
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
-- The queue: newest first, by status; and by service.
CREATE INDEX service_feedback_status_idx ON service_feedback (status, id DESC);
CREATE INDEX service_feedback_service_idx ON service_feedback (service_id, id DESC);
CREATE INDEX service_feedback_client_idx ON service_feedback (client_id, id) WHERE client_id IS NOT NULL;

-- +goose Down
DROP TABLE service_feedback;
