-- +goose Up
-- Shared goals, the mutual-aid board and sessions of a group. All keyed by group_id.
CREATE TABLE group_goals (
    group_id    uuid        NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    id          uuid        PRIMARY KEY,
    title       text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    proposed_by uuid        NOT NULL REFERENCES people (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX group_goals_group_idx ON group_goals (group_id, id);

-- A member taking part in a group goal (opted in); linked_goal_id optionally
-- names one of the member's own goals (never shown to anyone else).
CREATE TABLE group_goal_participants (
    group_id       uuid        NOT NULL,
    group_goal_id  uuid        NOT NULL REFERENCES group_goals (id) ON DELETE CASCADE,
    person_id      uuid        NOT NULL REFERENCES people (id),
    linked_goal_id uuid,
    joined_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_goal_id, person_id)
);

CREATE TABLE group_goal_check_ins (
    group_id      uuid        NOT NULL,
    group_goal_id uuid        NOT NULL REFERENCES group_goals (id) ON DELETE CASCADE,
    id            uuid        PRIMARY KEY,
    person_id     uuid        NOT NULL REFERENCES people (id),
    rating        integer     NOT NULL CHECK (rating BETWEEN 0 AND 10),
    note          text        NOT NULL DEFAULT '' CHECK (char_length(note) <= 2000),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX group_goal_check_ins_goal_idx ON group_goal_check_ins (group_goal_id, person_id, id);

CREATE TABLE group_posts (
    group_id      uuid        NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    id            uuid        PRIMARY KEY,
    author_id     uuid        NOT NULL REFERENCES people (id),
    kind          text        NOT NULL CHECK (kind IN ('message', 'offer', 'ask')),
    body          text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    resolved      boolean     NOT NULL DEFAULT false,
    hidden        boolean     NOT NULL DEFAULT false,
    hidden_reason text        NOT NULL DEFAULT '' CHECK (char_length(hidden_reason) <= 500),
    reply_count   integer     NOT NULL DEFAULT 0 CHECK (reply_count BETWEEN 0 AND 100),
    version       bigint      NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX group_posts_group_idx ON group_posts (group_id, id);

CREATE TABLE group_post_replies (
    group_id   uuid        NOT NULL,
    post_id    uuid        NOT NULL REFERENCES group_posts (id) ON DELETE CASCADE,
    id         uuid        PRIMARY KEY,
    author_id  uuid        NOT NULL REFERENCES people (id),
    body       text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX group_post_replies_post_idx ON group_post_replies (post_id, id);

-- A member's report of a post, for the facilitators; one per person and post.
CREATE TABLE group_post_reports (
    group_id   uuid        NOT NULL,
    post_id    uuid        NOT NULL REFERENCES group_posts (id) ON DELETE CASCADE,
    person_id  uuid        NOT NULL REFERENCES people (id),
    reason     text        NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, person_id)
);

CREATE TABLE group_sessions (
    group_id   uuid        NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    id         uuid        PRIMARY KEY,
    starts_at  timestamptz NOT NULL,
    place      text        NOT NULL DEFAULT '' CHECK (char_length(place) <= 200),
    link       text        NOT NULL DEFAULT '' CHECK (char_length(link) <= 2000),
    created_by uuid        NOT NULL REFERENCES people (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX group_sessions_group_idx ON group_sessions (group_id, id);

-- A member's RSVP and, once a facilitator recorded it, their attendance.
CREATE TABLE group_session_people (
    group_id   uuid        NOT NULL,
    session_id uuid        NOT NULL REFERENCES group_sessions (id) ON DELETE CASCADE,
    person_id  uuid        NOT NULL REFERENCES people (id),
    response   text        CHECK (response IN ('yes', 'no', 'maybe')),
    attended   boolean,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, person_id)
);

-- +goose Down
DROP TABLE group_session_people;
DROP TABLE group_sessions;
DROP TABLE group_post_reports;
DROP TABLE group_post_replies;
DROP TABLE group_posts;
DROP TABLE group_goal_check_ins;
DROP TABLE group_goal_participants;
DROP TABLE group_goals;
