package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The same-work check runs before any measurement: each floored call is
// sent once to Waypoint and once to the floor, and both must answer the
// same (status, headers that matter, body apart from what must differ) and
// write the same rows (access log, goal history, outbox events, messages,
// idempotency records), compared as fingerprints. A floor that did less
// than the product would make every ratio in the report flattering.

// answer is one response, kept for comparison.
type answer struct {
	status int
	header http.Header
	body   []byte
	rows   []string
}

// mark is "now" for the fingerprint query: ids, events' included, are
// UUIDv7 from this process (monotonic); idempotency records have created_at.
// (Not events' seq: an event is positioned after its commit, so one written
// just before the mark may get a position above it.)
type mark struct {
	id uuid.UUID
	at time.Time
}

func (e *env) mark(_ context.Context) (mark, error) {
	return mark{at: time.Now(), id: uuid.Must(uuid.NewV7())}, nil
}

const writtenSQL = `
SELECT 'access_log ' || action || ' ' || resource || ' actor=' || actor_person_id || ' app=' || app_id || ' rid=' || length(resource_id)
		|| ' rel=' || relationship || ' label=' || label || ' request_id=' || length(request_id)
	FROM access_log WHERE client_id = ANY(CAST(@clients AS uuid[])) AND id > @id
UNION ALL
SELECT 'goal_history ' || field || ' role=' || actor_role || ' actor=' || actor_person_id || ' old=' || (old_value IS NOT NULL) || ' new=' || (new_value IS NOT NULL)
	FROM goal_history WHERE client_id = ANY(CAST(@clients AS uuid[])) AND id > @id
UNION ALL
SELECT 'event ' || type || ' client=' || client_id || ' subject=' || COALESCE(subject_id::text, '')
		|| ' recipients=' || (SELECT string_agg(r::text, ',' ORDER BY r) FROM unnest(recipients) r)
		|| ' keys=' || (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(data) k)
		|| ' change=' || COALESCE(data->>'change', '') || ' fields=' || COALESCE(data->>'fields', '')
	FROM events WHERE id > @id
UNION ALL
SELECT 'message sender=' || sender_id || ' keyed=' || (idempotency_token IS NOT NULL)
	FROM messages WHERE client_id = ANY(CAST(@clients AS uuid[])) AND id > @id
UNION ALL
SELECT 'idempotency ' || state || ' ' || COALESCE(status::text, '') || ' headers=' || COALESCE(headers::text, '')
	FROM idempotency_keys WHERE created_at >= @at`

// written fingerprints the rows written since m for the given clients.
func (e *env) written(ctx context.Context, m mark, clients []uuid.UUID) ([]string, error) {
	var rows []string
	ids := make([]string, len(clients))
	for i, c := range clients {
		ids[i] = c.String()
	}
	err := e.db.WithContext(ctx).Raw(writtenSQL, map[string]any{"clients": "{" + strings.Join(ids, ",") + "}",
		"id": m.id, "at": m.at}).Scan(&rows).Error
	slices.Sort(rows)
	return rows, err
}

// send sends one request built by mk to base and fingerprints its writes.
func (e *env) send(ctx context.Context, base string, mk func(base string) (*http.Request, error), clients []uuid.UUID) (answer, error) {
	m, err := e.mark(ctx)
	if err != nil {
		return answer{}, err
	}
	req, err := mk(base)
	if err != nil {
		return answer{}, err
	}
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	if a.body, err = io.ReadAll(res.Body); err != nil {
		return a, err
	}
	a.rows, err = e.written(ctx, m, clients)
	return a, err
}

// compare checks two answers: same status, content type, caching and ETag
// presence, the same JSON apart from the keys in differ (which must be
// present in both), and the same rows written.
func compare(name string, w, f answer, differ ...string) error {
	var problems []string
	if w.status != f.status {
		problems = append(problems, fmt.Sprintf("status %d vs %d", w.status, f.status))
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy",
		"Waypoint-Redisclosure"} {
		if w.header.Get(h) != f.header.Get(h) {
			problems = append(problems, fmt.Sprintf("%s %q vs %q", h, w.header.Get(h), f.header.Get(h)))
		}
	}
	if a, b := w.header.Values("RateLimit-Policy"), f.header.Values("RateLimit-Policy"); !slices.Equal(a, b) {
		problems = append(problems, fmt.Sprintf("RateLimit-Policy %q vs %q", a, b))
	}
	for _, h := range []string{"ETag", "RateLimit"} {
		if len(w.header.Values(h)) != len(f.header.Values(h)) {
			problems = append(problems, h+" differs in presence")
		}
	}
	var wb, fb any
	if err := json.Unmarshal(w.body, &wb); err != nil {
		problems = append(problems, "Waypoint's body is not JSON")
	}
	if err := json.Unmarshal(f.body, &fb); err != nil {
		problems = append(problems, "the floor's body is not JSON")
	}
	if wm, ok := wb.(map[string]any); ok {
		if fm, ok := fb.(map[string]any); ok {
			for _, k := range differ {
				if _, in := wm[k]; !in {
					problems = append(problems, "Waypoint's body lacks "+k)
				}
				if _, in := fm[k]; !in {
					problems = append(problems, "the floor's body lacks "+k)
				}
				delete(wm, k)
				delete(fm, k)
			}
		}
	}
	if !reflect.DeepEqual(wb, fb) {
		problems = append(problems, fmt.Sprintf("bodies differ:\n  Waypoint: %.600s\n  floor:    %.600s", w.body, f.body))
	}
	if !slices.Equal(w.rows, f.rows) {
		problems = append(problems, fmt.Sprintf("rows written differ:\n  Waypoint: %q\n  floor:    %q", w.rows, f.rows))
	}
	if len(problems) > 0 {
		return fmt.Errorf("same-work check %s: %s", name, strings.Join(problems, "; "))
	}
	return nil
}

// sameWork runs the check for every floored call, and for the
// authorization cases around them (a private goal, a goal labelled sud),
// and describes what each wrote, for the report.
func (e *env) sameWork(ctx context.Context, f *fixtures) ([]string, error) {
	goal := func(id uuid.UUID) string { return "/v1/goals/" + id.String() }
	list := "/v1/clients/" + f.readClient.String() + "/goals"
	reads := []struct {
		name, token, url string
		status           int
	}{
		{"Client goal read", f.clientTok, goal(f.readGoal), http.StatusOK},
		{"Worker goal read", f.workerTok, goal(f.readGoal), http.StatusOK},
		{"List a client's goals", f.clientTok, list, http.StatusOK},
		{"(authorization) the worker lists the client's goals (without the private and the sud one)", f.workerTok, list, http.StatusOK},
		{"(authorization) the worker reads the client's private goal", f.workerTok, goal(f.privateGoal), http.StatusNotFound},
		{"(authorization) the worker reads a goal labelled sud without consent", f.workerTok, goal(f.sudGoal), http.StatusNotFound},
		{"(authorization) the client reads their goal labelled sud (redisclosure notice)", f.clientTok, goal(f.sudGoal), http.StatusOK},
		{"(authorization) a supporter the client shares goals with (no role) reads a goal", f.supporterTok, goal(f.readGoal), http.StatusOK},
		{"(authorization) the supporter lists the client's goals", f.supporterTok, list, http.StatusOK},
	}
	var out []string
	for _, r := range reads {
		mk := func(base string) (*http.Request, error) { return request(http.MethodGet, base+r.url, r.token, "", "") }
		line, err := e.pair(ctx, r.name, mk, []uuid.UUID{f.readClient}, r.status)
		if err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	refused := func(base string) (*http.Request, error) {
		req, err := request(http.MethodPatch, base+goal(f.readGoal), f.supporterTok, "application/merge-patch+json", `{"title":"A supporter's edit"}`)
		if err == nil {
			req.Header.Set("If-Match", "*")
		}
		return req, err
	}
	line, err := e.pair(ctx, "(authorization) the supporter tries to change the goal", refused, []uuid.UUID{f.readClient}, http.StatusForbidden)
	if err != nil {
		return nil, err
	}
	out = append(out, line)
	if line, err = e.samePatch(ctx, f); err != nil {
		return nil, err
	}
	out = append(out, line)
	line, err = e.samePost(ctx, f)
	return append(out, line), err
}

// pair sends mk to Waypoint, then to the floor, and compares; both must
// answer status. Refusals are compared by status, content type and rows
// written (their problem texts differ).
func (e *env) pair(ctx context.Context, name string, mk func(string) (*http.Request, error), clients []uuid.UUID, status int) (string, error) {
	w, err := e.send(ctx, e.product, mk, clients)
	if err != nil {
		return "", err
	}
	fl, err := e.send(ctx, e.floorURL, mk, clients)
	if err != nil {
		return "", err
	}
	if w.status != status || fl.status != status {
		return "", fmt.Errorf("same-work check %s: Waypoint answered %d, the floor %d, want %d: %.300s / %.300s",
			name, w.status, fl.status, status, w.body, fl.body)
	}
	if status >= 300 {
		if w.header.Get("Content-Type") != fl.header.Get("Content-Type") || !slices.Equal(w.rows, fl.rows) {
			return "", fmt.Errorf("same-work check %s: content types %q / %q, rows %q / %q", name,
				w.header.Get("Content-Type"), fl.header.Get("Content-Type"), w.rows, fl.rows)
		}
		return describe(name, w), nil
	}
	if err := compare(name, w, fl); err != nil {
		return "", err
	}
	return describe(name, w), nil
}

func describe(name string, a answer) string {
	rows := "nothing"
	if len(a.rows) > 0 {
		kinds := make([]string, len(a.rows))
		for i, r := range a.rows {
			kinds[i], _, _ = strings.Cut(r, " ")
			if k, rest, _ := strings.Cut(r, " "); k == "event" || k == "access_log" {
				t, _, _ := strings.Cut(rest, " ")
				kinds[i] = k + " (" + t + ")"
			}
		}
		rows = strings.Join(kinds, ", ")
	}
	same := "same body"
	if a.status >= 300 {
		same = "both"
	}
	return fmt.Sprintf("%s: %d, %s; each wrote: %s", name, a.status, same, rows)
}

// samePatch edits the first PATCH target's goal on each side in turn (the
// floor with the ETag Waypoint returned); title, version and updated_at
// differ by design.
func (e *env) samePatch(ctx context.Context, f *fixtures) (string, error) {
	t := &f.patch[0]
	var clientIDs []uuid.UUID // GORM scans a bare uuid.UUID as bytes: use a slice
	if err := e.db.WithContext(ctx).Raw(`SELECT client_id FROM goals WHERE id = ?`, t.goal).Scan(&clientIDs).Error; err != nil || len(clientIDs) != 1 {
		return "", fmt.Errorf("look up the PATCH goal's client: %w", err)
	}
	clientID := clientIDs[0]
	mk := func(base string) (*http.Request, error) {
		req, err := request(http.MethodPatch, base+"/v1/goals/"+t.goal.String(), t.token, "application/merge-patch+json",
			fmt.Sprintf(`{"title":"Same-work check %d"}`, time.Now().UnixNano()))
		if err == nil {
			req.Header.Set("If-Match", fmt.Sprintf(`"%d"`, t.version))
		}
		return req, err
	}
	var answers [2]answer
	for i, base := range []string{e.product, e.floorURL} {
		a, err := e.send(ctx, base, mk, []uuid.UUID{clientID})
		if err != nil {
			return "", err
		}
		if a.status != http.StatusOK {
			return "", fmt.Errorf("same-work check PATCH: %s answered %d: %.300s", base, a.status, a.body)
		}
		t.version++
		answers[i] = a
	}
	if err := compare("Goal PATCH", answers[0], answers[1], "title", "version", "updated_at"); err != nil {
		return "", err
	}
	return describe("Goal PATCH", answers[0]), nil
}

// samePost posts one message on each side, then replays each with its key:
// the replay must be the first answer byte for byte.
func (e *env) samePost(ctx context.Context, f *fixtures) (string, error) {
	conv := f.postConvs[0]
	var answers [2]answer
	for i, base := range []string{e.product, e.floorURL} {
		key := uuid.NewString()
		mk := func(base string) (*http.Request, error) {
			req, err := request(http.MethodPost, base+"/v1/conversations/"+conv.String()+"/messages", f.clientTok,
				"application/json", `{"body":"Same-work check"}`)
			if err == nil {
				req.Header.Set("Idempotency-Key", key)
			}
			return req, err
		}
		a, err := e.send(ctx, base, mk, []uuid.UUID{f.readClient})
		if err != nil {
			return "", err
		}
		again, err := e.send(ctx, base, mk, []uuid.UUID{f.readClient})
		if err != nil {
			return "", err
		}
		if again.status != a.status || string(again.body) != string(a.body) || again.header.Get("Idempotent-Replayed") != "true" {
			return "", fmt.Errorf("same-work check message post: %s did not replay the first answer (%d %q vs %d %q)",
				base, a.status, a.body, again.status, again.body)
		}
		answers[i] = a
	}
	if err := compare("Post a message", answers[0], answers[1], "id", "created_at"); err != nil {
		return "", err
	}
	return describe("Post a message", answers[0]) + "; a replay with the same key answers the same bytes", nil
}
