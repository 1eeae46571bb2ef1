-- +goose Up
-- Unmet needs and barriers (issue #16 parts 2 and 3): anonymous at collection.
--
-- One row says "one person, in this ISO week, needed <taxonomy term> in
-- <geohash-5 cell> in <language> and did not get it (<source>, <reason>)".
-- There is no person id, no exact point and no free text. person_mark only
-- lets publication count distinct people per cell within one week: it is
-- HMAC-SHA256(week key, person id) cut to 16 bytes, with a random key per ISO
-- week (insight_week_keys). Keys are deleted once their week is over (plus a
-- grace period), after which nobody, not even someone holding the database,
-- can tie a mark to a person, and marks of different weeks never link.
CREATE TABLE insight_week_keys (
    week       date        PRIMARY KEY CHECK (extract(isodow FROM week) = 1),
    key        bytea       NOT NULL CHECK (octet_length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE unmet_needs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- search: a directory search found nothing; declined_referral: a provider
    -- or worker declined a referral (reason = decline_reason); barrier: a
    -- client or worker reported a barrier on a service (reason = feedback kind).
    source        text  NOT NULL CHECK (source IN ('search', 'declined_referral', 'barrier')),
    -- Monday of the ISO week (UTC) the need was seen in.
    week          date  NOT NULL CHECK (extract(isodow FROM week) = 1),
    -- A taxonomy term's id (not a foreign key: a term deleted later must not
    -- rewrite history); NULL when the need had no recognisable category.
    taxonomy_term uuid,
    -- Geohash of precision 5 (about 5 km); NULL when there was no point.
    area          text  CHECK (area ~ '^[0-9b-hjkmnp-z]{5}$'),
    -- BCP 47 primary language subtag, lower case; NULL when unknown.
    language      text  CHECK (language ~ '^[a-z]{2,3}$'),
    -- decline_reason for declined_referral, feedback kind for barrier, NULL for search.
    reason        text  CHECK (reason ~ '^[a-z_]{1,40}$'),
    person_mark   bytea NOT NULL CHECK (octet_length(person_mark) = 16),
    CONSTRAINT unmet_needs_reason_source CHECK ((source = 'search') = (reason IS NULL)),
    -- A person counts once per cell and week, however often they searched.
    CONSTRAINT unmet_needs_once UNIQUE NULLS NOT DISTINCT (source, week, taxonomy_term, area, language, reason, person_mark)
);
CREATE INDEX unmet_needs_week_idx ON unmet_needs (week, taxonomy_term, area);

-- +goose Down
DROP TABLE unmet_needs;
DROP TABLE insight_week_keys;
