package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
)

// circle is alice's world with something of every kind to share: a goal
// with a step, a check-in and (through a linked referral) referral history,
// the referral, a saved service, and a conversation with a message.
type circle struct {
	*world
	goal     goalView
	referral referralView
	conv     uuid.UUID
}

func newCircle(t *testing.T) *circle {
	t.Helper()
	c := &circle{world: newWorld(t)}
	seedDirectory(t, c.e.Store)
	c.goal = newGoal(t, c.world, c.alice, c.alice, map[string]any{"title": "Find stable housing",
		"steps": []any{map[string]any{"title": "Call the landlord"}}})
	c.e.Do(http.MethodPost, goalPath(c.goal.ID)+"/check-ins", c.alice.Token, map[string]any{"rating": 5}).Want(t, http.StatusCreated)
	c.referral = newReferral(t, c.e, c.wanda, c.alice, map[string]any{"service_id": svcBallard.String(), "goal_id": c.goal.ID})
	c.e.Do(http.MethodPut, c.aliceURL+"/saved-services/"+svcShelter.String(), c.alice.Token, nil).Want(t, http.StatusCreated)
	c.conv = createConversation(t, c.e, c.alice, map[string]any{"subject": "Housing"}).ID
	postMessage(t, c.e, c.alice, c.conv, "My sister may help with the deposit")
	return c
}

// invite creates an invitation of alice's and returns its answer.
func (c *circle) invite(t *testing.T, body map[string]any, hdrs ...string) map[string]any {
	t.Helper()
	return c.e.Do(http.MethodPost, c.aliceURL+"/supporter-invitations", c.alice.Token, body, hdrs...).Want(t, http.StatusCreated).Map(t)
}

// supporter signs subject in (with roles, if any) and makes them alice's
// supporter with shares.
func (c *circle) supporter(t *testing.T, subject string, roles []string, shares ...string) apitest.User {
	t.Helper()
	u := c.e.Login(subject, roles...)
	code := c.invite(t, map[string]any{"shares": shares})["code"].(string)
	c.e.Do(http.MethodPost, "/v1/supporter-invitations/redeem", u.Token, map[string]any{"code": code}).Want(t, http.StatusCreated)
	return u
}

// sharedReads are the read paths of shared records, with the share each needs.
func (c *circle) sharedReads() []struct{ name, share, path, id string } {
	return []struct{ name, share, path, id string }{
		{"get goal", "goals", goalPath(c.goal.ID), c.goal.ID},
		{"list goals", "goals", goalsPath(c.alice), c.goal.ID},
		{"goal check-ins", "goals", goalPath(c.goal.ID) + "/check-ins", ""},
		{"goal history", "goals", goalPath(c.goal.ID) + "/history", ""},
		{"get referral", "referrals", "/v1/referrals/" + c.referral.ID, c.referral.ID},
		{"list referrals", "referrals", c.aliceURL + "/referrals", c.referral.ID},
		{"saved services", "saved_services", c.aliceURL + "/saved-services", ""},
	}
}

// Each share × each read path: a supporter reads exactly what was shared
// (a list with its items), and 404 for everything else. Assessments are a
// share with nothing to read yet, so that supporter sees nothing at all.
func TestSupporterReadsOnlyWhatIsShared(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	for _, share := range []string{"goals", "referrals", "saved_services", "assessments"} {
		sup := c.supporter(t, "sup-"+share, nil, share)
		for _, r := range c.sharedReads() {
			res := c.e.Do(http.MethodGet, r.path, sup.Token, nil)
			if r.share != share {
				res.Problem(t, http.StatusNotFound)
				continue
			}
			body := string(res.Want(t, http.StatusOK).Body)
			if r.id != "" && !strings.Contains(body, r.id) {
				t.Errorf("%s with share %s: %s lacks %s", r.name, share, body, r.id)
			}
			if strings.Contains(body, `"items":[]`) {
				t.Errorf("%s with share %s: empty list", r.name, share)
			}
		}
	}
	// Steps come with the goal.
	g := getGoal(t, c.world, c.e.Login("sup-goals"), c.goal.ID)
	if len(g.Steps) != 1 || g.Steps[0].Title != "Call the landlord" {
		t.Fatalf("steps %+v", g.Steps)
	}
}

// A goal's history shows a linked referral's status changes only to those
// who may read referrals.
func TestSupporterGoalHistoryLeavesOutUnsharedReferrals(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	hasReferral := func(who apitest.User) bool {
		return slices.ContainsFunc(history(t, c.world, who, c.goal.ID), func(h historyView) bool {
			return strings.HasPrefix(h.Field, "referral[")
		})
	}
	if !hasReferral(c.alice) || !hasReferral(c.wanda) {
		t.Fatal("the client and the care team should see the referral in the goal's history")
	}
	if hasReferral(c.supporter(t, "goals-only", nil, "goals")) {
		t.Error("a supporter shared goals but not referrals sees a referral's status in the goal history")
	}
	if !hasReferral(c.supporter(t, "goals-and-referrals", nil, "goals", "referrals")) {
		t.Error("a supporter shared both does not see the referral in the goal history")
	}
}

// What a supporter never reaches, whatever is shared: the client's profile,
// care team, conversations and messages, events, invitations, and other
// supporters. And they never write: every write is refused and changes
// nothing, for a supporter without a role (refused before the handler) and
// for one who holds a role of their own (refused by the domain: 403, since
// they can see what they tried to change).
func TestSupporterNeverSeesMoreNorWrites(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	all := []string{"goals", "referrals", "saved_services", "assessments"}
	sam := c.supporter(t, "sam", nil, all...)
	bob := c.supporter(t, "bob", []string{"client"}, all...)
	c.supporter(t, "sue", nil, "goals")
	never := []string{c.aliceURL, c.aliceURL + "/care-team", "/v1/conversations/" + c.conv.String() + "/messages",
		c.aliceURL + "/supporter-invitations"}
	for _, p := range never {
		c.e.Do(http.MethodGet, p, sam.Token, nil).Problem(t, http.StatusForbidden)
		c.e.Do(http.MethodGet, p, bob.Token, nil).Problem(t, http.StatusNotFound)
	}
	for _, p := range []string{"/v1/conversations", "/v1/events"} {
		c.e.Do(http.MethodGet, p, sam.Token, nil).Problem(t, http.StatusForbidden)
	}
	if convs := listConversations(t, c.e, bob, ""); len(convs.Items) != 0 {
		t.Fatalf("bob sees alice's conversations: %+v", convs.Items)
	}
	// Other supporters: each sees only themself.
	for _, u := range []apitest.User{sam, bob} {
		var page struct {
			Items []struct {
				PersonID uuid.UUID `json:"person_id"`
			} `json:"items"`
		}
		c.e.Do(http.MethodGet, c.aliceURL+"/supporters", u.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].PersonID != u.PersonID {
			t.Fatalf("%s sees supporters %+v", u.Subject, page.Items)
		}
		c.e.Do(http.MethodGet, c.aliceURL+"/supporters/"+c.e.Login("sue").PersonID.String(), u.Token, nil).Problem(t, http.StatusNotFound)
	}
	state := newDBState(t, c.e)
	before := state.snapshot(t, c.e)
	step := c.goal.Steps[0].ID
	title := map[string]any{"title": "Mine now"}
	// bob, who holds a role, passes authentication: the domain refuses him,
	// 403 where he can see the record and 404 where he cannot.
	writes := []struct {
		method, path, ifMatch string
		body                  any
		bob                   int
	}{
		{http.MethodPost, goalsPath(c.alice), "", title, 403},
		{http.MethodPatch, goalPath(c.goal.ID), `"*"`, title, 403},
		{http.MethodPost, goalPath(c.goal.ID) + "/steps", "", title, 403},
		{http.MethodPatch, goalPath(c.goal.ID) + "/steps/" + step, `"*"`, title, 403},
		{http.MethodDelete, goalPath(c.goal.ID) + "/steps/" + step, `"*"`, nil, 403},
		{http.MethodPost, goalPath(c.goal.ID) + "/check-ins", "", map[string]any{"rating": 9}, 403},
		{http.MethodPost, goalPath(c.goal.ID) + "/accept", `"*"`, nil, 403},
		{http.MethodPost, c.aliceURL + "/referrals", "", map[string]any{"service_id": svcDowntown.String()}, 403},
		{http.MethodPatch, "/v1/referrals/" + c.referral.ID, `"*"`, map[string]any{"note": "x"}, 403},
		{http.MethodPut, c.aliceURL + "/saved-services/" + svcDowntown.String(), "", nil, 403},
		{http.MethodDelete, c.aliceURL + "/saved-services/" + svcShelter.String(), "", nil, 403},
		{http.MethodPost, c.aliceURL + "/supporter-invitations", "", map[string]any{"shares": []string{"goals"}}, 404},
		{http.MethodPatch, c.aliceURL + "/supporters/" + bob.PersonID.String(), `"*"`, map[string]any{"shares": []string{"goals"}}, 403},
		{http.MethodPatch, c.aliceURL, `"*"`, map[string]any{"interests": []string{"x"}}, 404},
	}
	for _, w := range writes {
		c.e.Do(w.method, w.path, sam.Token, w.body, "If-Match", w.ifMatch).Problem(t, http.StatusForbidden)
		c.e.Do(w.method, w.path, bob.Token, w.body, "If-Match", w.ifMatch).Problem(t, w.bob)
	}
	if ch := changedTables(before, state.snapshot(t, c.e)); len(ch) > 0 {
		t.Fatalf("refused writes changed %v", ch)
	}
}

// A supporter is not a care team member: live events about the client's
// records go to the client and their team only. Bob (a client himself,
// alice's supporter) hears his own goal's event first, not alice's before it.
func TestSupporterGetsNoEvents(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	bob := c.supporter(t, "bob", []string{"client"}, "goals", "referrals", "saved_services")
	s := openStream(t, c.e.URL, bob.Token, "")
	patchGoal(c.world, c.alice, getGoal(t, c.world, c.alice, c.goal.ID), map[string]any{"title": "Find a flat"}).Want(t, http.StatusOK)
	own := newGoal(t, c.world, bob, bob, map[string]any{"title": "Learn to drive"})
	if _, ev := s.Next(); ev.ClientID != bob.ClientID || ev.SubjectID == nil || ev.SubjectID.String() != own.ID {
		t.Fatalf("bob's first event is %+v, want his own goal %s", ev, own.ID)
	}
}

// Every supporter read is in the client's access log, exactly once per
// request, attributed to the supporter; the client's own reads are not.
func TestSupporterReadsAreLogged(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	all := []string{"goals", "referrals", "saved_services"}
	sam := c.supporter(t, "sam", nil, all...)
	bob := c.supporter(t, "bob", []string{"client"}, all...) // reads a goal through GetGoal's client path first
	count := func(u apitest.User) int64 {
		return countRows(t, c.e, `SELECT count(*) FROM access_log WHERE client_id = ? AND actor_person_id = ?`, c.alice.ClientID, u.PersonID)
	}
	if n := countRows(t, c.e, `SELECT count(*) FROM access_log WHERE actor_person_id = ? AND action = 'write' AND resource = 'supporter'`,
		sam.PersonID); n != 1 {
		t.Fatalf("the redemption wrote %d log entries, want 1", n)
	}
	reads := append(c.sharedReads(), struct{ name, share, path, id string }{"own grant", "", c.aliceURL + "/supporters", ""})
	for _, u := range []apitest.User{sam, bob, c.alice} {
		for _, r := range reads {
			before := count(u)
			c.e.Do(http.MethodGet, r.path, u.Token, nil).Want(t, http.StatusOK)
			want := int64(1)
			if u == c.alice {
				want = 0
			}
			if got := count(u) - before; got != want {
				t.Errorf("%s by %s wrote %d access log entries, want %d", r.name, u.Subject, got, want)
			}
		}
	}
	var resources []string
	if err := c.e.DB.Raw(`SELECT DISTINCT resource FROM access_log WHERE actor_person_id = ? AND action = 'read' ORDER BY 1`,
		sam.PersonID).Scan(&resources).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{"goal", "goal_check_in", "goal_history", "referral", "saved_service", "supporter"}
	if !slices.Equal(resources, want) {
		t.Fatalf("logged resources %v, want %v", resources, want)
	}
	if n := countRows(t, c.e, `SELECT count(*) FROM access_log WHERE actor_person_id = ? AND relationship <> 'supporter'`, sam.PersonID); n != 0 {
		t.Fatalf("%d of sam's entries do not call him a supporter", n)
	}
}

// An administrator's audit read shows who touched alice's data and when,
// not her words (labels) nor whom she chose as a supporter; alice sees both.
func TestAccessLogAuditHidesLabelsAndSupporters(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	sam := c.supporter(t, "sam", nil, "goals")
	c.e.Do(http.MethodGet, goalPath(c.goal.ID), sam.Token, nil).Want(t, http.StatusOK)
	c.e.Do(http.MethodGet, goalPath(c.goal.ID), c.wanda.Token, nil).Want(t, http.StatusOK)
	var adamSaw, aliceSaw []api.AccessLogEntry
	for q := "?limit=100"; q != ""; {
		p := readLog(t, c.e, c.adam, c.alice, q)
		adamSaw, q = append(adamSaw, p.Items...), ""
		if p.NextCursor != "" {
			q = "?limit=100&cursor=" + p.NextCursor
		}
	}
	aliceSaw = readLog(t, c.e, c.alice, c.alice, "?limit=100").Items
	supporterEntries, labelled := 0, 0
	for _, en := range aliceSaw {
		if en.Label != "" {
			labelled++
		}
		if en.Actor.Relationship == "supporter" && en.Actor.ID != nil && *en.Actor.ID == sam.PersonID && en.Actor.DisplayName == "Test sam" {
			supporterEntries++
		}
	}
	if labelled == 0 || supporterEntries < 2 { // the redemption and the read
		t.Fatalf("alice sees %d labelled and %d of sam's entries: %+v", labelled, supporterEntries, aliceSaw)
	}
	hidden := 0
	for _, en := range adamSaw {
		if en.Label != "" {
			t.Errorf("adam sees the label %q on %s %s", en.Label, en.Action, en.Resource)
		}
		if en.Actor.Relationship == "supporter" {
			hidden++
			if en.Actor.ID != nil || en.Actor.DisplayName != "" {
				t.Errorf("adam sees the supporter %+v", en.Actor)
			}
		} else if en.Actor.ID == nil || en.Actor.DisplayName == "" {
			t.Errorf("adam does not see who made %+v", en)
		}
	}
	if hidden != supporterEntries {
		t.Fatalf("adam sees %d supporter entries, alice %d", hidden, supporterEntries)
	}
	// Filtering by the supporter's id finds nothing for adam, all for alice.
	if p := readLog(t, c.e, c.adam, c.alice, "?actor_id="+sam.PersonID.String()); len(p.Items) != 0 {
		t.Fatalf("adam finds sam's entries by id: %+v", p.Items)
	}
	if p := readLog(t, c.e, c.alice, c.alice, "?actor_id="+sam.PersonID.String()); len(p.Items) != supporterEntries {
		t.Fatalf("alice finds %d of sam's entries by id, want %d", len(p.Items), supporterEntries)
	}
}

// /v1/me lists the clients a person supports now, with the client's name.
func TestMeListsSupportedClients(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	sam := c.supporter(t, "sam", nil, "saved_services", "goals")
	var me struct {
		Supporting []struct {
			ClientID        uuid.UUID `json:"client_id"`
			DisplayName     string    `json:"display_name"`
			Shares          []string  `json:"shares"`
			AccessExpiresAt *string   `json:"access_expires_at"`
		} `json:"supporting"`
	}
	c.e.Do(http.MethodGet, "/v1/me", sam.Token, nil).Want(t, http.StatusOK).Decode(t, &me)
	if len(me.Supporting) != 1 || me.Supporting[0].ClientID != c.alice.ClientID || me.Supporting[0].DisplayName != "Test alice" ||
		!slices.Equal(me.Supporting[0].Shares, []string{"goals", "saved_services"}) || me.Supporting[0].AccessExpiresAt != nil {
		t.Fatalf("supporting %+v", me.Supporting)
	}
	c.e.Do(http.MethodGet, "/v1/me", c.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &me)
	if me.Supporting == nil || len(me.Supporting) != 0 {
		t.Fatalf("alice supports %+v, want an empty list", me.Supporting)
	}
	// Access that has ended is not listed.
	c.e.DB.Exec(`UPDATE supporters SET access_expires_at = now() - interval '1 second' WHERE person_id = ?`, sam.PersonID)
	c.e.Do(http.MethodGet, "/v1/me", sam.Token, nil).Want(t, http.StatusOK).Decode(t, &me)
	if len(me.Supporting) != 0 {
		t.Fatalf("expired access still listed: %+v", me.Supporting)
	}
}

func (c *circle) supporterURL(u apitest.User) string {
	return fmt.Sprintf("%s/supporters/%s", c.aliceURL, u.PersonID)
}

// A supporter shared goals never sees a private goal nor one labelled sud
// (only consented care-team workers do), on any read path; a referral shows
// its goal only to those who may read the goal.
func TestSupporterNeverSeesPrivateOrSensitiveGoals(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	sam := c.supporter(t, "sam", nil, "goals", "referrals")
	ref := c.supporter(t, "ref-only", nil, "referrals")
	private := newGoal(t, c.world, c.alice, c.alice, map[string]any{"title": "Leave him", "visibility": "private"})
	sud := newGoal(t, c.world, c.alice, c.alice, map[string]any{"title": "Stay sober", "sensitivity": "sud"})
	c.e.Do(http.MethodPut, c.aliceURL+"/consents/sud/"+c.wanda.PersonID.String(), c.alice.Token, nil).Want(t, http.StatusCreated)
	getGoal(t, c.world, c.wanda, sud.ID) // the consented worker sees it; the supporter does not
	for _, g := range []goalView{private, sud} {
		for _, p := range []string{goalPath(g.ID), goalPath(g.ID) + "/check-ins", goalPath(g.ID) + "/history"} {
			c.e.Do(http.MethodGet, p, sam.Token, nil).Problem(t, http.StatusNotFound)
		}
	}
	if ids := listIDs(t, c.e.Do(http.MethodGet, goalsPath(c.alice), sam.Token, nil).Want(t, http.StatusOK)); !slices.Equal(ids, []string{c.goal.ID}) {
		t.Fatalf("sam lists goals %v, want only %s", ids, c.goal.ID)
	}
	goalOf := func(u apitest.User) any {
		return c.e.Do(http.MethodGet, "/v1/referrals/"+c.referral.ID, u.Token, nil).Want(t, http.StatusOK).Map(t)["goal_id"]
	}
	if goalOf(sam) != c.goal.ID || goalOf(ref) != nil {
		t.Fatalf("referral goal_id: %v for a supporter shared goals, %v for one shared referrals only", goalOf(sam), goalOf(ref))
	}
}

// An app alice revoked reaches none of her data, her supporter's grant
// included: through it sam neither reads nor removes his grant, and /v1/me
// does not list alice; through another app he still does.
func TestRevokedAppLosesTheSupportersGrant(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	sam := c.supporter(t, "sam", nil, "goals")
	samBudget := appToken(t, c.e, sam, nil, budgetApp)
	c.e.Do(http.MethodGet, c.supporterURL(sam), samBudget, nil).Want(t, http.StatusOK)
	c.e.Do(http.MethodDelete, c.aliceURL+"/apps/"+budgetApp, c.alice.Token, nil).Want(t, http.StatusNoContent)
	c.e.Do(http.MethodGet, c.supporterURL(sam), samBudget, nil).Problem(t, http.StatusForbidden)
	c.e.Do(http.MethodDelete, c.supporterURL(sam), samBudget, nil).Problem(t, http.StatusForbidden)
	var me struct {
		Supporting []struct {
			ClientID uuid.UUID `json:"client_id"`
		} `json:"supporting"`
	}
	c.e.Do(http.MethodGet, "/v1/me", samBudget, nil).Want(t, http.StatusOK).Decode(t, &me)
	if len(me.Supporting) != 0 {
		t.Fatalf("through the revoked app sam still lists %+v", me.Supporting)
	}
	c.e.Do(http.MethodGet, "/v1/me", sam.Token, nil).Want(t, http.StatusOK).Decode(t, &me)
	if len(me.Supporting) != 1 || me.Supporting[0].ClientID != c.alice.ClientID {
		t.Fatalf("through his other app sam lists %+v", me.Supporting)
	}
	c.e.Do(http.MethodGet, c.supporterURL(sam), sam.Token, nil).Want(t, http.StatusOK)
}
