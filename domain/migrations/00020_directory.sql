-- +goose Up
-- The resource directory: Open Referral HSDS 3.0 core objects. Column names
-- are HSDS member names. Objects that SQL filters on (schedules, languages,
-- taxonomy links) are rows; sub-objects only ever read with their owner
-- (phones, addresses, accessibility, cost options, contacts, funding, ...)
-- are jsonb documents on the owner, validated by the application on the way in.
-- Cross-feed references that HSDS feeds often leave dangling (a term's
-- parent_id, an organization's parent) are kept without a foreign key.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

CREATE TABLE taxonomies (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL CHECK (name <> ''),
    description text        NOT NULL DEFAULT '',
    uri         text        NOT NULL DEFAULT '',
    version     text        NOT NULL DEFAULT '',
    metadata    jsonb       NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE taxonomy_terms (
    id          uuid PRIMARY KEY,
    code        text        NOT NULL DEFAULT '',
    name        text        NOT NULL CHECK (name <> ''),
    description text        NOT NULL DEFAULT '',
    parent_id   uuid CHECK (parent_id <> id),
    taxonomy    text        NOT NULL DEFAULT '',
    taxonomy_id uuid REFERENCES taxonomies (id) ON DELETE SET NULL,
    language    text        NOT NULL DEFAULT '',
    term_uri    text        NOT NULL DEFAULT '',
    metadata    jsonb       NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX taxonomy_terms_parent_idx ON taxonomy_terms (parent_id, name);
CREATE INDEX taxonomy_terms_taxonomy_idx ON taxonomy_terms (taxonomy_id);

CREATE TABLE organizations (
    id                       uuid PRIMARY KEY,
    name                     text        NOT NULL CHECK (name <> ''),
    alternate_name           text        NOT NULL DEFAULT '',
    description              text        NOT NULL DEFAULT '',
    email                    text        NOT NULL DEFAULT '',
    website                  text        NOT NULL DEFAULT '',
    tax_status               text        NOT NULL DEFAULT '',
    tax_id                   text        NOT NULL DEFAULT '',
    year_incorporated        numeric,
    legal_status             text        NOT NULL DEFAULT '',
    logo                     text        NOT NULL DEFAULT '',
    uri                      text        NOT NULL DEFAULT '',
    parent_organization_id   uuid,
    funding                  jsonb       NOT NULL DEFAULT '[]',
    contacts                 jsonb       NOT NULL DEFAULT '[]',
    phones                   jsonb       NOT NULL DEFAULT '[]',
    programs                 jsonb       NOT NULL DEFAULT '[]',
    organization_identifiers jsonb       NOT NULL DEFAULT '[]',
    attributes               jsonb       NOT NULL DEFAULT '[]',
    metadata                 jsonb       NOT NULL DEFAULT '[]',
    version                  bigint      NOT NULL DEFAULT 1,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- timezone is a Waypoint extension: the IANA zone of the place, used to
-- evaluate opening hours ("open now") in local time. Coordinates are kept as
-- published (HSDS examples carry impossible ones); only valid ones are searchable.
CREATE TABLE locations (
    id                       uuid PRIMARY KEY,
    location_type            text        NOT NULL CHECK (location_type IN ('physical', 'postal', 'virtual')),
    url                      text        NOT NULL DEFAULT '',
    organization_id          uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    name                     text        NOT NULL DEFAULT '',
    alternate_name           text        NOT NULL DEFAULT '',
    description              text        NOT NULL DEFAULT '',
    transportation           text        NOT NULL DEFAULT '',
    latitude                 double precision,
    longitude                double precision,
    external_identifier      text        NOT NULL DEFAULT '',
    external_identifier_type text        NOT NULL DEFAULT '',
    timezone                 text        NOT NULL DEFAULT '',
    addresses                jsonb       NOT NULL DEFAULT '[]',
    contacts                 jsonb       NOT NULL DEFAULT '[]',
    accessibility            jsonb       NOT NULL DEFAULT '[]',
    phones                   jsonb       NOT NULL DEFAULT '[]',
    attributes               jsonb       NOT NULL DEFAULT '[]',
    metadata                 jsonb       NOT NULL DEFAULT '[]',
    version                  bigint      NOT NULL DEFAULT 1,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
CREATE INDEX locations_organization_idx ON locations (organization_id);

CREATE TABLE services (
    id                      uuid PRIMARY KEY,
    organization_id         uuid        NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    program_id              uuid,
    program                 jsonb,
    name                    text        NOT NULL CHECK (name <> ''),
    alternate_name          text        NOT NULL DEFAULT '',
    description             text        NOT NULL DEFAULT '',
    url                     text        NOT NULL DEFAULT '',
    email                   text        NOT NULL DEFAULT '',
    status                  text        NOT NULL CHECK (status IN ('active', 'inactive', 'defunct', 'temporarily closed')),
    interpretation_services text        NOT NULL DEFAULT '',
    application_process     text        NOT NULL DEFAULT '',
    fees_description        text        NOT NULL DEFAULT '',
    wait_time               text        NOT NULL DEFAULT '',
    fees                    text        NOT NULL DEFAULT '',
    accreditations          text        NOT NULL DEFAULT '',
    eligibility_description text        NOT NULL DEFAULT '',
    minimum_age             numeric CHECK (minimum_age >= 0),
    maximum_age             numeric CHECK (maximum_age >= 0),
    assured_date            text        NOT NULL DEFAULT '',
    assurer_email           text        NOT NULL DEFAULT '',
    licenses                text        NOT NULL DEFAULT '',
    alert                   text        NOT NULL DEFAULT '',
    last_modified           timestamptz NOT NULL DEFAULT now(),
    phones                  jsonb       NOT NULL DEFAULT '[]',
    service_areas           jsonb       NOT NULL DEFAULT '[]',
    funding                 jsonb       NOT NULL DEFAULT '[]',
    cost_options            jsonb       NOT NULL DEFAULT '[]',
    required_documents      jsonb       NOT NULL DEFAULT '[]',
    contacts                jsonb       NOT NULL DEFAULT '[]',
    metadata                jsonb       NOT NULL DEFAULT '[]',
    version                 bigint      NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (minimum_age IS NULL OR maximum_age IS NULL OR minimum_age <= maximum_age)
);
CREATE INDEX services_organization_idx ON services (organization_id, name);

CREATE TABLE service_at_locations (
    id          uuid PRIMARY KEY,
    service_id  uuid        NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    location_id uuid        NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    position    integer     NOT NULL,
    description text        NOT NULL DEFAULT '',
    contacts    jsonb       NOT NULL DEFAULT '[]',
    phones      jsonb       NOT NULL DEFAULT '[]',
    attributes  jsonb       NOT NULL DEFAULT '[]',
    metadata    jsonb       NOT NULL DEFAULT '[]',
    CONSTRAINT service_at_locations_service_location_key UNIQUE (service_id, location_id)
);
CREATE INDEX service_at_locations_location_idx ON service_at_locations (location_id);

-- Schedules belong to exactly one of a service, a location or a service at a
-- location. HSDS ids are kept, but feeds reuse them across owners, so rows are
-- keyed by owner and position. Times are local to the place.
CREATE TABLE schedules (
    pk                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id             uuid REFERENCES services (id) ON DELETE CASCADE,
    location_id            uuid REFERENCES locations (id) ON DELETE CASCADE,
    service_at_location_id uuid REFERENCES service_at_locations (id) ON DELETE CASCADE,
    position               integer     NOT NULL,
    id                     uuid        NOT NULL,
    valid_from             text        NOT NULL DEFAULT '',
    valid_to               text        NOT NULL DEFAULT '',
    dtstart                text        NOT NULL DEFAULT '',
    timezone               numeric CHECK (timezone BETWEEN -14 AND 14),
    until                  text        NOT NULL DEFAULT '',
    count                  numeric,
    wkst                   text        NOT NULL DEFAULT '' CHECK (wkst IN ('', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')),
    freq                   text        NOT NULL DEFAULT '' CHECK (freq IN ('', 'WEEKLY', 'MONTHLY')),
    "interval"             numeric,
    byday                  text        NOT NULL DEFAULT '',
    byweekno               text        NOT NULL DEFAULT '',
    bymonthday             text        NOT NULL DEFAULT '',
    byyearday              text        NOT NULL DEFAULT '',
    description            text        NOT NULL DEFAULT '',
    opens_at               time,
    closes_at              time,
    schedule_link          text        NOT NULL DEFAULT '',
    attending_type         text        NOT NULL DEFAULT '',
    notes                  text        NOT NULL DEFAULT '',
    attributes             jsonb       NOT NULL DEFAULT '[]',
    metadata               jsonb       NOT NULL DEFAULT '[]',
    CHECK (num_nonnulls(service_id, location_id, service_at_location_id) = 1)
);
CREATE INDEX schedules_service_idx ON schedules (service_id, position) WHERE service_id IS NOT NULL;
CREATE INDEX schedules_location_idx ON schedules (location_id, position) WHERE location_id IS NOT NULL;
CREATE INDEX schedules_sal_idx ON schedules (service_at_location_id, position) WHERE service_at_location_id IS NOT NULL;

-- Languages a service or location offers (phone languages stay on the phone).
CREATE TABLE languages (
    pk          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id  uuid REFERENCES services (id) ON DELETE CASCADE,
    location_id uuid REFERENCES locations (id) ON DELETE CASCADE,
    position    integer     NOT NULL,
    id          uuid        NOT NULL,
    name        text        NOT NULL DEFAULT '',
    code        text        NOT NULL DEFAULT '',
    note        text        NOT NULL DEFAULT '',
    attributes  jsonb       NOT NULL DEFAULT '[]',
    metadata    jsonb       NOT NULL DEFAULT '[]',
    CHECK (num_nonnulls(service_id, location_id) = 1)
);
CREATE INDEX languages_service_idx ON languages (service_id, position) WHERE service_id IS NOT NULL;
CREATE INDEX languages_location_idx ON languages (location_id, position) WHERE location_id IS NOT NULL;

-- HSDS attributes of a service: how services are classified by taxonomy terms.
CREATE TABLE service_attributes (
    pk               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id       uuid        NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    position         integer     NOT NULL,
    id               uuid        NOT NULL,
    taxonomy_term_id uuid REFERENCES taxonomy_terms (id) ON DELETE CASCADE,
    link_type        text        NOT NULL DEFAULT '',
    link_entity      text        NOT NULL DEFAULT '',
    value            text        NOT NULL DEFAULT '',
    label            text        NOT NULL DEFAULT '',
    metadata         jsonb       NOT NULL DEFAULT '[]'
);
CREATE INDEX service_attributes_service_idx ON service_attributes (service_id, position);
CREATE INDEX service_attributes_term_idx ON service_attributes (taxonomy_term_id, service_id);

-- Search index, derived from the tables above by directory_refresh() in the
-- transaction that changes them: one row per service, location and schedule
-- validity window (or one row with no location), so every filter is an index
-- on the same table and PostgreSQL can combine them (BitmapAnd) instead of
-- joining many tables. Queries group the rows by service.
--   document: 'english' text search configuration (stemming: "pantries" finds
--     "pantry"); name weighs most, then alternate name, organization and
--     taxonomy terms, then the description.
--   earth: ll_to_earth(latitude, longitude), NULL without valid coordinates.
--   open_week: opening hours as minutes of the week in the place's zone,
--     offset by the zone's number (directory_time_zones.id * 10080), so one
--     "&&" against the current minute in every zone answers "open now";
--     open_slots holds the same hours as hour numbers for a GIN index.
--   hours_valid: the dates the hours apply (HSDS valid_from/valid_to).
CREATE TABLE service_search (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id        uuid           NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    location_id       uuid REFERENCES locations (id) ON DELETE CASCADE,
    organization_id   uuid           NOT NULL,
    status            text           NOT NULL,
    name              text           NOT NULL,
    document          tsvector       NOT NULL,
    earth             cube,
    language_codes    text[]         NOT NULL,
    taxonomy_term_ids uuid[]         NOT NULL,
    ages              numrange       NOT NULL,
    last_modified     timestamptz    NOT NULL,
    timezone          text           NOT NULL,
    hours_valid       daterange      NOT NULL,
    open_week         int4multirange NOT NULL,
    open_slots        integer[]      NOT NULL
);
CREATE INDEX service_search_service_idx ON service_search (service_id);
CREATE INDEX service_search_location_idx ON service_search (location_id);
CREATE INDEX service_search_document_idx ON service_search USING gin (document);
CREATE INDEX service_search_earth_idx ON service_search USING gist (earth);
CREATE INDEX service_search_languages_idx ON service_search USING gin (language_codes);
CREATE INDEX service_search_terms_idx ON service_search USING gin (taxonomy_term_ids);
CREATE INDEX service_search_ages_idx ON service_search USING gist (ages);
CREATE INDEX service_search_organization_idx ON service_search (organization_id);
CREATE INDEX service_search_modified_idx ON service_search (last_modified);
CREATE INDEX service_search_open_idx ON service_search USING gin (open_slots);

-- The time zones opening hours use, numbered for the open_week encoding.
CREATE TABLE directory_time_zones (
    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY CHECK (id < 200000),
    name text NOT NULL UNIQUE
);

-- Every word of the directory, for spelling correction of searches: a query
-- word missing here is replaced by its closest trigram match (pg_trgm).
CREATE TABLE search_words (
    word text PRIMARY KEY
);
CREATE INDEX search_words_trgm_idx ON search_words USING gist (word gist_trgm_ops);

-- hsds_weekdays turns an RFC 5545 weekly rule into ISO weekdays (1 = Monday).
-- Monthly rules (e.g. "first Monday") are not weekly hours and yield none; a
-- weekly schedule without byday applies every day.
-- +goose StatementBegin
CREATE FUNCTION hsds_weekdays(freq text, byday text) RETURNS smallint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN coalesce(freq, '') NOT IN ('', 'WEEKLY') THEN '{}'::smallint[]
        WHEN btrim(coalesce(byday, '')) = '' THEN '{1,2,3,4,5,6,7}'::smallint[]
        ELSE ARRAY(
            SELECT DISTINCT array_position(ARRAY['MO','TU','WE','TH','FR','SA','SU'], upper(btrim(d)))::smallint
            FROM regexp_split_to_table(byday, ',') AS d
            WHERE upper(btrim(d)) IN ('MO','TU','WE','TH','FR','SA','SU')
            ORDER BY 1)
    END
$$;
-- +goose StatementEnd

-- hsds_date reads an HSDS date string, or NULL when it is not one.
-- +goose StatementBegin
CREATE FUNCTION hsds_date(v text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF v !~ '^\d{4}-\d{2}-\d{2}$' THEN
        RETURN NULL;
    END IF;
    RETURN make_date(substr(v, 1, 4)::int, substr(v, 6, 2)::int, substr(v, 9, 2)::int);
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- directory_hours lists the weekly opening hours of the given services at
-- each of their locations (location_id NULL for a service without one). The
-- most specific schedules win: those of the service at that location, else the
-- service's, else the location's. The zone is the location's IANA zone, else
-- the schedule's HSDS UTC offset (whole hours), else UTC.
-- +goose StatementBegin
CREATE FUNCTION directory_hours(service_ids uuid[])
RETURNS TABLE (service_id uuid, location_id uuid, zone text, weekday smallint, opens_at time, closes_at time, valid daterange)
LANGUAGE sql STABLE AS $$
    SELECT b.service_id, b.location_id,
           coalesce(nullif(b.location_zone, ''),
                    CASE WHEN sc.timezone = trunc(sc.timezone) THEN
                        'Etc/GMT' || CASE WHEN sc.timezone > 0 THEN '-' ELSE '+' END || abs(sc.timezone)::int END,
                    'UTC'),
           d.weekday, sc.opens_at, sc.closes_at,
           CASE WHEN hsds_date(sc.valid_from) <= hsds_date(sc.valid_to) OR hsds_date(sc.valid_from) IS NULL OR hsds_date(sc.valid_to) IS NULL
                THEN daterange(hsds_date(sc.valid_from), hsds_date(sc.valid_to), '[]')
                ELSE 'empty'::daterange END
    FROM (SELECT s.id AS service_id, sal.id AS sal_id, sal.location_id, l.timezone AS location_zone
          FROM services s
          LEFT JOIN service_at_locations sal ON sal.service_id = s.id
          LEFT JOIN locations l ON l.id = sal.location_id
          WHERE s.id = ANY (service_ids)) b
    CROSS JOIN LATERAL (
        SELECT x.* FROM schedules x WHERE x.service_at_location_id = b.sal_id
        UNION ALL
        SELECT x.* FROM schedules x WHERE x.service_id = b.service_id
            AND NOT EXISTS (SELECT 1 FROM schedules y WHERE y.service_at_location_id = b.sal_id)
        UNION ALL
        SELECT x.* FROM schedules x WHERE x.location_id = b.location_id
            AND NOT EXISTS (SELECT 1 FROM schedules y WHERE y.service_at_location_id = b.sal_id)
            AND NOT EXISTS (SELECT 1 FROM schedules y WHERE y.service_id = b.service_id)
    ) sc
    CROSS JOIN LATERAL unnest(hsds_weekdays(sc.freq, sc.byday)) AS d(weekday)
    WHERE sc.opens_at IS NOT NULL AND sc.closes_at IS NOT NULL
$$;
-- +goose StatementEnd

-- directory_refresh rebuilds the search rows of the given services; callers
-- run it in the transaction that changed them. It locks the services first,
-- in id order, so concurrent refreshes neither deadlock nor duplicate rows.
-- +goose StatementBegin
CREATE FUNCTION directory_refresh(service_ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM services WHERE id = ANY (service_ids) ORDER BY id FOR UPDATE;
    DELETE FROM service_search WHERE service_id = ANY (service_ids);

    INSERT INTO directory_time_zones (name)
    SELECT DISTINCT h.zone FROM directory_hours(service_ids) h
    WHERE NOT EXISTS (SELECT 1 FROM directory_time_zones z WHERE z.name = h.zone)
    ON CONFLICT (name) DO NOTHING;

    INSERT INTO service_search (service_id, location_id, organization_id, status, name, document, earth,
                                language_codes, taxonomy_term_ids, ages, last_modified, timezone,
                                hours_valid, open_week, open_slots)
    WITH spans AS (
        -- minutes of the week, offset by zone; past-midnight hours run into
        -- the next day and Sunday night wraps to Monday morning
        SELECT h.service_id, h.location_id, h.valid, h.zone, z.id * 10080 AS base,
               (h.weekday - 1) * 1440 + extract(hour FROM h.opens_at)::int * 60 + extract(minute FROM h.opens_at)::int AS s,
               (h.weekday - 1) * 1440 + extract(hour FROM h.closes_at)::int * 60 + extract(minute FROM h.closes_at)::int
                   + CASE WHEN h.closes_at <= h.opens_at THEN 1440 ELSE 0 END AS e
        FROM directory_hours(service_ids) h JOIN directory_time_zones z ON z.name = h.zone
        WHERE NOT isempty(h.valid)
    ), parts AS (
        SELECT service_id, location_id, valid, zone, int4range(base + s, base + least(e, 10080)) AS r FROM spans
        UNION ALL
        SELECT service_id, location_id, valid, zone, int4range(base, base + e - 10080) FROM spans WHERE e > 10080
    ), windows AS (
        SELECT service_id, location_id, valid, min(zone) AS zone, range_agg(r) AS open_week,
               ARRAY(SELECT DISTINCT g FROM unnest(array_agg(r)) AS q(r),
                     generate_series(lower(q.r) / 60, (upper(q.r) - 1) / 60) AS g ORDER BY g) AS open_slots
        FROM parts GROUP BY service_id, location_id, valid
    )
    SELECT s.id, sal.location_id, s.organization_id, s.status, s.name,
           setweight(to_tsvector('english', s.name), 'A') ||
           setweight(to_tsvector('english', s.alternate_name || ' ' || o.name || ' ' || coalesce(terms.names, '')), 'B') ||
           setweight(to_tsvector('english', s.description), 'C'),
           CASE WHEN l.latitude BETWEEN -90 AND 90 AND l.longitude BETWEEN -180 AND 180
                THEN ll_to_earth(l.latitude, l.longitude)::cube END,
           ARRAY(SELECT DISTINCT split_part(lower(lg.code), '-', 1) FROM languages lg
                 WHERE (lg.service_id = s.id OR lg.location_id = sal.location_id) AND lg.code <> ''),
           coalesce(terms.ids, '{}'),
           numrange(s.minimum_age, s.maximum_age, '[]'),
           s.last_modified,
           coalesce(w.zone, nullif(l.timezone, ''), 'UTC'),
           coalesce(w.valid, '(,)'::daterange),
           coalesce(w.open_week, '{}'::int4multirange),
           coalesce(w.open_slots, '{}')
    FROM services s
    JOIN organizations o ON o.id = s.organization_id
    LEFT JOIN service_at_locations sal ON sal.service_id = s.id
    LEFT JOIN locations l ON l.id = sal.location_id
    LEFT JOIN LATERAL (
        SELECT array_agg(DISTINCT a.taxonomy_term_id) AS ids, string_agg(t.name, ' ') AS names
        FROM service_attributes a JOIN taxonomy_terms t ON t.id = a.taxonomy_term_id
        WHERE a.service_id = s.id) terms ON true
    LEFT JOIN windows w ON w.service_id = s.id AND w.location_id IS NOT DISTINCT FROM sal.location_id
    WHERE s.id = ANY (service_ids);

    INSERT INTO search_words (word)
    SELECT DISTINCT w FROM services s
    JOIN organizations o ON o.id = s.organization_id,
    LATERAL regexp_split_to_table(lower(s.name || ' ' || s.alternate_name || ' ' || o.name || ' ' || s.description), '[^[:alpha:]]+') AS w
    WHERE s.id = ANY (service_ids) AND length(w) BETWEEN 3 AND 40
    ON CONFLICT (word) DO NOTHING;
END
$$;
-- +goose StatementEnd

-- directory_spellfix replaces each plain word of a search that the directory
-- does not contain with its closest trigram match, when one is close enough.
-- Quoted phrases and operators (websearch syntax) pass through unchanged.
-- +goose StatementBegin
CREATE FUNCTION directory_spellfix(q text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(string_agg(coalesce(
        CASE WHEN t.tok ~ '^[[:alpha:]]{4,}$' AND NOT EXISTS (SELECT 1 FROM search_words sw WHERE sw.word = lower(t.tok)) THEN
            (SELECT sw.word FROM search_words sw
             WHERE sw.word % lower(t.tok) AND similarity(sw.word, lower(t.tok)) >= 0.35
             ORDER BY sw.word <-> lower(t.tok), sw.word LIMIT 1)
        END, t.tok), ' ' ORDER BY t.n), '')
    FROM regexp_split_to_table(btrim(q), '\s+') WITH ORDINALITY AS t(tok, n)
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION directory_spellfix(text);
DROP FUNCTION directory_refresh(uuid[]);
DROP FUNCTION directory_hours(uuid[]);
DROP FUNCTION hsds_date(text);
DROP FUNCTION hsds_weekdays(text, text);
DROP TABLE search_words;
DROP TABLE directory_time_zones;
DROP TABLE service_search;
DROP TABLE service_attributes;
DROP TABLE languages;
DROP TABLE schedules;
DROP TABLE service_at_locations;
DROP TABLE services;
DROP TABLE locations;
DROP TABLE organizations;
DROP TABLE taxonomy_terms;
DROP TABLE taxonomies;
