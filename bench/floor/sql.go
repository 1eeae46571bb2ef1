package floor

import "strings"

// The product's goal read (domain/goals.go, goalColumns and goalRatingJoin),
// copied verbatim: the floor must read the same columns, steps and rating.
const goalColumns = `g.client_id, g.id, g.title, g.description, g.why_it_matters, g.strengths_used, g.category,
	g.priority, g.target_date::text AS target_date, g.lifecycle_status, g.achievement_status, g.status_reason,
	g.visibility, g.sensitivity, g.check_in_every, g.created_by, g.created_at, g.updated_at, g.version,
	COALESCE((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'title', s.title, 'due_date', s.due_date,
		'done_at', s.done_at, 'position', s.position, 'version', s.version, 'created_by', s.created_by,
		'created_at', s.created_at, 'updated_at', s.updated_at) ORDER BY s.position)
		FROM goal_steps s WHERE s.client_id = g.client_id AND s.goal_id = g.id), '[]') AS steps,
	r.latest_rating, r.trend`

const goalRatingJoin = `CROSS JOIN LATERAL (
	SELECT max(c.rating) FILTER (WHERE c.rn = 1) AS latest_rating,
		CASE WHEN count(*) < 3 THEN 'insufficient_data'
			WHEN avg(c.rating) FILTER (WHERE c.rn <= c.k / 2) - avg(c.rating) FILTER (WHERE c.rn > c.k - c.k / 2) >= 1 THEN 'improving'
			WHEN avg(c.rating) FILTER (WHERE c.rn <= c.k / 2) - avg(c.rating) FILTER (WHERE c.rn > c.k - c.k / 2) <= -1 THEN 'worsening'
			ELSE 'steady' END AS trend
	FROM (SELECT x.rating, row_number() OVER (ORDER BY x.id DESC) AS rn, count(*) OVER () AS k
		FROM (SELECT ci.rating, ci.id FROM goal_check_ins ci
			WHERE ci.client_id = g.client_id AND ci.goal_id = g.id AND ci.author_role = 'client'
			ORDER BY ci.id DESC LIMIT 6) x) c) r`

// role is the combination of roles that changes the SQL (as the product's
// ClientScope differs per actor): the statements are built once per role.
type role struct{ client, worker bool }

type statements map[role]*stmtSet

type stmtSet struct {
	getOwnGoal, getGoal, listGoals, patchGoal, goalState, postMessage, replayMessage string
	// The product's settleMiss for a goal, a client's goals and a conversation.
	deniedGoal, deniedGoals, deniedConversation string
}

func buildStatements() statements {
	s := statements{}
	for _, c := range []bool{false, true} {
		for _, w := range []bool{false, true} {
			r := role{c, w}
			s[r] = &stmtSet{getOwnGoal: getOwnGoalSQL(r), getGoal: getGoalSQL(r), listGoals: listGoalsSQL(r), patchGoal: patchGoalSQL(r),
				goalState: goalStateSQL(r), postMessage: postMessageSQL(r), replayMessage: replayMessageSQL(r),
				deniedGoal: deniedGoalSQL(r), deniedGoals: deniedGoalsSQL(r), deniedConversation: deniedConversationSQL(r)}
		}
	}
	return s
}

func (s statements) of(p *principal) *stmtSet { return s[role{p.client, p.worker}] }

// actorCTE resolves the person from the token ($1 issuer, $2 subject) and
// yields one row only when the stored roles equal the token's ($3) and a
// client has their client record; otherwise the statement does nothing and
// the handler provisions the person (as the product does) and runs it again.
// own_client is the actor's own client record (NULL unless a client);
// revoked lists the clients who revoked the token's app (app, a parameter),
// read with the person as the product's Provision does.
func actorCTE(r role, app string) string {
	own, need := "NULL::uuid", ""
	if r.client {
		own, need = "me.client_id", " AND me.client_id IS NOT NULL"
	}
	return `me AS (
		SELECT p.id AS person_id, p.roles = $3::jsonb AS roles_current, c.id AS client_id
		FROM people p LEFT JOIN clients c ON c.person_id = p.id
		WHERE p.issuer = $1 AND p.subject = $2),
	actor AS (SELECT me.person_id, ` + own + ` AS own_client,
			COALESCE((SELECT array_agg(ca.client_id) FROM client_apps ca WHERE ca.app_id = ` + app + ` AND ca.revoked_at IS NOT NULL),
				'{}'::uuid[]) AS revoked
		FROM me WHERE me.roles_current` + need + `)`
}

// scope is the product's ClientScope(col, reach) for role r: the client's
// own record, or a care team the worker is on. share "" is ReachCare;
// "goals" is ReachGoalsShared, which also admits the client's supporters
// holding an unexpired grant of that share, whatever their roles.
func scope(col string, r role, share string) string {
	reach := reachOf(col, r, share)
	if reach == "FALSE" {
		return reach
	}
	// The clients who revoked the token's app are out, whoever's token it is.
	return "(" + reach + " AND NOT (" + col + " = ANY (actor.revoked)))"
}

// reachOf is scope before the clients' decisions about apps.
func reachOf(col string, r role, share string) string {
	var parts []string
	if r.client {
		parts = append(parts, col+" = actor.own_client")
	}
	if r.worker {
		parts = append(parts, "EXISTS (SELECT 1 FROM care_team_members ctm WHERE ctm.client_id = "+col+" AND ctm.person_id = actor.person_id)")
	}
	if share != "" {
		parts = append(parts, "EXISTS (SELECT 1 FROM supporters sg WHERE sg.client_id = "+col+" AND sg.person_id = actor.person_id "+
			"AND '"+share+"' = ANY (sg.shares) AND (sg.access_expires_at IS NULL OR sg.access_expires_at > now()))")
	}
	if len(parts) == 0 {
		return "FALSE"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// ownRecord is the product's Actor.ownRecord: rows of the actor's own
// client record.
func ownRecord(col string, r role) string {
	if !r.client {
		return "FALSE"
	}
	return col + " = actor.own_client"
}

// consented is the product's consented(client, label, actor): no label, or
// the client's consent for it and the actor still on the care team.
func consented(client, label string) string {
	return `(` + label + ` IS NULL OR (EXISTS (SELECT 1 FROM sensitivity_consents sc
		WHERE sc.client_id = ` + client + ` AND sc.label = ` + label + ` AND sc.person_id = actor.person_id)
		AND EXISTS (SELECT 1 FROM care_team_members ctm WHERE ctm.client_id = ` + client + ` AND ctm.person_id = actor.person_id)))`
}

// goalScope is the product's Actor.GoalScope(alias, reach): within reach
// (see scope), and the actor's own goal or one shared with the care team
// whose label (if any) the client consented to for this worker.
func goalScope(alias string, r role, share string) string {
	return goalScopeOf(alias, r, share, scope)
}

// goalScopeOf is goalScope with the client condition of within (scope, or
// reachOf: as if no client had revoked the app).
func goalScopeOf(alias string, r role, share string, within func(string, role, string) string) string {
	c := alias + ".client_id"
	return `(` + within(c, r, share) + ` AND (` + ownRecord(c, r) + ` OR (` + alias + `.visibility = 'care_team' AND ` +
		consented(c, alias+".sensitivity") + `)))`
}

// accessLog inserts the access-log row for the one row of src, unless it is
// the actor's own (domain/access_log.go, logAccessFrom): the actor's
// relationship to the client and the record's label (an expression, e.g.
// the goal's title) decided as it is written. id and app are parameters;
// the floor has no request ids, so the entry's id (the same width) stands in.
func accessLog(action, resource, src, clientCol, resourceCol, id, app, label string) string {
	return `INSERT INTO access_log (client_id, id, actor_person_id, app_id, action, resource, resource_id, relationship, label, request_id)
		SELECT ` + clientCol + `, ` + id + `, actor.person_id, ` + app + `, '` + action + `', '` + resource + `', ` + resourceCol + `::text, ` +
		relationship(clientCol) + `, COALESCE(` + label + `, ''), ` + id + `::text
		FROM ` + src + `, actor WHERE ` + clientCol + ` IS DISTINCT FROM actor.own_client`
}

// relationship is the product's relationshipSQL: care team, supporter,
// administrator (a role of the token, $3), else no_relationship (the
// client's own entries are not written here, so self never applies).
func relationship(clientCol string) string {
	return `(CASE WHEN EXISTS (SELECT 1 FROM care_team_members ctm WHERE ctm.client_id = ` + clientCol + ` AND ctm.person_id = actor.person_id)
			THEN 'care_team_worker'
		WHEN EXISTS (SELECT 1 FROM supporters rs WHERE rs.client_id = ` + clientCol + ` AND rs.person_id = actor.person_id) THEN 'supporter'
		WHEN jsonb_exists($3::jsonb, 'admin') THEN 'administrator' ELSE 'no_relationship' END)`
}

// appUse is the product's appUse: the token's app (app) acted on the data
// of the clients in clientCol of src with the operation's scope (scope);
// written only when new, over a minute old, or with a new scope.
func appUse(app, scope, clientCol, src string) string {
	scopes := `ARRAY[` + scope + `]::text[]`
	return `INSERT INTO client_apps AS ca (client_id, app_id, scopes_used)
		SELECT DISTINCT ` + clientCol + `, ` + app + `, ` + scopes + ` FROM ` + src + `
		WHERE ` + app + ` <> '' AND NOT EXISTS (SELECT 1 FROM client_apps f WHERE f.client_id = ` + clientCol + ` AND f.app_id = ` + app + `
			AND (f.revoked_at IS NOT NULL OR (f.last_used_at > now() - interval '1 minute' AND f.scopes_used @> ` + scopes + `)))
		ORDER BY 1
		ON CONFLICT (client_id, app_id) DO UPDATE SET last_used_at = greatest(ca.last_used_at, now()),
			scopes_used = ARRAY(SELECT DISTINCT s FROM unnest(ca.scopes_used || EXCLUDED.scopes_used) s ORDER BY s)
		WHERE ca.revoked_at IS NULL`
}

// getOwnGoalSQL reads the actor's own goal ($4), nothing to log but the
// app's use ($5 app id, $6 scope): the product's GetGoal tries it first for
// an actor with a client record. One row per known actor: the goal's
// columns, NULL when it is not theirs.
func getOwnGoalSQL(r role) string {
	return `WITH ` + actorCTE(r, "$5::text") + `,
	g AS (SELECT ` + goalColumns + ` FROM actor, goals g ` + goalRatingJoin + `
		WHERE g.id = $4 AND g.client_id = actor.own_client AND ` + goalScope("g", r, "goals") + `),
	used AS (` + appUse("$5::text", "$6::text", "g.client_id", "g") + `)
	SELECT g.* FROM actor LEFT JOIN g ON true`
}

// getGoalSQL reads goal $4 under the shared reach (client, care team,
// supporters) and logs the read in the same statement unless it is the
// actor's own ($5 log id, $6 app id), with the app's use ($7 scope): the
// product's GetGoal with logAccessFrom and appUse.
func getGoalSQL(r role) string {
	return `WITH ` + actorCTE(r, "$6::text") + `,
	g AS (SELECT ` + goalColumns + ` FROM actor, goals g ` + goalRatingJoin + `
		WHERE g.id = $4 AND ` + goalScope("g", r, "goals") + `),
	logged AS (` + accessLog("read", "goal", "g", "g.client_id", "g.id", "$5::uuid", "$6::text", "g.title") + `),
	used AS (` + appUse("$6::text", "$7::text", "g.client_id", "g") + `)
	SELECT g.* FROM actor LEFT JOIN g ON true`
}

// listGoalsSQL: $4 client id, $5 cursor (nil uuid: first page), $6
// limit+1, $7 log id, $8 app id, $9 scope. The first column says whether the
// client is within reach (404 otherwise); then the goals, or one row of
// NULLs when there are none. Anyone but the client is logged, and the app's
// use recorded, as the product's ListGoals does.
func listGoalsSQL(r role) string {
	return `WITH ` + actorCTE(r, "$8::text") + `,
	vis AS (SELECT EXISTS (SELECT 1 FROM actor, clients c WHERE c.id = $4 AND ` + scope("c.id", r, "goals") + `) AS ok),
	g AS (SELECT ` + goalColumns + ` FROM actor, goals g ` + goalRatingJoin + `
		WHERE g.client_id = $4 AND ` + goalScope("g", r, "goals") + ` AND g.lifecycle_status <> 'entered-in-error' AND g.id > $5
		ORDER BY g.id LIMIT $6),
	seen AS (SELECT $4::uuid AS client_id FROM vis WHERE vis.ok),
	logged AS (` + accessLog("read", "goal", "seen", "seen.client_id", "''", "$7::uuid", "$8::text", "''") + `),
	used AS (` + appUse("$8::text", "$9::text", "seen.client_id", "seen") + `)
	SELECT (SELECT ok FROM vis), g.* FROM actor LEFT JOIN g ON true ORDER BY g.id`
}

// goalStateSQL explains a PATCH that matched nothing (the product's
// goalMiss: one read after the failed write): $4 goal id, $5 app id. The goal's
// version and status within the write reach (NULL when outside it), and
// whether the actor may read it (a supporter: 403 rather than 404).
func goalStateSQL(r role) string {
	return `WITH ` + actorCTE(r, "$5::text") + `,
	st AS (SELECT g.version, g.lifecycle_status FROM actor, goals g WHERE g.id = $4 AND ` + goalScope("g", r, "") + `)
	SELECT st.version, st.lifecycle_status,
		EXISTS (SELECT 1 FROM actor, goals g WHERE g.id = $4 AND ` + goalScope("g", r, "goals") + `)
	FROM actor LEFT JOIN st ON true`
}

// patchGoalSQL is the product's UpdateGoal in one statement: $4 goal id,
// $5 any version ("*"), $6 the If-Match versions, $7 title and $8 priority
// (NULL: not in the patch), $9 two history ids (title, priority), $10 event
// id, $11 log id, $12 app id, $13 scope. It locks the goal under every condition
// (visibility, version, not entered in error), updates it only when a field
// changes, writes one history row per changed field, the goal.updated
// outbox event (its recipients resolved as EmitEvent does), the app's use
// and, for someone other than the client, the access log. The first column says whether a
// goal matched; the rest are the updated goal's columns (NULL when nothing
// changed or nothing matched).
func patchGoalSQL(r role) string {
	other := "'other'"
	if r.worker {
		other = "'worker'"
	}
	return `WITH ` + actorCTE(r, "$12::text") + `,
	old AS (SELECT g.* FROM actor, goals g
		WHERE g.id = $4 AND ` + goalScope("g", r, "") + ` AND g.lifecycle_status <> 'entered-in-error'
			AND ($5::boolean OR g.version = ANY($6::int8[]))
		FOR UPDATE OF g),
	upd AS (UPDATE goals g SET title = COALESCE($7::text, g.title), priority = COALESCE($8::text, g.priority),
			version = g.version + 1, updated_at = now()
		FROM old WHERE g.client_id = old.client_id AND g.id = old.id
			AND (old.title IS DISTINCT FROM COALESCE($7::text, old.title) OR old.priority IS DISTINCT FROM COALESCE($8::text, old.priority))
		RETURNING g.*),
	ch AS (SELECT f.ord, f.field, f.o, f.n FROM upd JOIN old ON old.client_id = upd.client_id AND old.id = upd.id,
			LATERAL (VALUES (1, 'title', to_jsonb(old.title), to_jsonb(upd.title)),
				(2, 'priority', to_jsonb(old.priority), to_jsonb(upd.priority))) f(ord, field, o, n)
		WHERE f.o IS DISTINCT FROM f.n),
	hist AS (INSERT INTO goal_history (client_id, id, goal_id, actor_person_id, actor_role, at, field, old_value, new_value)
		SELECT upd.client_id, ($9::uuid[])[ch.ord], upd.id, actor.person_id,
			CASE WHEN upd.client_id = actor.own_client THEN 'client' ELSE ` + other + ` END,
			ts.at, ch.field, NULLIF(ch.o, 'null'::jsonb), NULLIF(ch.n, 'null'::jsonb)
		FROM upd, actor, ch, (SELECT clock_timestamp() AS at) ts),
	ev AS (INSERT INTO events (id, client_id, type, subject_id, recipients, data)
		SELECT $10::uuid, upd.client_id, 'goal.updated', upd.id,
			ARRAY(SELECT person_id FROM clients WHERE id = upd.client_id
				UNION SELECT p.id FROM people p WHERE EXISTS (SELECT 1 FROM care_team_members ctm
					WHERE ctm.client_id = upd.client_id AND ctm.person_id = p.id)),
			jsonb_build_object('change', 'updated', 'fields', (SELECT jsonb_agg(ch.field ORDER BY ch.ord) FROM ch),
				'goal_id', upd.id, 'version', upd.version)
		FROM upd),
	logged AS (` + accessLog("write", "goal", "upd", "upd.client_id", "upd.id", "$11::uuid", "$12::text", "upd.title") + `),
	used AS (` + appUse("$12::text", "$13::text", "upd.client_id", "upd") + `)
	SELECT (SELECT count(*) FROM old), ` + goalColumns + ` FROM actor LEFT JOIN (upd g ` + goalRatingJoin + `) ON true`
}

// convVisible is the product's ConversationScope: within reach, a
// participant, and for a labelled conversation the client or a worker the
// client consented to.
func convVisible(r role) string {
	return scope("c.client_id", r, "") + ` AND EXISTS (SELECT 1 FROM conversation_participants vp
		WHERE vp.client_id = c.client_id AND vp.conversation_id = c.id AND vp.person_id = actor.person_id)
		AND (` + ownRecord("c.client_id", r) + ` OR ` + consented("c.client_id", "c.sensitivity") + `)`
}

// postMessageSQL is the product's PostMessage and its Idempotency-Key claim
// in one statement: $4 conversation id, $5 message id (UUIDv7), $6 its time,
// $7 body, $8 Idempotency-Key (empty for none), $9 request hash, $10 and $11
// the stored response around the sender's id, $12 its headers ($17 for a
// conversation labelled sud: with the redisclosure notice), $13 event id,
// $14 log id, $15 app id, $16 the time as JSON text, $18 scope. It locks the
// conversation (so message ids grow in commit order, as the product's do),
// and only when the new id is above the last one: stores the idempotency
// record with the response (done at once: it commits with the message, so
// no "running" state is needed), the message, the conversation's last
// message, the sender's read marker, the access log (someone other than the
// client; the label is the conversation's subject), the app's use and the
// message.created event (recipients: participants still on
// the care team). Result: conversations found, their last message id,
// messages inserted, the person, the conversation's label.
func postMessageSQL(r role) string {
	return `WITH ` + actorCTE(r, "$15::text") + `,
	conv AS (SELECT c.client_id, c.last_message_id, c.sensitivity, c.subject FROM actor, conversations c
		WHERE c.id = $4 AND ` + convVisible(r) + ` FOR UPDATE OF c),
	ok AS (SELECT conv.client_id, conv.sensitivity FROM conv WHERE conv.last_message_id IS NULL OR conv.last_message_id < $5::uuid),
	claim AS (INSERT INTO idempotency_keys (person_id, key, request_hash, state, status, headers, body, locked_until)
		SELECT actor.person_id, $8::text, $9::bytea, 'done', 201,
			CASE WHEN ok.sensitivity = 'sud' THEN $17::jsonb ELSE $12::jsonb END, convert_to($10::text || actor.person_id::text || $11::text, 'UTF8'), now()
		FROM actor, ok WHERE $8::text <> ''
		ON CONFLICT (person_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, state = 'done', status = EXCLUDED.status,
			headers = EXCLUDED.headers, body = EXCLUDED.body, locked_until = EXCLUDED.locked_until, created_at = now()
			WHERE idempotency_keys.created_at < now() - interval '24 hours'
		RETURNING person_id),
	go AS (SELECT ok.client_id FROM ok WHERE $8::text = '' OR EXISTS (SELECT 1 FROM claim)),
	m AS (INSERT INTO messages (client_id, conversation_id, id, sender_id, body, idempotency_token, created_at)
		SELECT go.client_id, $4::uuid, $5::uuid, actor.person_id, $7::text, NULLIF($8::text, ''), $6::timestamptz FROM go, actor
		RETURNING client_id),
	cu AS (UPDATE conversations SET last_message_id = $5::uuid, activity_id = $5::uuid
		WHERE client_id = (SELECT client_id FROM m) AND id = $4::uuid),
	ru AS (UPDATE conversation_participants SET read_up_to = $5::uuid, read_at = $6::timestamptz
		WHERE client_id = (SELECT client_id FROM m) AND conversation_id = $4::uuid AND person_id = (SELECT person_id FROM actor)
			AND (read_up_to IS NULL OR read_up_to < $5::uuid)),
	logged AS (` + accessLog("write", "message", "m", "m.client_id", "$5::uuid", "$14::uuid", "$15::text", "(SELECT subject FROM conv)") + `),
	used AS (` + appUse("$15::text", "$18::text", "m.client_id", "m") + `),
	ev AS (INSERT INTO events (id, client_id, type, subject_id, recipients, data)
		SELECT $13::uuid, m.client_id, 'message.created', $4::uuid,
			ARRAY(SELECT p.person_id FROM conversation_participants p WHERE p.client_id = m.client_id AND p.conversation_id = $4::uuid
				AND (p.role = 'client' OR EXISTS (SELECT 1 FROM care_team_members ctm WHERE ctm.client_id = p.client_id AND ctm.person_id = p.person_id))),
			jsonb_build_object('conversation_id', $4::uuid, 'message_id', $5::uuid, 'sender_id', actor.person_id, 'created_at', $16::text)
		FROM m, actor)
	SELECT (SELECT count(*) FROM conv), (SELECT last_message_id FROM conv), (SELECT count(*) FROM m), actor.person_id,
		(SELECT sensitivity FROM conv) FROM actor`
}

// replayMessageSQL answers a used Idempotency-Key as the product's replay
// guard does: $4 conversation id, $5 key, $6 request hash, $7 log id, $8 app
// id, $9 scope. The caller must still take part; a replay of the same
// request is logged as a read of the message it created (named by the
// conversation's subject), and is a use of the app. Result: whether the
// conversation is visible, the stored request hash, state, response headers
// and body.
func replayMessageSQL(r role) string {
	return `WITH ` + actorCTE(r, "$8::text") + `,
	conv AS (SELECT c.client_id, c.id, c.subject FROM actor, conversations c WHERE c.id = $4 AND ` + convVisible(r) + `),
	k AS (SELECT k.request_hash, k.state, k.headers, k.body FROM actor, idempotency_keys k WHERE k.person_id = actor.person_id AND k.key = $5),
	replayed AS (SELECT conv.client_id, conv.subject, convert_from(k.body, 'UTF8')::jsonb->>'id' AS message_id FROM conv, k
		WHERE k.state = 'done' AND k.request_hash = $6::bytea),
	logged AS (` + accessLog("read", "message", "replayed", "replayed.client_id", "replayed.message_id", "$7::uuid", "$8::text", "replayed.subject") + `),
	used AS (` + appUse("$8::text", "$9::text", "replayed.client_id", "replayed") + `)
	SELECT (SELECT count(*) FROM conv), k.request_hash, k.state, k.headers, k.body FROM actor LEFT JOIN k ON true`
}

// The product's settleMiss, after a request found nothing for a record it
// named: $4 the record's id, $5 log id, $6 app id. When the record exists
// and is another client's, one denied entry in that client's log (with the
// record's label). Result: whether it exists, and whether the actor would
// see it but for the client's revocation of the app (then 403, not 404).
func deniedSQL(r role, lookup, resource, rid, label string) string {
	return `WITH ` + actorCTE(r, "$6::text") + `,
	t AS (` + lookup + `),
	logged AS (INSERT INTO access_log (client_id, id, actor_person_id, app_id, action, resource, resource_id, relationship, label, request_id)
		SELECT t.client_id, $5::uuid, actor.person_id, $6::text, 'denied', '` + resource + `', ` + rid + `, ` + relationship("t.client_id") + `,
			COALESCE(` + label + `, ''), $5::uuid::text
		FROM t, actor WHERE t.client_id IS DISTINCT FROM actor.own_client)
	SELECT EXISTS (SELECT 1 FROM t), COALESCE((SELECT t.visible AND t.client_id = ANY (actor.revoked) FROM t), false) FROM actor`
}

func deniedGoalSQL(r role) string {
	return deniedSQL(r, `SELECT g.client_id, g.title, `+goalScopeOf("g", r, "goals", reachOf)+` AS visible
		FROM actor, goals g WHERE g.id = $4`, "goal", "$4::text", "t.title")
}

// deniedGoalsSQL: a client's goals ($4: the client), named as a list.
func deniedGoalsSQL(r role) string {
	return deniedSQL(r, `SELECT c.id AS client_id, `+reachOf("c.id", r, "goals")+` AS visible
		FROM actor, clients c WHERE c.id = $4`, "goal", "''", "''")
}

func deniedConversationSQL(r role) string {
	vis := strings.Replace(convVisible(r), scope("c.client_id", r, ""), reachOf("c.client_id", r, ""), 1)
	return deniedSQL(r, `SELECT c.client_id, c.subject, `+vis+` AS visible
		FROM actor, conversations c WHERE c.id = $4`, "conversation", "$4::text", "t.subject")
}

// The product's positioner (domain/outbox.go), statement for statement.
const (
	positionLock      = 7263100044
	positionBatch     = 1000
	pendingEventsSQL  = `SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL)`
	positionLockSQL   = `SELECT pg_advisory_xact_lock($1)`
	positionEventsSQL = `WITH batch AS (SELECT id FROM events WHERE seq IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED),
	numbered AS (SELECT id, nextval('events_seq') AS seq FROM (SELECT id FROM batch ORDER BY id) o)
	UPDATE events e SET seq = numbered.seq FROM numbered WHERE e.id = numbered.id RETURNING e.seq`
	notifySQL = `SELECT pg_notify($1, $2)`
)
