-- +goose Up
-- Search results come ready-made: each service's result document (HSDS
-- members, organization, languages, schedules, phones and locations) is
-- rendered by directory_refresh() when the service or anything it shows
-- changes, so a search page reads 20 small rows instead of assembling them
-- from six tables per request. directory_refresh() also inserts search rows in
-- geographic order (see the comment in the function).
CREATE TABLE service_summaries (
    service_id uuid  PRIMARY KEY REFERENCES services (id) ON DELETE CASCADE,
    doc        jsonb NOT NULL
);

-- directory_summary renders one service as a search result. Locations are in
-- position order; the API puts the nearest first.
-- +goose StatementBegin
CREATE FUNCTION directory_summary(s services) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT (to_jsonb(s) - '{organization_id,program_id,program,created_at,updated_at,version,service_areas,funding,cost_options,required_documents,contacts,metadata}'::text[])
        || jsonb_build_object(
            'organization', (SELECT jsonb_build_object('id', o.id, 'name', o.name, 'description', o.description)
                             FROM organizations o WHERE o.id = s.organization_id),
            'languages', (SELECT coalesce(jsonb_agg(to_jsonb(x) - '{pk,position,service_id,location_id,service_at_location_id}'::text[]
                                                    ORDER BY x.position), '[]')
                          FROM languages x WHERE x.service_id = s.id),
            'schedules', (SELECT coalesce(jsonb_agg(to_jsonb(x) - '{pk,position,service_id,location_id,service_at_location_id}'::text[]
                                                    ORDER BY x.position), '[]')
                          FROM schedules x WHERE x.service_id = s.id),
            'service_at_locations', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', sal.id, 'location',
                                         to_jsonb(l) - '{organization_id,version,created_at,updated_at,contacts,phones,attributes,metadata,accessibility}'::text[])
                                         ORDER BY sal.position), '[]')
                                     FROM service_at_locations sal JOIN locations l ON l.id = sal.location_id
                                     WHERE sal.service_id = s.id))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION directory_refresh(service_ids uuid[]) RETURNS void
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
    WHERE s.id = ANY (service_ids)
    -- nearby places land on the same pages: a search around a point then
    -- reads a few pages instead of one per match
    ORDER BY round(l.latitude::numeric, 1), l.longitude, s.id;

    -- the search result form of each service (see below)
    DELETE FROM service_summaries WHERE service_id = ANY (service_ids);
    INSERT INTO service_summaries (service_id, doc)
    SELECT s.id, directory_summary(s) FROM services s WHERE s.id = ANY (service_ids);

    INSERT INTO search_words (word)
    SELECT DISTINCT w FROM services s
    JOIN organizations o ON o.id = s.organization_id,
    LATERAL regexp_split_to_table(lower(s.name || ' ' || s.alternate_name || ' ' || o.name || ' ' || s.description), '[^[:alpha:]]+') AS w
    WHERE s.id = ANY (service_ids) AND length(w) BETWEEN 3 AND 40
    ON CONFLICT (word) DO NOTHING;
END
$$;
-- +goose StatementEnd

-- Existing services get their summaries now; this can take a while on a big
-- directory, so no statement timeout applies to it.
SET LOCAL statement_timeout = 0;
INSERT INTO service_summaries (service_id, doc) SELECT s.id, directory_summary(s) FROM services s;

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION directory_refresh(service_ids uuid[]) RETURNS void
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

DROP FUNCTION directory_summary(services);
DROP TABLE service_summaries;
