package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

// The authorization matrix: every registered operation (read from the
// server's own OpenAPI document) × every kind of caller, with the exact
// status each must get, and proof that a refused call changed nothing. An
// operation without a row in the expectation table fails the test, so a new
// operation cannot ship without deciding who may call it.

// Callers. The first nine are people (their statuses are written in the
// table); the rest are derived from the operation's scope and the person its
// apps act for.
const (
	mxClient         = iota // alice, whose records the world is about
	mxOtherClient           // bob
	mxTeamWorker            // wanda, on alice's care team
	mxOtherWorker           // will, on nobody's team
	mxAdmin                 // adam
	mxEditor                // ed, directory_editor
	mxRoleless              // nobody: a token with no Waypoint role
	mxSupporter             // sam: no Waypoint role, alice's supporter with every share
	mxProvider              // pia: provider, staff of Seattle Neighbors (the world's referrals go to its services)
	mxOrganizer             // otto: organizer, who reads the community insights and otherwise stands where role-less people do
	mxAppScope              // an app acting for the row's person, with exactly the operation's scope
	mxAppSibling            // the same app with only the other scope of the family (write for a read, read for a write); for a family of one scope (export:read), every other scope
	mxAppWrongFamily        // the same app with another family's scopes
	mxNoToken               // no Authorization header
	mxExpired               // an expired token of alice's
	mxActors
)

func mxActorName(a int) string {
	return [mxActors]string{"client", "other client", "care-team worker", "other worker", "admin",
		"directory editor", "role-less", "supporter", "provider", "organizer", "app with the scope", "app with the sibling scope", "app with another family",
		"no token", "expired token"}[a]
}

// mxWant is the status for each person: client, other client, care-team
// worker, other worker, admin, directory editor, role-less. The supporter's
// is the row's sup, or when that is 0 the role-less status: a supporter is a
// person without a role, who reaches more only where a client shares. The
// provider's is the row's prov, or when that is 0 the directory editor's: a
// role that reaches no client's record, but for referrals to its organization.
// The organizer's is the row's org, or when that is 0 the role-less status.
type mxWant [mxSupporter]int

// mxReq is one call's variable parts; path parameters not named here come
// from the world.
type mxReq struct {
	params  map[string]string
	query   string
	body    any
	ifMatch string
}

// mxOp is an operation's row: the person its apps act for, the statuses,
// and how to call it as u. setup, when set, runs before the state snapshot
// and returns path parameter overrides (a fresh proposal to accept, ...).
type mxOp struct {
	as    int
	want  mxWant
	sup   int
	prov  int
	org   int
	setup func(t *testing.T, w *mxWorld) map[string]string
	req   func(w *mxWorld, u apitest.User) mxReq
}

type mxWorld struct {
	t      *testing.T
	e      *apitest.Env
	people [mxAppScope]apitest.User
	walt   apitest.User // a worker the care-team operations add and remove
	sue    apitest.User // a supporter of alice's the supporter operations remove
	cora   apitest.User // a client of wanda's caseload outside the group, for invitations
	group  mxGroup      // wanda's group, alice a member (authz_matrix_groups_test.go)
	code   string       // the invitation code a redemption sends
	params map[string]string
	state  *dbState
}

// newMxWorld builds one world in which every path parameter can be filled:
// the people, alice's care team, a goal with a step and a check-in, a
// referral, a saved service, a conversation with a message, and the
// seeded directory.
func newMxWorld(t *testing.T) *mxWorld {
	e := apitest.New(t)
	seedDirectory(t, e.Store)
	w := &mxWorld{t: t, e: e}
	w.people = [mxAppScope]apitest.User{e.Login("alice", "client"), e.Login("bob", "client"), e.Login("wanda", "worker"),
		e.Login("will", "worker"), e.Login("adam", "admin"), e.Login("ed", "directory_editor"), e.Login("nobody"), e.Login("sam"),
		e.Login("pia", "provider"), e.Login("otto", "organizer")}
	w.walt, w.sue = e.Login("walt", "worker"), e.Login("sue")
	alice, adam := w.people[mxClient], w.people[mxAdmin]
	client := "/v1/clients/" + alice.ClientID.String()
	e.Do(http.MethodPut, client+"/care-team/"+w.people[mxTeamWorker].PersonID.String(), adam.Token, nil).Want(t, http.StatusCreated)
	e.Do(http.MethodPut, "/v1/organizations/"+orgSeattle.String()+"/staff/"+w.people[mxProvider].PersonID.String(), adam.Token, nil).
		Want(t, http.StatusCreated)
	goal := e.Do(http.MethodPost, client+"/goals", alice.Token, map[string]any{"title": "Find a home", "steps": []any{map[string]any{"title": "Call"}}}).
		Want(t, http.StatusCreated).Map(t)
	e.Do(http.MethodPost, "/v1/goals/"+goal["id"].(string)+"/check-ins", alice.Token, map[string]any{"rating": 4}).Want(t, http.StatusCreated)
	ref := e.Do(http.MethodPost, client+"/referrals", w.people[mxTeamWorker].Token, map[string]any{"service_id": svcBallard.String(), "goal_id": goal["id"]}).
		Want(t, http.StatusCreated).Map(t)
	e.Do(http.MethodPut, client+"/saved-services/"+svcBallard.String(), alice.Token, nil).Want(t, http.StatusCreated)
	conv := e.Do(http.MethodPost, "/v1/conversations", alice.Token, map[string]any{"subject": "Housing"}).Want(t, http.StatusCreated).Map(t)
	msg := e.Do(http.MethodPost, "/v1/conversations/"+conv["id"].(string)+"/messages", alice.Token, map[string]any{"body": "Hello"}).
		Want(t, http.StatusCreated).Map(t)
	code := e.Do(http.MethodPost, client+"/supporter-invitations", alice.Token,
		map[string]any{"shares": []string{"goals", "referrals", "saved_services", "assessments"}}).Want(t, http.StatusCreated).Map(t)["code"].(string)
	e.Do(http.MethodPost, "/v1/supporter-invitations/redeem", w.people[mxSupporter].Token, map[string]any{"code": code}).Want(t, http.StatusCreated)
	assessment := e.Do(http.MethodPost, client+"/assessments", alice.Token, map[string]any{"ratings": []any{
		map[string]any{"domain": "housing", "rating": 2, "priority": true}}}).Want(t, http.StatusCreated).Map(t)
	pk, pauth := pushKeys(t)
	w.params = map[string]string{
		"clientId": alice.ClientID.String(), "goalId": goal["id"].(string),
		"stepId": goal["steps"].([]any)[0].(map[string]any)["id"].(string), "personId": w.walt.PersonID.String(),
		"serviceId": svcBallard.String(), "referralId": ref["id"].(string), "conversationId": conv["id"].(string),
		"messageId": msg["id"].(string), "organizationId": orgSeattle.String(), "locationId": locBallard.String(),
		"appId": mxOldApp, "assessmentId": assessment["id"].(string),
		"invitationId":   w.created(alice, client+"/supporter-invitations", map[string]any{"shares": []string{"goals"}}),
		"subscriptionId": w.created(alice, "/v1/me/push-subscriptions", subscriptionBody("https://push.example.org/send/world", pk, pauth)),
		"feedbackId": w.created(alice, "/v1/services/"+svcBallard.String()+"/feedback",
			map[string]any{"kind": "closed_when_listed_open", "text": "Closed on Tuesday at noon", "referral_id": ref["id"]}),
	}
	w.buildGroup(t)
	w.state = newDBState(t, e)
	return w
}

// ifMatch is the current strong ETag of row id of table.
func (w *mxWorld) ifMatch(table, id string) string {
	var v int64
	if err := w.e.DB.Raw(`SELECT version FROM `+table+` WHERE id = ?`, id).Scan(&v).Error; err != nil {
		w.t.Fatalf("version of %s %s: %v", table, id, err)
	}
	return fmt.Sprintf(`"%d"`, v)
}

// exec runs setup SQL.
func (w *mxWorld) exec(q string, args ...any) {
	if err := w.e.DB.Exec(q, args...).Error; err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
}

// created calls the API as u to make something fresh and returns its id.
func (w *mxWorld) created(u apitest.User, path string, body any) string {
	return w.e.Do(http.MethodPost, path, u.Token, body).Want(w.t, http.StatusCreated).Map(w.t)["id"].(string)
}

// mxResp is a response; event streams are not read, only their status.
type mxResp struct {
	status int
	header http.Header
	body   []byte
}

func (w *mxWorld) send(method, path, token string, r mxReq) mxResp {
	w.t.Helper()
	var rd io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, w.e.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", map[bool]string{true: "application/merge-patch+json", false: "application/json"}[method == http.MethodPatch])
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if r.ifMatch != "" {
		req.Header.Set("If-Match", r.ifMatch)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out := mxResp{status: res.StatusCode, header: res.Header}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		if out.body, err = io.ReadAll(res.Body); err != nil {
			w.t.Fatalf("%s %s: read body: %v", method, path, err)
		}
	}
	return out
}

// mxOperation is one registered operation, as the OpenAPI document says.
type mxOperation struct {
	id, method, path, scope string
}

// registeredOperations reads every operation from the server's OpenAPI
// document, with the one scope it declares ("" for public operations).
func registeredOperations(t *testing.T, e *apitest.Env) []mxOperation {
	var spec struct {
		Paths map[string]map[string]struct {
			OperationID string                `json:"operationId"`
			Security    []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	e.Do(http.MethodGet, "/openapi.json", "", nil).Want(t, http.StatusOK).Decode(t, &spec)
	var ops []mxOperation
	for path, item := range spec.Paths {
		for method, o := range item {
			if o.OperationID == "" {
				continue
			}
			op := mxOperation{id: o.OperationID, method: strings.ToUpper(method), path: path}
			for _, req := range o.Security {
				for _, scopes := range req {
					if len(scopes) != 1 || (op.scope != "" && op.scope != scopes[0]) {
						t.Fatalf("%s must declare exactly one scope, declares %v", op.id, o.Security)
					}
					op.scope = scopes[0]
				}
			}
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })
	return ops
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	w := newMxWorld(t)
	table := mxTable()
	ops := registeredOperations(t, w.e)
	var registered []string
	for _, o := range ops {
		registered = append(registered, o.id)
		if _, ok := table[o.id]; !ok {
			t.Errorf("operation %s (%s %s) has no row in the authorization matrix: decide who may call it", o.id, o.method, o.path)
		}
	}
	for id := range table {
		if !slices.Contains(registered, id) {
			t.Errorf("the matrix has a row for %s, which is not a registered operation", id)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// The detector itself: a one-row change shows, and only in its table.
	before := w.state.snapshot(t, w.e)
	w.exec(`UPDATE goals SET title = title || '!' WHERE id = ?`, w.params["goalId"])
	if ch := changedTables(before, w.state.snapshot(t, w.e)); !slices.Equal(ch, []string{"goals"}) {
		t.Fatalf("the state fingerprint saw %v after changing one goal", ch)
	}
	checked := 0
	var last []string // the state after the previous refused call, when nothing ran since
	for _, o := range ops {
		row := table[o.id]
		for a := 0; a < mxActors; a++ {
			last = w.check(t, o, row, a, last)
			checked++
		}
	}
	t.Logf("MATRIX operations=%d actors=%d checked=%d", len(ops), mxActors, checked)
	if checked != len(ops)*mxActors {
		t.Fatalf("checked %d of %d pairs", checked, len(ops)*mxActors)
	}
}

// check calls operation o as actor a and asserts the status, the problem
// shape of refusals, and that a refused call changed nothing. It returns
// the state after a refused call (reusable as the next call's "before").
func (w *mxWorld) check(t *testing.T, o mxOperation, row mxOp, a int, last []string) []string {
	t.Helper()
	want, token, caller := w.expect(t, o, row, a)
	params := map[string]string{}
	if row.setup != nil {
		params = row.setup(t, w)
		last = nil
	}
	r := row.req(w, caller)
	for k, v := range r.params {
		params[k] = v
	}
	path := o.path
	for k, v := range w.params {
		if p, ok := params[k]; ok {
			v = p
		}
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	if r.query != "" {
		path += "?" + r.query
	}
	before := last
	if before == nil {
		before = w.state.snapshot(t, w.e)
	}
	res := w.send(o.method, path, token, r)
	where := fmt.Sprintf("%s (%s %s) as %s", o.id, o.method, path, mxActorName(a))
	switch {
	case res.status >= 500:
		t.Errorf("%s: %d, a server error: %s", where, res.status, res.body)
	case res.status != want:
		t.Errorf("%s: %d, want %d: %s", where, res.status, want, res.body)
	}
	if res.status < 400 {
		return nil
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: %d with content type %q, want problem+json", where, res.status, ct)
	}
	if res.status == http.StatusUnauthorized && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s: 401 without a Bearer challenge", where)
	}
	if (a == mxAppWrongFamily || (a == mxAppSibling && want == http.StatusForbidden)) &&
		!strings.Contains(res.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("%s: 403 without insufficient_scope: %q", where, res.header.Get("WWW-Authenticate"))
	}
	after := w.state.snapshot(t, w.e)
	if ch := changedTables(before, after); len(ch) > 0 {
		t.Errorf("%s: refused with %d, yet changed %v", where, res.status, ch)
	}
	return after
}

// expect derives the status, token and acting person for actor a.
func (w *mxWorld) expect(t *testing.T, o mxOperation, row mxOp, a int) (want int, token string, caller apitest.User) {
	t.Helper()
	if a < mxAppScope {
		return row.status(a), w.people[a].Token, w.people[a]
	}
	as := w.people[row.as]
	switch a {
	case mxNoToken, mxExpired:
		if a == mxExpired {
			token = w.e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithClaim("exp", time.Now().Add(-time.Minute).Unix()))
		}
		if o.scope == "" { // public: no token needed, and a bad one is not even looked at
			return row.status(row.as), token, w.people[mxClient]
		}
		return http.StatusUnauthorized, token, w.people[mxClient]
	}
	if o.scope == "" {
		return row.status(row.as), w.appToken(t, as, row.as, "profile:read"), as
	}
	sibling, other, isRead := scopeNeighbours(t, o.scope)
	switch a {
	case mxAppScope:
		return row.status(row.as), w.appToken(t, as, row.as, o.scope), as
	case mxAppSibling:
		if sibling == "" { // a family of one scope: no other scope may stand in for it
			return http.StatusForbidden, w.appToken(t, as, row.as, allScopesBut(o.scope)...), as
		}
		want = http.StatusForbidden
		if isRead { // the write scope implies the read scope
			want = row.status(row.as)
		}
		return want, w.appToken(t, as, row.as, sibling), as
	}
	return http.StatusForbidden, w.appToken(t, as, row.as, other...), as
}

// appToken is a third-party app's token for person u (acting in role
// actor's roles) with exactly scopes.
func (w *mxWorld) appToken(t *testing.T, u apitest.User, actor int, scopes ...string) string {
	roles := map[int][]string{mxClient: {"client"}, mxOtherClient: {"client"}, mxAdmin: {"admin"}, mxEditor: {"directory_editor"},
		mxTeamWorker: {"worker"}, mxSupporter: {}, mxProvider: {"provider"}, mxOrganizer: {"organizer"}}[actor]
	if roles == nil {
		t.Fatalf("no app roles for %s", mxActorName(actor))
	}
	return w.e.Issuer.Token(t, u.Subject, roles, authtest.WithScopes(scopes...), authtest.WithClaim("azp", "matrix-app"))
}

// allScopesBut is every scope Waypoint knows except scope.
func allScopesBut(scope string) []string {
	var out []string
	for s := range auth.AllScopes {
		if s != scope {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// scopeNeighbours returns the other scope of scope's family, the scopes of
// another family, and whether scope is its family's read scope.
func scopeNeighbours(t *testing.T, scope string) (sibling string, other []string, isRead bool) {
	t.Helper()
	for _, f := range auth.ScopeFamilies() {
		if f.Read != scope && f.Write != scope {
			continue
		}
		other = []string{"messages:read", "messages:write"}
		if f.Name == "messages" {
			other = []string{"goals:read", "goals:write"}
		}
		sibling = f.Read
		if f.Read == scope {
			sibling = f.Write // "" for a family without a write scope
		}
		return sibling, other, f.Read == scope
	}
	t.Fatalf("scope %s is in no family", scope)
	return "", nil, false
}

// mxTable is the expectation table: one row per operation id.
func mxTable() map[string]mxOp {
	out := map[string]mxOp{}
	for _, part := range []map[string]mxOp{mxPeopleOps(), mxGoalOps(), mxReferralOps(), mxMessageOps(), mxDirectoryOps(),
		mxConsentOps(), mxSupporterOps(), mxPrivacyOps(), mxAssessmentOps(), mxFollowUpOps(), mxGroupOps(),
		mxProviderOps(), mxFeedbackOps(), mxInsightOps()} {
		for id, op := range part {
			out[id] = op
		}
	}
	return out
}

// status is the status person a must get.
func (r mxOp) status(a int) int {
	if a == mxProvider {
		if r.prov != 0 {
			return r.prov
		}
		return r.want[mxEditor]
	}
	if a == mxOrganizer {
		if r.org != 0 {
			return r.org
		}
		return r.want[mxRoleless]
	}
	if a != mxSupporter {
		return r.want[a]
	}
	if r.sup != 0 {
		return r.sup
	}
	return r.want[mxRoleless]
}

// plain is a call with nothing but the path.
func plain(*mxWorld, apitest.User) mxReq { return mxReq{} }

// body is a call with a fixed JSON body.
func body(b any) func(*mxWorld, apitest.User) mxReq {
	return func(*mxWorld, apitest.User) mxReq { return mxReq{body: b} }
}
