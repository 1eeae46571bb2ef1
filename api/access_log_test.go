package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
	"github.com/waypoint-portal/waypoint/domain"
)

// logRow is an access-log row as stored.
type logRow struct {
	ClientID      uuid.UUID
	ActorPersonID uuid.UUID
	AppID         string
	Action        string
	Resource      string
	ResourceID    string
	Label         string
	Relationship  string
	RequestID     string
}

// rowsOf returns the access-log rows a request wrote (by its request id).
func rowsOf(t *testing.T, e *apitest.Env, r *apitest.Resp) []logRow {
	t.Helper()
	rid := r.Header.Get("X-Request-Id")
	if rid == "" {
		t.Fatal("response without X-Request-Id")
	}
	var rows []logRow
	if err := e.DB.Raw(`SELECT client_id, actor_person_id, app_id, action, resource, resource_id, label, relationship, request_id
		FROM access_log WHERE request_id = ? ORDER BY id`, rid).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func logCount(t *testing.T, e *apitest.Env, client uuid.UUID) int64 {
	return countRows(t, e, `SELECT count(*) FROM access_log WHERE client_id = ?`, client)
}

// readLog is GET .../access-log as who, one page.
func readLog(t *testing.T, e *apitest.Env, who, client apitest.User, query string) api.Page[api.AccessLogEntry] {
	t.Helper()
	var p api.Page[api.AccessLogEntry]
	e.Do(http.MethodGet, "/v1/clients/"+client.ClientID.String()+"/access-log"+query, who.Token, nil).Want(t, http.StatusOK).Decode(t, &p)
	return p
}

// logFixture is a world in which alice has a goal with a step, a referral,
// a saved service and a conversation with wanda, all her own work (so none
// of it is in her log yet).
type logFixture struct {
	*world
	goal     goalView
	stepID   string
	referral referralView
	conv     api.Conversation
}

func newLogFixture(t *testing.T) *logFixture {
	t.Helper()
	w := newWorld(t)
	seedDirectory(t, w.e.Store)
	f := &logFixture{world: w}
	f.goal = newGoal(t, w, w.alice, w.alice, map[string]any{"title": "Find stable housing", "steps": []any{map[string]any{"title": "Call"}}})
	f.stepID = f.goal.Steps[0].ID
	f.referral = newReferral(t, w.e, w.alice, w.alice, map[string]any{"service_id": svcBallard.String()})
	w.e.Do(http.MethodPut, w.aliceURL+"/saved-services/"+svcDowntown.String(), w.alice.Token, nil).Want(t, http.StatusCreated)
	f.conv = createConversation(t, w.e, w.alice, map[string]any{"subject": "Rent"})
	postMessage(t, w.e, w.alice, f.conv.ID, "Hello")
	// Only adam putting wanda on the team is in her log, none of her own work.
	if n := logCount(t, w.e, w.alice.ClientID); n != 1 {
		t.Fatalf("alice's log holds %d entries, want 1", n)
	}
	return f
}

// version is the current version of row id of table, as an If-Match value.
func version(t *testing.T, e *apitest.Env, table, id string) string {
	return fmt.Sprintf(`"%d"`, countRows(t, e, `SELECT version FROM `+table+` WHERE id = ?`, id))
}

// createdID is the id of what a 201 created.
func createdID(t *testing.T, r *apitest.Resp) string {
	t.Helper()
	return r.Want(t, http.StatusCreated).Map(t)["id"].(string)
}

// wantEntry is the one entry an operation must write.
type wantEntry struct{ action, resource, label, rid, rel string }

// loggedOp is an operation on alice's data by someone else.
type loggedOp struct {
	name string
	do   func() *apitest.Resp
	want func() wantEntry
}

// loggedOps is every operation on alice's data, by wanda (her care team)
// and adam (an administrator), with the entry each must write.
func (f *logFixture) loggedOps(t *testing.T) []loggedOp {
	e, wanda, alice := f.e, f.wanda, f.alice
	gid, cid, rid := f.goal.ID, f.conv.ID.String(), f.referral.ID
	var created string // the id the last create returned
	type want = wantEntry
	care := func(action, resource, label, rid string) want {
		return want{action, resource, label, rid, domain.RelCareTeamWorker}
	}
	return []loggedOp{
		{"getClient", func() *apitest.Resp { return e.Do(http.MethodGet, f.aliceURL, wanda.Token, nil) },
			func() want { return care("read", "client", "", alice.ClientID.String()) }},
		{"patchClient", func() *apitest.Resp {
			return e.Do(http.MethodPatch, f.aliceURL, wanda.Token, map[string]any{"interests": []string{"cooking"}},
				"If-Match", version(t, e, "clients", alice.ClientID.String()))
		}, func() want { return care("write", "client", "", alice.ClientID.String()) }},
		{"listClients", func() *apitest.Resp { return e.Do(http.MethodGet, "/v1/clients", wanda.Token, nil) },
			func() want { return care("read", "client", "", alice.ClientID.String()) }},
		{"getCareTeam", func() *apitest.Resp { return e.Do(http.MethodGet, f.aliceURL+"/care-team", wanda.Token, nil) },
			func() want { return care("read", "care_team", "", "") }},
		{"listGoals", func() *apitest.Resp { return e.Do(http.MethodGet, goalsPath(alice), wanda.Token, nil) },
			func() want { return care("read", "goal", "", "") }},
		{"getGoal", func() *apitest.Resp { return e.Do(http.MethodGet, goalPath(gid), wanda.Token, nil) },
			func() want { return care("read", "goal", "Find stable housing", gid) }},
		{"patchGoal", func() *apitest.Resp {
			return e.Do(http.MethodPatch, goalPath(gid), wanda.Token, map[string]any{"title": "Find a stable home"}, "If-Match", version(t, e, "goals", gid))
		}, func() want { return care("write", "goal", "Find a stable home", gid) }},
		{"addGoalStep", func() *apitest.Resp {
			return e.Do(http.MethodPost, goalPath(gid)+"/steps", wanda.Token, map[string]any{"title": "Visit"})
		}, func() want { return care("write", "goal", "Find a stable home", gid) }},
		{"patchGoalStep", func() *apitest.Resp {
			return e.Do(http.MethodPatch, goalPath(gid)+"/steps/"+f.stepID, wanda.Token, map[string]any{"done": true},
				"If-Match", version(t, e, "goal_steps", f.stepID))
		}, func() want { return care("write", "goal", "Find a stable home", gid) }},
		{"addGoalCheckIn", func() *apitest.Resp {
			return e.Do(http.MethodPost, goalPath(gid)+"/check-ins", wanda.Token, map[string]any{"rating": 5})
		}, func() want { return care("write", "goal", "Find a stable home", gid) }},
		{"listGoalHistory", func() *apitest.Resp { return e.Do(http.MethodGet, goalPath(gid)+"/history", wanda.Token, nil) },
			func() want { return care("read", "goal_history", "Find a stable home", gid) }},
		{"listGoalCheckIns", func() *apitest.Resp { return e.Do(http.MethodGet, goalPath(gid)+"/check-ins", wanda.Token, nil) },
			func() want { return care("read", "goal_check_in", "Find a stable home", gid) }},
		{"createGoal", func() *apitest.Resp {
			r := e.Do(http.MethodPost, goalsPath(alice), wanda.Token, map[string]any{"title": "Learn to drive"})
			created = createdID(t, r)
			return r
		}, func() want { return care("write", "goal", "Learn to drive", created) }},
		{"listSavedServices", func() *apitest.Resp { return e.Do(http.MethodGet, f.aliceURL+"/saved-services", wanda.Token, nil) },
			func() want { return care("read", "saved_service", "", "") }},
		{"saveService", func() *apitest.Resp {
			return e.Do(http.MethodPut, f.aliceURL+"/saved-services/"+svcShelter.String(), wanda.Token, nil)
		}, func() want { return care("write", "saved_service", "Georgetown Night Shelter", svcShelter.String()) }},
		{"unsaveService", func() *apitest.Resp {
			return e.Do(http.MethodDelete, f.aliceURL+"/saved-services/"+svcShelter.String(), wanda.Token, nil)
		}, func() want { return care("write", "saved_service", "Georgetown Night Shelter", svcShelter.String()) }},
		{"listReferrals", func() *apitest.Resp { return e.Do(http.MethodGet, f.aliceURL+"/referrals", wanda.Token, nil) },
			func() want { return care("read", "referral", "", "") }},
		{"getReferral", func() *apitest.Resp { return e.Do(http.MethodGet, "/v1/referrals/"+rid, wanda.Token, nil) },
			func() want { return care("read", "referral", "Ballard Food Pantry", rid) }},
		{"patchReferral", func() *apitest.Resp {
			return e.Do(http.MethodPatch, "/v1/referrals/"+rid, wanda.Token, map[string]any{"note": "Bring ID"}, "If-Match", version(t, e, "referrals", rid))
		}, func() want { return care("write", "referral", "Ballard Food Pantry", rid) }},
		{"createReferral", func() *apitest.Resp {
			r := e.Do(http.MethodPost, f.aliceURL+"/referrals", wanda.Token, map[string]any{"service_id": svcYouth.String()})
			created = createdID(t, r)
			return r
		}, func() want { return care("write", "referral", "Youth Counseling Drop-In", created) }},
		{"listConversations", func() *apitest.Resp { return e.Do(http.MethodGet, "/v1/conversations", wanda.Token, nil) },
			func() want { return care("read", "conversation", "Rent", cid) }},
		{"listMessages", func() *apitest.Resp {
			return e.Do(http.MethodGet, "/v1/conversations/"+cid+"/messages", wanda.Token, nil)
		},
			func() want { return care("read", "conversation", "Rent", cid) }},
		{"postMessage", func() *apitest.Resp {
			r := e.Do(http.MethodPost, "/v1/conversations/"+cid+"/messages", wanda.Token, map[string]any{"body": "Thursday?"})
			created = createdID(t, r)
			return r
		}, func() want { return care("write", "message", "Rent", created) }},
		{"markConversationRead", func() *apitest.Resp {
			m := postMessage(t, e, alice, f.conv.ID, "Thursday works")
			return e.Do(http.MethodPost, "/v1/conversations/"+cid+"/read", wanda.Token, map[string]any{"up_to": m.ID})
		}, func() want { return care("write", "read_marker", "Rent", cid) }},
		{"createConversation", func() *apitest.Resp {
			r := e.Do(http.MethodPost, "/v1/conversations", wanda.Token, map[string]any{"client_id": alice.ClientID, "subject": "Benefits"})
			created = createdID(t, r)
			return r
		}, func() want { return care("write", "conversation", "Benefits", created) }},
		// An administrator's work on the record is theirs, as administrator.
		{"putCareTeamMember (admin)", func() *apitest.Resp {
			return e.Do(http.MethodPut, f.aliceURL+"/care-team/"+f.will.PersonID.String(), f.adam.Token, nil)
		}, func() want {
			return want{"write", "care_team", "Test will", f.will.PersonID.String(), domain.RelAdministrator}
		}},
		{"getClient (admin)", func() *apitest.Resp { return e.Do(http.MethodGet, f.aliceURL, f.adam.Token, nil) },
			func() want { return want{"read", "client", "", alice.ClientID.String(), domain.RelAdministrator} }},
		{"deleteCareTeamMember (admin)", func() *apitest.Resp {
			return e.Do(http.MethodDelete, f.aliceURL+"/care-team/"+f.will.PersonID.String(), f.adam.Token, nil)
		}, func() want {
			return want{"write", "care_team", "Test will", f.will.PersonID.String(), domain.RelAdministrator}
		}},
	}
}

// Every operation on a client's data by someone other than the client
// writes exactly one entry (a list of several clients: one per client), in
// the request's own transaction, saying what it was in the client's terms.
func TestAccessLogCompleteness(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t)
	e, alice := f.e, f.alice
	ops := f.loggedOps(t)
	for _, op := range ops {
		before := logCount(t, e, alice.ClientID)
		r := op.do()
		if r.Status >= 300 {
			t.Fatalf("%s: %d %s", op.name, r.Status, r.Body)
		}
		rows, w := rowsOf(t, e, r), op.want()
		if len(rows) != 1 || logCount(t, e, alice.ClientID)-before != 1 {
			t.Errorf("%s: %d entries for the request, %d in alice's log; want exactly 1", op.name, len(rows), logCount(t, e, alice.ClientID)-before)
			continue
		}
		got := rows[0]
		if got.ClientID != alice.ClientID || got.Action != w.action || got.Resource != w.resource || got.Label != w.label ||
			got.ResourceID != w.rid || got.Relationship != w.rel || got.AppID != "test-app" {
			t.Errorf("%s: entry %+v, want %+v", op.name, got, w)
		}
	}
	// Alice reads it all, newest first, in the documented shape.
	var all []api.AccessLogEntry
	for q := "?limit=7"; ; {
		p := readLog(t, e, alice, alice, q)
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			break
		}
		q = "?limit=7&cursor=" + p.NextCursor
	}
	if int64(len(all)) != logCount(t, e, alice.ClientID) || len(all) != len(ops)+1 {
		t.Fatalf("alice paged %d entries, the log holds %d, %d operations ran", len(all), logCount(t, e, alice.ClientID), len(ops))
	}
	newest, first := all[0], all[len(all)-2] // the last is the fixture's: adam adding wanda
	if newest.Actor.ID == nil || *newest.Actor.ID != f.adam.PersonID || newest.Actor.Relationship != "administrator" || newest.Resource != "care_team" {
		t.Fatalf("newest entry %+v", newest)
	}
	if first.Actor.ID == nil || *first.Actor.ID != f.wanda.PersonID || first.Actor.DisplayName != "Test wanda" || first.Resource != "client" || first.AppID != "test-app" ||
		first.AppName != "test-app" || first.RequestID == "" || first.At.IsZero() || first.Actor.Relationship != "care_team_worker" {
		t.Fatalf("wanda's first entry %+v", first)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID.String() >= all[i-1].ID.String() || all[i].At.After(all[i-1].At) {
			t.Fatalf("not newest first at %d: %v then %v", i, all[i-1].ID, all[i].ID)
		}
	}
}

// deniedCase is a request by id for a record of alice's.
type deniedCase struct {
	method, path string
	body         any
	resource     string
	rid, label   string
}

func (f *logFixture) deniedCases() []deniedCase {
	gid, rid, cid := f.goal.ID, f.referral.ID, f.conv.ID.String()
	client, title := f.alice.ClientID.String(), "Find stable housing"
	goal := func(method, path string, body any) deniedCase {
		return deniedCase{method, "/v1/goals/" + gid + path, body, "goal", gid, title}
	}
	list := func(method, path string, body any, resource string) deniedCase {
		return deniedCase{method, f.aliceURL + path, body, resource, "", ""}
	}
	return []deniedCase{
		goal(http.MethodGet, "", nil), goal(http.MethodPatch, "", map[string]any{"title": "Mine now"}),
		goal(http.MethodGet, "/history", nil), goal(http.MethodGet, "/check-ins", nil),
		goal(http.MethodPost, "/check-ins", map[string]any{"rating": 3}), goal(http.MethodPost, "/steps", map[string]any{"title": "x"}),
		goal(http.MethodPatch, "/steps/"+f.stepID, map[string]any{"title": "y"}), goal(http.MethodDelete, "/steps/"+f.stepID, nil),
		goal(http.MethodPost, "/accept", nil), goal(http.MethodPost, "/reject", map[string]any{}),
		{http.MethodGet, "/v1/referrals/" + rid, nil, "referral", rid, "Ballard Food Pantry"},
		{http.MethodPatch, "/v1/referrals/" + rid, map[string]any{"note": "x"}, "referral", rid, "Ballard Food Pantry"},
		{http.MethodGet, "/v1/conversations/" + cid + "/messages", nil, "conversation", cid, "Rent"},
		{http.MethodPost, "/v1/conversations/" + cid + "/messages", map[string]any{"body": "hi"}, "conversation", cid, "Rent"},
		{http.MethodPost, "/v1/conversations/" + cid + "/read", map[string]any{"up_to": f.conv.ID}, "conversation", cid, "Rent"},
		{http.MethodGet, f.aliceURL, nil, "client", client, ""},
		{http.MethodPatch, f.aliceURL, map[string]any{"interests": []string{"x"}}, "client", client, ""},
		list(http.MethodGet, "/goals", nil, "goal"), list(http.MethodPost, "/goals", map[string]any{"title": "x"}, "goal"),
		list(http.MethodGet, "/referrals", nil, "referral"),
		list(http.MethodPost, "/referrals", map[string]any{"service_id": svcShelter}, "referral"),
		list(http.MethodGet, "/saved-services", nil, "saved_service"),
		list(http.MethodPut, "/saved-services/"+svcShelter.String(), nil, "saved_service"),
		list(http.MethodGet, "/care-team", nil, "care_team"),
		list(http.MethodGet, "/access-log", nil, "access_log"), list(http.MethodGet, "/apps", nil, "client_app"),
		list(http.MethodDelete, "/apps/test-app", nil, "client_app"),
	}
}

// Anyone asking by id for an existing record of alice's they may not see
// gets 404, exactly as for an id that does not exist, and alice's log gets
// exactly one denied entry for the request; a missing id writes nothing.
// A person with no Waypoint role is refused most of these with 403 before
// any handler runs, and that attempt is logged too.
func TestAccessLogDenied(t *testing.T) {
	t.Parallel()

	f := newLogFixture(t)
	e := f.e
	nobody := e.Login("nobody")
	rolelessReads := map[string]bool{} // the GETs rolelessAllowed lets through, for supporters
	for _, p := range []string{f.aliceURL + "/goals", f.aliceURL + "/referrals", f.aliceURL + "/saved-services", goalPath(f.goal.ID),
		goalPath(f.goal.ID) + "/history", goalPath(f.goal.ID) + "/check-ins", "/v1/referrals/" + f.referral.ID} {
		rolelessReads[p] = true
	}
	for _, c := range f.deniedCases() {
		for _, who := range []struct {
			name   string
			u      apitest.User
			status int
			rel    string
		}{{"will (another worker)", f.will, 404, "no_relationship"}, {"bob (another client)", f.bob, 404, "no_relationship"},
			{"nobody (no Waypoint role)", nobody, 403, "no_relationship"}} {
			where := fmt.Sprintf("%s %s as %s", c.method, c.path, who.name)
			// Reads a supporter could make reach the handler without a role
			// (rolelessAllowed): 404 there, like anyone's.
			refusedEarly := who.status == 403 && !(c.method == http.MethodGet && rolelessReads[c.path])
			if who.status == 403 && !refusedEarly {
				who.status = 404
			}
			before := logCount(t, e, f.alice.ClientID)
			r := e.Do(c.method, c.path, who.u.Token, c.body, "If-Match", `"1"`)
			p := r.Problem(t, who.status)
			rows := rowsOf(t, e, r)
			if len(rows) != 1 || logCount(t, e, f.alice.ClientID)-before != 1 {
				t.Errorf("%s: %d entries for the request; want exactly 1", where, len(rows))
				continue
			}
			want := logRow{ClientID: f.alice.ClientID, ActorPersonID: who.u.PersonID, AppID: "test-app", Action: "denied",
				Resource: c.resource, ResourceID: c.rid, Label: c.label, Relationship: who.rel, RequestID: rows[0].RequestID}
			if refusedEarly && strings.HasPrefix(c.path, f.aliceURL) {
				// Refused before any handler: the record named is the client.
				want.Resource, want.ResourceID = "client", f.alice.ClientID.String()
			}
			if rows[0] != want {
				t.Errorf("%s: entry\n %+v, want\n %+v", where, rows[0], want)
			}
			if who.status != 404 {
				continue
			}
			// The same answer as for a record that does not exist, which logs nothing.
			path := strings.ReplaceAll(c.path, f.alice.ClientID.String(), uuid.NewString())
			if c.rid != "" {
				path = strings.ReplaceAll(path, c.rid, uuid.NewString())
			}
			ghost := e.Do(c.method, path, who.u.Token, c.body, "If-Match", `"1"`)
			gp := ghost.Problem(t, 404)
			if len(rowsOf(t, e, ghost)) != 0 {
				t.Errorf("%s: a missing id was logged", where)
			}
			if p["title"] != gp["title"] || p["detail"] != gp["detail"] || fmt.Sprint(p["errors"]) != fmt.Sprint(gp["errors"]) {
				t.Errorf("%s: 404 for an existing record %v differs from a missing one %v", where, p, gp)
			}
		}
	}
	// An administrator sees the record but not the plans: denied entries
	// for those, as administrator; the record itself is an ordinary read.
	r := e.Do(http.MethodGet, goalPath(f.goal.ID), f.adam.Token, nil)
	r.Problem(t, http.StatusNotFound)
	if rows := rowsOf(t, e, r); len(rows) != 1 || rows[0].Action != "denied" || rows[0].Relationship != "administrator" {
		t.Fatalf("admin's goal attempt logged %+v", rows)
	}
	// The client's own missing records write nothing.
	own := e.Do(http.MethodGet, goalPath(uuid.NewString()), f.alice.Token, nil)
	own.Problem(t, http.StatusNotFound)
	if n := countRows(t, e, `SELECT count(*) FROM access_log WHERE actor_person_id = ?`, f.alice.PersonID); n != 0 {
		t.Fatalf("alice's own requests logged %d entries", n)
	}
	// She sees the attempts as such.
	p := readLog(t, e, f.alice, f.alice, "?action=denied&actor_id="+f.will.PersonID.String()+"&limit=100")
	if len(p.Items) != len(f.deniedCases()) || p.Items[0].Actor.DisplayName != "Test will" {
		t.Fatalf("alice sees %d of will's denied attempts, want %d: %+v", len(p.Items), len(f.deniedCases()), p.Items)
	}
}

// Administrators may read a client's log for audit, and that read is itself
// an entry; the care team may not (403, nothing logged but the attempt is
// theirs to see as a 403); anyone else gets 404, logged as denied.
func TestAccessLogAudit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	logPath := w.aliceURL + "/access-log"
	p := readLog(t, e, w.adam, w.alice, "")
	if len(p.Items) != 1 || p.Items[0].Resource != "care_team" {
		t.Fatalf("adam's audit read %+v", p.Items)
	}
	p = readLog(t, e, w.alice, w.alice, "")
	if len(p.Items) != 2 || p.Items[0].Resource != "access_log" || p.Items[0].Action != "read" ||
		p.Items[0].Actor.ID == nil || *p.Items[0].Actor.ID != w.adam.PersonID || p.Items[0].Actor.Relationship != "administrator" {
		t.Fatalf("alice does not see adam's audit first: %+v", p.Items)
	}
	before := logCount(t, e, w.alice.ClientID)
	prob := e.Do(http.MethodGet, logPath, w.wanda.Token, nil).Problem(t, http.StatusForbidden)
	mustContainAll(t, prob["detail"].(string), "only the client", "administrators")
	if logCount(t, e, w.alice.ClientID) != before {
		t.Fatal("a refused read by the care team wrote an entry")
	}
	for _, u := range []apitest.User{w.will, w.bob} {
		r := e.Do(http.MethodGet, logPath, u.Token, nil)
		r.Problem(t, http.StatusNotFound)
		if rows := rowsOf(t, e, r); len(rows) != 1 || rows[0].Action != "denied" || rows[0].Resource != "access_log" {
			t.Fatalf("%s's attempt logged %+v", u.Subject, rows)
		}
	}
	// Alice's own log is hers alone: bob's is empty to her (404).
	e.Do(http.MethodGet, w.bobURL+"/access-log", w.alice.Token, nil).Problem(t, http.StatusNotFound)
	// A token without privacy:read is refused before anything runs.
	tok := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("goals:read"))
	e.Do(http.MethodGet, logPath, tok, nil).Problem(t, http.StatusForbidden)
}

// insertEntry writes an entry as of at (tests only: the log is append-only,
// inserting is what the application does).
func insertEntry(t *testing.T, e *apitest.Env, client, actor uuid.UUID, at time.Time, action, resource string) {
	t.Helper()
	if err := e.DB.Exec(`INSERT INTO access_log (client_id, id, at, actor_person_id, app_id, action, resource, resource_id, relationship, label, request_id)
		VALUES (?, ?, ?, ?, 'test-app', ?, ?, '', 'care_team_worker', '', 'r')`,
		client, uuid.Must(uuid.NewV7()), at, actor, action, resource).Error; err != nil {
		t.Fatal(err)
	}
}

func TestAccessLogFilters(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	for i := range 5 { // wanda read goals on the 10th..14th, will was denied twice on the 12th
		insertEntry(t, e, w.alice.ClientID, w.wanda.PersonID, day.AddDate(0, 0, i), "read", "goal")
	}
	insertEntry(t, e, w.alice.ClientID, w.will.PersonID, day.AddDate(0, 0, 2).Add(time.Hour), "denied", "referral")
	insertEntry(t, e, w.alice.ClientID, w.will.PersonID, day.AddDate(0, 0, 2).Add(2*time.Hour), "denied", "goal")
	insertEntry(t, e, w.bob.ClientID, w.will.PersonID, day, "read", "goal") // bob's: never in alice's log
	count := func(q string) int {
		t.Helper()
		n, cursor := 0, ""
		for {
			p := readLog(t, e, w.alice, w.alice, q+"&limit=2&cursor="+cursor)
			n += len(p.Items)
			if cursor = p.NextCursor; cursor == "" {
				return n
			}
		}
	}
	for q, want := range map[string]int{
		"?x=1":                                   8, // every entry, with adam putting wanda on the team
		"?actor_id=" + w.wanda.PersonID.String(): 5, "?action=denied": 2, "?resource=goal": 6,
		"?action=denied&resource=goal":                                  1,
		"?since=2025-03-12T00:00:00Z":                                   6, // wanda on the 12th, 13th, 14th; will twice on the 12th; adam now
		"?until=2025-03-12T00:00:00Z":                                   2,
		"?since=2025-03-12T00:00:00Z&until=2025-03-13T00:00:00Z":        3,
		"?since=2025-03-12T01:00:00%2B01:00&until=2025-03-12T01:00:00Z": 1, // offsets: since 00:00Z, until 01:00Z
		"?since=2025-03-12T00:00:00Z&until=2025-03-12T00:00:00Z":        0,
		"?actor_id=" + uuid.NewString():                                 0,
	} {
		if got := count(q); got != want {
			t.Errorf("%s: %d entries, want %d", q, got, want)
		}
	}
	// Bad and hostile input: 422 naming the parameter, never 5xx.
	for q, loc := range map[string]string{
		"?since=2025-03-13T00:00:00Z&until=2025-03-12T00:00:00Z": "query.until",
		"?since=yesterday":                   "query.since",
		"?until=2025-13-01T00:00:00Z":        "query.until",
		"?since=0000-01-01T00:00:00Z":        "query.since",
		"?since=2025-03-12":                  "query.since",
		"?action=erase":                      "query.action",
		"?resource=goals%00":                 "query.resource",
		"?actor_id=not-a-uuid":               "query.actor_id",
		"?actor_id=" + uuid.Nil.String():     "query.actor_id",
		"?cursor=%ED%A0%80":                  "query.cursor",
		"?cursor=AAAA":                       "query.cursor",
		"?limit=101":                         "query.limit",
		"?limit=NaN":                         "query.limit",
		"?action=read&action=write":          "query.action",
		"?since=" + strings.Repeat("9", 300): "query.since",
	} {
		p := e.Do(http.MethodGet, w.aliceURL+"/access-log"+q, w.alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, loc) {
			t.Errorf("%s: %v does not name %s", q, p["errors"], loc)
		}
	}
}
