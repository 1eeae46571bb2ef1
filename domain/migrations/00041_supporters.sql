-- +goose Up
-- Supporters: people a client chooses (family, friends, peer advocates) who
-- may read what the client shares with them. Not a role: a grant per
-- (client, person), with the shares the client picked.

-- An invitation is a one-time code the client hands to the person they
-- invite. Only the code's SHA-256 is stored: the code is 60 random bits, so a
-- slow hash would add nothing an attacker with the table could not outwait
-- within the 7 days a code lives, and an unsalted hash lets a redemption find
-- its row by an index. used_at/used_by record the one redemption.
CREATE TABLE supporter_invitations (
    client_id         uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    id                uuid        NOT NULL,
    code_hash         bytea       NOT NULL CHECK (octet_length(code_hash) = 32),
    shares            text[]      NOT NULL
        CHECK (cardinality(shares) BETWEEN 1 AND 4 AND shares <@ ARRAY['goals', 'referrals', 'saved_services', 'assessments']),
    access_expires_at timestamptz,
    expires_at        timestamptz NOT NULL,
    created_by        uuid        NOT NULL REFERENCES people (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    used_at           timestamptz,
    used_by           uuid        REFERENCES people (id) ON DELETE SET NULL,
    PRIMARY KEY (client_id, id)
);
-- A redemption knows the code, not the client: the hash is the lookup key.
CREATE UNIQUE INDEX supporter_invitations_code_idx ON supporter_invitations (code_hash);

-- The grants. The primary key leads with client_id (it shards with the
-- client); the second index serves "whom do I support" (/v1/me) and the
-- visibility check, which looks a grant up by (client, person).
CREATE TABLE supporters (
    client_id         uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    person_id         uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- UUIDv7 of the grant: the list's order and cursor.
    id                uuid        NOT NULL,
    shares            text[]      NOT NULL
        CHECK (cardinality(shares) BETWEEN 1 AND 4 AND shares <@ ARRAY['goals', 'referrals', 'saved_services', 'assessments']),
    access_expires_at timestamptz,
    invitation_id     uuid        NOT NULL,
    added_at          timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           bigint      NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, person_id)
);
CREATE INDEX supporters_person_idx ON supporters (person_id, client_id);
CREATE UNIQUE INDEX supporters_list_idx ON supporters (client_id, id);

-- Redemption attempts per person in the current window, so guessing codes
-- is slow even for a person with a valid login (see domain.MaxRedeemAttempts).
CREATE TABLE supporter_redeem_attempts (
    person_id    uuid        PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    attempts     integer     NOT NULL
);

-- +goose Down
DROP TABLE supporter_redeem_attempts;
DROP TABLE supporters;
DROP TABLE supporter_invitations;
