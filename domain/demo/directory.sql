-- Demo directory generator. Set-based and deterministic: ids and choices are
-- derived from the row number with hashint4, so a re-run finds the same rows
-- (inserts are ON CONFLICT DO NOTHING) and 100,000 services take seconds.
-- @n is the number of services; statements are separated by lines of "--;".
-- A demo-sized directory (up to 5,000 services) fills eight cities densely,
-- Seattle most; a larger one spreads over 43 metro areas roughly by
-- population, as a national directory would (Seattle gets about 2%).
-- @spread widens each metro area's box (about 27 by 31 km at 1): a directory
-- past 100,000 services covers more ground, not the same cities denser.

CREATE TEMP TABLE demo_cities (c int PRIMARY KEY, city text, state text, lat float8, lon float8, tz text, area text, zip text,
                               weight int, hoods text[], streets text[], national int) ON COMMIT DROP;
--;
INSERT INTO demo_cities VALUES
 (0, 'Seattle', 'WA', 47.6062, -122.3321, 'America/Los_Angeles', '206', '981', 30,
  '{Ballard,"Capitol Hill",Fremont,Georgetown,"Rainier Valley","University District","Beacon Hill","Queen Anne","West Seattle","Lake City",Belltown,"Central District"}',
  '{"Pine St","Rainier Ave S","NW Market St","Aurora Ave N","Beacon Ave S","Broadway E","California Ave SW","Lake City Way NE"}'),
 (1, 'Portland', 'OR', 45.5152, -122.6784, 'America/Los_Angeles', '503', '972', 10,
  '{Alberta,"St. Johns",Montavilla,Lents,"Hawthorne","Old Town",Kenton,"Hollywood"}',
  '{"SE Division St","NE Alberta St","N Lombard St","SE Foster Rd","W Burnside St"}'),
 (2, 'San Francisco', 'CA', 37.7749, -122.4194, 'America/Los_Angeles', '415', '941', 10,
  '{"Mission District",Tenderloin,Bayview,Excelsior,Richmond,Sunset,"SoMa","Western Addition"}',
  '{"Mission St","Market St","3rd St","Geary Blvd","Irving St","Ocean Ave"}'),
 (3, 'Denver', 'CO', 39.7392, -104.9903, 'America/Denver', '303', '802', 8,
  '{"Five Points","Globeville",Montbello,"Westwood","Capitol Hill",Sunnyside}',
  '{"Colfax Ave","Federal Blvd","Morrison Rd","Welton St","Peoria St"}'),
 (4, 'Phoenix', 'AZ', 33.4484, -112.0740, 'America/Phoenix', '602', '850', 8,
  '{Maryvale,"South Mountain",Alhambra,"Encanto","Sunnyslope"}',
  '{"W Indian School Rd","S Central Ave","N 19th Ave","E McDowell Rd"}'),
 (5, 'Chicago', 'IL', 41.8781, -87.6298, 'America/Chicago', '312', '606', 14,
  '{Pilsen,"Little Village",Uptown,Englewood,"Humboldt Park","Rogers Park",Austin,Chinatown}',
  '{"W 18th St","W 26th St","N Broadway","S Halsted St","W Division St","N Clark St"}'),
 (6, 'New York', 'NY', 40.7128, -74.0060, 'America/New_York', '212', '100', 15,
  '{Harlem,"Washington Heights","Lower East Side",Chinatown,"East New York","South Bronx","Jackson Heights",Flatbush}',
  '{"Broadway","St Nicholas Ave","Delancey St","E 149th St","Roosevelt Ave","Flatbush Ave"}'),
 (7, 'Honolulu', 'HI', 21.3069, -157.8583, 'Pacific/Honolulu', '808', '968', 5,
  '{Kalihi,"Waikiki","Palama",Moiliili,Kakaako}',
  '{"N King St","Kapiolani Blvd","S Beretania St","Dillingham Blvd"}');
--;
UPDATE demo_cities SET national = v.w FROM (VALUES (0, 40), (1, 25), (2, 47), (3, 30), (4, 49), (5, 95), (6, 200), (7, 10)) AS v(c, w)
WHERE demo_cities.c = v.c;
--;
INSERT INTO demo_cities (c, city, state, lat, lon, tz, area, zip, weight, national, hoods, streets)
SELECT 8 + row_number() OVER () - 1, city, state, lat, lon, tz, area, zip, 0, w,
       '{Downtown,Northside,Eastside,Southside,Westside,Midtown,Riverside,"Old Town"}',
       '{"Main St","Oak Ave","1st Ave","Market St","Broadway","Elm St","Martin Luther King Jr Blvd","Washington Ave"}'
FROM (VALUES
 ('Los Angeles', 'CA', 34.0522, -118.2437, 'America/Los_Angeles', '213', '900', 130),
 ('Houston', 'TX', 29.7604, -95.3698, 'America/Chicago', '713', '770', 70),
 ('Dallas', 'TX', 32.7767, -96.7970, 'America/Chicago', '214', '752', 75),
 ('Miami', 'FL', 25.7617, -80.1918, 'America/New_York', '305', '331', 60),
 ('Atlanta', 'GA', 33.7490, -84.3880, 'America/New_York', '404', '303', 60),
 ('Washington', 'DC', 38.9072, -77.0369, 'America/New_York', '202', '200', 62),
 ('Philadelphia', 'PA', 39.9526, -75.1652, 'America/New_York', '215', '191', 62),
 ('Boston', 'MA', 42.3601, -71.0589, 'America/New_York', '617', '021', 49),
 ('Detroit', 'MI', 42.3314, -83.0458, 'America/Detroit', '313', '482', 43),
 ('Minneapolis', 'MN', 44.9778, -93.2650, 'America/Chicago', '612', '554', 37),
 ('San Diego', 'CA', 32.7157, -117.1611, 'America/Los_Angeles', '619', '921', 33),
 ('Tampa', 'FL', 27.9506, -82.4572, 'America/New_York', '813', '336', 32),
 ('Baltimore', 'MD', 39.2904, -76.6122, 'America/New_York', '410', '212', 28),
 ('St. Louis', 'MO', 38.6270, -90.1994, 'America/Chicago', '314', '631', 28),
 ('Orlando', 'FL', 28.5383, -81.3792, 'America/New_York', '407', '328', 27),
 ('Charlotte', 'NC', 35.2271, -80.8431, 'America/New_York', '704', '282', 27),
 ('San Antonio', 'TX', 29.4241, -98.4936, 'America/Chicago', '210', '782', 26),
 ('Sacramento', 'CA', 38.5816, -121.4944, 'America/Los_Angeles', '916', '958', 24),
 ('Pittsburgh', 'PA', 40.4406, -79.9959, 'America/New_York', '412', '152', 24),
 ('Austin', 'TX', 30.2672, -97.7431, 'America/Chicago', '512', '787', 23),
 ('Las Vegas', 'NV', 36.1699, -115.1398, 'America/Los_Angeles', '702', '891', 23),
 ('Cincinnati', 'OH', 39.1031, -84.5120, 'America/New_York', '513', '452', 22),
 ('Kansas City', 'MO', 39.0997, -94.5786, 'America/Chicago', '816', '641', 22),
 ('Columbus', 'OH', 39.9612, -82.9988, 'America/New_York', '614', '432', 21),
 ('Indianapolis', 'IN', 39.7684, -86.1581, 'America/Indiana/Indianapolis', '317', '462', 21),
 ('Cleveland', 'OH', 41.4993, -81.6944, 'America/New_York', '216', '441', 20),
 ('Nashville', 'TN', 36.1627, -86.7816, 'America/Chicago', '615', '372', 20),
 ('Milwaukee', 'WI', 43.0389, -87.9065, 'America/Chicago', '414', '532', 16),
 ('Salt Lake City', 'UT', 40.7608, -111.8910, 'America/Denver', '801', '841', 13),
 ('New Orleans', 'LA', 29.9511, -90.0715, 'America/Chicago', '504', '701', 13),
 ('Albuquerque', 'NM', 35.0844, -106.6504, 'America/Denver', '505', '871', 9),
 ('Tacoma', 'WA', 47.2529, -122.4443, 'America/Los_Angeles', '253', '984', 9),
 ('Boise', 'ID', 43.6150, -116.2023, 'America/Boise', '208', '837', 8),
 ('Spokane', 'WA', 47.6588, -117.4260, 'America/Los_Angeles', '509', '992', 6),
 ('Anchorage', 'AK', 61.2181, -149.9003, 'America/Anchorage', '907', '995', 4)
) AS v(city, state, lat, lon, tz, area, zip, w);
--;
UPDATE demo_cities SET weight = national WHERE @n > 5000;
--;
-- Service kinds: name, description, taxonomy term, the schedule patterns they
-- use, eligibility and fees.
CREATE TEMP TABLE demo_kinds (k int PRIMARY KEY, name text, description text, term int, patterns int[],
                              min_age numeric, max_age numeric, eligibility text, fees text, org_kind text) ON COMMIT DROP;
--;
INSERT INTO demo_kinds VALUES
 (0, 'Food Pantry', 'Free groceries for individuals and families: fresh produce, dairy, bread and shelf-stable food. Bring your own bags if you can; no ID or proof of income required.', 2, '{1,2,3,4,5}', NULL, NULL, 'Anyone in need of food.', 'Free', 'Food Bank'),
 (1, 'Community Meals', 'Free hot meals served in a welcoming dining room, no questions asked. Vegetarian option every day.', 3, '{6,7,5}', NULL, NULL, 'Open to everyone.', 'Free', 'Neighborhood House'),
 (2, 'Emergency Night Shelter', 'Safe overnight shelter with beds, showers, lockers and breakfast. Case managers help with next steps toward housing.', 5, '{8,9}', 18, NULL, 'Adults 18 and over experiencing homelessness.', 'Free', 'Shelter Network'),
 (3, 'Rent Assistance Program', 'One-time help with rent or move-in costs to prevent eviction, plus advice on tenant rights and payment plans.', 6, '{4,10}', 18, NULL, 'Renters at or below 80% of area median income with an eviction notice or past-due rent.', 'Free', 'Housing Coalition'),
 (4, 'Community Health Clinic', 'Primary care for all ages on a sliding fee scale: check-ups, vaccines, chronic disease care, women''s health and prescriptions.', 8, '{11,12}', NULL, NULL, 'Everyone, with or without insurance.', 'Sliding scale based on income; no one turned away for inability to pay.', 'Health Center'),
 (5, 'Low-Cost Dental Clinic', 'Cleanings, fillings, extractions and emergency dental care at reduced cost.', 9, '{13,4}', NULL, NULL, 'Uninsured or Medicaid patients.', 'Sliding scale from $20 per visit.', 'Health Center'),
 (6, 'Counseling Services', 'Confidential individual and family counseling for anxiety, depression, trauma and life changes, by licensed therapists.', 10, '{14,4,15}', NULL, NULL, 'Anyone seeking support; same-week appointments.', 'Free for Medicaid members; sliding scale otherwise.', 'Family Resource Center'),
 (7, 'Youth Counseling Drop-In', 'Drop-in counseling and peer support for young people, including LGBTQ+ youth; no appointment needed.', 10, '{15,16}', 12, 24, 'Young people aged 12 to 24.', 'Free', 'Youth Center'),
 (8, 'Legal Aid Clinic', 'Free civil legal advice on evictions, debt, benefits denials, family law and domestic violence protection orders.', 12, '{16,17}', 18, NULL, 'Low-income adults.', 'Free', 'Legal Aid Society'),
 (9, 'Immigration Legal Help', 'Consultations on immigration status, DACA renewals, asylum and citizenship applications with accredited representatives.', 13, '{18,17}', NULL, NULL, 'Immigrants and their families.', 'Free consultations; low-cost application help.', 'Immigrant Rights Center'),
 (10, 'Benefits Enrollment (SNAP, Medicaid)', 'Help applying for food assistance (SNAP), health coverage (Medicaid), cash assistance and utility discounts.', 15, '{4,10,3}', NULL, NULL, 'Anyone who may qualify for public benefits.', 'Free', 'Community Action Partnership'),
 (11, 'Free Tax Preparation', 'IRS-certified volunteers prepare and e-file your tax return for free and help you claim tax credits.', 16, '{19,3}', NULL, NULL, 'Households earning under $67,000 a year.', 'Free', 'Community Action Partnership'),
 (12, 'Job Training Center', 'Job readiness workshops, resume help, computer classes and paid apprenticeships with local employers.', 17, '{4,20}', 16, NULL, 'Job seekers aged 16 and over.', 'Free', 'Workforce Center'),
 (13, 'Senior Meals and Services', 'Lunch, social activities and help with Medicare questions for older adults.', 3, '{21}', 60, NULL, 'Adults aged 60 and over.', 'Suggested donation of $3 per meal.', 'Senior Center');
--;
-- Weekly schedule patterns (local time). 8 and 9 run past midnight.
CREATE TEMP TABLE demo_patterns (p int, seq int, byday text, opens time, closes time, description text) ON COMMIT DROP;
--;
INSERT INTO demo_patterns VALUES
 (1, 1, 'MO,WE,FR', '10:00', '14:00', 'Monday, Wednesday and Friday 10am to 2pm'),
 (2, 1, 'TU,TH', '16:00', '19:30', 'Tuesday and Thursday evenings 4pm to 7:30pm'),
 (3, 1, 'SA', '09:00', '12:00', 'Saturday mornings 9am to noon'),
 (4, 1, 'MO,TU,WE,TH,FR', '09:00', '17:00', 'Weekdays 9am to 5pm'),
 (5, 1, 'MO,TU,WE,TH,FR,SA,SU', '08:00', '20:00', 'Every day 8am to 8pm'),
 (6, 1, 'MO,TU,WE,TH,FR,SA,SU', '11:30', '13:30', 'Lunch every day 11:30am to 1:30pm'),
 (6, 2, 'MO,TU,WE,TH,FR,SA,SU', '17:00', '18:30', 'Dinner every day 5pm to 6:30pm'),
 (7, 1, 'MO,TU,WE,TH,FR', '07:00', '09:00', 'Breakfast weekdays 7am to 9am'),
 (7, 2, 'SA,SU', '12:00', '14:00', 'Weekend lunch noon to 2pm'),
 (8, 1, 'MO,TU,WE,TH,FR,SA,SU', '19:00', '07:00', 'Every night 7pm to 7am'),
 (9, 1, 'MO,TU,WE,TH,FR,SA,SU', '21:00', '08:00', 'Every night 9pm to 8am'),
 (10, 1, 'MO,TU,TH,FR', '09:00', '16:00', 'Monday, Tuesday, Thursday, Friday 9am to 4pm; closed Wednesdays'),
 (11, 1, 'MO,TU,WE,TH,FR', '08:00', '20:00', 'Weekdays 8am to 8pm'),
 (11, 2, 'SA', '09:00', '13:00', 'Saturday 9am to 1pm'),
 (12, 1, 'MO,TU,WE,TH,FR', '08:30', '17:30', 'Weekdays 8:30am to 5:30pm'),
 (13, 1, 'MO,TU,WE,TH', '08:00', '17:00', 'Monday to Thursday 8am to 5pm; closed Fridays'),
 (14, 1, 'MO,TU,WE,TH,FR', '09:00', '19:00', 'Weekdays 9am to 7pm'),
 (15, 1, 'MO,WE,FR', '15:00', '21:00', 'Monday, Wednesday, Friday 3pm to 9pm'),
 (16, 1, 'TU,TH', '17:00', '20:00', 'Tuesday and Thursday evenings 5pm to 8pm'),
 (17, 1, 'WE', '13:00', '17:00', 'Wednesday afternoons 1pm to 5pm'),
 (18, 1, 'WE,SA', '10:00', '14:00', 'Wednesday and Saturday 10am to 2pm'),
 (19, 1, 'SA,SU', '10:00', '16:00', 'Weekends 10am to 4pm'),
 (20, 1, 'MO,TU,WE,TH', '18:00', '21:00', 'Evening classes Monday to Thursday 6pm to 9pm'),
 (21, 1, 'MO,TU,WE,TH,FR', '10:00', '14:00', 'Weekdays 10am to 2pm');
--;
CREATE TEMP TABLE demo_languages (g int PRIMARY KEY, code text, name text) ON COMMIT DROP;
--;
INSERT INTO demo_languages VALUES
 (0, 'vi', 'Vietnamese'), (1, 'zh', 'Chinese'), (2, 'so', 'Somali'), (3, 'ru', 'Russian'),
 (4, 'tl', 'Tagalog'), (5, 'ar', 'Arabic'), (6, 'ko', 'Korean'), (7, 'am', 'Amharic');
--;
INSERT INTO taxonomies (id, name, description, uri, version)
VALUES ('0190a000-0005-7000-8000-000000000000', 'Waypoint demo taxonomy',
        'Human services categories in the style of 211 / AIRS, for the demo directory', 'https://example.org/taxonomy/waypoint-demo', '1.0')
ON CONFLICT (id) DO NOTHING;
--;
INSERT INTO taxonomy_terms (id, code, name, description, parent_id, taxonomy, taxonomy_id, language)
SELECT ('0190a000-0005-7000-8000-' || lpad(to_hex(t), 12, '0'))::uuid, code, name, description,
       CASE WHEN parent IS NULL THEN NULL ELSE ('0190a000-0005-7000-8000-' || lpad(to_hex(parent), 12, '0'))::uuid END,
       'Waypoint demo taxonomy', '0190a000-0005-7000-8000-000000000000', 'en'
FROM (VALUES
 (1, 'BD', 'Food', 'Programs that provide food for people who need it', NULL),
 (2, 'BD-1800.2000', 'Food Pantries', 'Groceries to take home, free of charge', 1),
 (3, 'BD-5000.8300', 'Soup Kitchens', 'Free prepared meals served on site', 1),
 (4, 'BH', 'Housing', 'Shelter, housing and help to keep it', NULL),
 (5, 'BH-1800.8500', 'Homeless Shelter', 'Emergency overnight shelter', 4),
 (6, 'BH-3800.7000', 'Rent Payment Assistance', 'Help paying rent to prevent eviction', 4),
 (7, 'L', 'Health Care', 'Medical, dental and mental health care', NULL),
 (8, 'LN-1500.1500', 'Community Clinics', 'Primary health care on a sliding fee scale', 7),
 (9, 'LV-1600', 'Dental Care', 'Preventive and restorative dental care', 7),
 (10, 'RP-1400', 'Counseling Services', 'Counselling and psychotherapy for individuals and families', 7),
 (11, 'FT', 'Legal Services', 'Legal advice and representation', NULL),
 (12, 'FT-3200', 'Legal Aid', 'Free civil legal help for people with low incomes', 11),
 (13, 'FT-3600.3300', 'Immigration Legal Services', 'Help with immigration status and citizenship', 11),
 (14, 'N', 'Income Support and Benefits', 'Public benefits, tax help and employment', NULL),
 (15, 'NL-6000', 'Public Benefits Enrollment', 'Help applying for SNAP, Medicaid and cash assistance', 14),
 (16, 'DT-8800', 'Tax Preparation Assistance', 'Free tax filing help', 14),
 (17, 'ND-6500', 'Job Training', 'Job readiness and skills training', 14)
) AS v(t, code, name, description, parent)
ON CONFLICT (id) DO NOTHING;
--;
CREATE TEMP TABLE demo_orgs ON COMMIT DROP AS
SELECT j, ('0190a000-0002-7000-8000-' || lpad(to_hex(j), 12, '0'))::uuid AS id,
       (SELECT c FROM demo_cities dc
        WHERE (abs(hashint4(j * 7 + 1)) % (SELECT sum(weight) FROM demo_cities)) < (SELECT sum(weight) FROM demo_cities d2 WHERE d2.c <= dc.c)
        ORDER BY c LIMIT 1) AS c
FROM generate_series(1, greatest(1, (@n + 3) / 4)) AS j;
--;
INSERT INTO organizations (id, name, description, email, website, phones)
SELECT o.id,
       c.hoods[1 + abs(hashint4(o.j * 11)) % array_length(c.hoods, 1)] || ' ' ||
       (ARRAY['Community Services','Neighborhood House','Family Resource Center','Mutual Aid Network',
              'Community Action Partnership','Health Alliance','Legal Clinic Collaborative','Interfaith Coalition',
              'Food Bank','Youth and Family Services'])[1 + abs(hashint4(o.j * 13)) % 10],
       'A community-based nonprofit serving ' || c.city || ' since ' || (1960 + abs(hashint4(o.j)) % 60) || '.',
       'info' || o.j || '@example.org', 'https://example.org/orgs/' || o.j,
       jsonb_build_array(jsonb_build_object('id', ('0190a000-0006-7000-8000-' || lpad(to_hex(o.j), 12, '0')),
           'number', '+1 ' || c.area || ' 555 ' || lpad((abs(hashint4(o.j * 3)) % 10000)::text, 4, '0'), 'type', 'voice'))
FROM demo_orgs o JOIN demo_cities c ON c.c = o.c
ON CONFLICT (id) DO NOTHING;
--;
CREATE TEMP TABLE demo_services ON COMMIT DROP AS
SELECT i, ('0190a000-0001-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id,
       ('0190a000-0003-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS location_id,
       ('0190a000-0004-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS sal_id,
       o.id AS organization_id, o.c,
       -- food pantries are the most common kind, as in real directories
       (ARRAY[0,0,0,1,1,2,3,4,5,6,7,8,9,10,11,12,13,0,4,6])[1 + abs(hashint4(i * 17)) % 20] AS k,
       abs(hashint4(i * 19)) AS h
FROM generate_series(1, @n) AS i
JOIN demo_orgs o ON o.j = (i + 3) / 4;
--;
INSERT INTO locations (id, location_type, organization_id, name, description, latitude, longitude, timezone, addresses, accessibility)
SELECT s.location_id, 'physical', s.organization_id,
       c.hoods[1 + s.h % array_length(c.hoods, 1)] || ' ' ||
       (ARRAY['Community Center','Resource Hub','Church Hall','Family Center','Civic Center','Clinic'])[1 + (s.h / 7) % 6],
       'Entrance on the street side; ask at the front desk.',
       round((c.lat + ((abs(hashint4(s.i * 23)) % 20001) / 10000.0 - 1) * 0.12 * @spread)::numeric, 6)::float8,
       round((c.lon + ((abs(hashint4(s.i * 29)) % 20001) / 10000.0 - 1) * 0.17 * @spread)::numeric, 6)::float8,
       c.tz,
       jsonb_build_array(jsonb_build_object(
           'id', ('0190a000-0007-7000-8000-' || lpad(to_hex(s.i), 12, '0')),
           'address_1', (100 + s.h % 9800) || ' ' || c.streets[1 + (s.h / 3) % array_length(c.streets, 1)],
           'city', c.city, 'state_province', c.state,
           'postal_code', c.zip || lpad((abs(hashint4(s.i * 31)) % 40)::text, 2, '0'), 'country', 'US', 'address_type', 'physical')),
       CASE WHEN s.h % 3 <> 0 THEN jsonb_build_array(jsonb_build_object(
           'id', ('0190a000-0008-7000-8000-' || lpad(to_hex(s.i), 12, '0')),
           'description', 'Wheelchair accessible entrance and restroom')) ELSE '[]'::jsonb END
FROM demo_services s JOIN demo_cities c ON c.c = s.c
ON CONFLICT (id) DO NOTHING;
--;
CREATE TEMP TABLE demo_new ON COMMIT DROP AS
WITH ins AS (
    INSERT INTO services (id, organization_id, name, description, status, eligibility_description, minimum_age, maximum_age,
                          fees_description, application_process, last_modified, phones, cost_options)
    SELECT s.id, s.organization_id,
           c.hoods[1 + s.h % array_length(c.hoods, 1)] || ' ' || k.name,
           k.description, CASE WHEN s.h % 50 = 0 THEN 'temporarily closed' WHEN s.h % 97 = 0 THEN 'inactive' ELSE 'active' END,
           k.eligibility, k.min_age, k.max_age, k.fees,
           CASE WHEN s.h % 2 = 0 THEN 'Walk in during open hours.' ELSE 'Call ahead or walk in; an intake worker will help you apply.' END,
           timestamptz '2025-01-01 00:00:00+00' + make_interval(mins => s.h % 525600),
           jsonb_build_array(jsonb_build_object('id', ('0190a000-0009-7000-8000-' || lpad(to_hex(s.i), 12, '0')),
               'number', '+1 ' || c.area || ' 555 ' || lpad((s.h % 10000)::text, 4, '0'), 'type', 'voice')),
           jsonb_build_array(jsonb_build_object('id', ('0190a000-000a-7000-8000-' || lpad(to_hex(s.i), 12, '0')),
               'option', k.fees, 'currency', 'USD', 'amount', 0))
    FROM demo_services s JOIN demo_cities c ON c.c = s.c JOIN demo_kinds k ON k.k = s.k
    ON CONFLICT (id) DO NOTHING
    RETURNING id)
SELECT s.* FROM demo_services s JOIN ins ON ins.id = s.id;
--;
INSERT INTO service_at_locations (id, service_id, location_id, position)
SELECT sal_id, id, location_id, 0 FROM demo_new;
--;
INSERT INTO schedules (service_id, position, id, freq, byday, opens_at, closes_at, description)
SELECT s.id, p.seq - 1, ('0190a000-000b-7000-8000-' || lpad(to_hex(s.i * 4 + p.seq), 12, '0'))::uuid,
       'WEEKLY', p.byday, p.opens, p.closes, p.description
FROM demo_new s JOIN demo_kinds k ON k.k = s.k
JOIN demo_patterns p ON p.p = k.patterns[1 + (s.h / 11) % array_length(k.patterns, 1)];
--;
INSERT INTO languages (service_id, position, id, name, code)
SELECT s.id, x.pos, ('0190a000-000c-7000-8000-' || lpad(to_hex(s.i * 4 + x.pos), 12, '0'))::uuid, x.name, x.code
FROM demo_new s
CROSS JOIN LATERAL (
    SELECT 0 AS pos, 'English' AS name, 'en' AS code
    UNION ALL SELECT 1, 'Spanish', 'es' WHERE (s.h / 13) % 100 < CASE WHEN s.c = 0 THEN 45 ELSE 35 END
    UNION ALL SELECT 2, g.name, g.code FROM demo_languages g WHERE (s.h / 17) % 100 < 25 AND g.g = (s.h / 19) % 8
) x;
--;
INSERT INTO service_attributes (service_id, position, id, taxonomy_term_id, link_entity)
SELECT s.id, 0, ('0190a000-000d-7000-8000-' || lpad(to_hex(s.i), 12, '0'))::uuid,
       ('0190a000-0005-7000-8000-' || lpad(to_hex(k.term), 12, '0'))::uuid, 'service'
FROM demo_new s JOIN demo_kinds k ON k.k = s.k;
--;
-- The new services in the order directory_refresh writes search rows (nearby
-- places together); demo.SeedDirectory refreshes them a slice at a time in
-- this order, so the search table stays clustered by place as one call over
-- every id would leave it, without one statement holding a million ids.
CREATE TEMP TABLE demo_refresh ON COMMIT DROP AS
SELECT n.id, row_number() OVER (ORDER BY round(l.latitude::numeric, 1), l.longitude, n.id) AS ord
FROM demo_new n JOIN locations l ON l.id = n.location_id;
--;
CREATE INDEX ON demo_refresh (ord);
