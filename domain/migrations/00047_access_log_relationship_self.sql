-- +goose Up
-- An entry's relationship says who the actor was to the client. Two cases
-- fell to 'app' and read wrong in the client's log: the client themself (the
-- entry of their own export) and a person with no standing relationship to
-- the client (another worker's or another client's denied attempt). They get
-- their own values; entries already written keep theirs (the log is
-- append-only), so 'app' stays valid for them.
ALTER TABLE access_log DROP CONSTRAINT access_log_relationship_check,
    ADD CONSTRAINT access_log_relationship_check
        CHECK (relationship IN ('self', 'care_team_worker', 'supporter', 'administrator', 'provider', 'no_relationship', 'app'));

-- +goose Down
-- Entries written since keep their values; the narrower check would reject
-- them, so only those written before are checked again.
ALTER TABLE access_log DROP CONSTRAINT access_log_relationship_check,
    ADD CONSTRAINT access_log_relationship_check
        CHECK (relationship IN ('self', 'care_team_worker', 'supporter', 'administrator', 'provider', 'no_relationship', 'app')) NOT VALID;
