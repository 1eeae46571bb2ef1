-- +goose Up
-- Group events are keyed by group_id (they shard with the group), not by a
-- client: an event has a client, a group, or both (group.invitation: the
-- invited client, about a group). Recipients are re-checked at delivery
-- against the group's current members and facilitators.
ALTER TABLE events ALTER COLUMN client_id DROP NOT NULL;
ALTER TABLE events ADD COLUMN group_id uuid REFERENCES groups (id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT events_keyed CHECK (client_id IS NOT NULL OR group_id IS NOT NULL);

-- +goose Down
DELETE FROM events WHERE client_id IS NULL;
ALTER TABLE events DROP CONSTRAINT events_keyed;
ALTER TABLE events DROP COLUMN group_id;
ALTER TABLE events ALTER COLUMN client_id SET NOT NULL;
