package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// The lists whose bound is a count of rows (a care team, a client's
// consents, the clients one person supports) refuse one more with 409 and
// change nothing; what the contract says of them is then true of every
// response (apitest checks each one).

func TestCareTeamIsBounded(t *testing.T) {
	t.Parallel()
	w := newWorld(t) // wanda is on alice's team
	e := w.e
	team := w.aliceURL + "/care-team/"
	for i := 1; i < domain.MaxCareTeam; i++ {
		u := e.Login(fmt.Sprintf("worker-%d", i), "worker")
		e.Do(http.MethodPut, team+u.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	}
	// At the bound: one more is refused, several at once too (the count is
	// taken under a lock); changing a member's role still works.
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		u := e.Login(fmt.Sprintf("late-%d", i), "worker")
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.Do(http.MethodPut, team+u.PersonID.String(), w.adam.Token, nil).Status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusConflict {
			t.Errorf("worker %d past a full team: %d", i, s)
		}
	}
	e.Do(http.MethodPut, w.wandaOnAlice, w.adam.Token, map[string]any{"team_role": "nurse"}).Want(t, http.StatusOK)
	if n := countRows(t, e, `SELECT count(*) FROM care_team_members WHERE client_id = ?`, w.alice.ClientID); n != domain.MaxCareTeam {
		t.Fatalf("%d members", n)
	}
	var ct struct{ Members []any }
	e.Do(http.MethodGet, w.aliceURL+"/care-team", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &ct)
	if len(ct.Members) != domain.MaxCareTeam {
		t.Fatalf("care team lists %d", len(ct.Members))
	}
	// Room again once someone leaves; a conversation with the whole team
	// has every participant the contract allows.
	e.Do(http.MethodDelete, team+w.wanda.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusNoContent)
	late := e.Login("late-0", "worker")
	e.Do(http.MethodPut, team+late.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	c := createConversation(t, e, w.alice, map[string]any{"subject": "Everyone"})
	if len(c.Participants) != domain.MaxConversationParticipants {
		t.Fatalf("%d participants", len(c.Participants))
	}
}

func TestConsentsAreBounded(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	consent := func(u apitest.User) *apitest.Resp {
		return e.Do(http.MethodPut, w.aliceURL+"/consents/sud/"+u.PersonID.String(), w.alice.Token, nil)
	}
	// Consents outlast the care team: two teams' worth.
	var workers []apitest.User
	for i := 0; i < domain.MaxConsents+1; i++ {
		workers = append(workers, e.Login(fmt.Sprintf("consented-%d", i), "worker"))
	}
	for i, u := range workers[:domain.MaxConsents] {
		onTeam := w.aliceURL + "/care-team/" + u.PersonID.String()
		if i == 0 { // wanda makes room first
			e.Do(http.MethodDelete, w.wandaOnAlice, w.adam.Token, nil).Want(t, http.StatusNoContent)
		}
		e.Do(http.MethodPut, onTeam, w.adam.Token, nil).Want(t, http.StatusCreated)
		consent(u).Want(t, http.StatusCreated)
		e.Do(http.MethodDelete, onTeam, w.adam.Token, nil).Want(t, http.StatusNoContent)
	}
	last := workers[domain.MaxConsents]
	e.Do(http.MethodPut, w.aliceURL+"/care-team/"+last.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	consent(last).Problem(t, http.StatusConflict)
	// An existing consent is still answered (idempotent) at the bound.
	e.Do(http.MethodPut, w.aliceURL+"/care-team/"+workers[0].PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	consent(workers[0]).Want(t, http.StatusOK)
	if n := countRows(t, e, `SELECT count(*) FROM sensitivity_consents WHERE client_id = ?`, w.alice.ClientID); n != domain.MaxConsents {
		t.Fatalf("%d consents", n)
	}
	var list struct{ Items []any }
	e.Do(http.MethodGet, w.aliceURL+"/consents", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &list)
	if len(list.Items) != domain.MaxConsents {
		t.Fatalf("consents lists %d", len(list.Items))
	}
}

func TestSupportedClientsAreBounded(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	sam := e.Login("sam")
	invite := func(i int) string {
		c := e.Login(fmt.Sprintf("client-%d", i), "client")
		var inv struct{ Code string }
		e.Do(http.MethodPost, "/v1/clients/"+c.ClientID.String()+"/supporter-invitations", c.Token,
			map[string]any{"shares": []string{"goals"}}).Want(t, http.StatusCreated).Decode(t, &inv)
		return inv.Code
	}
	for i := 0; i < domain.MaxSupportedClients; i++ {
		redeem(e, sam, invite(i)).Want(t, http.StatusCreated)
	}
	code := invite(domain.MaxSupportedClients)
	redeem(e, sam, code).Problem(t, http.StatusConflict)
	if n := countRows(t, e, `SELECT count(*) FROM supporters WHERE person_id = ?`, sam.PersonID); n != domain.MaxSupportedClients {
		t.Fatalf("%d grants", n)
	}
	var me struct{ Supporting []any }
	e.Do(http.MethodGet, "/v1/me", sam.Token, nil).Want(t, http.StatusOK).Decode(t, &me)
	if len(me.Supporting) != domain.MaxSupportedClients {
		t.Fatalf("/v1/me lists %d", len(me.Supporting))
	}
	// The refused code stays good: someone else can still take it.
	redeem(e, e.Login("other"), code).Want(t, http.StatusCreated)
}

// A token's app id is kept and shown, so it is bounded like an app id in a
// path; a token's display name is cut to a display name's length when the
// person is created (a suggestion, not a claim to refuse the token for).
func TestTokenTextIsBounded(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	app := strings.Repeat("ሰ", domain.MaxAppID)
	ok := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithClaim("azp", app))
	e.Do(http.MethodGet, "/v1/me", ok, nil).Want(t, http.StatusOK)
	long := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithClaim("azp", app+"ሰ"))
	e.Do(http.MethodGet, "/v1/me", long, nil).Problem(t, http.StatusUnauthorized)

	name := strings.Repeat("ሰ", domain.MaxDisplayName+50)
	tok := e.Issuer.Token(t, "bob", []string{"client"}, authtest.WithClaim("name", name))
	var me struct {
		DisplayName string `json:"display_name"`
	}
	e.Do(http.MethodGet, "/v1/me", tok, nil).Want(t, http.StatusOK).Decode(t, &me)
	if me.DisplayName != name[:domain.MaxDisplayName*len("ሰ")] {
		t.Fatalf("display name of %d characters", utf8.RuneCountInString(me.DisplayName))
	}
}

// Problems are cut to their bounds whatever the request carried: a detail
// quoting a long path, and the errors of a body with more wrong members than
// a problem lists. (apitest checks the 422 against the Problem schema.)
func TestProblemsAreBounded(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	p := e.Do(http.MethodGet, "/v1/"+strings.Repeat("ሰ", 3000), w.alice.Token, nil).Problem(t, http.StatusNotFound)
	if d, _ := p["detail"].(string); utf8.RuneCountInString(d) != 2000 || !strings.HasSuffix(d, "…") {
		t.Fatalf("detail of %d characters", utf8.RuneCountInString(d))
	}
	wrong := make([]any, 300)
	for i := range wrong {
		wrong[i] = i // not strings
	}
	p = e.Do(http.MethodPost, goalsPath(w.alice), w.alice.Token, map[string]any{"title": "t", "strengths_used": wrong}).
		Problem(t, http.StatusUnprocessableEntity)
	if errs, _ := p["errors"].([]any); len(errs) != 100 {
		t.Fatalf("%d errors", len(errs))
	}
}

// Reads show at most hsds.MaxListed of a list assembled from records
// written one by one (an organization's locations): the first, in order.
func TestDirectoryReadsAreBounded(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	reader := e.Login("reader", "client")
	org := uuid.MustParse("0190a000-0a00-7000-8000-0000000000ff")
	recs := []hsds.Record{{Organization: &hsds.Organization{ID: org, Name: "Everywhere Aid", Description: "Many places"}}}
	var first uuid.UUID
	for i := 0; i < hsds.MaxListed+5; i++ {
		id := uuid.MustParse(fmt.Sprintf("0190a000-0b00-7000-8000-%012d", i+1))
		if i == 0 {
			first = id
		}
		recs = append(recs, hsds.Record{Location: &hsds.Location{ID: id, OrganizationID: org, LocationType: "physical", Name: "Site"}})
	}
	svc := uuid.MustParse("0190a000-0c00-7000-8000-0000000000ff")
	recs = append(recs, hsds.Record{Service: &hsds.Service{ID: svc, OrganizationID: org, Name: "Help", Status: hsds.StatusActive}})
	for i := 0; i < len(recs); i += domain.ImportBatchSize {
		errs, err := e.Store.ImportBatch(context.Background(), recs[i:min(i+domain.ImportBatchSize, len(recs))])
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	var o struct {
		Locations []struct{ ID uuid.UUID }
	}
	e.Do(http.MethodGet, "/v1/organizations/"+org.String(), reader.Token, nil).Want(t, http.StatusOK).Decode(t, &o)
	if len(o.Locations) != hsds.MaxListed || o.Locations[0].ID != first {
		t.Fatalf("organization lists %d locations", len(o.Locations))
	}
	var s struct {
		Organization struct {
			Locations []any
		}
	}
	e.Do(http.MethodGet, "/v1/services/"+svc.String(), reader.Token, nil).Want(t, http.StatusOK).Decode(t, &s)
	if len(s.Organization.Locations) != hsds.MaxListed {
		t.Fatalf("the service's organization lists %d locations", len(s.Organization.Locations))
	}
}
