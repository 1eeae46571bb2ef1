-- +goose Up
-- People are identities from the OIDC provider, keyed by (issuer, subject).
CREATE TABLE people (
    id           uuid PRIMARY KEY,
    issuer       text        NOT NULL,
    subject      text        NOT NULL,
    display_name text        NOT NULL DEFAULT '',
    pronouns     text        NOT NULL DEFAULT '',
    roles        jsonb       NOT NULL DEFAULT '[]',
    version      bigint      NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT people_issuer_subject_key UNIQUE (issuer, subject)
);
CREATE INDEX people_roles_idx ON people USING gin (roles);

-- A client is a person receiving services; the profile is theirs to shape.
CREATE TABLE clients (
    id                  uuid PRIMARY KEY,
    person_id           uuid        NOT NULL REFERENCES people (id),
    strengths           jsonb       NOT NULL DEFAULT '[]',
    interests           jsonb       NOT NULL DEFAULT '[]',
    preferred_language  text        NOT NULL DEFAULT '',
    contact_preferences jsonb       NOT NULL DEFAULT '{}',
    version             bigint      NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT clients_person_id_key UNIQUE (person_id)
);

-- Workers on a client's care team; the primary key leads with client_id so it
-- shards with the client, the second index serves "my caseload".
CREATE TABLE care_team_members (
    client_id uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    person_id uuid        NOT NULL REFERENCES people (id),
    team_role text        NOT NULL DEFAULT '',
    added_by  uuid        NOT NULL REFERENCES people (id),
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, person_id)
);
CREATE INDEX care_team_members_person_idx ON care_team_members (person_id, client_id);

-- Every read or write of a client's record by someone other than that client.
CREATE TABLE access_log (
    client_id       uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    id              uuid        NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_person_id uuid        NOT NULL REFERENCES people (id),
    app_id          text        NOT NULL DEFAULT '',
    action          text        NOT NULL CHECK (action IN ('read', 'write')),
    resource        text        NOT NULL,
    resource_id     text        NOT NULL DEFAULT '',
    PRIMARY KEY (client_id, id)
);

-- The development issuer's signing key, shared by `waypoint serve --dev` and
-- `waypoint dev token`. Never used outside dev mode.
CREATE TABLE dev_signing_keys (
    id         smallint PRIMARY KEY CHECK (id = 1),
    pem        text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE dev_signing_keys;
DROP TABLE access_log;
DROP TABLE care_team_members;
DROP TABLE clients;
DROP TABLE people;
