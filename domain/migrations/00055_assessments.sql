-- +goose Up
-- Self-assessments (issue #15): the client rates fourteen life domains 1-5
-- (1 in crisis ... 5 thriving), says what is going well and marks what to
-- work on. A care-team worker may start one with the client: it stays a
-- draft until the client confirms it. Confirmed assessments are history and
-- never change. Every row carries client_id (DESIGN.md "Scale").
CREATE TABLE assessments (
    client_id    uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    id           uuid        NOT NULL,
    status       text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'confirmed')),
    created_by   uuid        NOT NULL REFERENCES people (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    version      bigint      NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, id),
    CONSTRAINT assessments_confirmed_at CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL))
);
-- GET /v1/assessments/{id} names no client.
CREATE INDEX assessments_id_idx ON assessments (id);
-- The summary reads a client's confirmed assessments in the order they were confirmed.
CREATE INDEX assessments_confirmed_idx ON assessments (client_id, confirmed_at, id) WHERE status = 'confirmed';

-- One rating per domain per assessment. substance_use ratings carry the
-- label sud (42 CFR Part 2 in spirit): visible to the client and the
-- care-team workers they consented to, like sud goals.
CREATE TABLE assessment_ratings (
    client_id     uuid     NOT NULL,
    assessment_id uuid     NOT NULL,
    domain        text     NOT NULL CHECK (domain IN ('housing', 'food', 'income', 'employment', 'education',
        'physical_health', 'mental_health', 'substance_use', 'family_relationships', 'safety', 'legal',
        'transportation', 'childcare', 'community_belonging')),
    rating        smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    priority      boolean  NOT NULL DEFAULT false,
    strengths     text     CHECK (char_length(strengths) <= 1000),
    sensitivity   text     CHECK (sensitivity IN ('sud')),
    PRIMARY KEY (client_id, assessment_id, domain),
    FOREIGN KEY (client_id, assessment_id) REFERENCES assessments (client_id, id) ON DELETE CASCADE,
    CONSTRAINT assessment_ratings_sud CHECK ((domain = 'substance_use') = (sensitivity IS NOT DISTINCT FROM 'sud'))
);

-- +goose Down
DROP TABLE assessment_ratings;
DROP TABLE assessments;
