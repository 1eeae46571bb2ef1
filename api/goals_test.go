package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
	"github.com/waypoint-portal/waypoint/domain"
)

// The "done means", through the API alone.
func TestGoalsWalkthrough(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e

	// alice writes her own goal with steps: active, in progress, steps in order.
	g := newGoal(t, w, w.alice, w.alice, map[string]any{
		"title": "Move into my own apartment", "why_it_matters": "A place that is ours", "category": "housing",
		"priority": "high", "target_date": "2025-09-30", "strengths_used": []string{"persistent", "good with budgets"},
		"steps": []map[string]any{{"title": "Get my ID replaced", "due_date": "2025-07-01"}, {"title": "Apply for two places"}},
	})
	if g.LifecycleStatus != "active" || *g.AchievementStatus != "in-progress" || len(g.Steps) != 2 ||
		g.Steps[0].Title != "Get my ID replaced" || g.Steps[1].Position != 2 || *g.TargetDate != "2025-09-30" ||
		g.Trend != "insufficient_data" || g.LatestRating != nil || g.Version != 1 || g.CreatedBy != w.alice.PersonID.String() {
		t.Fatalf("created goal: %+v", g)
	}

	// wanda, on alice's care team, proposes another; alice accepts it.
	p := newGoal(t, w, w.wanda, w.alice, map[string]any{"title": "Open a savings account", "category": "income"})
	if p.LifecycleStatus != "proposed" || p.AchievementStatus != nil {
		t.Fatalf("proposal: %+v", p)
	}
	e.Do(http.MethodPost, goalPath(p.ID)+"/accept", w.wanda.Token, nil).Problem(t, http.StatusForbidden)
	acc := decodeGoal(t, e.Do(http.MethodPost, goalPath(p.ID)+"/accept", w.alice.Token, nil, "If-Match", `"1"`).Want(t, http.StatusOK))
	if acc.LifecycleStatus != "active" || *acc.AchievementStatus != "in-progress" || acc.Version != 2 {
		t.Fatalf("accepted: %+v", acc)
	}

	// Both edit the first goal from the same version: the second writer gets
	// 412 with the current ETag, re-reads and retries; nothing is lost.
	aliceView, wandaView := getGoal(t, w, w.alice, g.ID), getGoal(t, w, w.wanda, g.ID)
	patchGoal(w, w.alice, aliceView, map[string]any{"title": "Move into my own apartment by autumn"}).Want(t, http.StatusOK)
	r := patchGoal(w, w.wanda, wandaView, map[string]any{"description": "One bedroom near the school"})
	r.Problem(t, http.StatusPreconditionFailed)
	if r.Header.Get("ETag") != `"2"` {
		t.Fatalf("412 carries ETag %q, want \"2\"", r.Header.Get("ETag"))
	}
	wandaView = getGoal(t, w, w.wanda, g.ID)
	both := decodeGoal(t, patchGoal(w, w.wanda, wandaView, map[string]any{"description": "One bedroom near the school"}).Want(t, http.StatusOK))
	if both.Title != "Move into my own apartment by autumn" || *both.Description != "One bedroom near the school" || both.Version != 3 {
		t.Fatalf("an edit was lost: %+v", both)
	}

	// alice records check-ins and sees her trend; wanda's check-in is attributed to her and does not count.
	for _, rating := range []int{3, 4, 6, 7} {
		e.Do(http.MethodPost, goalPath(g.ID)+"/check-ins", w.alice.Token, map[string]any{"rating": rating, "mood": "good"}).Want(t, http.StatusCreated)
	}
	ci := e.Do(http.MethodPost, goalPath(g.ID)+"/check-ins", w.wanda.Token, map[string]any{"rating": 1, "note": "Seemed tired today"}).Want(t, http.StatusCreated).Map(t)
	if a := ci["author"].(map[string]any); a["role"] != "worker" || a["person_id"] != w.wanda.PersonID.String() {
		t.Fatalf("worker check-in attribution: %v", ci)
	}
	g = getGoal(t, w, w.alice, g.ID)
	if g.LatestRating == nil || *g.LatestRating != 7 || g.Trend != "improving" || g.Version != 8 {
		t.Fatalf("after check-ins: latest %v trend %s version %d", g.LatestRating, g.Trend, g.Version)
	}

	// The history tells who changed what.
	h := history(t, w, w.alice, g.ID)
	var lines []string
	for _, e := range h {
		field := e.Field
		if i := strings.Index(field, "["); i > 0 {
			field = field[:i] + "[]" + field[strings.Index(field, "]")+1:]
		}
		lines = append(lines, e.Actor.Role+" "+field)
	}
	want := []string{"client goal", "client steps[]", "client steps[]", "client title", "worker description",
		"client check_ins[]", "client check_ins[]", "client check_ins[]", "client check_ins[]", "worker check_ins[]"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("history:\n got %v\nwant %v", lines, want)
	}
	if string(h[3].OldValue) != `"Move into my own apartment"` || string(h[3].NewValue) != `"Move into my own apartment by autumn"` ||
		h[4].Actor.PersonID != w.wanda.PersonID.String() || string(h[4].OldValue) != "null" {
		t.Fatalf("history values: %+v %+v", h[3], h[4])
	}
}

// TestGoalLifecycleTable drives every allowed transition through PATCH and a
// sample of forbidden ones, which are 409 naming both states and write nothing.
func TestGoalLifecycleTable(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e

	// inState makes a goal in status s by the shortest path from a creatable status.
	paths := map[string][]string{"active": nil, "planned": nil, "proposed": nil}
	queue := []string{"active", "planned", "proposed"}
	for len(queue) > 0 {
		from := queue[0]
		queue = queue[1:]
		for _, to := range domain.GoalTransitions(from) {
			if _, seen := paths[to]; !seen {
				prev := paths[from]
				if len(prev) == 0 {
					prev = []string{from}
				}
				paths[to] = append(slices.Clone(prev), to)
				queue = append(queue, to)
			}
		}
	}
	inState := func(s string) goalView {
		t.Helper()
		path := paths[s]
		start := s
		if len(path) > 0 {
			start = path[0]
		}
		var g goalView
		if start == "proposed" {
			g = newGoal(t, w, w.wanda, w.alice, map[string]any{"title": "Goal in " + s})
		} else {
			g = newGoal(t, w, w.alice, w.alice, map[string]any{"title": "Goal in " + s, "lifecycle_status": start})
		}
		for i := 1; i < len(path); i++ {
			g = decodeGoal(t, patchGoal(w, w.alice, g, map[string]any{"lifecycle_status": path[i]}).Want(t, http.StatusOK))
		}
		if g.LifecycleStatus != s {
			t.Fatalf("setup: goal is %s, want %s", g.LifecycleStatus, s)
		}
		return g
	}

	allowed := 0
	for _, from := range domain.GoalLifecycleStatuses() {
		for _, to := range domain.GoalTransitions(from) {
			allowed++
			t.Run(from+"->"+to, func(t *testing.T) {
				g := inState(from)
				got := decodeGoal(t, patchGoal(w, w.alice, g, map[string]any{"lifecycle_status": to}).Want(t, http.StatusOK))
				if got.LifecycleStatus != to || got.Version != g.Version+1 {
					t.Fatalf("got %s v%d", got.LifecycleStatus, got.Version)
				}
				if to == "completed" && (got.AchievementStatus == nil || *got.AchievementStatus != "achieved") {
					t.Fatalf("completing did not set achieved: %v", got.AchievementStatus)
				}
				if to == "active" && (got.AchievementStatus == nil || *got.AchievementStatus != "in-progress") {
					t.Fatalf("starting did not set in-progress: %v", got.AchievementStatus)
				}
			})
		}
	}
	if allowed != 29 {
		t.Fatalf("the table has %d moves; update this test with the table", allowed)
	}

	// Completing can say otherwise about achievement.
	g := inState("active")
	got := decodeGoal(t, patchGoal(w, w.alice, g, map[string]any{"lifecycle_status": "completed", "achievement_status": "not-achieved"}).Want(t, http.StatusOK))
	if *got.AchievementStatus != "not-achieved" {
		t.Fatalf("achievement %v", *got.AchievementStatus)
	}

	for _, tc := range [][2]string{
		{"entered-in-error", "active"}, {"completed", "proposed"}, {"rejected", "active"}, {"active", "proposed"},
		{"proposed", "completed"}, {"cancelled", "completed"}, {"active", "rejected"}, {"planned", "completed"},
		{"on-hold", "planned"}, {"completed", "on-hold"},
	} {
		t.Run("forbidden "+tc[0]+"->"+tc[1], func(t *testing.T) {
			g := inState(tc[0])
			before := countRows(t, e, `SELECT count(*) FROM goal_history WHERE goal_id = ?`, g.ID)
			p := patchGoal(w, w.alice, g, map[string]any{"lifecycle_status": tc[1], "title": "changed"}).Problem(t, http.StatusConflict)
			mustContainAll(t, p["detail"].(string), tc[0], tc[1])
			after := getGoal(t, w, w.alice, g.ID)
			if after.Version != g.Version || after.Title == "changed" || countRows(t, e, `SELECT count(*) FROM goal_history WHERE goal_id = ?`, g.ID) != before {
				t.Fatalf("a refused move wrote something: %+v", after)
			}
		})
	}

	// Accept and reject apply to proposals only.
	act := inState("active")
	p := e.Do(http.MethodPost, goalPath(act.ID)+"/accept", w.alice.Token, nil).Problem(t, http.StatusConflict)
	mustContainAll(t, p["detail"].(string), "active", "proposed")
	e.Do(http.MethodPost, goalPath(act.ID)+"/reject", w.alice.Token, map[string]any{"reason": "no"}).Problem(t, http.StatusConflict)
	prop := inState("proposed")
	rej := decodeGoal(t, e.Do(http.MethodPost, goalPath(prop.ID)+"/reject", w.alice.Token, map[string]any{"reason": "Not the right time"}).Want(t, http.StatusOK))
	if rej.LifecycleStatus != "rejected" || rej.StatusReason == nil || *rej.StatusReason != "Not the right time" {
		t.Fatalf("rejected: %+v", rej)
	}
	prop = inState("proposed")
	e.Do(http.MethodPost, goalPath(prop.ID)+"/accept", w.alice.Token, map[string]any{"lifecycle_status": "accepted"}, "If-Match", `"7"`).Problem(t, http.StatusPreconditionFailed)
	if a := decodeGoal(t, e.Do(http.MethodPost, goalPath(prop.ID)+"/accept", w.alice.Token, map[string]any{"lifecycle_status": "accepted"}).Want(t, http.StatusOK)); a.LifecycleStatus != "accepted" || a.AchievementStatus != nil {
		t.Fatalf("accepted as accepted: %+v", a)
	}

	// What a care team member may and may not move.
	prop = inState("proposed")
	p = patchGoal(w, w.wanda, prop, map[string]any{"lifecycle_status": "active"}).Problem(t, http.StatusForbidden)
	mustContainAll(t, p["detail"].(string), "proposed", "active")
	patchGoal(w, w.wanda, prop, map[string]any{"lifecycle_status": "rejected"}).Problem(t, http.StatusForbidden)
	e.Do(http.MethodPost, goalPath(prop.ID)+"/reject", w.wanda.Token, nil).Problem(t, http.StatusForbidden)
	if wd := decodeGoal(t, patchGoal(w, w.wanda, prop, map[string]any{"lifecycle_status": "cancelled"}).Want(t, http.StatusOK)); wd.LifecycleStatus != "cancelled" {
		t.Fatalf("worker could not withdraw their proposal: %+v", wd)
	}
	act = inState("active")
	patchGoal(w, w.wanda, act, map[string]any{"lifecycle_status": "entered-in-error"}).Problem(t, http.StatusForbidden)
	// Role before precondition: a stale ETag does not hide the 403.
	e.Do(http.MethodPatch, goalPath(act.ID), w.wanda.Token, map[string]any{"lifecycle_status": "entered-in-error"}, "If-Match", `"99"`).Problem(t, http.StatusForbidden)
	// Every other lifecycle move is the client's too (TestGoalLifecycleOwnership has them all).
	patchGoal(w, w.wanda, act, map[string]any{"lifecycle_status": "on-hold"}).Problem(t, http.StatusForbidden)
	act = decodeGoal(t, patchGoal(w, w.alice, act, map[string]any{"lifecycle_status": "on-hold"}).Want(t, http.StatusOK))
	// Entered in error: final, frozen, and hidden from lists by default.
	eie := decodeGoal(t, patchGoal(w, w.alice, act, map[string]any{"lifecycle_status": "entered-in-error"}).Want(t, http.StatusOK))
	p = patchGoal(w, w.alice, eie, map[string]any{"title": "again"}).Problem(t, http.StatusConflict)
	mustContainAll(t, p["detail"].(string), "entered in error")
	e.Do(http.MethodPost, goalPath(eie.ID)+"/check-ins", w.alice.Token, map[string]any{"rating": 5}).Problem(t, http.StatusConflict)
	e.Do(http.MethodPost, goalPath(eie.ID)+"/steps", w.alice.Token, map[string]any{"title": "x"}).Problem(t, http.StatusConflict)
	ids := listIDs(t, e.Do(http.MethodGet, goalsPath(w.alice)+"?limit=100", w.alice.Token, nil).Want(t, http.StatusOK))
	if slices.Contains(ids, eie.ID) {
		t.Fatal("entered-in-error goal listed by default")
	}
	ids = listIDs(t, e.Do(http.MethodGet, goalsPath(w.alice)+"?lifecycle_status=entered-in-error&limit=100", w.alice.Token, nil).Want(t, http.StatusOK))
	if !slices.Contains(ids, eie.ID) {
		t.Fatal("entered-in-error goal not listed when asked for")
	}
	getGoal(t, w, w.alice, eie.ID)
}

// op is one goal operation as some actor would call it; setup runs as the
// owner so every case starts from a fresh, valid state.
type goalOp struct {
	name   string
	call   func(token string, f fixture) *apitest.Resp
	client int // status for the client (and an app with the goal scopes)
	worker int // status for a worker on the client's care team
}

type fixture struct {
	goal     goalView // alice's active goal with one step
	proposal goalView // wanda's proposal for alice
	stepID   string
	stepVer  int64
}

func TestGoalRoleMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	fresh := func(t *testing.T) fixture {
		g := newGoal(t, w, w.alice, w.alice, map[string]any{"steps": []map[string]any{{"title": "first"}}})
		p := newGoal(t, w, w.wanda, w.alice, map[string]any{"title": "proposal"})
		return fixture{goal: g, proposal: p, stepID: g.Steps[0].ID, stepVer: g.Steps[0].Version}
	}
	ifm := func(v int64) string { return fmt.Sprintf(`"%d"`, v) }
	ops := []goalOp{
		{"listGoals", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodGet, goalsPath(w.alice), tok, nil)
		}, 200, 200},
		{"createGoal", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodPost, goalsPath(w.alice), tok, map[string]any{"title": "new"})
		}, 201, 201},
		{"getGoal", func(tok string, f fixture) *apitest.Resp { return e.Do(http.MethodGet, goalPath(f.goal.ID), tok, nil) }, 200, 200},
		{"patchGoal", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodPatch, goalPath(f.goal.ID), tok, map[string]any{"title": "edited"}, "If-Match", ifm(f.goal.Version))
		}, 200, 200},
		{"acceptGoal", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodPost, goalPath(f.proposal.ID)+"/accept", tok, nil, "If-Match", ifm(f.proposal.Version))
		}, 200, 403},
		{"rejectGoal", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodPost, goalPath(f.proposal.ID)+"/reject", tok, map[string]any{"reason": "no"})
		}, 200, 403},
		{"listGoalHistory", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodGet, goalPath(f.goal.ID)+"/history", tok, nil)
		}, 200, 200},
		{"addGoalStep", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodPost, goalPath(f.goal.ID)+"/steps", tok, map[string]any{"title": "another"})
		}, 201, 201},
		{"patchGoalStep", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodPatch, goalPath(f.goal.ID)+"/steps/"+f.stepID, tok, map[string]any{"done": true}, "If-Match", ifm(f.stepVer))
		}, 200, 200},
		{"deleteGoalStep", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodDelete, goalPath(f.goal.ID)+"/steps/"+f.stepID, tok, nil, "If-Match", ifm(f.stepVer))
		}, 204, 403},
		{"listGoalCheckIns", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodGet, goalPath(f.goal.ID)+"/check-ins", tok, nil)
		}, 200, 200},
		{"addGoalCheckIn", func(tok string, f fixture) *apitest.Resp {
			return e.Do(http.MethodPost, goalPath(f.goal.ID)+"/check-ins", tok, map[string]any{"rating": 5})
		}, 201, 201},
	}
	// Every registered goal operation is in the matrix.
	var registered []string
	spec := e.Do(http.MethodGet, "/openapi.json", "", nil).Want(t, http.StatusOK).Map(t)
	for _, item := range spec["paths"].(map[string]any) {
		for _, o := range item.(map[string]any) {
			if m, ok := o.(map[string]any); ok && slices.Contains(anyStrings(m["tags"]), "Goals") {
				registered = append(registered, m["operationId"].(string))
			}
		}
	}
	var covered []string
	for _, o := range ops {
		covered = append(covered, o.name)
	}
	slices.Sort(registered)
	slices.Sort(covered)
	if !slices.Equal(registered, covered) {
		t.Fatalf("matrix covers %v, API has %v", covered, registered)
	}

	appWith := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("goals:read", "goals:write"), authtest.WithClaim("azp", "partner-app"))
	appWithout := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("profile:read", "services:read"), authtest.WithClaim("azp", "partner-app"))
	actors := []struct {
		name  string
		token string
		want  func(goalOp) int
	}{
		{"client", w.alice.Token, func(o goalOp) int { return o.client }},
		{"own worker", w.wanda.Token, func(o goalOp) int { return o.worker }},
		{"other worker", w.will.Token, func(goalOp) int { return 404 }},
		{"admin", w.adam.Token, func(goalOp) int { return 404 }},
		{"other client", w.bob.Token, func(goalOp) int { return 404 }},
		{"app with scope", appWith, func(o goalOp) int { return o.client }},
		{"app without scope", appWithout, func(goalOp) int { return 403 }},
	}
	for _, a := range actors {
		for _, o := range ops {
			t.Run(a.name+"/"+o.name, func(t *testing.T) {
				f := fresh(t)
				r := o.call(a.token, f)
				want := a.want(o)
				if r.Status != want {
					t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
				}
				if want >= 400 {
					r.Problem(t, want)
				}
				if a.name == "app without scope" && !strings.Contains(r.Header.Get("WWW-Authenticate"), "insufficient_scope") {
					t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
				}
				if want == 404 || want == 403 {
					// Refused: the goal is as it was.
					if g := getGoal(t, w, w.alice, f.goal.ID); g.Version != f.goal.Version || len(g.Steps) != 1 {
						t.Fatalf("refused call changed the goal: %+v", g)
					}
				}
			})
		}
	}

	// Authorization before preconditions: foreign goals are 404 whatever If-Match says.
	f := fresh(t)
	for _, h := range []string{"", `"1"`, `"999"`, "garbage"} {
		hdr := []string{}
		if h != "" {
			hdr = []string{"If-Match", h}
		}
		e.Do(http.MethodPatch, goalPath(f.goal.ID), w.will.Token, map[string]any{"title": "x"}, hdr...).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPatch, goalPath(f.goal.ID), w.adam.Token, map[string]any{"title": "x"}, hdr...).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPatch, goalPath(f.goal.ID)+"/steps/"+f.stepID, w.bob.Token, map[string]any{"title": "x"}, hdr...).Problem(t, http.StatusNotFound)
		e.Do(http.MethodDelete, goalPath(f.goal.ID)+"/steps/"+f.stepID, w.wanda.Token, nil, hdr...).Problem(t, http.StatusForbidden)
	}
	// For the owner, the precondition rules: 428 without If-Match, 412 when stale.
	e.Do(http.MethodPatch, goalPath(f.goal.ID), w.alice.Token, map[string]any{"title": "x"}).Problem(t, http.StatusPreconditionRequired)
	e.Do(http.MethodPatch, goalPath(f.goal.ID), w.alice.Token, map[string]any{"title": "x"}, "If-Match", "garbage").Problem(t, http.StatusPreconditionFailed)
	e.Do(http.MethodPatch, goalPath(f.goal.ID)+"/steps/"+f.stepID, w.alice.Token, map[string]any{"title": "x"}).Problem(t, http.StatusPreconditionRequired)
	r := e.Do(http.MethodDelete, goalPath(f.goal.ID)+"/steps/"+f.stepID, w.alice.Token, nil, "If-Match", `"9"`)
	r.Problem(t, http.StatusPreconditionFailed)
	if r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, f.stepVer) {
		t.Fatalf("step 412 ETag %q", r.Header.Get("ETag"))
	}
	e.Do(http.MethodPatch, goalPath(f.goal.ID)+"/steps/"+uuid.NewString(), w.alice.Token, map[string]any{"title": "x"}, "If-Match", `"1"`).Problem(t, http.StatusNotFound)
	e.Do(http.MethodGet, goalPath(uuid.NewString()), w.alice.Token, nil).Problem(t, http.StatusNotFound)
	e.Do(http.MethodGet, "/v1/clients/"+uuid.NewString()+"/goals", w.alice.Token, nil).Problem(t, http.StatusNotFound)
}

func anyStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// rawPatch sends a PATCH from any goroutine (apitest's helpers may only fail
// the test from the test goroutine).
func rawPatch(url, token, etag, body string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPatch, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/merge-patch+json")
	req.Header.Set("If-Match", etag)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("ETag"), nil
}

func TestGoalConcurrentPatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "start"})
	titleEntries := func() int64 {
		return countRows(t, e, `SELECT count(*) FROM goal_history WHERE goal_id = ? AND field = 'title'`, g.ID)
	}

	const n = 50
	type result struct {
		status int
		etag   string
		err    error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		tok := w.alice.Token
		if i%2 == 1 {
			tok = w.wanda.Token // client and worker race each other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, et, err := rawPatch(e.URL+goalPath(g.ID), tok, `"1"`, fmt.Sprintf(`{"title":"racer %d"}`, i))
			results[i] = result{st, et, err}
		}()
	}
	close(start)
	wg.Wait()
	ok, stale := 0, 0
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Fatalf("request %d: %v", i, r.err)
		case r.status == http.StatusOK:
			ok++
		case r.status == http.StatusPreconditionFailed && r.etag == `"2"`:
			stale++
		default:
			t.Fatalf("request %d: status %d ETag %s", i, r.status, r.etag)
		}
	}
	if ok != 1 || stale != n-1 {
		t.Fatalf("%d succeeded, %d stale; want 1 and %d", ok, stale, n-1)
	}
	if got := titleEntries(); got != 1 {
		t.Fatalf("history holds %d title changes, want 1", got)
	}
	cur := getGoal(t, w, w.alice, g.ID)
	if cur.Version != 2 || !strings.HasPrefix(cur.Title, "racer ") {
		t.Fatalf("after the race: %+v", cur)
	}

	// Then n sequential edits with fresh ETags all land, in order.
	etag := `"2"`
	for i := range n {
		tok := w.alice.Token
		if i%2 == 1 {
			tok = w.wanda.Token
		}
		st, et, err := rawPatch(e.URL+goalPath(g.ID), tok, etag, fmt.Sprintf(`{"title":"edit %02d"}`, i))
		if err != nil || st != http.StatusOK {
			t.Fatalf("edit %d: %d %v", i, st, err)
		}
		etag = et
	}
	cur = getGoal(t, w, w.alice, g.ID)
	if cur.Version != 2+n || cur.Title != fmt.Sprintf("edit %02d", n-1) {
		t.Fatalf("after sequential edits: %+v", cur)
	}
	var titles []string
	for _, h := range history(t, w, w.alice, g.ID) {
		if h.Field == "title" {
			var s string
			_ = json.Unmarshal(h.NewValue, &s)
			titles = append(titles, s)
		}
	}
	if len(titles) != n+1 {
		t.Fatalf("%d title entries, want %d", len(titles), n+1)
	}
	for i := range n {
		if titles[i+1] != fmt.Sprintf("edit %02d", i) {
			t.Fatalf("history out of order at %d: %v", i, titles)
		}
	}
}

func TestGoalHistoryComplete(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "Eat well", "description": "More vegetables", "category": "food"})
	count := func() int { return len(history(t, w, w.alice, g.ID)) }
	base := count()
	if base != 1 {
		t.Fatalf("creation recorded %d entries, want 1", base)
	}

	// One entry per changed field; an unchanged field sent again is not a change.
	g = decodeGoal(t, patchGoal(w, w.wanda, g, map[string]any{
		"title": "Eat well every day", "category": "food", "priority": "high", "target_date": "2025-12-01",
		"strengths_used": []string{"good cook"},
	}).Want(t, http.StatusOK))
	h := history(t, w, w.alice, g.ID)
	var fields []string
	for _, x := range h[base:] {
		fields = append(fields, x.Field)
		if x.Actor.Role != "worker" || x.Actor.PersonID != w.wanda.PersonID.String() {
			t.Fatalf("attribution: %+v", x)
		}
	}
	slices.Sort(fields)
	if strings.Join(fields, ",") != "priority,strengths_used,target_date,title" {
		t.Fatalf("fields %v", fields)
	}

	// null clears, and the history shows the old value.
	g = decodeGoal(t, patchGoal(w, w.alice, g, `{"description":null,"target_date":null}`).Want(t, http.StatusOK))
	if g.Description != nil || g.TargetDate != nil {
		t.Fatalf("null did not clear: %+v", g)
	}
	h = history(t, w, w.alice, g.ID)
	if len(h) != base+6 || h[base+4].Field != "description" || string(h[base+4].OldValue) != `"More vegetables"` || string(h[base+4].NewValue) != "null" {
		t.Fatalf("clear entries: %+v", h[base+4:])
	}
	n := count()

	// Failed and empty patches add nothing and keep the version.
	patchGoal(w, w.alice, goalView{ID: g.ID, Version: 1}, map[string]any{"title": "stale"}).Problem(t, http.StatusPreconditionFailed)
	e.Do(http.MethodPatch, goalPath(g.ID), w.alice.Token, map[string]any{"title": "no if-match"}).Problem(t, http.StatusPreconditionRequired)
	patchGoal(w, w.alice, g, map[string]any{"title": ""}).Problem(t, http.StatusUnprocessableEntity)
	patchGoal(w, w.alice, g, map[string]any{"lifecycle_status": "proposed"}).Problem(t, http.StatusConflict)
	same := decodeGoal(t, patchGoal(w, w.alice, g, map[string]any{"title": g.Title, "category": "food"}).Want(t, http.StatusOK))
	empty := decodeGoal(t, patchGoal(w, w.alice, g, map[string]any{}).Want(t, http.StatusOK))
	if same.Version != g.Version || empty.Version != g.Version || count() != n {
		t.Fatalf("no-op or failed patches changed something: v%d v%d, %d entries (want %d)", same.Version, empty.Version, count(), n)
	}

	// Completing records the lifecycle and the achievement it implies.
	g = decodeGoal(t, patchGoal(w, w.alice, g, map[string]any{"lifecycle_status": "completed"}).Want(t, http.StatusOK))
	h = history(t, w, w.alice, g.ID)
	if len(h) != n+2 || h[n].Field != "lifecycle_status" || h[n+1].Field != "achievement_status" || string(h[n+1].NewValue) != `"achieved"` {
		t.Fatalf("completion entries: %+v", h[n:])
	}

	// Steps: added, changed field by field, deleted.
	st := e.Do(http.MethodPost, goalPath(g.ID)+"/steps", w.wanda.Token, map[string]any{"title": "Plan meals", "due_date": "2025-08-01"}).Want(t, http.StatusCreated)
	if st.Header.Get("ETag") != `"1"` {
		t.Fatalf("step ETag %q", st.Header.Get("ETag"))
	}
	sid := st.Map(t)["id"].(string)
	s2 := e.Do(http.MethodPatch, goalPath(g.ID)+"/steps/"+sid, w.wanda.Token, `{"title":"Plan meals weekly","done":true,"due_date":null}`, "If-Match", `"1"`).Want(t, http.StatusOK).Map(t)
	if s2["done"] != true || s2["due_date"] != nil || s2["version"] != 2.0 {
		t.Fatalf("step after patch: %v", s2)
	}
	e.Do(http.MethodPatch, goalPath(g.ID)+"/steps/"+sid, w.wanda.Token, `{"title":"stale"}`, "If-Match", `"1"`).Problem(t, http.StatusPreconditionFailed)
	e.Do(http.MethodDelete, goalPath(g.ID)+"/steps/"+sid, w.alice.Token, nil, "If-Match", `"2"`).Want(t, http.StatusNoContent)
	h = history(t, w, w.alice, g.ID)
	fields = nil
	for _, x := range h[n+2:] {
		fields = append(fields, x.Field)
	}
	p := "steps[" + sid + "]"
	want := []string{p, p + ".title", p + ".due_date", p + ".done_at", p}
	if !slices.Equal(fields, want) {
		t.Fatalf("step history %v, want %v", fields, want)
	}
	if last := h[len(h)-1]; string(last.NewValue) != "null" || !strings.Contains(string(last.OldValue), "Plan meals weekly") {
		t.Fatalf("deletion entry: %+v", last)
	}

	// Pagination walks the same entries in both directions.
	all := history(t, w, w.alice, g.ID)
	asc := walkIDs(t, e, goalPath(g.ID)+"/history?limit=3&cursor=", w.wanda.Token)
	desc := walkIDs(t, e, goalPath(g.ID)+"/history?order=desc&limit=4&cursor=", w.alice.Token)
	slices.Reverse(desc)
	if len(asc) != len(all) || !slices.Equal(asc, desc) {
		t.Fatalf("pagination: %d asc, %d desc, %d total", len(asc), len(desc), len(all))
	}
}

func TestGoalSteps(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"steps": []map[string]any{{"title": "A"}, {"title": "B"}, {"title": "C"}, {"title": "D"}}})
	order := func() (string, map[string]int64) {
		cur := getGoal(t, w, w.alice, g.ID)
		var s []string
		vers := map[string]int64{}
		for i, st := range cur.Steps {
			if st.Position != i+1 {
				t.Fatalf("positions not dense: %+v", cur.Steps)
			}
			s = append(s, st.Title)
			vers[st.Title] = st.Version
		}
		return strings.Join(s, ""), vers
	}
	id := map[string]string{}
	for _, st := range g.Steps {
		id[st.Title] = st.ID
	}
	move := func(title string, pos int, ver int64) {
		t.Helper()
		e.Do(http.MethodPatch, goalPath(g.ID)+"/steps/"+id[title], w.wanda.Token, map[string]any{"position": pos}, "If-Match", fmt.Sprintf(`"%d"`, ver)).Want(t, http.StatusOK)
	}
	move("D", 1, 1)
	o, v := order()
	if o != "DABC" || v["A"] != 2 || v["D"] != 2 {
		t.Fatalf("after moving D first: %s %v", o, v)
	}
	move("D", 3, v["D"])
	o, v = order()
	if o != "ABDC" {
		t.Fatalf("after moving D to 3: %s", o)
	}
	move("A", 99, v["A"])
	if o, _ = order(); o != "BDCA" {
		t.Fatalf("after moving A past the end: %s", o)
	}
	// A sibling that moved has a new version: its old ETag is stale.
	e.Do(http.MethodPatch, goalPath(g.ID)+"/steps/"+id["B"], w.alice.Token, map[string]any{"title": "B2"}, "If-Match", `"1"`).Problem(t, http.StatusPreconditionFailed)
	// Insert at a position; delete from the middle keeps them dense.
	ins := e.Do(http.MethodPost, goalPath(g.ID)+"/steps", w.alice.Token, map[string]any{"title": "E", "position": 2}).Want(t, http.StatusCreated).Map(t)
	id["E"] = ins["id"].(string)
	if o, v = order(); o != "BEDCA" {
		t.Fatalf("after inserting E at 2: %s", o)
	}
	e.Do(http.MethodDelete, goalPath(g.ID)+"/steps/"+id["D"], w.alice.Token, nil, "If-Match", fmt.Sprintf(`"%d"`, v["D"])).Want(t, http.StatusNoContent)
	if o, _ = order(); o != "BECA" {
		t.Fatalf("after deleting D: %s", o)
	}
	e.Do(http.MethodDelete, goalPath(g.ID)+"/steps/"+id["D"], w.alice.Token, nil, "If-Match", `"1"`).Problem(t, http.StatusNotFound)
	// A step of another goal is not found through this one.
	other := newGoal(t, w, w.alice, w.alice, map[string]any{"steps": []map[string]any{{"title": "X"}}})
	e.Do(http.MethodPatch, goalPath(g.ID)+"/steps/"+other.Steps[0].ID, w.alice.Token, map[string]any{"title": "Y"}, "If-Match", `"1"`).Problem(t, http.StatusNotFound)
	// At most 50 steps.
	for i := 0; i < 46; i++ {
		e.Do(http.MethodPost, goalPath(g.ID)+"/steps", w.alice.Token, map[string]any{"title": fmt.Sprintf("s%d", i)}).Want(t, http.StatusCreated)
	}
	e.Do(http.MethodPost, goalPath(g.ID)+"/steps", w.alice.Token, map[string]any{"title": "one too many"}).Problem(t, http.StatusConflict)
}

func TestGoalTrendAndLists(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	mk := func(title, category string, ratings ...int) goalView {
		g := newGoal(t, w, w.alice, w.alice, map[string]any{"title": title, "category": category})
		for _, r := range ratings {
			e.Do(http.MethodPost, goalPath(g.ID)+"/check-ins", w.alice.Token, map[string]any{"rating": r}).Want(t, http.StatusCreated)
		}
		return g
	}
	// Only the last six client ratings count: newest half vs oldest half.
	want := map[string]struct {
		trend  string
		latest int
	}{}
	goals := []goalView{
		mk("none", "food"), mk("two", "food", 2, 9), mk("up", "health", 2, 3, 5), mk("down", "health", 8, 8, 6, 5),
		mk("flat", "income", 5, 6, 5, 5, 6, 5), mk("old lows dropped", "income", 0, 0, 0, 7, 7, 7, 7, 7, 7),
	}
	want["none"] = struct {
		trend  string
		latest int
	}{"insufficient_data", -1}
	want["two"] = struct {
		trend  string
		latest int
	}{"insufficient_data", 9}
	want["up"] = struct {
		trend  string
		latest int
	}{"improving", 5}
	want["down"] = struct {
		trend  string
		latest int
	}{"worsening", 5}
	want["flat"] = struct {
		trend  string
		latest int
	}{"steady", 5}
	want["old lows dropped"] = struct {
		trend  string
		latest int
	}{"steady", 7}
	// A worker's check-ins are attributed and do not move the client's numbers.
	e.Do(http.MethodPost, goalPath(goals[2].ID)+"/check-ins", w.wanda.Token, map[string]any{"rating": 0, "mood": "low"}).Want(t, http.StatusCreated)

	var page struct {
		Items      []goalView `json:"items"`
		NextCursor string     `json:"next_cursor"`
	}
	e.Do(http.MethodGet, goalsPath(w.alice)+"?limit=100", w.wanda.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != len(goals) || page.NextCursor != "" {
		t.Fatalf("list has %d goals", len(page.Items))
	}
	for i, g := range page.Items {
		if g.ID != goals[i].ID {
			t.Fatalf("list order: %d is %s", i, g.Title)
		}
		wt := want[g.Title]
		if g.Trend != wt.trend || (wt.latest < 0) != (g.LatestRating == nil) || (g.LatestRating != nil && *g.LatestRating != wt.latest) {
			t.Errorf("%s: trend %s latest %v, want %s %d", g.Title, g.Trend, g.LatestRating, wt.trend, wt.latest)
		}
	}
	// The single read agrees with the list.
	if one := getGoal(t, w, w.alice, goals[3].ID); one.Trend != "worsening" || *one.LatestRating != 5 {
		t.Fatalf("single read: %+v", one)
	}
	// Check-ins list, newest first on request, attributed.
	var cis struct {
		Items []struct {
			Rating int `json:"rating"`
			Author struct {
				Role        string `json:"role"`
				DisplayName string `json:"display_name"`
			} `json:"author"`
		} `json:"items"`
	}
	e.Do(http.MethodGet, goalPath(goals[2].ID)+"/check-ins?order=desc", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &cis)
	if len(cis.Items) != 4 || cis.Items[0].Author.Role != "worker" || cis.Items[0].Author.DisplayName != "Test wanda" || cis.Items[1].Rating != 5 {
		t.Fatalf("check-ins: %+v", cis.Items)
	}

	// Filters and pagination.
	ids := listIDs(t, e.Do(http.MethodGet, goalsPath(w.alice)+"?category=health,income", w.alice.Token, nil).Want(t, http.StatusOK))
	if !slices.Equal(ids, []string{goals[2].ID, goals[3].ID, goals[4].ID, goals[5].ID}) {
		t.Fatalf("category filter: %v", ids)
	}
	patchGoal(w, w.alice, getGoal(t, w, w.alice, goals[0].ID), map[string]any{"lifecycle_status": "on-hold"}).Want(t, http.StatusOK)
	ids = listIDs(t, e.Do(http.MethodGet, goalsPath(w.alice)+"?lifecycle_status=on-hold", w.alice.Token, nil).Want(t, http.StatusOK))
	if !slices.Equal(ids, []string{goals[0].ID}) {
		t.Fatalf("status filter: %v", ids)
	}
	var seen []string
	for cursor := ""; ; {
		page.Items, page.NextCursor = nil, ""
		e.Do(http.MethodGet, goalsPath(w.alice)+"?limit=4&cursor="+cursor, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
		for _, g := range page.Items {
			seen = append(seen, g.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != len(goals) {
		t.Fatalf("pagination saw %d goals", len(seen))
	}
	e.Do(http.MethodGet, goalsPath(w.alice)+"?lifecycle_status=finished", w.alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	e.Do(http.MethodGet, goalsPath(w.alice)+"?cursor=nonsense", w.alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	// bob has no goals: an empty list, not 404; alice's list is 404 for bob.
	if ids := listIDs(t, e.Do(http.MethodGet, goalsPath(w.bob), w.bob.Token, nil).Want(t, http.StatusOK)); len(ids) != 0 {
		t.Fatalf("bob's goals: %v", ids)
	}
	e.Do(http.MethodGet, goalsPath(w.alice), w.bob.Token, nil).Problem(t, http.StatusNotFound)
}

func TestGoalBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"steps": []map[string]any{{"title": "a step"}}})
	tables := []string{"goals", "goal_steps", "goal_check_ins", "goal_history", "events", "idempotency_keys"}
	snapshot := func() []int64 {
		var out []int64
		for _, tb := range tables {
			out = append(out, countRows(t, e, "SELECT count(*) FROM "+tb))
		}
		return out
	}
	before := snapshot()
	big := `{"title":"big","description":"` + strings.Repeat("x", 10<<20) + `"}`
	ifm := fmt.Sprintf(`"%d"`, g.Version)
	stepURL := goalPath(g.ID) + "/steps/" + g.Steps[0].ID
	for _, tc := range []struct {
		name, method, path, body, ct string
		hdr                          []string
		status                       int
		loc                          string
	}{
		{"empty title", "POST", goalsPath(w.alice), `{"title":""}`, "", nil, 422, "body.title"},
		{"blank title", "POST", goalsPath(w.alice), `{"title":"   "}`, "", nil, 422, "body.title"},
		{"long title", "POST", goalsPath(w.alice), `{"title":"` + strings.Repeat("t", 201) + `"}`, "", nil, 422, "body.title"},
		{"missing title", "POST", goalsPath(w.alice), `{"description":"x"}`, "", nil, 422, "body.title"},
		{"10 MB description", "POST", goalsPath(w.alice), big, "", nil, 413, ""},
		{"10 MB description with key", "POST", goalsPath(w.alice), big, "", []string{"Idempotency-Key", "k-big"}, 413, ""},
		{"long description", "POST", goalsPath(w.alice), `{"title":"t","description":"` + strings.Repeat("d", 5001) + `"}`, "", nil, 422, "body.description"},
		{"unknown category", "POST", goalsPath(w.alice), `{"title":"t","category":"astrology"}`, "", nil, 422, "body.category"},
		{"unknown priority", "POST", goalsPath(w.alice), `{"title":"t","priority":"urgent"}`, "", nil, 422, "body.priority"},
		{"target date not a date", "POST", goalsPath(w.alice), `{"title":"t","target_date":"next tuesday"}`, "", nil, 422, "body.target_date"},
		{"impossible date", "POST", goalsPath(w.alice), `{"title":"t","target_date":"2025-02-30"}`, "", nil, 422, "body.target_date"},
		{"unknown field", "POST", goalsPath(w.alice), `{"title":"t","favourite_colour":"red"}`, "", nil, 422, "body.favourite_colour"},
		{"client proposes to themself", "POST", goalsPath(w.alice), `{"title":"t","lifecycle_status":"proposed"}`, "", nil, 422, "body.lifecycle_status"},
		{"bad step", "POST", goalsPath(w.alice), `{"title":"t","steps":[{"title":"ok"},{"title":""}]}`, "", nil, 422, "body.steps[1].title"},
		{"wrong content type", "POST", goalsPath(w.alice), `title=t`, "text/plain", nil, 415, ""},
		{"malformed json", "POST", goalsPath(w.alice), `{"title":`, "", nil, 400, ""},
		{"rating 11", "POST", goalPath(g.ID) + "/check-ins", `{"rating":11}`, "", nil, 422, "body.rating"},
		{"rating -1", "POST", goalPath(g.ID) + "/check-ins", `{"rating":-1}`, "", nil, 422, "body.rating"},
		{"rating 5.5", "POST", goalPath(g.ID) + "/check-ins", `{"rating":5.5}`, "", nil, 422, "body.rating"},
		{"rating missing", "POST", goalPath(g.ID) + "/check-ins", `{"note":"hi"}`, "", nil, 422, "body.rating"},
		{"long note", "POST", goalPath(g.ID) + "/check-ins", `{"rating":5,"note":"` + strings.Repeat("n", 2001) + `"}`, "", nil, 422, "body.note"},
		{"unknown mood", "POST", goalPath(g.ID) + "/check-ins", `{"rating":5,"mood":"meh"}`, "", nil, 422, "body.mood"},
		{"check-in content type", "POST", goalPath(g.ID) + "/check-ins", `rating=5`, "text/plain", nil, 415, ""},
		{"patch null title", "PATCH", goalPath(g.ID), `{"title":null}`, "", []string{"If-Match", ifm}, 422, "body.title"},
		{"patch null priority", "PATCH", goalPath(g.ID), `{"priority":null}`, "", []string{"If-Match", ifm}, 422, "body.priority"},
		{"patch null lifecycle", "PATCH", goalPath(g.ID), `{"lifecycle_status":null}`, "", []string{"If-Match", ifm}, 422, "body.lifecycle_status"},
		{"patch bad date", "PATCH", goalPath(g.ID), `{"target_date":"2025-13-45"}`, "", []string{"If-Match", ifm}, 422, "body.target_date"},
		{"patch unknown category", "PATCH", goalPath(g.ID), `{"category":"astrology"}`, "", []string{"If-Match", ifm}, 422, "body.category"},
		{"patch unknown field", "PATCH", goalPath(g.ID), `{"version":9}`, "", []string{"If-Match", ifm}, 422, "body.version"},
		{"patch strengths not a list", "PATCH", goalPath(g.ID), `{"strengths_used":"brave"}`, "", []string{"If-Match", ifm}, 422, "body.strengths_used"},
		{"patch long strength", "PATCH", goalPath(g.ID), `{"strengths_used":["` + strings.Repeat("s", 101) + `"]}`, "", []string{"If-Match", ifm}, 422, "body.strengths_used[0]"},
		{"patch 10 MB", "PATCH", goalPath(g.ID), big, "", []string{"If-Match", ifm}, 413, ""},
		{"patch json content type", "PATCH", goalPath(g.ID), `{"title":"x"}`, "text/plain", []string{"If-Match", ifm}, 415, ""},
		{"step empty title", "POST", goalPath(g.ID) + "/steps", `{"title":""}`, "", nil, 422, "body.title"},
		{"step position 0", "POST", goalPath(g.ID) + "/steps", `{"title":"x","position":0}`, "", nil, 422, "body.position"},
		{"step patch position 0", "PATCH", stepURL, `{"position":0}`, "", []string{"If-Match", `"1"`}, 422, "body.position"},
		{"step patch null position", "PATCH", stepURL, `{"position":null}`, "", []string{"If-Match", `"1"`}, 422, "body.position"},
		{"step patch null done", "PATCH", stepURL, `{"done":null}`, "", []string{"If-Match", `"1"`}, 422, "body.done"},
		{"step patch bad due date", "PATCH", stepURL, `{"due_date":"soon"}`, "", []string{"If-Match", `"1"`}, 422, "body.due_date"},
		{"accept as completed", "POST", goalPath(g.ID) + "/accept", `{"lifecycle_status":"completed"}`, "", nil, 422, "body.lifecycle_status"},
		{"reject reason too long", "POST", goalPath(g.ID) + "/reject", `{"reason":"` + strings.Repeat("r", 1001) + `"}`, "", nil, 422, "body.reason"},
		{"bad goal id", "GET", "/v1/goals/not-a-uuid", "", "", nil, 422, "path.goalId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := append([]string{}, tc.hdr...)
			if tc.ct != "" {
				hdr = append(hdr, "Content-Type", tc.ct)
			}
			var body any
			if tc.body != "" {
				body = tc.body
			}
			p := e.Do(tc.method, tc.path, w.alice.Token, body, hdr...).Problem(t, tc.status)
			if tc.loc != "" && !namesField(p, tc.loc) {
				t.Fatalf("problem does not name %s: %v", tc.loc, p)
			}
		})
	}
	if after := snapshot(); !slices.Equal(before, after) {
		t.Fatalf("bad input wrote rows: %v -> %v (%v)", before, after, tables)
	}
	if cur := getGoal(t, w, w.alice, g.ID); cur.Version != g.Version {
		t.Fatalf("goal version moved to %d", cur.Version)
	}
}

// namesField reports whether a problem names loc: at loc itself, or (for a
// missing required member, which the validator reports at its parent) at the
// parent with the member's name in the message.
func namesField(problem map[string]any, loc string) bool {
	if apitest.HasErrorAt(problem, loc) {
		return true
	}
	i := strings.LastIndex(loc, ".")
	errs, _ := problem["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		msg, _ := m["message"].(string)
		if m["location"] == loc[:i] && strings.Contains(msg, "property "+loc[i+1:]+" ") {
			return true
		}
	}
	return false
}

func TestGoalIdempotentCreate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	body := map[string]any{"title": "Learn to drive", "category": "education"}
	first := e.Do(http.MethodPost, goalsPath(w.alice), w.alice.Token, body, "Idempotency-Key", "goal-1").Want(t, http.StatusCreated)
	again := e.Do(http.MethodPost, goalsPath(w.alice), w.alice.Token, body, "Idempotency-Key", "goal-1").Want(t, http.StatusCreated)
	if again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(first.Body, again.Body) ||
		again.Header.Get("Location") != first.Header.Get("Location") || again.Header.Get("ETag") != `"1"` {
		t.Fatalf("replay differs: %s / %s", first.Body, again.Body)
	}
	if n := countRows(t, e, `SELECT count(*) FROM goals WHERE client_id = ?`, w.alice.ClientID); n != 1 {
		t.Fatalf("%d goals after a replay", n)
	}
	e.Do(http.MethodPost, goalsPath(w.alice), w.alice.Token, map[string]any{"title": "Something else"}, "Idempotency-Key", "goal-1").Problem(t, http.StatusUnprocessableEntity)
	// Check-ins and steps replay too.
	gid := first.Map(t)["id"].(string)
	for _, sub := range []struct {
		path string
		body map[string]any
		tbl  string
	}{{"/check-ins", map[string]any{"rating": 4}, "goal_check_ins"}, {"/steps", map[string]any{"title": "Book a lesson"}, "goal_steps"}} {
		a := e.Do(http.MethodPost, goalPath(gid)+sub.path, w.wanda.Token, sub.body, "Idempotency-Key", "sub"+sub.path).Want(t, http.StatusCreated)
		b := e.Do(http.MethodPost, goalPath(gid)+sub.path, w.wanda.Token, sub.body, "Idempotency-Key", "sub"+sub.path).Want(t, http.StatusCreated)
		if !bytes.Equal(a.Body, b.Body) || b.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s replay differs", sub.path)
		}
		if n := countRows(t, e, "SELECT count(*) FROM "+sub.tbl+" WHERE goal_id = ?", gid); n != 1 {
			t.Fatalf("%d rows in %s after a replay", n, sub.tbl)
		}
	}
}

func TestGoalEventsAndAccessLog(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	p := newGoal(t, w, w.wanda, w.alice, map[string]any{"title": "Join a walking group", "category": "wellbeing"})
	acc := decodeGoal(t, e.Do(http.MethodPost, goalPath(p.ID)+"/accept", w.alice.Token, nil).Want(t, http.StatusOK))
	st := e.Do(http.MethodPost, goalPath(p.ID)+"/steps", w.alice.Token, map[string]any{"title": "Find a group"}).Want(t, http.StatusCreated).Map(t)
	e.Do(http.MethodPatch, goalPath(p.ID)+"/steps/"+st["id"].(string), w.wanda.Token, map[string]any{"done": true}, "If-Match", `"1"`).Want(t, http.StatusOK)
	e.Do(http.MethodPost, goalPath(p.ID)+"/check-ins", w.alice.Token, map[string]any{"rating": 6}).Want(t, http.StatusCreated)
	patchGoal(w, w.wanda, getGoal(t, w, w.wanda, p.ID), map[string]any{"title": "Walk with a group weekly"}).Want(t, http.StatusOK)
	patchGoal(w, w.wanda, goalView{ID: p.ID, Version: 1}, map[string]any{"title": "stale"}).Problem(t, http.StatusPreconditionFailed)
	_ = acc

	var evs []struct {
		Type       string
		Change     string
		Recipients string
		ClientID   uuid.UUID
	}
	e.Positioned()
	if err := e.DB.Raw(`SELECT type, data->>'change' AS change, recipients::text AS recipients, client_id FROM events WHERE subject_id = ? ORDER BY seq`, p.ID).Scan(&evs).Error; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Type+":"+ev.Change)
		if ev.ClientID != w.alice.ClientID || !strings.Contains(ev.Recipients, w.alice.PersonID.String()) || !strings.Contains(ev.Recipients, w.wanda.PersonID.String()) ||
			strings.Contains(ev.Recipients, w.will.PersonID.String()) {
			t.Fatalf("event %s addressed to %s", ev.Type, ev.Recipients)
		}
	}
	want := []string{"goal.proposed:created", "goal.updated:accepted", "goal.updated:step_added", "goal.updated:step_updated",
		"goal.updated:check_in", "goal.updated:updated"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "own"})
	if n := countRows(t, e, `SELECT count(*) FROM events WHERE subject_id = ? AND type = 'goal.updated' AND data->>'change' = 'created'`, g.ID); n != 1 {
		t.Fatalf("client's own goal: %d created events", n)
	}

	// Every read or write by the worker is in alice's access log; alice's own are not.
	logged := func(action, resource string) int64 {
		return countRows(t, e, `SELECT count(*) FROM access_log WHERE client_id = ? AND actor_person_id = ? AND action = ? AND resource = ?`,
			w.alice.ClientID, w.wanda.PersonID, action, resource)
	}
	r0, w0 := logged("read", "goal"), logged("write", "goal")
	getGoal(t, w, w.wanda, p.ID)
	e.Do(http.MethodGet, goalsPath(w.alice), w.wanda.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, goalPath(p.ID)+"/history", w.wanda.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodGet, goalPath(p.ID)+"/check-ins", w.wanda.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodPost, goalPath(p.ID)+"/check-ins", w.wanda.Token, map[string]any{"rating": 5}).Want(t, http.StatusCreated)
	if logged("read", "goal") != r0+2 || logged("write", "goal") != w0+1 || logged("read", "goal_history") < 1 || logged("read", "goal_check_in") != 1 {
		t.Fatalf("access log: reads %d->%d writes %d->%d", r0, logged("read", "goal"), w0, logged("write", "goal"))
	}
	if n := countRows(t, e, `SELECT count(*) FROM access_log WHERE actor_person_id = ?`, w.alice.PersonID); n != 0 {
		t.Fatalf("alice's own access logged %d times", n)
	}
}

// walkIDs follows next_cursor from the first page to the last and returns the
// ids in the order the pages gave them; prefix ends with "cursor=".
func walkIDs(t *testing.T, e *apitest.Env, prefix, token string) []string {
	t.Helper()
	var ids []string
	for cursor := ""; ; {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		e.Do(http.MethodGet, prefix+cursor, token, nil).Want(t, http.StatusOK).Decode(t, &page)
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			return ids
		}
	}
}
