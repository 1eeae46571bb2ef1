package api_test

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

// termLegalAid is a category of the directory no service is filed under.
var termLegalAid = uuid.MustParse("0190a000-0f00-7000-8000-0000000000a1")

// needRow is one unmet_needs row as stored, every column.
type needRow struct {
	ID           int64
	Source       string
	Week         time.Time
	TaxonomyTerm *uuid.UUID
	Area         *string
	Language     *string
	Reason       *string
	PersonMark   []byte
}

func needs(t *testing.T, e *apitest.Env) []needRow {
	t.Helper()
	var rows []needRow
	if err := e.DB.Raw(`SELECT id, source, week, taxonomy_term, area, language, reason, person_mark FROM unmet_needs ORDER BY id`).
		Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// assertAnonymous fails when any column of any unmet_needs row equals or
// contains a person's or client's id (as text or bytes) or a text sent.
func assertAnonymous(t *testing.T, e *apitest.Env, users []apitest.User, texts ...string) {
	t.Helper()
	var dump []string
	if err := e.DB.Raw(`SELECT lower(to_jsonb(u)::text || encode(u.person_mark, 'hex')) FROM unmet_needs u`).Scan(&dump).Error; err != nil {
		t.Fatal(err)
	}
	for _, row := range dump {
		for _, u := range users {
			for _, id := range []uuid.UUID{u.PersonID, u.ClientID} {
				if id == uuid.Nil {
					continue
				}
				if strings.Contains(row, id.String()) || strings.Contains(row, hex.EncodeToString(id[:])) ||
					strings.Contains(row, hex.EncodeToString(id[:8])) {
					t.Errorf("an unmet need holds %s's id %s: %s", u.Subject, id, row)
				}
			}
			if strings.Contains(row, strings.ToLower(u.Subject)) {
				t.Errorf("an unmet need holds %s's name: %s", u.Subject, row)
			}
		}
		for _, s := range texts {
			if strings.Contains(row, strings.ToLower(s)) {
				t.Errorf("an unmet need holds the text %q: %s", s, row)
			}
		}
	}
}

// thisWeek is the Monday (UTC) of the current ISO week.
func thisWeek() time.Time {
	d := time.Now().UTC().Truncate(24 * time.Hour)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

func newNeedsWorld(t *testing.T) *world {
	w := newWorld(t)
	seedDirectory(t, w.e.Store)
	if err := w.e.DB.Exec(`INSERT INTO taxonomy_terms (id, name) VALUES (?, 'Legal Aid')`, termLegalAid).Error; err != nil {
		t.Fatal(err)
	}
	return w
}

func setProfile(t *testing.T, e *apitest.Env, who apitest.User, clientID uuid.UUID, patch map[string]any) *apitest.Resp {
	t.Helper()
	var c struct{ Version int64 }
	e.Do(http.MethodGet, "/v1/clients/"+clientID.String(), who.Token, nil).Want(t, http.StatusOK).Decode(t, &c)
	return e.Do(http.MethodPatch, "/v1/clients/"+clientID.String(), who.Token, patch, "If-Match", etagOf(c.Version))
}

func etagOf(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

func searchAs(t *testing.T, e *apitest.Env, who apitest.User, q url.Values) map[string]any {
	t.Helper()
	return e.Do(http.MethodGet, "/v1/services?"+q.Encode(), who.Token, nil).Want(t, http.StatusOK).Map(t)
}

// A client's search that finds nothing is one anonymous need: the term the
// words name (never the words), the point's geohash-5 cell, the client's
// language, this week; searching again the same week counts nothing more.
func TestEmptySearchRecordsAnAnonymousNeed(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	setProfile(t, e, w.alice, w.alice.ClientID, map[string]any{"preferred_language": "es-MX"}).Want(t, http.StatusOK)
	q := url.Values{"search": {"legal aid"}, "lat": {"47.5410"}, "lon": {"-122.2740"}, "radius_km": {"1"}}
	if p := searchAs(t, e, w.alice, q); p["total_items"].(float64) != 0 {
		t.Fatalf("the search should find nothing: %v", p["total_items"])
	}
	got := needs(t, e)
	if len(got) != 1 {
		t.Fatalf("want one need, got %+v", got)
	}
	n := got[0]
	if n.Source != "search" || n.TaxonomyTerm == nil || *n.TaxonomyTerm != termLegalAid || n.Area == nil || *n.Area != "c23n3" ||
		n.Language == nil || *n.Language != "es" || n.Reason != nil || !n.Week.Equal(thisWeek()) || len(n.PersonMark) != 16 {
		t.Fatalf("need: %+v (area %v, language %v)", n, derefStr(n.Area), derefStr(n.Language))
	}
	// The same person, cell and week: counted once however often they search.
	searchAs(t, e, w.alice, q)
	searchAs(t, e, w.alice, q)
	if got := needs(t, e); len(got) != 1 {
		t.Fatalf("searching again in the same week counted again: %+v", got)
	}
	// Another client in the same cell counts as another person.
	searchAs(t, e, w.bob, q)
	got = needs(t, e)
	if len(got) != 2 || string(got[1].PersonMark) == string(got[0].PersonMark) {
		t.Fatalf("bob's need: %+v", got)
	}
	// A named category is recorded as named; the language filter wins; words
	// that name no category leave it unknown.
	searchAs(t, e, w.alice, url.Values{"taxonomy_term_id": {termHousing.String()}, "language": {"so"}, "lat": {"40.0"}, "lon": {"-100.0"}, "radius_km": {"1"}})
	searchAs(t, e, w.alice, url.Values{"search": {"zzyzx qwv"}})
	got = needs(t, e)
	if len(got) != 4 {
		t.Fatalf("want four needs, got %+v", got)
	}
	if h := got[2]; h.TaxonomyTerm == nil || *h.TaxonomyTerm != termHousing || derefStr(h.Language) != "so" || h.Area == nil {
		t.Fatalf("the housing need: %+v", h)
	}
	if u := got[3]; u.TaxonomyTerm != nil || u.Area != nil || derefStr(u.Language) != "es" {
		t.Fatalf("the uncategorised need: %+v", u)
	}
	assertAnonymous(t, e, []apitest.User{w.alice, w.bob}, "legal aid", "zzyzx", "qwv", "47.541", "122.274")
	// The week's key exists, one for this week.
	var weeks []time.Time
	e.DB.Raw(`SELECT week FROM insight_week_keys`).Scan(&weeks)
	if len(weeks) != 1 || !weeks[0].Equal(thisWeek()) {
		t.Fatalf("week keys: %v", weeks)
	}
}

func derefStr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// Only a client's searches count; a search that found something, a later
// page, a search naming no category or words, and workers', administrators'
// and role-less people's searches do not.
func TestOnlyClientsEmptySearchesAreRecorded(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	empty := url.Values{"search": {"legal aid"}}
	for _, u := range []apitest.User{w.wanda, w.adam, e.Login("nobody"), e.Login("ed", "directory_editor"), e.Login("pia", "provider")} {
		searchAs(t, e, u, empty)
	}
	searchAs(t, e, w.alice, url.Values{"search": {"pantry"}})
	searchAs(t, e, w.alice, url.Values{"search": {"pantry"}, "page": {"9"}})
	// Nothing near a point far from every service, but no category or words either: no need named.
	if r := searchAs(t, e, w.alice, url.Values{"lat": {"47.40"}, "lon": {"-121.90"}, "radius_km": {"1"}}); r["total_items"] != float64(0) {
		t.Fatalf("the search near no service found %v", r["total_items"])
	}
	if got := needs(t, e); len(got) != 0 {
		t.Fatalf("recorded %+v", got)
	}
	searchAs(t, e, w.alice, empty)
	if got := needs(t, e); len(got) != 1 {
		t.Fatalf("alice's empty search: %+v", got)
	}
}

// help_improve_services false stops the counting; it is the client's
// decision alone, and a care-team reset of the preferences keeps it.
func TestHelpImproveServicesOptOut(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	cp := func() map[string]any {
		return e.Do(http.MethodGet, w.aliceURL, w.alice.Token, nil).Want(t, http.StatusOK).Map(t)["contact_preferences"].(map[string]any)
	}
	if on, _ := cp()["help_improve_services"].(bool); !on {
		t.Fatal("help_improve_services is shown on (true) by default")
	}
	// The care team may not decide it, either way (403 naming nothing changed).
	setProfile(t, e, w.wanda, w.alice.ClientID, map[string]any{"contact_preferences": map[string]any{"help_improve_services": false}}).
		Problem(t, http.StatusForbidden)
	setProfile(t, e, w.alice, w.alice.ClientID, map[string]any{"contact_preferences": map[string]any{"help_improve_services": "no"}}).
		Problem(t, http.StatusUnprocessableEntity)
	setProfile(t, e, w.alice, w.alice.ClientID, map[string]any{"contact_preferences": map[string]any{"help_improve_services": false}}).
		Want(t, http.StatusOK)
	if cp()["help_improve_services"] != false {
		t.Fatalf("contact preferences: %v", cp())
	}
	searchAs(t, e, w.alice, url.Values{"search": {"legal aid"}})
	if got := needs(t, e); len(got) != 0 {
		t.Fatalf("recorded after opting out: %+v", got)
	}
	// Wanda resets the preferences; alice's decision stays.
	setProfile(t, e, w.wanda, w.alice.ClientID, map[string]any{"contact_preferences": nil}).Want(t, http.StatusOK)
	if cp()["help_improve_services"] != false {
		t.Fatalf("the care team's reset undid the opt-out: %v", cp())
	}
	searchAs(t, e, w.alice, url.Values{"search": {"legal aid"}})
	if got := needs(t, e); len(got) != 0 {
		t.Fatalf("recorded after opting out: %+v", got)
	}
	// Back on (null: the default), the next empty search counts.
	setProfile(t, e, w.alice, w.alice.ClientID, map[string]any{"contact_preferences": map[string]any{"help_improve_services": nil}}).
		Want(t, http.StatusOK)
	searchAs(t, e, w.alice, url.Values{"search": {"legal aid"}})
	if got := needs(t, e); len(got) != 1 {
		t.Fatalf("after opting in again: %+v", got)
	}
}

// A declined referral is a need by reason: the service's first category and
// place, the client's language; not when the client opted out.
func TestDeclinedReferralRecordsANeed(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	setProfile(t, e, w.alice, w.alice.ClientID, map[string]any{"preferred_language": "so"}).Want(t, http.StatusOK)
	r := newReferral(t, e, w.wanda, w.alice, map[string]any{"service_id": svcBallard.String(), "note": "Ask for Maria"})
	r = decodeReferral(t, patchReferral(e, w.wanda, r, map[string]any{"status": "acknowledged"}).Want(t, http.StatusOK))
	patchReferral(e, w.wanda, r, map[string]any{"status": "declined", "decline_reason": "capacity"}).Want(t, http.StatusOK)
	got := needs(t, e)
	if len(got) != 1 {
		t.Fatalf("want one need, got %+v", got)
	}
	if n := got[0]; n.Source != "declined_referral" || derefStr(n.Reason) != "capacity" || n.TaxonomyTerm == nil ||
		*n.TaxonomyTerm != termPantries || derefStr(n.Area) != "c22zp" || derefStr(n.Language) != "so" {
		t.Fatalf("need: %+v (area %s)", n, derefStr(n.Area))
	}
	assertAnonymous(t, e, []apitest.User{w.alice, w.wanda}, "Ask for Maria")
	// Opted out: the next declined referral is not counted.
	setProfile(t, e, w.alice, w.alice.ClientID, map[string]any{"contact_preferences": map[string]any{"help_improve_services": false}}).
		Want(t, http.StatusOK)
	r2 := newReferral(t, e, w.wanda, w.alice, map[string]any{"service_id": svcShelter.String()})
	r2 = decodeReferral(t, patchReferral(e, w.wanda, r2, map[string]any{"status": "acknowledged"}).Want(t, http.StatusOK))
	patchReferral(e, w.wanda, r2, map[string]any{"status": "declined", "decline_reason": "eligibility"}).Want(t, http.StatusOK)
	if got := needs(t, e); len(got) != 1 {
		t.Fatalf("recorded after opting out: %+v", got)
	}
}

// The statement that makes a new week's key deletes the keys of weeks that
// ended more than 8 days ago, and only those.
func TestWeekKeysAreDeletedAfterTheirWeek(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	week := thisWeek()
	old, last := week.AddDate(0, 0, -21), week.AddDate(0, 0, -7)
	for _, wk := range []time.Time{old, last} {
		if err := e.DB.Exec(`INSERT INTO insight_week_keys (week, key) VALUES (?::date, ?)`, wk.Format(time.DateOnly),
			make([]byte, 32)).Error; err != nil {
			t.Fatal(err)
		}
	}
	searchAs(t, e, w.alice, url.Values{"search": {"legal aid"}})
	var weeks []time.Time
	e.DB.Raw(`SELECT week FROM insight_week_keys ORDER BY week`).Scan(&weeks)
	if len(weeks) != 2 || !weeks[0].Equal(last) || !weeks[1].Equal(week) {
		t.Fatalf("week keys after this week's first need: %v (want %v and %v)", weeks, last, week)
	}
	// An existing key is reused, not replaced, and deletes nothing.
	key := func() []byte {
		var k []byte
		if err := e.DB.Raw(`SELECT key FROM insight_week_keys WHERE week = ?::date`, week.Format(time.DateOnly)).Row().Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	key1 := key()
	searchAs(t, e, w.bob, url.Values{"search": {"legal aid"}})
	key2 := key()
	if string(key1) != string(key2) || len(key1) != 32 {
		t.Fatal("this week's key changed")
	}
	// Weeks without new needs lose their keys too (the hourly sweep).
	if n, err := e.Store.DeleteExpiredWeekKeys(t.Context(), week.AddDate(0, 0, 14)); err != nil || n != 1 {
		t.Fatalf("hourly sweep 14 days on deleted %d keys (%v), want last week's", n, err)
	}
	e.DB.Raw(`SELECT week FROM insight_week_keys ORDER BY week`).Scan(&weeks)
	if len(weeks) != 1 || !weeks[0].Equal(week) {
		t.Fatalf("week keys after the sweep: %v (want only %v)", weeks, week)
	}
}

// Counting a need must never cost the client their answer: when recording
// fails (here the table refuses every row), the search still answers 200.
func TestEmptySearchAnswersWhenRecordingFails(t *testing.T) {
	t.Parallel()
	w := newNeedsWorld(t)
	e := w.e
	if err := e.DB.Exec(`ALTER TABLE unmet_needs ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`).Error; err != nil {
		t.Fatal(err)
	}
	p := searchAs(t, e, w.alice, url.Values{"search": {"legal aid"}})
	if p["total_items"].(float64) != 0 || p["empty"] != true {
		t.Fatalf("search: %v", p)
	}
	if got := needs(t, e); len(got) != 0 {
		t.Fatalf("recorded %+v", got)
	}
}
