-- +goose Up
-- A client's browsers that accept Web Push (RFC 8030): the PushSubscription
-- as the browser gave it. p256dh is the browser's P-256 public key
-- (uncompressed point, 65 bytes), auth its 16-byte authentication secret.
CREATE TABLE push_subscriptions (
    client_id  uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    id         uuid        NOT NULL,
    endpoint   text        NOT NULL CHECK (char_length(endpoint) BETWEEN 9 AND 2048),
    p256dh     bytea       NOT NULL CHECK (octet_length(p256dh) = 65),
    auth       bytea       NOT NULL CHECK (octet_length(auth) = 16),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, id),
    UNIQUE (client_id, endpoint)
);
CREATE INDEX push_subscriptions_id_idx ON push_subscriptions (id);

-- The VAPID key pair (RFC 8292) dev mode generated; production configures
-- its pair in the environment and never stores it here.
CREATE TABLE vapid_keys (
    singleton   boolean     PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    public_key  text        NOT NULL,
    private_key text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE vapid_keys;
DROP TABLE push_subscriptions;
