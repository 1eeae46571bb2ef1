package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/go-yaml"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

// The HTTP niceties of issue #13 item 11, for every operation that has
// them: the operations come from the committed openapi/openapi.yaml (every
// GET whose 200 documents an ETag; every paginated list), so a new one is
// covered the day it is added, or the sweep fails naming what it cannot
// exercise. Who calls each one, and how, comes from the authorization
// matrix's table and world (authz_matrix_*_test.go), which every operation
// must have a row in anyway.

// contractGET is a GET of the committed contract, as the sweeps need it.
type contractGET struct {
	id, path string
	// etag: the 200 documents an ETag header.
	etag bool
	// list: a paginated list (its 200 documents Link, it takes cursor, or
	// its body has next_cursor or HSDS's last_page).
	list bool
	link bool // the 200 documents the Link header
	// page is the parameter selecting a page ("cursor", or HSDS's "page"),
	// size the page size ("limit" or "per_page"), items the body's array.
	page, size, items string
}

// committedGETs reads the GETs with an ETag or pages from openapi/openapi.yaml.
func committedGETs(t *testing.T) []contractGET {
	t.Helper()
	raw, err := os.ReadFile("../openapi/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse openapi/openapi.yaml: %v", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	var out []contractGET
	for path, it := range paths {
		item, _ := it.(map[string]any)
		for method, o := range item {
			op, _ := o.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" {
				continue
			}
			params := map[string]bool{}
			for _, p := range asSlice(op["parameters"]) {
				pm, _ := resolveRef(doc, p).(map[string]any)
				if name, _ := pm["name"].(string); name != "" && pm["in"] == "query" {
					params[name] = true
				}
			}
			if method != "get" {
				if params["cursor"] {
					t.Errorf("%s (%s %s) takes a cursor: lists are GETs", id, strings.ToUpper(method), path)
				}
				continue
			}
			ok, _ := resolveRef(doc, asMap(op["responses"])["200"]).(map[string]any)
			headers := asMap(ok["headers"])
			body, _ := resolveRef(doc, asMap(asMap(asMap(ok["content"])["application/json"])["schema"])).(map[string]any)
			props := asMap(body["properties"])
			g := contractGET{id: id, path: path, etag: headers["ETag"] != nil, link: headers["Link"] != nil}
			_, nextCursor := props["next_cursor"]
			_, lastPage := props["last_page"]
			g.list = g.link || params["cursor"] || nextCursor || lastPage
			switch {
			case params["cursor"] && nextCursor:
				g.page = "cursor"
			case params["page"] && lastPage:
				g.page = "page"
			}
			for _, s := range []string{"limit", "per_page"} {
				if params[s] {
					g.size = s
				}
			}
			for _, s := range []string{"items", "contents"} {
				if _, ok := props[s]; ok {
					g.items = s
				}
			}
			if g.etag || g.list {
				out = append(out, g)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asSlice(v any) []any        { s, _ := v.([]any); return s }

// resolveRef follows a local $ref ("#/components/...") to what it names.
func resolveRef(doc, v any) any {
	for range 5 {
		ref, ok := asMap(v)["$ref"].(string)
		if !ok {
			return v
		}
		v = doc
		for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			v = asMap(v)[strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")]
		}
	}
	return v
}

// newNicetiesWorld is the authorization matrix's world with a second of
// every listed thing, so every list has a next page for its callers.
func newNicetiesWorld(t *testing.T) *mxWorld {
	t.Helper()
	w := newMxWorld(t)
	e := w.e
	alice, wanda := w.people[mxClient], w.people[mxTeamWorker]
	client := "/v1/clients/" + w.params["clientId"]
	goal := "/v1/goals/" + w.params["goalId"]
	w.created(alice, client+"/goals", map[string]any{"title": "Get my driving licence back"})
	e.Do(http.MethodPatch, goal, alice.Token, map[string]any{"title": "Find a home near school"}, "If-Match", w.ifMatch("goals", w.params["goalId"])).
		Want(t, http.StatusOK)
	w.created(alice, goal+"/check-ins", map[string]any{"rating": 5})
	w.created(wanda, client+"/referrals", map[string]any{"service_id": svcShelter.String()})
	e.Do(http.MethodPut, client+"/saved-services/"+svcDowntown.String(), alice.Token, nil).Want(t, http.StatusCreated)
	w.created(alice, "/v1/conversations", map[string]any{"subject": "School"})
	w.created(alice, "/v1/conversations/"+w.params["conversationId"]+"/messages", map[string]any{"body": "Thursday works"})
	code := e.Do(http.MethodPost, client+"/supporter-invitations", alice.Token, map[string]any{"shares": []string{"goals"}}).
		Want(t, http.StatusCreated).Map(t)["code"].(string)
	e.Do(http.MethodPost, "/v1/supporter-invitations/redeem", w.sue.Token, map[string]any{"code": code}).Want(t, http.StatusCreated)
	w.created(alice, client+"/supporter-invitations", map[string]any{"shares": []string{"referrals"}})                       // a second pending one
	w.created(wanda, client+"/assessments", map[string]any{"ratings": []any{map[string]any{"domain": "food", "rating": 3}}}) // a second (a draft)
	w.created(alice, client+"/assessments", map[string]any{"ratings": []any{map[string]any{"domain": "food", "rating": 4}}}) // and a third, confirmed
	// A second browser for reminders; the agenda holds the two referrals' follow-ups.
	k, auth := pushKeys(t)
	w.created(alice, "/v1/me/push-subscriptions", subscriptionBody("https://push.example.org/send/second", k, auth))
	// A second of every group list: alice in a second group, nina a second
	// member, and a second goal, check-in, post and session.
	adam := w.people[mxAdmin]
	nina := e.Login("nina", "client")
	e.Do(http.MethodPut, "/v1/clients/"+nina.ClientID.String()+"/care-team/"+wanda.PersonID.String(), adam.Token, nil).Want(t, http.StatusCreated)
	group := "/v1/groups/" + w.params["groupId"]
	inv := w.created(wanda, group+"/invitations", map[string]any{"client_id": nina.ClientID})
	e.Do(http.MethodPost, "/v1/group-invitations/"+inv+"/accept", nina.Token, map[string]any{"display_name": "Nina"}).Want(t, http.StatusOK)
	other := w.created(wanda, "/v1/groups", map[string]any{"name": "Job search", "kind": "skills"})
	inv = w.created(wanda, "/v1/groups/"+other+"/invitations", map[string]any{"client_id": alice.ClientID})
	e.Do(http.MethodPost, "/v1/group-invitations/"+inv+"/accept", alice.Token, nil).Want(t, http.StatusOK)
	w.created(alice, group+"/goals", map[string]any{"title": "Cook at home twice a week"})
	w.created(alice, "/v1/group-goals/"+w.params["groupGoalId"]+"/check-ins", map[string]any{"rating": 7})
	w.created(alice, group+"/posts", map[string]any{"kind": "ask", "body": "Anyone know a landlord who takes vouchers?"})
	w.created(wanda, group+"/sessions", map[string]any{"starts_at": "2026-12-15T18:00:00Z", "link": "https://meet.example.org/budget"})
	// A second barrier report in the feedback queue.
	w.created(wanda, "/v1/services/"+svcShelter.String()+"/feedback", map[string]any{"kind": "transport"})
	// Two apps have acted on alice's data (the app list records each).
	for _, app := range []string{"niceties-app-one", "niceties-app-two"} {
		tok := e.Issuer.Token(t, alice.Subject, []string{"client"}, authtest.WithScopes("goals:read"), authtest.WithClaim("azp", app))
		e.Do(http.MethodGet, client+"/goals", tok, nil).Want(t, http.StatusOK)
	}
	return w
}

// target is the path (with query) the matrix row calls o with as actor a.
func (w *mxWorld) target(t *testing.T, o contractGET, row mxOp, a int) (apitest.User, string) {
	t.Helper()
	caller := w.people[a]
	params := map[string]string{}
	if row.setup != nil {
		params = row.setup(t, w)
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
	if strings.Contains(path, "{") {
		t.Fatalf("%s: no value for a parameter of %s in the matrix world", o.id, path)
	}
	if r.query != "" {
		path += "?" + r.query
	}
	return caller, path
}

// row is o's row of the authorization matrix, or the test fails naming it.
func nicetiesRow(t *testing.T, table map[string]mxOp, id string) mxOp {
	t.Helper()
	row, ok := table[id]
	if !ok {
		t.Fatalf("%s has no row in the authorization matrix (authz_matrix_table_test.go): this sweep cannot tell who may call it, or how", id)
	}
	return row
}

// Every GET whose 200 documents an ETag answers If-None-Match naming it
// with 304, no body and the same ETag; a stale tag gets the full 200.
func TestEveryETagAnswersIfNoneMatch(t *testing.T) {
	t.Parallel()
	var ops []contractGET
	for _, o := range committedGETs(t) {
		if o.etag {
			ops = append(ops, o)
		}
	}
	if len(ops) < 5 {
		t.Fatalf("only %d GETs with an ETag in openapi/openapi.yaml: is it read right?", len(ops))
	}
	w := newNicetiesWorld(t)
	table := mxTable()
	for _, o := range ops {
		t.Run(o.id, func(t *testing.T) {
			row := nicetiesRow(t, table, o.id)
			if row.status(row.as) != http.StatusOK {
				t.Fatalf("%s: its matrix row's caller (%s) gets %d, not 200: nothing to compare an ETag with", o.id, mxActorName(row.as), row.status(row.as))
			}
			u, path := w.target(t, o, row, row.as)
			where := fmt.Sprintf("%s (GET %s as %s)", o.id, path, mxActorName(row.as))
			first := w.e.Do(http.MethodGet, path, u.Token, nil)
			tag := first.Header.Get("ETag")
			if first.Status != http.StatusOK || tag == "" {
				t.Fatalf("%s: %d with ETag %q, want 200 with the ETag the contract documents: %s", where, first.Status, tag, first.Body)
			}
			nm := w.e.Do(http.MethodGet, path, u.Token, nil, "If-None-Match", tag)
			if nm.Status != http.StatusNotModified || len(nm.Body) != 0 || nm.Header.Get("ETag") != tag || nm.Header.Get("Content-Type") != "" {
				t.Fatalf("%s If-None-Match %s: %d, body %q, ETag %q, Content-Type %q; want 304, no body, the same ETag",
					where, tag, nm.Status, nm.Body, nm.Header.Get("ETag"), nm.Header.Get("Content-Type"))
			}
			stale := w.e.Do(http.MethodGet, path, u.Token, nil, "If-None-Match", `"stale-`+strings.Trim(tag, `W/"`)+`"`)
			if stale.Status != http.StatusOK || !bytes.Equal(stale.Body, first.Body) || stale.Header.Get("ETag") != tag {
				t.Fatalf("%s with a stale If-None-Match: %d, ETag %q; want the full 200 again: %s", where, stale.Status, stale.Header.Get("ETag"), stale.Body)
			}
		})
	}
}

// Every paginated list sends Link rel="next" exactly when there is a next
// page (next_cursor non-empty; for HSDS lists, last_page false), keeping
// the query with only the page parameter set to next_cursor (or the next
// HSDS page); following it yields the next page, pages never repeat an
// item, and the last page has no Link.
func TestEveryListLinksItsNextPage(t *testing.T) {
	t.Parallel()
	var ops []contractGET
	for _, o := range committedGETs(t) {
		if o.list {
			ops = append(ops, o)
		}
	}
	if len(ops) < 10 {
		t.Fatalf("only %d lists in openapi/openapi.yaml: is it read right?", len(ops))
	}
	w := newNicetiesWorld(t)
	table := mxTable()
	for _, o := range ops {
		t.Run(o.id, func(t *testing.T) {
			switch {
			case !o.link:
				t.Fatalf("%s (GET %s) pages but its 200 documents no Link header", o.id, o.path)
			case o.page == "":
				t.Fatalf("%s (GET %s) documents Link but neither cursor with next_cursor nor page with last_page: this sweep cannot page it", o.id, o.path)
			case o.size == "":
				t.Fatalf("%s (GET %s) takes no limit or per_page: this sweep cannot make its pages small", o.id, o.path)
			case o.items == "":
				t.Fatalf("%s (GET %s): its page has neither items nor contents", o.id, o.path)
			}
			row := nicetiesRow(t, table, o.id)
			// The row's own caller first, then everyone else it lets through:
			// some lists are longer for some (an administrator lists every client).
			callers := []int{row.as}
			for a := range mxAppScope {
				if a != row.as && row.status(a) == http.StatusOK {
					callers = append(callers, a)
				}
			}
			for _, a := range callers {
				if w.walkPages(t, o, row, a) >= 2 {
					return
				}
			}
			t.Fatalf("%s: no caller it lets through (%d tried) gets a second page even one item per page: this sweep cannot exercise its Link; "+
				"give newNicetiesWorld a second of what it lists", o.id, len(callers))
		})
	}
}

// walkPages follows o's Link headers from a first page of one item as
// actor a, checking each page, and returns how many pages had items.
func (w *mxWorld) walkPages(t *testing.T, o contractGET, row mxOp, a int) int {
	t.Helper()
	u, path := w.target(t, o, row, a)
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	first, err := url.Parse(w.e.URL + path + sep + o.size + "=1")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	pages := 0
	for at, n := first, 1; ; n++ {
		where := fmt.Sprintf("%s as %s, page %d (GET %s)", o.id, mxActorName(a), n, at.RequestURI())
		if n > 200 {
			t.Fatalf("%s: still more pages", where)
		}
		r := w.e.Do(http.MethodGet, at.RequestURI(), u.Token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", where, r.Status, r.Body)
		}
		var body map[string]json.RawMessage
		r.Decode(t, &body)
		var items []json.RawMessage
		if err := json.Unmarshal(body[o.items], &items); err != nil && string(body[o.items]) != "null" {
			t.Fatalf("%s: %s is not an array: %s", where, o.items, body[o.items])
		}
		for _, it := range items {
			if seen[string(it)] {
				t.Fatalf("%s repeats an item of an earlier page: %s", where, it)
			}
			seen[string(it)] = true
		}
		if len(items) > 0 {
			pages++
		}
		next := nextPageValue(t, where, o, body)
		link := r.Header.Get("Link")
		if (link != "") != (next != "") {
			t.Fatalf("%s: Link %q with next page %q: Link must be there exactly when there is a next page", where, link, next)
		}
		if link == "" {
			return pages
		}
		m := linkNext.FindStringSubmatch(link)
		if m == nil {
			t.Fatalf("%s: Link %q is not one <uri>; rel=\"next\"", where, link)
		}
		ref, err := url.Parse(m[1])
		if err != nil {
			t.Fatalf("%s: Link %q: %v", where, link, err)
		}
		to := at.ResolveReference(ref)
		want := at.Query()
		want.Set(o.page, next)
		if to.Path != at.Path || to.Query().Encode() != want.Encode() {
			t.Fatalf("%s: Link %q, want this request's path and query with %s=%s", where, link, o.page, next)
		}
		if len(items) == 0 {
			t.Fatalf("%s: an empty page that says more follow", where)
		}
		at = to
	}
}

// nextPageValue is what selects the page after this one ("" on the last):
// next_cursor, or for HSDS pages the next page number.
func nextPageValue(t *testing.T, where string, o contractGET, body map[string]json.RawMessage) string {
	t.Helper()
	if o.page == "cursor" {
		var c string
		if raw, ok := body["next_cursor"]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatalf("%s: next_cursor %s", where, raw)
			}
		}
		return c
	}
	var last bool
	var num int
	if json.Unmarshal(body["last_page"], &last) != nil || json.Unmarshal(body["page_number"], &num) != nil {
		t.Fatalf("%s: no last_page or page_number", where)
	}
	if last {
		return ""
	}
	return strconv.Itoa(num + 1)
}
