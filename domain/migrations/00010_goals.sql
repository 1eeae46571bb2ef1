-- +goose Up
-- Goals are the client's own, in their own words. Every table leads with
-- client_id so a goal, its steps, check-ins and history shard together by
-- client (Citus); lookups by goal id alone use the id indexes.
CREATE TABLE goals (
    client_id          uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    id                 uuid        NOT NULL,
    title              text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description        text                 CHECK (char_length(description) <= 5000),
    why_it_matters     text                 CHECK (char_length(why_it_matters) <= 2000),
    strengths_used     jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(strengths_used) = 'array'),
    category           text                 CHECK (category IN ('housing', 'food', 'health', 'income', 'education',
                                                   'employment', 'family', 'legal', 'safety', 'wellbeing', 'other')),
    priority           text        NOT NULL DEFAULT 'medium' CHECK (priority IN ('high', 'medium', 'low')),
    target_date        date,
    lifecycle_status   text        NOT NULL CHECK (lifecycle_status IN ('proposed', 'planned', 'accepted', 'active',
                                                   'on-hold', 'completed', 'cancelled', 'entered-in-error', 'rejected')),
    achievement_status text                 CHECK (achievement_status IN ('in-progress', 'improving', 'worsening',
                                                   'no-change', 'achieved', 'sustaining', 'not-achieved', 'no-progress',
                                                   'not-attainable')),
    status_reason      text                 CHECK (char_length(status_reason) <= 1000),
    created_by         uuid        NOT NULL REFERENCES people (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    version            bigint      NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, id)
);
-- GET /v1/goals/{goalId} finds the row by id alone (ids are UUIDv7, unique in practice).
CREATE INDEX goals_id_idx ON goals (id);

-- Steps (milestones) in a dense order 1..n per goal. The unique position is
-- deferred so a reorder can shift siblings in one statement.
CREATE TABLE goal_steps (
    client_id  uuid        NOT NULL,
    goal_id    uuid        NOT NULL,
    id         uuid        NOT NULL,
    title      text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    due_date   date,
    done_at    timestamptz,
    position   integer     NOT NULL CHECK (position >= 1),
    created_by uuid        NOT NULL REFERENCES people (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    bigint      NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, id),
    FOREIGN KEY (client_id, goal_id) REFERENCES goals (client_id, id) ON DELETE CASCADE,
    CONSTRAINT goal_steps_position_key UNIQUE (client_id, goal_id, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX goal_steps_id_idx ON goal_steps (id);

-- Check-ins: a self-rating 0-10 with an optional note and mood, attributed to
-- its author. Trend and latest rating read the client's own check-ins only.
CREATE TABLE goal_check_ins (
    client_id        uuid        NOT NULL,
    goal_id          uuid        NOT NULL,
    id               uuid        NOT NULL,
    rating           smallint    NOT NULL CHECK (rating BETWEEN 0 AND 10),
    note             text                 CHECK (char_length(note) <= 2000),
    mood             text                 CHECK (mood IN ('struggling', 'low', 'okay', 'good', 'great')),
    author_person_id uuid        NOT NULL REFERENCES people (id),
    author_role      text        NOT NULL CHECK (author_role IN ('client', 'worker')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, id),
    FOREIGN KEY (client_id, goal_id) REFERENCES goals (client_id, id) ON DELETE CASCADE
);
CREATE INDEX goal_check_ins_goal_idx ON goal_check_ins (client_id, goal_id, id);
-- Serves latest_rating and trend: the newest client check-ins of a goal.
CREATE INDEX goal_check_ins_client_idx ON goal_check_ins (client_id, goal_id, id DESC) INCLUDE (rating)
    WHERE author_role = 'client';

-- Who changed what, when: one row per changed field, written in the same
-- transaction as the change. Values are JSON so any field type fits.
CREATE TABLE goal_history (
    client_id       uuid        NOT NULL,
    id              uuid        NOT NULL,
    goal_id         uuid        NOT NULL,
    actor_person_id uuid        NOT NULL REFERENCES people (id),
    actor_role      text        NOT NULL CHECK (actor_role IN ('client', 'worker', 'admin', 'other')),
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    field           text        NOT NULL CHECK (char_length(field) BETWEEN 1 AND 200),
    old_value       jsonb,
    new_value       jsonb,
    PRIMARY KEY (client_id, id),
    FOREIGN KEY (client_id, goal_id) REFERENCES goals (client_id, id) ON DELETE CASCADE
);
CREATE INDEX goal_history_goal_idx ON goal_history (client_id, goal_id, id);

-- +goose Down
DROP TABLE goal_history;
DROP TABLE goal_check_ins;
DROP TABLE goal_steps;
DROP TABLE goals;
