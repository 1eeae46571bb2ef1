-- +goose Up
-- Secure messaging between a client and workers of their care team. Every
-- table leads with client_id so that a conversation and its messages live
-- together when sharded by client.
CREATE TABLE conversations (
    client_id       uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    id              uuid        NOT NULL,
    subject         text        NOT NULL DEFAULT '' CHECK (char_length(subject) <= 200),
    -- Optional link to a goal or referral. Those tables are owned elsewhere,
    -- so the link is a kind and an id without a foreign key.
    link_kind       text        CHECK (link_kind IN ('goal', 'referral')),
    link_id         uuid,
    created_by      uuid        NOT NULL REFERENCES people (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_id uuid,
    -- Sort key for "newest activity first": the last message's id, or the
    -- conversation's own id before any message. Both are UUIDv7, so it is
    -- unique and time-ordered, and a cursor on it never skips or repeats.
    activity_id     uuid        NOT NULL,
    PRIMARY KEY (client_id, id),
    CHECK ((link_kind IS NULL) = (link_id IS NULL))
);
CREATE INDEX conversations_id_idx ON conversations (id);

-- Who takes part. The client is a participant like the workers; each keeps
-- a read marker (the id of the last message they have read).
CREATE TABLE conversation_participants (
    client_id       uuid        NOT NULL,
    conversation_id uuid        NOT NULL,
    person_id       uuid        NOT NULL REFERENCES people (id),
    role            text        NOT NULL CHECK (role IN ('client', 'worker')),
    read_up_to      uuid,
    read_at         timestamptz,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, conversation_id, person_id),
    FOREIGN KEY (client_id, conversation_id) REFERENCES conversations (client_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_participants_person_idx ON conversation_participants (person_id, client_id, conversation_id);

-- Messages are ordered by id (UUIDv7). Ids are assigned while the
-- conversation row is locked and always above the previous message's id, so
-- id order is commit order within a conversation.
CREATE TABLE messages (
    client_id         uuid        NOT NULL,
    conversation_id   uuid        NOT NULL,
    id                uuid        NOT NULL,
    sender_id         uuid        NOT NULL REFERENCES people (id),
    body              text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    -- Idempotency-Key claim this message was created under; a request re-run
    -- after a crash between commit and storing the response finds it here.
    idempotency_token text,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (client_id, conversation_id, id),
    FOREIGN KEY (client_id, conversation_id) REFERENCES conversations (client_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX messages_idempotency_idx ON messages (client_id, conversation_id, sender_id, idempotency_token)
    WHERE idempotency_token IS NOT NULL;

-- +goose Down
DROP TABLE messages;
DROP TABLE conversation_participants;
DROP TABLE conversations;
