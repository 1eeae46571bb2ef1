package api_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// assessWorld: alice (client) with wanda on her care team; bob another
// client; will a worker on nobody's team; adam admin; sam alice's supporter
// with the assessments share, sue with goals only.
type assessWorld struct {
	e                                  *apitest.Env
	alice, bob, wanda, will, adam, sam apitest.User
	sue                                apitest.User
	aliceURL                           string
}

func newAssessWorld(t *testing.T) *assessWorld {
	e := apitest.New(t)
	w := &assessWorld{e: e, alice: e.Login("alice", "client"), bob: e.Login("bob", "client"), wanda: e.Login("wanda", "worker"),
		will: e.Login("will", "worker"), adam: e.Login("adam", "admin"), sam: e.Login("sam"), sue: e.Login("sue")}
	w.aliceURL = clientURL(w.alice)
	e.Do(http.MethodPut, w.aliceURL+"/care-team/"+w.wanda.PersonID.String(), w.adam.Token, nil).Want(t, http.StatusCreated)
	for _, s := range []struct {
		u      apitest.User
		shares []string
	}{{w.sam, []string{"assessments"}}, {w.sue, []string{"goals"}}} {
		code := e.Do(http.MethodPost, w.aliceURL+"/supporter-invitations", w.alice.Token, map[string]any{"shares": s.shares}).
			Want(t, http.StatusCreated).Map(t)["code"].(string)
		e.Do(http.MethodPost, "/v1/supporter-invitations/redeem", s.u.Token, map[string]any{"code": code}).Want(t, http.StatusCreated)
	}
	return w
}

type assessmentView struct {
	ID          string  `json:"id"`
	ClientID    string  `json:"client_id"`
	Status      string  `json:"status"`
	CreatedBy   string  `json:"created_by"`
	ConfirmedAt *string `json:"confirmed_at"`
	Version     int64   `json:"version"`
	Ratings     []struct {
		Domain      string  `json:"domain"`
		Rating      int     `json:"rating"`
		Priority    bool    `json:"priority"`
		Strengths   *string `json:"strengths"`
		Sensitivity *string `json:"sensitivity"`
	} `json:"ratings"`
}

func (v assessmentView) domains() []string {
	var out []string
	for _, r := range v.Ratings {
		out = append(out, r.Domain)
	}
	return out
}

func rating(domain string, r int, priority bool) map[string]any {
	return map[string]any{"domain": domain, "rating": r, "priority": priority}
}

func (w *assessWorld) assess(t *testing.T, who apitest.User, body map[string]any) assessmentView {
	t.Helper()
	var v assessmentView
	w.e.Do(http.MethodPost, w.aliceURL+"/assessments", who.Token, body).Want(t, http.StatusCreated).Decode(t, &v)
	return v
}

// TestAssessmentDraftConfirmOwnership: the client confirms at once or keeps
// a draft; a care-team worker starts a draft with the client and never
// confirms; supporters read confirmed ones only and never write; everyone
// else gets 404. A confirmed assessment never changes.
func TestAssessmentDraftConfirmOwnership(t *testing.T) {
	t.Parallel()
	w := newAssessWorld(t)
	e := w.e
	ratings := []any{rating("housing", 2, true)}

	mine := w.assess(t, w.alice, map[string]any{"ratings": ratings})
	if mine.Status != "confirmed" || mine.CreatedBy != w.alice.PersonID.String() {
		t.Fatalf("the client's own assessment: %+v, want confirmed, by alice", mine)
	}
	draft := w.assess(t, w.alice, map[string]any{"ratings": ratings, "status": "draft"})
	if draft.Status != "draft" {
		t.Fatalf("asked for a draft, got %s", draft.Status)
	}
	// A worker starts one with the client: a draft, whatever they ask.
	withWanda := w.assess(t, w.wanda, map[string]any{"ratings": ratings})
	if withWanda.Status != "draft" || withWanda.CreatedBy != w.wanda.PersonID.String() {
		t.Fatalf("the worker's assessment: %+v, want a draft by wanda", withWanda)
	}
	p := e.Do(http.MethodPost, w.aliceURL+"/assessments", w.wanda.Token, map[string]any{"ratings": ratings, "status": "confirmed"}).
		Problem(t, http.StatusForbidden)
	if !apitest.HasErrorAt(p, "body.status") {
		t.Errorf("a worker asking for confirmed: 403 without naming status: %v", p)
	}
	// A confirmed assessment needs a rating.
	e.Do(http.MethodPost, w.aliceURL+"/assessments", w.alice.Token, map[string]any{"ratings": []any{}}).Problem(t, http.StatusUnprocessableEntity)
	// Nobody else starts one: supporters hold no role and never write (403), the rest do not see alice (404).
	for _, u := range []apitest.User{w.bob, w.will, w.adam} {
		e.Do(http.MethodPost, w.aliceURL+"/assessments", u.Token, map[string]any{"ratings": ratings}).Problem(t, http.StatusNotFound)
	}
	for _, u := range []apitest.User{w.sam, w.sue} {
		e.Do(http.MethodPost, w.aliceURL+"/assessments", u.Token, map[string]any{"ratings": ratings}).Problem(t, http.StatusForbidden)
	}

	// The care team edits the draft with the client (If-Match required).
	path := "/v1/assessments/" + withWanda.ID
	patch := map[string]any{"ratings": []any{rating("housing", 3, true), rating("food", 4, false)}}
	e.Do(http.MethodPatch, path, w.wanda.Token, patch).Problem(t, http.StatusPreconditionRequired)
	e.Do(http.MethodPatch, path, w.wanda.Token, patch, "If-Match", `"9"`).Problem(t, http.StatusPreconditionFailed)
	var edited assessmentView
	e.Do(http.MethodPatch, path, w.wanda.Token, patch, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &edited)
	if edited.Version != 2 || !slices.Equal(edited.domains(), []string{"housing", "food"}) || edited.Ratings[0].Rating != 3 {
		t.Fatalf("after the worker's patch: %+v", edited)
	}
	for _, u := range []apitest.User{w.bob, w.will, w.adam} {
		e.Do(http.MethodPatch, path, u.Token, patch, "If-Match", `"2"`).Problem(t, http.StatusNotFound)
	}
	e.Do(http.MethodPatch, path, w.sam.Token, patch, "If-Match", `"2"`).Problem(t, http.StatusForbidden)
	// Sam reads confirmed assessments only: the draft is not his to see.
	e.Do(http.MethodGet, path, w.sam.Token, nil).Problem(t, http.StatusNotFound)

	// Only the client confirms.
	e.Do(http.MethodPost, path+"/confirm", w.wanda.Token, nil).Problem(t, http.StatusForbidden)
	for _, u := range []apitest.User{w.bob, w.will, w.adam} {
		e.Do(http.MethodPost, path+"/confirm", u.Token, nil).Problem(t, http.StatusNotFound)
	}
	for _, u := range []apitest.User{w.sue, w.sam} {
		e.Do(http.MethodPost, path+"/confirm", u.Token, nil).Problem(t, http.StatusForbidden)
	}
	e.Do(http.MethodPost, path+"/confirm", w.alice.Token, nil, "If-Match", `"1"`).Problem(t, http.StatusPreconditionFailed)
	var confirmed assessmentView
	e.Do(http.MethodPost, path+"/confirm", w.alice.Token, nil, "If-Match", `"2"`).Want(t, http.StatusOK).Decode(t, &confirmed)
	if confirmed.Status != "confirmed" || confirmed.ConfirmedAt == nil || confirmed.Version != 3 {
		t.Fatalf("confirmed: %+v", confirmed)
	}
	// Confirmed is final: no patch, no second confirm.
	e.Do(http.MethodPatch, path, w.alice.Token, patch, "If-Match", `"3"`).Problem(t, http.StatusConflict)
	e.Do(http.MethodPost, path+"/confirm", w.alice.Token, nil).Problem(t, http.StatusConflict)
	// Now sam, sharing assessments, reads it; sue (goals only) does not.
	e.Do(http.MethodGet, path, w.sam.Token, nil).Want(t, http.StatusOK)
	e.Do(http.MethodPatch, path, w.sam.Token, patch, "If-Match", `"3"`).Problem(t, http.StatusForbidden)
	for _, u := range []apitest.User{w.bob, w.will, w.adam, w.sue} {
		e.Do(http.MethodGet, path, u.Token, nil).Problem(t, http.StatusNotFound)
		e.Do(http.MethodGet, w.aliceURL+"/assessments", u.Token, nil).Problem(t, http.StatusNotFound)
		e.Do(http.MethodGet, w.aliceURL+"/assessments/summary", u.Token, nil).Problem(t, http.StatusNotFound)
	}
	// The lists: alice and wanda see all four, sam the two confirmed ones.
	for _, c := range []struct {
		u    apitest.User
		want int
	}{{w.alice, 3}, {w.wanda, 3}, {w.sam, 2}} {
		var page struct{ Items []assessmentView }
		e.Do(http.MethodGet, w.aliceURL+"/assessments", c.u.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
		if len(page.Items) != c.want {
			t.Errorf("%s lists %d assessments, want %d", c.u.Subject, len(page.Items), c.want)
		}
		for _, it := range page.Items {
			if c.u.Subject == "sam" && it.Status != "confirmed" {
				t.Errorf("sam sees a %s assessment", it.Status)
			}
		}
	}
	// Every write and read by someone else is in alice's access log.
	var n int64
	e.DB.Raw(`SELECT count(*) FROM access_log WHERE client_id = ? AND resource = 'assessment' AND actor_person_id = ?`,
		w.alice.ClientID, w.wanda.PersonID).Scan(&n)
	if n < 3 {
		t.Errorf("wanda's assessment work left %d access-log entries, want at least 3", n)
	}
	e.DB.Raw(`SELECT count(*) FROM access_log WHERE client_id = ? AND resource = 'assessment' AND actor_person_id = ? AND action = 'denied'`,
		w.alice.ClientID, w.bob.PersonID).Scan(&n)
	if n == 0 {
		t.Errorf("bob's attempts on alice's assessment are not in her log as denied")
	}
}

// TestAssessmentSudVisibility: substance_use ratings are labelled sud: a
// worker without alice's consent sees none of them, in the assessment, the
// list, the summary and the suggestions, may not rate or adopt them, and a
// draft's sud rating survives their patch; with consent they see them.
func TestAssessmentSudVisibility(t *testing.T) {
	t.Parallel()
	w := newAssessWorld(t)
	e := w.e
	a := w.assess(t, w.alice, map[string]any{"ratings": []any{rating("housing", 2, true), rating("substance_use", 3, true)}})
	for _, r := range a.Ratings {
		if want := r.Domain == "substance_use"; (r.Sensitivity != nil) != want {
			t.Errorf("%s: sensitivity %v", r.Domain, r.Sensitivity)
		}
	}
	path := "/v1/assessments/" + a.ID
	res := e.Do(http.MethodGet, path, w.alice.Token, nil).Want(t, http.StatusOK)
	if res.Header.Get("Waypoint-Redisclosure") == "" {
		t.Error("the client's read of a sud rating has no redisclosure notice")
	}
	seen := func(u apitest.User) (inGet, inList, inSummary, inSuggestions bool) {
		var v assessmentView
		r := e.Do(http.MethodGet, path, u.Token, nil).Want(t, http.StatusOK)
		r.Decode(t, &v)
		inGet = slices.Contains(v.domains(), "substance_use")
		if inGet != (r.Header.Get("Waypoint-Redisclosure") != "") {
			t.Errorf("%s: redisclosure header %q with sud rating shown %v", u.Subject, r.Header.Get("Waypoint-Redisclosure"), inGet)
		}
		var page struct{ Items []assessmentView }
		e.Do(http.MethodGet, w.aliceURL+"/assessments", u.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
		for _, it := range page.Items {
			inList = inList || slices.Contains(it.domains(), "substance_use")
		}
		var sum struct{ Domains []struct{ Domain string } }
		r = e.Do(http.MethodGet, w.aliceURL+"/assessments/summary", u.Token, nil).Want(t, http.StatusOK)
		r.Decode(t, &sum)
		for _, d := range sum.Domains {
			inSummary = inSummary || d.Domain == "substance_use"
		}
		if inSummary != (r.Header.Get("Waypoint-Redisclosure") != "") {
			t.Errorf("%s: summary redisclosure header %q with sud rating shown %v", u.Subject, r.Header.Get("Waypoint-Redisclosure"), inSummary)
		}
		if u.Subject != "sam" {
			var sg struct{ Domains []struct{ Domain string } }
			r = e.Do(http.MethodGet, path+"/suggestions", u.Token, nil).Want(t, http.StatusOK)
			r.Decode(t, &sg)
			for _, d := range sg.Domains {
				inSuggestions = inSuggestions || d.Domain == "substance_use"
			}
			if inSuggestions != (r.Header.Get("Waypoint-Redisclosure") != "") {
				t.Errorf("%s: suggestions redisclosure header %q with sud priority shown %v", u.Subject, r.Header.Get("Waypoint-Redisclosure"), inSuggestions)
			}
		}
		return
	}
	if g, l, s, sg := seen(w.wanda); g || l || s || sg {
		t.Errorf("wanda without consent sees the sud rating: get %v list %v summary %v suggestions %v", g, l, s, sg)
	}
	if g, l, s, _ := seen(w.sam); g || l || s {
		t.Errorf("sam (a supporter) sees the sud rating: get %v list %v summary %v", g, l, s)
	}
	if g, l, s, sg := seen(w.alice); !g || !l || !s || !sg {
		t.Errorf("alice misses her own sud rating: get %v list %v summary %v suggestions %v", g, l, s, sg)
	}
	// Without consent wanda may not rate it, nor adopt its goal.
	p := e.Do(http.MethodPost, w.aliceURL+"/assessments", w.wanda.Token, map[string]any{"ratings": []any{rating("substance_use", 2, false)}}).
		Problem(t, http.StatusForbidden)
	if !apitest.HasErrorAt(p, "body.ratings[0].domain") {
		t.Errorf("403 without naming the rating: %v", p)
	}
	e.Do(http.MethodPost, path+"/goals", w.wanda.Token, map[string]any{"template_id": "explore-recovery-support"}).
		Problem(t, http.StatusUnprocessableEntity)
	// A draft's sud rating stays when wanda replaces the ratings she sees.
	d := w.assess(t, w.alice, map[string]any{"status": "draft", "ratings": []any{rating("food", 4, false), rating("substance_use", 3, false)}})
	e.Do(http.MethodPatch, "/v1/assessments/"+d.ID, w.wanda.Token, map[string]any{"ratings": []any{rating("food", 5, false)}}, "If-Match", `"1"`).
		Want(t, http.StatusOK)
	var after assessmentView
	e.Do(http.MethodGet, "/v1/assessments/"+d.ID, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &after)
	if !slices.Equal(after.domains(), []string{"food", "substance_use"}) || after.Ratings[0].Rating != 5 {
		t.Errorf("after wanda's patch alice sees %+v, want food 5 and her substance_use rating kept", after.Ratings)
	}
	// With consent, wanda sees it everywhere (but adopts no sud goal: only the client labels goals).
	e.Do(http.MethodPut, w.aliceURL+"/consents/sud/"+w.wanda.PersonID.String(), w.alice.Token, nil).Want(t, http.StatusCreated)
	if g, l, s, sg := seen(w.wanda); !g || !l || !s || !sg {
		t.Errorf("wanda with consent misses the sud rating: get %v list %v summary %v suggestions %v", g, l, s, sg)
	}
	e.Do(http.MethodPost, path+"/goals", w.wanda.Token, map[string]any{"template_id": "explore-recovery-support"}).
		Problem(t, http.StatusForbidden)
	var g struct {
		Sensitivity *string `json:"sensitivity"`
	}
	e.Do(http.MethodPost, path+"/goals", w.alice.Token, map[string]any{"template_id": "explore-recovery-support"}).
		Want(t, http.StatusCreated).Decode(t, &g)
	if g.Sensitivity == nil || *g.Sensitivity != "sud" {
		t.Errorf("the client's recovery goal is not labelled sud: %v", g.Sensitivity)
	}
}

// TestAssessmentSummaryMath: confirmed assessments only, in the order
// they were confirmed; latest, previous, first, both changes and trend.
func TestAssessmentSummaryMath(t *testing.T) {
	t.Parallel()
	w := newAssessWorld(t)
	e := w.e
	at := func(v assessmentView, daysAgo int) {
		e.DB.Exec(`UPDATE assessments SET confirmed_at = now() - make_interval(days => ?) WHERE id = ?`, daysAgo, v.ID)
	}
	// Housing 1 -> 2 -> 4 -> 3 over time; food once; a draft that must not count.
	at(w.assess(t, w.alice, map[string]any{"ratings": []any{rating("housing", 1, true)}}), 90)
	at(w.assess(t, w.alice, map[string]any{"ratings": []any{rating("housing", 2, true), rating("food", 4, false)}}), 60)
	at(w.assess(t, w.alice, map[string]any{"ratings": []any{rating("housing", 4, false)}}), 30)
	e.Do(http.MethodPost, w.aliceURL+"/assessments", w.alice.Token, map[string]any{"ratings": []any{
		rating("housing", 3, true), rating("income", 2, true), rating("income", 2, true)}}).Problem(t, http.StatusUnprocessableEntity)
	w.assess(t, w.alice, map[string]any{"status": "draft", "ratings": []any{rating("housing", 5, false), rating("income", 5, false)}})
	at(w.assess(t, w.alice, map[string]any{"ratings": []any{rating("housing", 3, true), rating("income", 2, true)}}), 0)

	type point struct {
		Rating int `json:"rating"`
	}
	var sum struct {
		Domains []struct {
			Domain              string
			Label               string
			Priority            bool
			Latest, Previous    *point
			First               *point
			ChangeSinceFirst    *int `json:"change_since_first"`
			ChangeSincePrevious *int `json:"change_since_previous"`
			Trend               string
			Points              []point
			Anchors             []struct{ Rating int }
		}
	}
	e.Do(http.MethodGet, w.aliceURL+"/assessments/summary", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &sum)
	if len(sum.Domains) != len(domain.AssessmentDomains()) {
		t.Fatalf("the summary has %d domains, want all %d", len(sum.Domains), len(domain.AssessmentDomains()))
	}
	by := map[string]int{}
	for i, d := range sum.Domains {
		by[d.Domain] = i
		if len(d.Anchors) != 5 || d.Anchors[0].Rating != 1 || d.Anchors[4].Rating != 5 {
			t.Errorf("%s: anchors %+v", d.Domain, d.Anchors)
		}
	}
	ip := func(v int) *int { return &v }
	eq := func(a, b *int) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	r := func(p *point) *int {
		if p == nil {
			return nil
		}
		return &p.Rating
	}
	for _, c := range []struct {
		domain                                         string
		latest, previous, first, sinceFirst, sincePrev *int
		trend                                          string
		points                                         []int
		priority                                       bool
	}{
		{"housing", ip(3), ip(4), ip(1), ip(2), ip(-1), "worsening", []int{1, 2, 4, 3}, true},
		{"food", ip(4), nil, ip(4), nil, nil, "insufficient_data", []int{4}, false},
		{"income", ip(2), nil, ip(2), nil, nil, "insufficient_data", []int{2}, true},
		{"legal", nil, nil, nil, nil, nil, "insufficient_data", nil, false},
	} {
		d := sum.Domains[by[c.domain]]
		var pts []int
		for _, p := range d.Points {
			pts = append(pts, p.Rating)
		}
		if !eq(r(d.Latest), c.latest) || !eq(r(d.Previous), c.previous) || !eq(r(d.First), c.first) ||
			!eq(d.ChangeSinceFirst, c.sinceFirst) || !eq(d.ChangeSincePrevious, c.sincePrev) || d.Trend != c.trend ||
			!slices.Equal(pts, c.points) || d.Priority != c.priority {
			t.Errorf("%s: %+v", c.domain, d)
		}
	}
	// One more, improving: 3 -> 5.
	w.assess(t, w.alice, map[string]any{"ratings": []any{rating("housing", 5, false)}})
	e.Do(http.MethodGet, w.aliceURL+"/assessments/summary", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &sum)
	if d := sum.Domains[by["housing"]]; d.Trend != "improving" || *d.ChangeSincePrevious != 2 || *d.ChangeSinceFirst != 4 {
		t.Errorf("housing after 5: %+v", d)
	}
}

// TestAssessmentAcceptLanguage: labels and anchors in English by default,
// in Spanish when asked, with Content-Language and Vary.
func TestAssessmentAcceptLanguage(t *testing.T) {
	t.Parallel()
	w := newAssessWorld(t)
	e := w.e
	for _, c := range []struct{ header, lang, housing string }{
		{"", "en", "Housing"}, {"es", "es", "Vivienda"}, {"es-MX, en;q=0.5", "es", "Vivienda"},
		{"fr, es;q=0.3, en;q=0.8", "en", "Housing"}, {"de", "en", "Housing"}, {"en;q=0, es;q=0.1", "es", "Vivienda"},
	} {
		var hdr []string
		if c.header != "" {
			hdr = []string{"Accept-Language", c.header}
		}
		for _, path := range []string{"/v1/assessment-domains", w.aliceURL + "/assessments/summary"} {
			res := e.Do(http.MethodGet, path, w.alice.Token, nil, hdr...).Want(t, http.StatusOK)
			if res.Header.Get("Content-Language") != c.lang || !strings.Contains(res.Header.Get("Vary"), "Accept-Language") {
				t.Errorf("%s with %q: Content-Language %q, Vary %q", path, c.header, res.Header.Get("Content-Language"), res.Header.Get("Vary"))
			}
			var body struct {
				Language string
				Domains  []struct {
					Domain, Label string
					Anchors       []struct{ Text string }
				}
			}
			res.Decode(t, &body)
			if body.Language != c.lang || body.Domains[0].Domain != "housing" || body.Domains[0].Label != c.housing {
				t.Errorf("%s with %q: language %s, first domain %+v", path, c.header, body.Language, body.Domains[0])
			}
		}
	}
	// Every domain has a label and five distinct anchors in each language, within bounds.
	for _, lang := range domain.AssessmentLanguages() {
		texts := domain.AssessmentDomainTexts(lang)
		if len(texts) != len(domain.AssessmentDomains()) {
			t.Fatalf("%s: %d domains", lang, len(texts))
		}
		for i, tx := range texts {
			if tx.Domain != domain.AssessmentDomains()[i] || tx.Label == "" || len([]rune(tx.Label)) > domain.MaxDomainLabel {
				t.Errorf("%s %s: label %q", lang, tx.Domain, tx.Label)
			}
			seen := map[string]bool{}
			for _, a := range tx.Anchors {
				if a == "" || seen[a] || len([]rune(a)) > domain.MaxDomainAnchor {
					t.Errorf("%s %s: anchor %q", lang, tx.Domain, a)
				}
				seen[a] = true
			}
		}
	}
	for _, tpl := range domain.GoalTemplates() {
		for _, lang := range domain.AssessmentLanguages() {
			if tpl.Title(lang) == "" || tpl.Titles[lang] == "" {
				t.Errorf("template %s has no %s title", tpl.ID, lang)
			}
		}
		if !slices.Contains(domain.GoalCategories(), tpl.Category) || !slices.Contains(domain.AssessmentDomains(), tpl.Domain) {
			t.Errorf("template %s: category %s, domain %s", tpl.ID, tpl.Category, tpl.Domain)
		}
	}
}

type suggestionsView struct {
	Language string
	Domains  []struct {
		Domain        string
		Rating        int
		Reason        string
		GoalTemplates []struct {
			TemplateID    string  `json:"template_id"`
			Title         string  `json:"title"`
			Reason        string  `json:"reason"`
			AdoptedGoalID *string `json:"adopted_goal_id"`
		} `json:"goal_templates"`
		DirectorySearches []struct {
			TaxonomyTermID *string `json:"taxonomy_term_id"`
			Search         *string `json:"search"`
			Language       *string `json:"language"`
			Href           string  `json:"href"`
			Reason         string  `json:"reason"`
		} `json:"directory_searches"`
	}
}

// TestAssessmentSuggestionsMapping: priority domains only, in domain
// order; each domain's templates; its taxonomy terms the directory has,
// else a text search; reasons; lat/lon and the client's language in the
// search; supporters and others refused.
func TestAssessmentSuggestionsMapping(t *testing.T) {
	t.Parallel()
	w := newAssessWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	e.DB.Exec(`UPDATE taxonomy_terms SET code = 'BD' WHERE id = ?`, termFood)
	e.DB.Exec(`UPDATE taxonomy_terms SET code = 'BD-1800.2000' WHERE id = ?`, termPantries)
	a := w.assess(t, w.alice, map[string]any{"ratings": []any{rating("legal", 1, true), rating("food", 2, true), rating("income", 3, false)}})
	path := "/v1/assessments/" + a.ID + "/suggestions"
	var sg suggestionsView
	e.Do(http.MethodGet, path+"?lat=47.61&lon=-122.33&radius_km=5", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &sg)
	if len(sg.Domains) != 2 || sg.Domains[0].Domain != "food" || sg.Domains[1].Domain != "legal" {
		t.Fatalf("suggestions for %+v, want food then legal (income is no priority)", sg.Domains)
	}
	food, legal := sg.Domains[0], sg.Domains[1]
	if food.Reason != "You marked food as a priority (you rated it 2 of 5)." {
		t.Errorf("food's reason: %q", food.Reason)
	}
	if len(food.GoalTemplates) == 0 || food.GoalTemplates[0].TemplateID != "enough-food" || food.GoalTemplates[0].Reason != food.Reason {
		t.Errorf("food's templates: %+v", food.GoalTemplates)
	}
	if len(food.DirectorySearches) != 2 || *food.DirectorySearches[0].TaxonomyTermID != termFood.String() ||
		*food.DirectorySearches[1].TaxonomyTermID != termPantries.String() {
		t.Fatalf("food's searches: %+v, want Food then Food Pantries", food.DirectorySearches)
	}
	u, err := url.Parse(food.DirectorySearches[0].Href)
	if err != nil || u.Path != "/v1/services" || u.Query().Get("lat") != "47.61" || u.Query().Get("lon") != "-122.33" ||
		u.Query().Get("radius_km") != "5" || u.Query().Get("language") != "" || food.DirectorySearches[0].Language != nil {
		t.Errorf("food's search: %s", food.DirectorySearches[0].Href)
	}
	// The search runs as given.
	var found struct {
		Contents []struct{ Name string }
	}
	e.Do(http.MethodGet, food.DirectorySearches[0].Href, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &found)
	if len(found.Contents) == 0 {
		t.Errorf("the suggested food search near downtown found nothing")
	}
	// The directory has no legal terms: a text search by the domain's label.
	if len(legal.DirectorySearches) != 1 || legal.DirectorySearches[0].Search == nil || *legal.DirectorySearches[0].Search != "Legal" {
		t.Errorf("legal's searches: %+v", legal.DirectorySearches)
	}
	// In the client's preferred language, and worded for a worker.
	e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, map[string]any{"preferred_language": "es"}, "If-Match", "*").Want(t, http.StatusOK)
	e.Do(http.MethodGet, path, w.wanda.Token, nil).Want(t, http.StatusOK).Decode(t, &sg)
	if s := sg.Domains[0].DirectorySearches[0]; s.Language == nil || *s.Language != "es" || !strings.Contains(s.Href, "language=es") {
		t.Errorf("the search is not in alice's language: %+v", s)
	}
	if !strings.HasPrefix(sg.Domains[0].Reason, "The client marked food") {
		t.Errorf("a worker's reason: %q", sg.Domains[0].Reason)
	}
	e.Do(http.MethodGet, path+"?lat=47.61", w.alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	for _, who := range []apitest.User{w.sam, w.sue} { // supporters act on nothing
		e.Do(http.MethodGet, path, who.Token, nil).Problem(t, http.StatusForbidden)
	}
	for _, who := range []apitest.User{w.bob, w.will, w.adam} {
		e.Do(http.MethodGet, path, who.Token, nil).Problem(t, http.StatusNotFound)
	}
	// Every domain maps to templates and taxonomy codes.
	for _, d := range domain.AssessmentDomains() {
		n := 0
		for _, tpl := range domain.GoalTemplates() {
			if tpl.Domain == d {
				n++
			}
		}
		if n == 0 || n > domain.MaxSuggestionTemplates || len(domain.DomainTaxonomyCodes(d)) == 0 {
			t.Errorf("%s: %d templates, codes %v", d, n, domain.DomainTaxonomyCodes(d))
		}
	}
}

// TestAssessmentAdoption: adopting a template creates the client's own
// goal through the goal rules (a worker's is a proposal), linked to the
// domain, once per assessment; supporters and others cannot.
func TestAssessmentAdoption(t *testing.T) {
	t.Parallel()
	w := newAssessWorld(t)
	e := w.e
	a := w.assess(t, w.alice, map[string]any{"ratings": []any{rating("housing", 2, true), rating("income", 2, false)}})
	path := "/v1/assessments/" + a.ID + "/goals"
	type goalView struct {
		ID              string  `json:"id"`
		Title           string  `json:"title"`
		Category        *string `json:"category"`
		Priority        string  `json:"priority"`
		LifecycleStatus string  `json:"lifecycle_status"`
		CreatedBy       string  `json:"created_by"`
	}
	var mine goalView
	res := e.Do(http.MethodPost, path, w.alice.Token, map[string]any{"template_id": "find-stable-housing"}).Want(t, http.StatusCreated)
	res.Decode(t, &mine)
	if mine.Title != "Find stable housing" || *mine.Category != "housing" || mine.Priority != "high" || mine.LifecycleStatus != "active" ||
		res.Header.Get("Location") != "/v1/goals/"+mine.ID {
		t.Errorf("alice's adopted goal: %+v", mine)
	}
	e.Do(http.MethodPost, path, w.alice.Token, map[string]any{"template_id": "find-stable-housing"}).Problem(t, http.StatusConflict)
	// A worker proposes; the client decides (the goal rules).
	var proposal goalView
	e.Do(http.MethodPost, path, w.wanda.Token, map[string]any{"template_id": "make-a-budget"}, "Accept-Language", "es").
		Want(t, http.StatusCreated).Decode(t, &proposal)
	if proposal.LifecycleStatus != "proposed" || proposal.Title != "Hacer un presupuesto que me funcione" || proposal.Priority != "medium" {
		t.Errorf("wanda's adopted goal: %+v", proposal)
	}
	e.Do(http.MethodPost, "/v1/goals/"+proposal.ID+"/accept", w.alice.Token, nil).Want(t, http.StatusOK)
	// Not rated here, unknown, not yours.
	e.Do(http.MethodPost, path, w.alice.Token, map[string]any{"template_id": "find-a-job"}).Problem(t, http.StatusUnprocessableEntity)
	e.Do(http.MethodPost, path, w.alice.Token, map[string]any{"template_id": "win-the-lottery"}).Problem(t, http.StatusUnprocessableEntity)
	for _, who := range []apitest.User{w.sam, w.sue} {
		e.Do(http.MethodPost, path, who.Token, map[string]any{"template_id": "keep-my-home"}).Problem(t, http.StatusForbidden)
	}
	for _, who := range []apitest.User{w.bob, w.will, w.adam} {
		e.Do(http.MethodPost, path, who.Token, map[string]any{"template_id": "keep-my-home"}).Problem(t, http.StatusNotFound)
	}
	var n int64
	e.DB.Raw(`SELECT count(*) FROM goals WHERE client_id = ?`, w.alice.ClientID).Scan(&n)
	if n != 2 {
		t.Errorf("alice has %d goals, want the 2 adopted", n)
	}
	// The suggestions show what was adopted.
	var sg suggestionsView
	e.Do(http.MethodGet, "/v1/assessments/"+a.ID+"/suggestions", w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &sg)
	if tp := sg.Domains[0].GoalTemplates[0]; tp.TemplateID != "find-stable-housing" || tp.AdoptedGoalID == nil || *tp.AdoptedGoalID != mine.ID {
		t.Errorf("the housing template after adoption: %+v", tp)
	}
	// A retry with the same Idempotency-Key replays the goal, no second one.
	b := map[string]any{"template_id": "keep-my-home"}
	first := e.Do(http.MethodPost, path, w.alice.Token, b, "Idempotency-Key", "adopt-1").Want(t, http.StatusCreated).Map(t)
	again := e.Do(http.MethodPost, path, w.alice.Token, b, "Idempotency-Key", "adopt-1").Want(t, http.StatusCreated).Map(t)
	if first["id"] != again["id"] {
		t.Errorf("the retry made another goal: %v, %v", first["id"], again["id"])
	}
}

// TestAssessmentDoneMeans plays the assessment part of issue #15: Alice
// rates housing 2, food 4, income 2, with housing and income as
// priorities; the summary shows her change since last month; she adopts
// "Find stable housing" and sees nearby housing services in Spanish.
func TestAssessmentDoneMeans(t *testing.T) {
	t.Parallel()
	w := newAssessWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	e.DB.Exec(`UPDATE taxonomy_terms SET code = 'BH' WHERE id = ?`, termHousing)
	casa := uuid.MustParse("0190a000-0c00-7000-8000-0000000000e5")
	errs, err := e.Store.ImportBatch(context.Background(), []hsds.Record{{Service: ptrTo(hsds.Service{ID: casa, OrganizationID: orgSeattle,
		Name: "Casa Segura", Description: "Vivienda de transición y ayuda con el alquiler.", Status: hsds.StatusActive,
		ServiceAtLocations: at(locDowntown), Attributes: filed(termHousing), Languages: langs("es", "en"),
		LastModified: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)})}})
	if err != nil || errs[0] != nil {
		t.Fatalf("import Casa Segura: %v %v", err, errs)
	}
	e.Do(http.MethodPatch, w.aliceURL, w.alice.Token, map[string]any{"preferred_language": "es"}, "If-Match", "*").Want(t, http.StatusOK)

	// Last month, with Wanda: housing 1, income 2; Alice confirmed it then.
	last := w.assess(t, w.wanda, map[string]any{"ratings": []any{rating("housing", 1, true), rating("income", 2, true)}})
	e.Do(http.MethodPost, "/v1/assessments/"+last.ID+"/confirm", w.alice.Token, nil).Want(t, http.StatusOK)
	e.DB.Exec(`UPDATE assessments SET confirmed_at = now() - interval '1 month' WHERE id = ?`, last.ID)

	// Today, on her own.
	now := w.assess(t, w.alice, map[string]any{"ratings": []any{
		rating("housing", 2, true), rating("food", 4, false), rating("income", 2, true)}})
	if now.Status != "confirmed" {
		t.Fatalf("alice's assessment is %s", now.Status)
	}
	var sum struct {
		Domains []struct {
			Domain           string
			Label            string
			ChangeSinceFirst *int `json:"change_since_first"`
			Trend            string
			Latest           *struct{ Rating int }
		}
	}
	res := e.Do(http.MethodGet, w.aliceURL+"/assessments/summary", w.alice.Token, nil, "Accept-Language", "es").Want(t, http.StatusOK)
	res.Decode(t, &sum)
	h := sum.Domains[0]
	if h.Domain != "housing" || h.Label != "Vivienda" || h.Latest.Rating != 2 || h.ChangeSinceFirst == nil || *h.ChangeSinceFirst != 1 || h.Trend != "improving" {
		t.Errorf("housing in the summary: %+v", h)
	}
	if inc := sum.Domains[2]; inc.Domain != "income" || *inc.ChangeSinceFirst != 0 || inc.Trend != "steady" {
		t.Errorf("income in the summary: %+v", inc)
	}

	var sg suggestionsView
	e.Do(http.MethodGet, "/v1/assessments/"+now.ID+"/suggestions?lat=47.6097&lon=-122.3331", w.alice.Token, nil, "Accept-Language", "es").
		Want(t, http.StatusOK).Decode(t, &sg)
	if len(sg.Domains) != 2 || sg.Domains[0].Domain != "housing" || sg.Domains[1].Domain != "income" {
		t.Fatalf("suggestions for %+v, want housing and income", sg.Domains)
	}
	housing := sg.Domains[0]
	if housing.Reason != "Marcaste vivienda como prioridad (lo calificaste con 2 de 5)." {
		t.Errorf("reason: %q", housing.Reason)
	}
	// She adopts "Find stable housing" (its English title, as she asks in English).
	var goal struct {
		ID, Title string
	}
	e.Do(http.MethodPost, "/v1/assessments/"+now.ID+"/goals", w.alice.Token, map[string]any{"template_id": housing.GoalTemplates[0].TemplateID}).
		Want(t, http.StatusCreated).Decode(t, &goal)
	if goal.Title != "Find stable housing" {
		t.Errorf("adopted %q", goal.Title)
	}
	e.Do(http.MethodGet, "/v1/goals/"+goal.ID, w.alice.Token, nil).Want(t, http.StatusOK)
	// Nearby housing services in Spanish.
	var found struct {
		Contents []struct {
			Name       string
			DistanceKM *float64 `json:"distance_km"`
		}
	}
	e.Do(http.MethodGet, housing.DirectorySearches[0].Href, w.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &found)
	if len(found.Contents) != 1 || found.Contents[0].Name != "Casa Segura" || found.Contents[0].DistanceKM == nil || *found.Contents[0].DistanceKM > 1 {
		t.Errorf("the housing search found %+v, want Casa Segura nearby (the English-only shelter left out)", found.Contents)
	}
}

// TestAssessmentExportCarriesSudRatings: the client's export holds every
// assessment with all its ratings, drafts too; a substance_use rating
// makes it carry the redisclosure notice.
func TestAssessmentExportCarriesSudRatings(t *testing.T) {
	t.Parallel()
	w := newAssessWorld(t)
	e := w.e
	export := func() (*apitest.Resp, map[string]any) {
		r := e.Do(http.MethodGet, w.aliceURL+"/export", w.alice.Token, nil).Want(t, http.StatusOK)
		return r, r.Map(t)
	}
	w.assess(t, w.alice, map[string]any{"ratings": []any{rating("housing", 2, true)}})
	if r, doc := export(); r.Header.Get("Waypoint-Redisclosure") != "" || doc["redisclosure_notice"] != nil {
		t.Errorf("an export without sud records carries the notice")
	}
	w.assess(t, w.alice, map[string]any{"status": "draft", "ratings": []any{rating("substance_use", 3, false)}})
	r, doc := export()
	if r.Header.Get("Waypoint-Redisclosure") == "" || doc["redisclosure_notice"] == nil {
		t.Errorf("an export with a sud rating carries no notice")
	}
	items := doc["assessments"].([]any)
	if len(items) != 2 || items[1].(map[string]any)["status"] != "draft" ||
		items[1].(map[string]any)["ratings"].([]any)[0].(map[string]any)["sensitivity"] != "sud" {
		t.Errorf("assessments in the export: %v", items)
	}
}
