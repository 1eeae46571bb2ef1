package floor

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

const maxBody = 1 << 20 // the product's MaxBodyBytes

// goalPatch is the part of a JSON Merge Patch the floor takes: title and
// priority, the fields the bench changes. Anything else is 422 (the floor
// is a reference for the benchmarked call, not a second product).
type goalPatch struct{ title, priority *string }

func readGoalPatch(r *http.Request) (goalPatch, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/merge-patch+json" && mt != "application/json" {
		return goalPatch{}, errStatus(http.StatusUnsupportedMediaType, "send application/merge-patch+json")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return goalPatch{}, errStatus(http.StatusBadRequest, "could not read the request body")
	}
	if len(body) > maxBody {
		return goalPatch{}, errStatus(http.StatusRequestEntityTooLarge, "request body is too large")
	}
	var m map[string]*string
	if err := json.Unmarshal(body, &m); err != nil {
		return goalPatch{}, errStatus(http.StatusUnprocessableEntity, "body must be an object of title and priority strings")
	}
	var p goalPatch
	for k, v := range m {
		if v == nil {
			return goalPatch{}, errStatus(http.StatusUnprocessableEntity, "body."+k+" cannot be cleared")
		}
		switch k {
		case "title":
			t := strings.TrimSpace(*v)
			if t == "" || utf8.RuneCountInString(t) > 200 || !plain(t) {
				return goalPatch{}, errStatus(http.StatusUnprocessableEntity, "body.title must be 1-200 characters of text")
			}
			p.title = &t
		case "priority":
			if !slices.Contains([]string{"high", "medium", "low"}, *v) {
				return goalPatch{}, errStatus(http.StatusUnprocessableEntity, "body.priority must be high, medium or low")
			}
			p.priority = v
		default:
			return goalPatch{}, errStatus(http.StatusUnprocessableEntity, "body."+k+": the floor takes only title and priority")
		}
	}
	return p, nil
}

// plain is text the database can store (no NUL, valid UTF-8), as the
// product's input guard requires.
func plain(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// PATCH /v1/goals/{goalId}: the product's UpdateGoal. If-Match is required
// (428), the patch validated, then one statement resolves the person, locks
// the goal under visibility, version and lifecycle, updates it when a field
// changes, writes a history row per changed field, the outbox event and,
// for a care team member, the access log. A miss is explained by one read
// after it (404, 412 with the current ETag, 409), as the product does.
func (f *Floor) patchGoal(w http.ResponseWriter, r *http.Request) {
	p, st, ok := f.authorize(w, r, "goals:write", false)
	if !ok {
		return
	}
	id, err := uuid.Parse(r.PathValue("goalId"))
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "path.goalId must be a UUID")
		return
	}
	patch, err := readGoalPatch(r)
	if err != nil {
		fail(w, err)
		return
	}
	sent, anyVersion, versions := ifMatch(r.Header.Get("If-Match"))
	if !sent {
		problem(w, http.StatusPreconditionRequired, "send If-Match with the goal's ETag")
		return
	}
	args := actorArgs(p, id, anyVersion, versions, patch.title, patch.priority,
		[]uuid.UUID{newID(), newID()}, newID(), newID(), p.appID, "goals:write")
	var g goal
	var matched int64
	updated := false
	err = f.withPerson(r.Context(), p, func() (bool, error) {
		return f.query(r.Context(), st.patchGoal, args, func(rows pgx.Rows) error {
			if rows.RawValues()[2] == nil { // g.id: nothing updated
				return rows.Scan(append([]any{&matched}, make([]any, len(g.dests()))...)...)
			}
			updated = true
			return rows.Scan(append([]any{&matched}, g.dests()...)...)
		})
	})
	if updated { // committed with its goal.updated event
		f.wakePositioner()
	}
	if err == nil && !updated {
		g, err = f.goalMiss(r.Context(), p, st, id, matched > 0, anyVersion, versions)
	}
	if err != nil {
		fail(w, err)
		return
	}
	g.finish()
	redisclosure(w, g)
	writeJSON(w, http.StatusOK, etag(g.Version), &g)
}

// goalMiss answers a PATCH that updated nothing: a patch that changed no
// field returns the goal as it is; otherwise one read says why (not within
// reach 404, or 403 for a supporter who may only read it; another version
// 412; entered in error 409).
func (f *Floor) goalMiss(ctx context.Context, p *principal, st *stmtSet, id uuid.UUID, matched, anyVersion bool, versions []int64) (goal, error) {
	if matched {
		g, found, err := f.readGoal(ctx, p, st, id, "goals:write")
		if err == nil && !found {
			err = errStatus(http.StatusNotFound, "goal not found")
		}
		return g, err
	}
	var version *int64
	var status *string
	var readable bool
	_, err := f.query(ctx, st.goalState, actorArgs(p, id, p.appID), func(rows pgx.Rows) error { return rows.Scan(&version, &status, &readable) })
	switch {
	case err != nil:
		return goal{}, err
	case version == nil && readable:
		return goal{}, errStatus(http.StatusForbidden, "supporters may read what the client shares with them, but not change it")
	case version == nil:
		return goal{}, f.settleMiss(ctx, p, st.deniedGoal, id, errStatus(http.StatusNotFound, "goal not found"))
	case !anyVersion && !slices.Contains(versions, *version):
		return goal{}, &httpError{status: http.StatusPreconditionFailed, detail: "the goal has changed; read it again", etag: etag(*version)}
	case *status == "entered-in-error":
		return goal{}, errStatus(http.StatusConflict, "this goal was entered in error; it can no longer change")
	}
	// Everything matches now: a concurrent change got in between.
	return goal{}, &httpError{status: http.StatusPreconditionFailed, detail: "the goal changed meanwhile", etag: etag(*version)}
}
