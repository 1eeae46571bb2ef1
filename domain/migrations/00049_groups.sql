-- +goose Up
-- Mutual-aid groups (issue #14). Every table is keyed by group_id first, so
-- a group's rows shard together (by group_id); a membership also carries the
-- member's client_id, the one link from a group to a client record.
CREATE TABLE groups (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    purpose    text        NOT NULL DEFAULT '' CHECK (char_length(purpose) <= 2000),
    kind       text        NOT NULL CHECK (kind IN ('support', 'skills', 'education', 'other')),
    schedule   text        NOT NULL DEFAULT '' CHECK (char_length(schedule) <= 200),
    open       boolean     NOT NULL DEFAULT true,
    created_by uuid        NOT NULL REFERENCES people (id),
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Workers who facilitate a group (the creator first; co-facilitators after).
CREATE TABLE group_facilitators (
    group_id  uuid        NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    person_id uuid        NOT NULL REFERENCES people (id),
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, person_id)
);
CREATE INDEX group_facilitators_person_idx ON group_facilitators (person_id);

-- One row per (group, client): the invitation and then the membership. id is
-- the invitation's id. Only 'member' rows see the group's content.
CREATE TABLE group_members (
    group_id          uuid        NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    person_id         uuid        NOT NULL REFERENCES people (id),
    client_id         uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    id                uuid        NOT NULL UNIQUE,
    status            text        NOT NULL CHECK (status IN ('invited', 'declined', 'member', 'left', 'removed')),
    display_name      text        NOT NULL DEFAULT '' CHECK (char_length(display_name) <= 60),
    share_my_progress boolean     NOT NULL DEFAULT false,
    removed_reason    text        NOT NULL DEFAULT '' CHECK (char_length(removed_reason) <= 500),
    invited_by        uuid        NOT NULL REFERENCES people (id),
    joined_at         timestamptz,
    version           bigint      NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, person_id)
);
CREATE INDEX group_members_person_idx ON group_members (person_id, status);

-- +goose Down
DROP TABLE group_members;
DROP TABLE group_facilitators;
DROP TABLE groups;
