-- +goose Up
-- Private and sensitive records (issue #11, part 4). A goal is shared with
-- the care team (the default) or private: the client's alone. Goals and
-- conversations may carry a sensitivity label; "sud" (substance use
-- treatment, 42 CFR Part 2 in spirit) records are visible to the client and
-- only to the care-team workers the client consented to for that label.
-- Adding a column with a constant default rewrites nothing.
ALTER TABLE goals
    ADD COLUMN visibility  text NOT NULL DEFAULT 'care_team' CHECK (visibility IN ('care_team', 'private')),
    ADD COLUMN sensitivity text CHECK (sensitivity IN ('sud'));
ALTER TABLE conversations
    ADD COLUMN sensitivity text CHECK (sensitivity IN ('sud'));

-- The client's consents: person may see the client's records labelled
-- label while on the client's care team. Withdrawing deletes the row; every
-- visibility check reads this table, so it takes effect at once.
CREATE TABLE sensitivity_consents (
    client_id  uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    label      text        NOT NULL CHECK (label IN ('sud')),
    person_id  uuid        NOT NULL REFERENCES people (id),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, label, person_id)
);

-- +goose Down
DROP TABLE sensitivity_consents;
ALTER TABLE conversations DROP COLUMN sensitivity;
ALTER TABLE goals DROP COLUMN sensitivity, DROP COLUMN visibility;
