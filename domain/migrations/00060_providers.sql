-- +goose Up
-- Providers: staff of a directory organization (role provider) see the
-- referrals to their organization's services, only the fields the client
-- shared, and move their status (issue #16).
CREATE TABLE organization_staff (
    organization_id uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    person_id       uuid        NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    added_by        uuid        NOT NULL REFERENCES people (id),
    added_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, person_id)
);
CREATE INDEX organization_staff_person_idx ON organization_staff (person_id, organization_id);

-- What the client lets the provider see, and why a provider declined.
ALTER TABLE referrals
    ADD COLUMN shared_with_provider text[] NOT NULL DEFAULT '{name,contact}'
        CONSTRAINT referrals_shared_with_provider_check
        CHECK (shared_with_provider <@ ARRAY['name', 'contact', 'note', 'goal_title', 'preferred_language']::text[]),
    ADD COLUMN decline_reason text
        CONSTRAINT referrals_decline_reason_check
        CHECK (decline_reason IN ('capacity', 'eligibility', 'unreachable', 'client_declined', 'other')),
    DROP CONSTRAINT referrals_status_check,
    ADD CONSTRAINT referrals_status_check
        CHECK (status IN ('sent', 'acknowledged', 'accepted', 'in_progress', 'declined', 'completed', 'cancelled'));
CREATE INDEX referrals_service_list_idx ON referrals (service_id, id);

ALTER TABLE referral_status_history
    DROP CONSTRAINT referral_status_history_actor_role_check,
    ADD CONSTRAINT referral_status_history_actor_role_check
        CHECK (actor_role IN ('client', 'worker', 'admin', 'provider', 'other'));
-- A provider's status move reaches the linked goal's history too.
ALTER TABLE goal_history
    DROP CONSTRAINT goal_history_actor_role_check,
    ADD CONSTRAINT goal_history_actor_role_check
        CHECK (actor_role IN ('client', 'worker', 'admin', 'provider', 'other'));

-- +goose Down
ALTER TABLE goal_history
    DROP CONSTRAINT goal_history_actor_role_check,
    ADD CONSTRAINT goal_history_actor_role_check
        CHECK (actor_role IN ('client', 'worker', 'admin', 'other')) NOT VALID;
ALTER TABLE referral_status_history
    DROP CONSTRAINT referral_status_history_actor_role_check,
    ADD CONSTRAINT referral_status_history_actor_role_check
        CHECK (actor_role IN ('client', 'worker', 'admin', 'other')) NOT VALID;
DROP INDEX referrals_service_list_idx;
ALTER TABLE referrals
    DROP CONSTRAINT referrals_status_check,
    ADD CONSTRAINT referrals_status_check
        CHECK (status IN ('sent', 'acknowledged', 'accepted', 'declined', 'completed', 'cancelled')) NOT VALID,
    DROP COLUMN decline_reason,
    DROP COLUMN shared_with_provider;
DROP TABLE organization_staff;
