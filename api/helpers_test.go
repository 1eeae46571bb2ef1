package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// Shared fixtures: the people every test starts from (world, team), the known
// directory, and small request helpers for goals, referrals and conversations.

type world struct {
	e                *apitest.Env
	alice, bob       apitest.User // clients
	wanda, will      apitest.User // workers
	adam             apitest.User // admin
	aliceURL, bobURL string
	wandaOnAlice     string
}

// newWorld: alice and bob are clients; wanda is on alice's care team (put
// there by adam, an admin); will is a worker with an empty caseload.
func newWorld(t *testing.T) *world {
	t.Helper()
	e := apitest.New(t)
	w := &world{e: e,
		alice: e.Login("alice", "client"), bob: e.Login("bob", "client"),
		wanda: e.Login("wanda", "worker"), will: e.Login("will", "worker"), adam: e.Login("adam", "admin"),
	}
	w.aliceURL = "/v1/clients/" + w.alice.ClientID.String()
	w.bobURL = "/v1/clients/" + w.bob.ClientID.String()
	w.wandaOnAlice = w.aliceURL + "/care-team/" + w.wanda.PersonID.String()
	e.Do(http.MethodPut, w.wandaOnAlice, w.adam.Token, map[string]any{"team_role": "case manager"}).Want(t, http.StatusCreated)
	return w
}

// team is a client with two workers on her care team, an outside worker,
// another client and an administrator.
type team struct {
	e                  *apitest.Env
	alice, bob         apitest.User
	wanda, will, oscar apitest.User
	adam               apitest.User
}

func newTeam(t *testing.T, opts ...apitest.Option) *team {
	t.Helper()
	e := apitest.NewWith(t, opts...)
	tm := &team{e: e, alice: e.Login("alice", "client"), bob: e.Login("bob", "client"),
		wanda: e.Login("wanda", "worker"), will: e.Login("will", "worker"), oscar: e.Login("oscar", "worker"),
		adam: e.Login("adam", "admin")}
	tm.addToTeam(t, tm.alice, tm.wanda)
	tm.addToTeam(t, tm.alice, tm.will)
	tm.addToTeam(t, tm.bob, tm.oscar)
	return tm
}

func (tm *team) addToTeam(t *testing.T, client, worker apitest.User) {
	t.Helper()
	tm.e.Do(http.MethodPut, "/v1/clients/"+client.ClientID.String()+"/care-team/"+worker.PersonID.String(), tm.adam.Token, nil).
		Want(t, http.StatusCreated)
}

func (tm *team) removeFromTeam(t *testing.T, client, worker apitest.User) {
	t.Helper()
	tm.e.Do(http.MethodDelete, "/v1/clients/"+client.ClientID.String()+"/care-team/"+worker.PersonID.String(), tm.adam.Token, nil).
		Want(t, http.StatusNoContent)
}

func listIDs(t *testing.T, r *apitest.Resp) []string {
	t.Helper()
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	r.Decode(t, &page)
	out := []string{}
	for _, it := range page.Items {
		out = append(out, it.ID)
	}
	return out
}

func countRows(t *testing.T, e *apitest.Env, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func mustContainAll(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Fatalf("%q does not mention %q", s, p)
		}
	}
}

// goalView is the part of a goal the tests look at.
type goalView struct {
	ID                string  `json:"id"`
	ClientID          string  `json:"client_id"`
	Title             string  `json:"title"`
	Description       *string `json:"description"`
	Category          *string `json:"category"`
	TargetDate        *string `json:"target_date"`
	LifecycleStatus   string  `json:"lifecycle_status"`
	AchievementStatus *string `json:"achievement_status"`
	StatusReason      *string `json:"status_reason"`
	LatestRating      *int    `json:"latest_rating"`
	Trend             string  `json:"trend"`
	Version           int64   `json:"version"`
	CreatedBy         string  `json:"created_by"`
	Steps             []struct {
		ID       string  `json:"id"`
		Title    string  `json:"title"`
		DueDate  *string `json:"due_date"`
		Done     bool    `json:"done"`
		Position int     `json:"position"`
		Version  int64   `json:"version"`
	} `json:"steps"`
}

type historyView struct {
	Field    string          `json:"field"`
	OldValue json.RawMessage `json:"old_value"`
	NewValue json.RawMessage `json:"new_value"`
	Actor    struct {
		PersonID    string `json:"person_id"`
		DisplayName string `json:"display_name"`
		Role        string `json:"role"`
	} `json:"actor"`
}

func goalPath(id string) string { return "/v1/goals/" + id }

func goalsPath(u apitest.User) string { return "/v1/clients/" + u.ClientID.String() + "/goals" }

func decodeGoal(t *testing.T, r *apitest.Resp) goalView {
	t.Helper()
	var g goalView
	r.Decode(t, &g)
	if r.Header.Get("ETag") != "" && r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, g.Version) {
		t.Fatalf("ETag %q does not match version %d", r.Header.Get("ETag"), g.Version)
	}
	return g
}

// newGoal creates a goal for owner's client record as who, asserting 201.
func newGoal(t *testing.T, w *world, who, owner apitest.User, body map[string]any) goalView {
	t.Helper()
	if _, ok := body["title"]; !ok {
		body["title"] = "Find a stable place to live"
	}
	return decodeGoal(t, w.e.Do(http.MethodPost, goalsPath(owner), who.Token, body).Want(t, http.StatusCreated))
}

func getGoal(t *testing.T, w *world, who apitest.User, id string) goalView {
	t.Helper()
	return decodeGoal(t, w.e.Do(http.MethodGet, goalPath(id), who.Token, nil).Want(t, http.StatusOK))
}

func patchGoal(w *world, who apitest.User, g goalView, body any) *apitest.Resp {
	return w.e.Do(http.MethodPatch, goalPath(g.ID), who.Token, body, "If-Match", fmt.Sprintf(`"%d"`, g.Version))
}

func history(t *testing.T, w *world, who apitest.User, id string) []historyView {
	t.Helper()
	var out []historyView
	cursor := ""
	for {
		var page struct {
			Items      []historyView `json:"items"`
			NextCursor string        `json:"next_cursor"`
		}
		w.e.Do(http.MethodGet, goalPath(id)+"/history?limit=100&cursor="+cursor, who.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

type referralView struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	GoalID  *string
	Version int64 `json:"version"`
	Service struct {
		Name string `json:"name"`
	} `json:"service"`
	StatusHistory []struct {
		FromStatus    *string `json:"from_status"`
		ToStatus      string  `json:"to_status"`
		ChangedBy     string  `json:"changed_by"`
		ChangedByName string  `json:"changed_by_name"`
		ActorRole     string  `json:"actor_role"`
		ChangedAt     string  `json:"changed_at"`
	} `json:"status_history"`
}

func newReferral(t *testing.T, e *apitest.Env, who, owner apitest.User, body map[string]any) referralView {
	t.Helper()
	var r referralView
	e.Do(http.MethodPost, "/v1/clients/"+owner.ClientID.String()+"/referrals", who.Token, body).Want(t, http.StatusCreated).Decode(t, &r)
	return r
}

func decodeReferral(t *testing.T, r *apitest.Resp) referralView {
	t.Helper()
	var v referralView
	r.Decode(t, &v)
	return v
}

func patchReferral(e *apitest.Env, who apitest.User, r referralView, body any) *apitest.Resp {
	return e.Do(http.MethodPatch, "/v1/referrals/"+r.ID, who.Token, body, "If-Match", fmt.Sprintf(`"%d"`, r.Version))
}

func createConversation(t *testing.T, e *apitest.Env, u apitest.User, body any) api.Conversation {
	t.Helper()
	var c api.Conversation
	e.Do(http.MethodPost, "/v1/conversations", u.Token, body).Want(t, http.StatusCreated).Decode(t, &c)
	return c
}

func postMessage(t *testing.T, e *apitest.Env, u apitest.User, conv uuid.UUID, body string, hdrs ...string) api.Message {
	t.Helper()
	var m api.Message
	e.Do(http.MethodPost, "/v1/conversations/"+conv.String()+"/messages", u.Token, map[string]string{"body": body}, hdrs...).
		Want(t, http.StatusCreated).Decode(t, &m)
	return m
}

func listMessages(t *testing.T, e *apitest.Env, u apitest.User, conv uuid.UUID, query string) api.Page[api.Message] {
	t.Helper()
	var p api.Page[api.Message]
	e.Do(http.MethodGet, "/v1/conversations/"+conv.String()+"/messages"+query, u.Token, nil).Want(t, http.StatusOK).Decode(t, &p)
	return p
}

func listConversations(t *testing.T, e *apitest.Env, u apitest.User, query string) api.Page[api.Conversation] {
	t.Helper()
	var p api.Page[api.Conversation]
	e.Do(http.MethodGet, "/v1/conversations"+query, u.Token, nil).Want(t, http.StatusOK).Decode(t, &p)
	return p
}

// A small directory whose answers are known by hand. Distances are from the
// search point 47.61,-122.33 (downtown Seattle).
var (
	termFood     = uuid.MustParse("0190a000-0f00-7000-8000-000000000001")
	termPantries = uuid.MustParse("0190a000-0f00-7000-8000-000000000002")
	termMobile   = uuid.MustParse("0190a000-0f00-7000-8000-000000000003") // under Food Pantries
	termHousing  = uuid.MustParse("0190a000-0f00-7000-8000-000000000004")

	orgSeattle = uuid.MustParse("0190a000-0a00-7000-8000-000000000001")
	orgNY      = uuid.MustParse("0190a000-0a00-7000-8000-000000000002")

	locBallard    = uuid.MustParse("0190a000-0b00-7000-8000-000000000001") // ~7.8 km
	locDowntown   = uuid.MustParse("0190a000-0b00-7000-8000-000000000002") // ~0.3 km
	locGeorgetown = uuid.MustParse("0190a000-0b00-7000-8000-000000000003") // ~7.0 km
	locBrooklyn   = uuid.MustParse("0190a000-0b00-7000-8000-000000000004")
	locHonolulu   = uuid.MustParse("0190a000-0b00-7000-8000-000000000005")

	svcBallard    = uuid.MustParse("0190a000-0c00-7000-8000-000000000001")
	svcDowntown   = uuid.MustParse("0190a000-0c00-7000-8000-000000000002")
	svcShelter    = uuid.MustParse("0190a000-0c00-7000-8000-000000000003")
	svcBrooklyn   = uuid.MustParse("0190a000-0c00-7000-8000-000000000004")
	svcYouth      = uuid.MustParse("0190a000-0c00-7000-8000-000000000005")
	svcClosed     = uuid.MustParse("0190a000-0c00-7000-8000-000000000006")
	svcHonolulu   = uuid.MustParse("0190a000-0c00-7000-8000-000000000007")
	serviceByName = map[uuid.UUID]string{
		svcBallard: "Ballard Food Pantry", svcDowntown: "Downtown Community Pantry", svcShelter: "Georgetown Night Shelter",
		svcBrooklyn: "Brooklyn Food Pantry", svcYouth: "Youth Counseling Drop-In", svcClosed: "Old Pantry",
		svcHonolulu: "Honolulu Food Pantry",
	}
)

func fptr(v float64) *float64 { return &v }

func weekly(byday, opens, closes string) []hsds.Schedule {
	return []hsds.Schedule{{ID: uuid.New(), Freq: "WEEKLY", ByDay: byday, OpensAt: opens, ClosesAt: closes}}
}

func langs(codes ...string) []hsds.Language {
	var out []hsds.Language
	for _, c := range codes {
		out = append(out, hsds.Language{ID: uuid.New(), Code: c})
	}
	return out
}

func at(loc uuid.UUID) []hsds.ServiceAtLocation {
	return []hsds.ServiceAtLocation{{ID: uuid.New(), LocationID: loc}}
}

func filed(term uuid.UUID) []hsds.Attribute {
	return []hsds.Attribute{{ID: uuid.New(), TaxonomyTermID: term, LinkEntity: "service"}}
}

// seedDirectory loads the known directory through the importer (one batch).
func seedDirectory(t testing.TB, store *domain.Store) {
	t.Helper()
	place := func(id, org uuid.UUID, name string, lat, lon float64, tz string) hsds.Location {
		return hsds.Location{ID: id, OrganizationID: org, LocationType: "physical", Name: name,
			Latitude: fptr(lat), Longitude: fptr(lon), Timezone: tz}
	}
	modified := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	svc := func(id, org uuid.UUID, desc string, s hsds.Service) hsds.Service {
		s.ID, s.OrganizationID, s.Name, s.Description = id, org, serviceByName[id], desc
		if s.Status == "" {
			s.Status = hsds.StatusActive
		}
		if s.LastModified.IsZero() {
			s.LastModified = modified
		}
		return s
	}
	recs := []hsds.Record{
		{TaxonomyTerm: &hsds.TaxonomyTerm{ID: termFood, Name: "Food", Description: "Food"}},
		{TaxonomyTerm: &hsds.TaxonomyTerm{ID: termPantries, Name: "Food Pantries", Description: "Groceries", ParentID: termFood}},
		{TaxonomyTerm: &hsds.TaxonomyTerm{ID: termMobile, Name: "Mobile Pantries", Description: "Pantries on wheels", ParentID: termPantries}},
		{TaxonomyTerm: &hsds.TaxonomyTerm{ID: termHousing, Name: "Housing", Description: "Shelter and housing"}},
		{Organization: &hsds.Organization{ID: orgSeattle, Name: "Seattle Neighbors", Description: "Mutual aid"}},
		{Organization: &hsds.Organization{ID: orgNY, Name: "Brooklyn Aid", Description: "Mutual aid"}},
		{Location: ptrTo(place(locBallard, orgSeattle, "Ballard Hall", 47.6687, -122.3841, "America/Los_Angeles"))},
		{Location: ptrTo(place(locDowntown, orgSeattle, "Downtown Hub", 47.6097, -122.3331, "America/Los_Angeles"))},
		{Location: ptrTo(place(locGeorgetown, orgSeattle, "Georgetown Church", 47.5480, -122.3210, "America/Los_Angeles"))},
		{Location: ptrTo(place(locBrooklyn, orgNY, "Brooklyn Center", 40.6782, -73.9442, "America/New_York"))},
		{Location: ptrTo(place(locHonolulu, orgSeattle, "Kalihi Hall", 21.3069, -157.8583, "Pacific/Honolulu"))},
		{Service: ptrTo(svc(svcBallard, orgSeattle, "Free groceries every weekday.", hsds.Service{
			ServiceAtLocations: at(locBallard), Attributes: filed(termPantries), Languages: langs("en", "es"),
			Schedules: weekly("MO,TU,WE,TH,FR", "09:00", "17:00"), LastModified: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}))},
		{Service: ptrTo(svc(svcDowntown, orgSeattle, "Groceries and fresh produce on Wednesday evenings.", hsds.Service{
			ServiceAtLocations: at(locDowntown), Attributes: filed(termMobile), Languages: langs("en", "spa"),
			Schedules: weekly("WE", "16:00", "20:00")}))},
		{Service: ptrTo(svc(svcShelter, orgSeattle, "Beds, showers and breakfast.", hsds.Service{
			ServiceAtLocations: at(locGeorgetown), Attributes: filed(termHousing), Languages: langs("en"),
			Schedules: weekly("", "20:00", "08:00"), MinimumAge: fptr(18)}))},
		{Service: ptrTo(svc(svcBrooklyn, orgNY, "Free groceries every weekday.", hsds.Service{
			ServiceAtLocations: at(locBrooklyn), Attributes: filed(termPantries), Languages: langs("en", "es"),
			Schedules: weekly("MO,TU,WE,TH,FR", "09:00", "17:00")}))},
		{Service: ptrTo(svc(svcYouth, orgSeattle, "Drop-in counselling for young people.", hsds.Service{
			ServiceAtLocations: at(locDowntown), Attributes: filed(termHousing), Languages: langs("en", "so"),
			Schedules: weekly("SA", "10:00", "14:00"), MinimumAge: fptr(12), MaximumAge: fptr(24)}))},
		{Service: ptrTo(svc(svcClosed, orgSeattle, "Groceries, no longer running.", hsds.Service{
			ServiceAtLocations: at(locDowntown), Attributes: filed(termPantries), Status: hsds.StatusInactive,
			Schedules: weekly("MO,TU,WE,TH,FR", "00:00", "00:00")}))},
		{Service: ptrTo(svc(svcHonolulu, orgSeattle, "Free groceries every weekday.", hsds.Service{
			ServiceAtLocations: at(locHonolulu), Attributes: filed(termPantries), Languages: langs("en"),
			Schedules: weekly("MO,TU,WE,TH,FR", "09:00", "17:00")}))},
	}
	errs, err := store.ImportBatch(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("record %d: %v", i, e)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
