package api_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain/valid"
)

// The bounds of the contract are true for requests: every bounded input
// (a member of a request body, however deep, or a parameter) is tried at its
// bound and one past it. One past is 422 naming it, and nothing in the
// database changes; at the bound it is not refused for its length (and a
// body member is accepted, 2xx, unless a content rule of its own makes a
// value of that length invalid: see contentRuled). The cases are read from
// the served document, which is the committed one (make check), so a new
// bounded member or parameter is tried without a line here; only how to
// call an operation successfully is written by hand (boundRecipes), and an
// operation with a bounded body and no recipe fails the test.

// boundChar is the text the bounds are tried with: three bytes in UTF-8, one
// character (code point) for JSON Schema and PostgreSQL alike.
const boundChar = "ሰ"

// boundCase is one bounded input of one operation.
type boundCase struct {
	op       *boundOp
	in, name string         // "body" and a member path, or a parameter's location and name
	path     []bodyStep     // body: how to reach the member
	schema   map[string]any // the member's or parameter's schema
	kind     string         // maxLength, maxItems, maximum, minimum
	limit    float64        // the bound
	holder   string         // body: the component (or "inline") holding the member
}

// bodyStep is one step down a body: into a member, or into a list's first item.
type bodyStep struct {
	member string
	item   bool
	schema map[string]any // the schema stepped into
}

// boundOp is an operation of the served document.
type boundOp struct {
	id, method, path string
	raw              map[string]any
}

// member is the name of the bounded member (the list's, for its items).
func (c boundCase) member() string {
	for i := len(c.path) - 1; i >= 0; i-- {
		if !c.path[i].item {
			return c.path[i].member
		}
	}
	return c.name
}

// location is how a problem names the case's input.
func (c boundCase) location() string {
	if c.in == "body" {
		return "body." + c.name
	}
	return c.in + "." + c.name
}

func (c boundCase) String() string {
	return fmt.Sprintf("%s %s %s (%s %v)", c.op.id, c.in, c.name, c.kind, c.limit)
}

// boundsDoc is the served document, with $ref resolution.
type boundsDoc struct {
	root map[string]any
}

func (d boundsDoc) resolve(v any) map[string]any {
	s, _ := v.(map[string]any)
	for s != nil {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = obj(d.root, strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
	}
	return s
}

func refName(v any) string {
	s, _ := v.(map[string]any)
	ref, _ := s["$ref"].(string)
	return strings.TrimPrefix(ref, "#/components/schemas/")
}

func hasType(s map[string]any, t string) bool { return slices.Contains(types(s), any(t)) }

// boundsOf lists the bound keywords a schema carries that the cases try.
func boundsOf(s map[string]any) map[string]float64 {
	out := map[string]float64{}
	for _, k := range []string{"maxLength", "maxItems", "maximum", "minimum"} {
		if v, ok := s[k].(float64); ok {
			out[k] = v
		}
	}
	// A list of codes is tried by its count, an enum string not by length.
	if s["enum"] != nil {
		delete(out, "maxLength")
	}
	return out
}

// boundCases reads every bounded input of every operation from the document.
// Members of a component reached from several bodies are tried once, from
// the first operation (in path order) that reaches them: Huma validates every
// body against the same component.
func boundCases(d boundsDoc) []boundCase {
	var ops []*boundOp
	for path, item := range obj(d.root, "paths") {
		for method, o := range item.(map[string]any) {
			op, _ := o.(map[string]any)
			if op == nil {
				continue
			}
			ops = append(ops, &boundOp{id: fmt.Sprint(op["operationId"]), method: strings.ToUpper(method), path: path, raw: op})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	var out []boundCase
	seenMember := map[string]bool{}
	for _, op := range ops {
		params, _ := op.raw["parameters"].([]any)
		for _, p := range params {
			p := p.(map[string]any)
			s := d.resolve(p["schema"])
			for kind, limit := range boundsOf(s) {
				out = append(out, boundCase{op: op, in: p["in"].(string), name: p["name"].(string), schema: s, kind: kind, limit: limit})
			}
		}
		for _, mt := range obj(op.raw, "requestBody", "content") {
			root := obj(mt, "schema")
			var walk func(s map[string]any, holder string, path []bodyStep, depth int, onPath map[string]bool)
			walk = func(s map[string]any, holder string, path []bodyStep, depth int, onPath map[string]bool) {
				// Sorted: a member shared by several bodies is tried where it
				// is first met, the same place on every run.
				props := obj(s, "properties")
				for _, name := range slices.Sorted(maps.Keys(props)) {
					pv := props[name]
					ps := d.resolve(pv)
					step := append(slices.Clone(path), bodyStep{member: name, schema: ps})
					key := holder + "." + name
					if holder == "inline" || !seenMember[key] || len(path) == 0 {
						seenMember[key] = true
						for kind, limit := range boundsOf(ps) {
							out = append(out, boundCase{op: op, in: "body", name: memberPath(step), path: step, schema: ps,
								kind: kind, limit: limit, holder: holder})
						}
						if items := d.resolve(ps["items"]); hasType(ps, "array") && items != nil {
							itemStep := append(slices.Clone(step), bodyStep{item: true, schema: items})
							for kind, limit := range boundsOf(items) {
								out = append(out, boundCase{op: op, in: "body", name: memberPath(itemStep), path: itemStep,
									schema: items, kind: kind, limit: limit, holder: holder})
							}
						}
					}
					if depth >= 3 {
						continue
					}
					next, nextHolder := ps, refName(pv)
					if hasType(ps, "array") {
						next, nextHolder = d.resolve(ps["items"]), refName(ps["items"])
						step = append(step, bodyStep{item: true, schema: next})
					}
					if nextHolder == "" {
						nextHolder = "inline"
					}
					if next != nil && obj(next, "properties") != nil && !onPath[nextHolder] {
						walk(next, nextHolder, step, depth+1, withName(onPath, nextHolder))
					}
				}
			}
			name := refName(root)
			walk(d.resolve(root), name, nil, 0, map[string]bool{name: true})
			break // the media types of one body share their schema
		}
	}
	return out
}

func withName(m map[string]bool, name string) map[string]bool {
	out := map[string]bool{name: true}
	for k := range m {
		out[k] = true
	}
	return out
}

// memberPath spells a body path as problems do: phones[0].number.
func memberPath(path []bodyStep) string {
	var b strings.Builder
	for _, s := range path {
		if s.item {
			b.WriteString("[0]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.member)
	}
	return b.String()
}

// boundsWorld is a client with a care team, a directory and one of each
// record, so that operations can be called for real.
type boundsWorld struct {
	*world
	sam                                   apitest.User // alice's supporter
	goal, step, conv, msg, ref, invt, sub string
	assessment, feedback                  string
	group                                 boundsGroup
}

func newBoundsWorld(t *testing.T) *boundsWorld {
	w := &boundsWorld{world: newWorld(t)}
	e := w.e
	seedDirectory(t, e.Store)
	g := newGoal(t, w.world, w.alice, w.alice, map[string]any{"title": "Fixture", "steps": []map[string]any{{"title": "First"}}})
	w.goal, w.step = g.ID, g.Steps[0].ID
	c := createConversation(t, e, w.alice, map[string]any{"subject": "Fixture"})
	w.conv = c.ID.String()
	w.msg = postMessage(t, e, w.alice, c.ID, "hello").ID.String()
	w.ref = newReferral(t, e, w.alice, w.alice, map[string]any{"service_id": svcBallard.String()}).ID
	w.sam = e.Login("sam")
	redeem(e, w.sam, w.invite(t)).Want(t, http.StatusCreated)
	var inv struct{ ID string }
	e.Do(http.MethodPost, w.aliceURL+"/supporter-invitations", w.alice.Token, map[string]any{"shares": []string{"goals"}}).
		Want(t, http.StatusCreated).Decode(t, &inv)
	w.invt = inv.ID
	w.assessment = w.newAssessment(t, "confirmed")
	k, auth := pushKeys(t)
	var sub struct{ ID string }
	e.Do(http.MethodPost, "/v1/me/push-subscriptions", w.alice.Token, subscriptionBody("https://push.example.org/bounds", k, auth)).
		Want(t, http.StatusCreated).Decode(t, &sub)
	w.sub = sub.ID
	var fb struct{ ID string }
	e.Do(http.MethodPost, "/v1/services/"+svcBallard.String()+"/feedback", w.alice.Token, map[string]any{"kind": "cost"}).
		Want(t, http.StatusCreated).Decode(t, &fb)
	w.feedback = fb.ID
	w.buildGroup(t)
	return w
}

// newAssessment is a fresh assessment of alice's rating housing.
func (w *boundsWorld) newAssessment(t *testing.T, status string) string {
	var a struct{ ID string }
	w.e.Do(http.MethodPost, w.aliceURL+"/assessments", w.alice.Token, map[string]any{"status": status,
		"ratings": []any{map[string]any{"domain": "housing", "rating": 2, "priority": true}}}).Want(t, http.StatusCreated).Decode(t, &a)
	return a.ID
}

// invite makes a fresh invitation of alice's and returns its code.
func (w *boundsWorld) invite(t *testing.T) string {
	var inv struct{ Code string }
	w.e.Do(http.MethodPost, w.aliceURL+"/supporter-invitations", w.alice.Token, map[string]any{"shares": []string{"goals"}}).
		Want(t, http.StatusCreated).Decode(t, &inv)
	return inv.Code
}

// pathFixtures fills path parameters by name.
func (w *boundsWorld) pathFixtures() map[string]string {
	return map[string]string{
		"clientId": w.alice.ClientID.String(), "goalId": w.goal, "stepId": w.step, "conversationId": w.conv,
		"referralId": w.ref, "serviceId": svcBallard.String(), "organizationId": orgSeattle.String(),
		"locationId": locDowntown.String(), "personId": w.wanda.PersonID.String(), "invitationId": w.invt,
		"appId": "bounds-app", "assessmentId": w.assessment,
		"subscriptionId": w.sub, "groupId": w.group.id, "groupGoalId": w.group.goal, "postId": w.group.post,
		"sessionId": w.group.session, "feedbackId": w.feedback,
	}
}

// memberFixtures are the values of body members that must name a record.
func (w *boundsWorld) memberFixtures() map[string]string {
	return map[string]string{
		"service_id": svcBallard.String(), "organization_id": orgSeattle.String(), "location_id": locDowntown.String(),
		"taxonomy_term_id": termFood.String(), "up_to": w.msg, "goal_id": w.goal, "client_id": w.alice.ClientID.String(),
		"referral_id": w.ref,
	}
}

// boundRecipe is how to call an operation successfully.
type boundRecipe struct {
	user func(w *boundsWorld) apitest.User
	// path gives the concrete path (a fresh record when a call uses one up);
	// nil: the template filled from pathFixtures.
	path func(t *testing.T, w *boundsWorld) string
	// body gives the members a call needs besides the sampled required ones.
	body func(t *testing.T, w *boundsWorld) map[string]any
	// value gives a member of n characters where sampling cannot (a code).
	value func(t *testing.T, w *boundsWorld, member string, n int) (any, bool)
}

// place is where a location is: latitude and longitude go together.
func place(*testing.T, *boundsWorld) map[string]any {
	return map[string]any{"latitude": 47.6, "longitude": -122.3}
}

func alice(w *boundsWorld) apitest.User { return w.alice }
func adam(w *boundsWorld) apitest.User  { return w.adam }

// boundRecipes: how to call each operation whose body has bounded members.
func boundRecipes() map[string]boundRecipe {
	freshGoal := func(t *testing.T, w *boundsWorld) string {
		return "/v1/goals/" + newGoal(t, w.world, w.alice, w.alice, map[string]any{"title": "Steps"}).ID + "/steps"
	}
	proposal := func(t *testing.T, w *boundsWorld) string {
		g := newGoal(t, w.world, w.wanda, w.alice, map[string]any{"title": "Proposed"})
		return "/v1/goals/" + g.ID + "/reject"
	}
	recipes := map[string]boundRecipe{
		"patchMe":           {user: alice},
		"patchClient":       {user: alice},
		"putCareTeamMember": {user: adam},
		"createGoal":        {user: alice},
		"patchGoal":         {user: alice},
		"addGoalStep":       {user: alice, path: freshGoal},
		"patchGoalStep":     {user: alice},
		"addGoalCheckIn":    {user: alice},
		"rejectGoal":        {user: alice, path: proposal},
		"acceptGoal":        {user: alice},
		"createConversation": {user: alice, value: func(t *testing.T, w *boundsWorld, member string, n int) (any, bool) {
			if member != "id" { // link.id: one of the client's goals
				return nil, false
			}
			return w.goal + strings.Repeat("0", n-len(w.goal)), true
		}},
		"patchConversation":         {user: alice},
		"postMessage":               {user: alice},
		"markConversationRead":      {user: alice},
		"createReferral":            {user: alice},
		"patchReferral":             {user: alice},
		"createSupporterInvitation": {user: alice},
		"patchSupporter": {user: alice, path: func(t *testing.T, w *boundsWorld) string {
			return w.aliceURL + "/supporters/" + w.sam.PersonID.String()
		}},
		"redeemSupporterInvitation": {user: func(w *boundsWorld) apitest.User { return w.e.Login("supporter-" + uuid.NewString()) },
			value: func(t *testing.T, w *boundsWorld, member string, n int) (any, bool) {
				if member != "code" {
					return nil, false
				}
				code := w.invite(t) // dashes do not matter when typed
				return code + strings.Repeat("-", max(0, n-len(code))), true
			}},
		"createAssessment": {user: alice},
		"patchAssessment": {user: alice, path: func(t *testing.T, w *boundsWorld) string {
			return "/v1/assessments/" + w.newAssessment(t, "draft")
		}},
		"adoptGoalTemplate": {user: alice, path: func(t *testing.T, w *boundsWorld) string {
			return "/v1/assessments/" + w.newAssessment(t, "confirmed") + "/goals"
		}},
		"createService": {user: adam}, "replaceService": {user: adam},
		"createServiceFeedback": {user: alice}, "patchDirectoryFeedback": {user: adam},
		"createOrganization": {user: adam}, "replaceOrganization": {user: adam},
		"createLocation": {user: adam, body: place}, "replaceLocation": {user: adam, body: place},
		// A browser's subscription: valid keys, an endpoint of its own each call.
		"createPushSubscription": {user: alice, body: func(t *testing.T, _ *boundsWorld) map[string]any {
			k, auth := pushKeys(t)
			return subscriptionBody("https://push.example.org/"+uuid.NewString(), k, auth)
		}, value: func(_ *testing.T, _ *boundsWorld, member string, n int) (any, bool) {
			if member != "endpoint" {
				return nil, false
			}
			const base = "https://push.example.org/"
			return base + strings.Repeat("a", n-len(base)), true
		}},
	}
	for id, r := range groupRecipes() {
		recipes[id] = r
	}
	return recipes
}

// contentRuled are the body members (component.member) whose own content
// rules make a value as long as the bound invalid, so at the bound they are
// refused, but never for their length: times of day, dates, codes and time
// zones have a shape, and some lists must name distinct records that the
// world does not have that many of.
var contentRuled = map[string]string{
	"Schedule.opens_at": "a time of day", "Schedule.closes_at": "a time of day",
	"Schedule.valid_from": "a date", "Schedule.valid_to": "a date",
	"CostOption.valid_from": "a date", "CostOption.valid_to": "a date",
	"Schedule.byday": "weekday codes", "Language.code": "a language code",
	"LocationInput.timezone":            "an IANA time zone name",
	"ServiceInput.service_at_locations": "each a distinct location (the world has five)",
	"NewConversation.worker_ids":        "workers on the care team (alice has one)",
	"AssessmentCreate.ratings":          "each domain at most once (a list at its bound repeats one)",
	"AssessmentPatch.ratings":           "each domain at most once (a list at its bound repeats one)",
	"inline.time_zone":                  "an IANA time zone name (contact preferences)",
	"PushSubscriptionKeys.p256dh":       "a P-256 point (65 bytes, 87 characters)",
	"PushSubscriptionKeys.auth":         "16 bytes (22 characters)",
}

// cadence is a check-in cadence of n characters (3 to 17): P000Y000M01W is
// a week in 12.
func cadence(n int) string {
	s, rest := "P", n-1
	for _, unit := range "YMWD" {
		if rest <= 0 {
			break
		}
		k := min(4, rest)
		if rest-k == 1 {
			k = 3
		}
		s += strings.Repeat("0", k-1) + string(unit)
		rest -= k
	}
	return s[:len(s)-2] + "1" + s[len(s)-1:]
}

// langTag is a BCP 47 tag of n characters (n >= 2): en-abcdefgh-...
func langTag(n int) string {
	s := "en"
	for len(s)+9 <= n {
		s += "-abcdefgh"
	}
	if rest := n - len(s); rest > 0 {
		if rest < 3 { // a subtag has at least two characters
			s = s[:len(s)-3]
			rest += 3
		}
		s += "-" + strings.Repeat("x", rest-1)
	}
	return s
}

// emailOfLength is a valid address of n characters (n >= 5): the longest
// local part (64), and a domain of labels of at most 63.
func emailOfLength(n int) string {
	local := min(64, n-4)
	rest := n - local - 1
	var labels []string
	for rest > 0 {
		l := min(rest, 63)
		if rest-l == 1 { // no empty label after the dot
			l--
		}
		labels = append(labels, strings.Repeat("d", l))
		rest -= l + 1
	}
	return strings.Repeat("a", local) + "@" + strings.Join(labels, ".")
}

// patternText makes text of n characters that pattern p accepts (as far as
// it can be: one past a bound may break the pattern too, which is still a
// refusal of the member). A pattern the test does not know fails it.
func patternText(t *testing.T, p string, n int) string {
	switch p {
	case valid.LinePattern, `^[^\p{Cc}]+$`:
		return strings.Repeat(boundChar, n)
	case `^[0-9]{1,18}$`:
		return strings.Repeat("1", n)
	case `^([A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*)?$`, `^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`:
		return langTag(n)
	case `^P([0-9]{1,3}Y)?([0-9]{1,3}M)?([0-9]{1,3}W)?([0-9]{1,3}D)?$`:
		return cadence(n)
	case `^[0-9b-hjkmnp-z]{3,5}$`: // a geohash prefix (insights' area)
		return strings.Repeat("c", n)
	case `^([01][0-9]|2[0-3]):[0-5][0-9]$`:
		return "08:00" + strings.Repeat("0", max(0, n-5))
	}
	t.Fatalf("no text generator for pattern %q: add one to patternText", p)
	return ""
}

// text is a value of schema s, n characters long.
func text(t *testing.T, s map[string]any, n int, fixture string) string {
	switch s["format"] {
	case "uuid":
		if fixture == "" {
			fixture = uuid.NewString()
		}
		return fixture + strings.Repeat("0", n-len(fixture))
	case "date":
		return "2030-01-31" + strings.Repeat("1", n-10)
	case "date-time":
		return "2030-01-31T18:00:00." + strings.Repeat("1", n-26) + "+02:00"
	case "email":
		return emailOfLength(n)
	case nil, "":
	default:
		t.Fatalf("no text generator for format %v", s["format"])
	}
	if p, ok := s["pattern"].(string); ok {
		return patternText(t, p, n)
	}
	return strings.Repeat(boundChar, n)
}

// sample is a small valid value of schema s for member name: enums take their
// first code, ids their fixture, objects their required members.
func (w *boundsWorld) sample(t *testing.T, d boundsDoc, name string, v any) any {
	s := d.resolve(v)
	switch {
	case s == nil:
		return nil
	case s["enum"] != nil:
		return s["enum"].([]any)[0]
	case hasType(s, "object"):
		m := map[string]any{}
		req, _ := s["required"].([]any)
		for _, r := range req {
			m[r.(string)] = w.sample(t, d, r.(string), obj(s, "properties", r.(string)))
		}
		return m
	case hasType(s, "array"):
		n, _ := s["minItems"].(float64)
		out := []any{}
		for i := 0; i < int(n); i++ {
			out = append(out, w.sample(t, d, name, s["items"]))
		}
		if items := d.resolve(s["items"]); items["enum"] != nil && n > 0 {
			return items["enum"].([]any)[:int(n)]
		}
		return out
	case hasType(s, "string"):
		if f := w.memberFixtures()[name]; f != "" {
			return f
		}
		switch s["format"] {
		case "uuid":
			return uuid.NewString()
		case "date":
			return "2030-01-31"
		case "date-time":
			return time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		case "email":
			return "a@example.org"
		}
		minLen, _ := s["minLength"].(float64)
		if p, ok := s["pattern"].(string); ok {
			return patternText(t, p, max(2, int(minLen)))
		}
		if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
			if e, ok := ex[0].(string); ok {
				return e
			}
		}
		return strings.Repeat("x", max(1, int(minLen)))
	case hasType(s, "integer"), hasType(s, "number"):
		if m, ok := s["minimum"].(float64); ok {
			return m
		}
		return 1
	case hasType(s, "boolean"):
		return false
	}
	return nil
}

// value is the case's member or parameter at bound+delta (delta 0 or 1
// past it: +1 for maxima and counts, -1 for minima).
func (w *boundsWorld) value(t *testing.T, d boundsDoc, c boundCase, r boundRecipe, over bool) any {
	n := int(c.limit)
	if over {
		n++
	}
	member := c.name
	if i := strings.LastIndexAny(member, ".]"); i >= 0 {
		member = member[i+1:]
	}
	if r.value != nil {
		if v, ok := r.value(t, w, member, n); ok {
			return v
		}
	}
	switch c.kind {
	case "maxLength":
		return text(t, c.schema, n, w.memberFixtures()[member])
	case "maximum":
		if over {
			return c.limit + 1
		}
		return c.limit
	case "minimum":
		if over {
			return c.limit - 1
		}
		return c.limit
	}
	// maxItems: distinct codes, distinct words, distinct ids, or records.
	items := d.resolve(c.schema["items"])
	out := make([]any, n)
	for i := range out {
		switch {
		case items["enum"] != nil:
			codes := items["enum"].([]any)
			out[i] = codes[i%len(codes)]
		case hasType(items, "string") && items["format"] == "uuid":
			out[i] = uuid.NewString()
		case hasType(items, "string"):
			out[i] = fmt.Sprintf("word %d", i)
		default:
			out[i] = w.sample(t, d, member, c.schema["items"])
		}
	}
	return out
}

// request builds the call of case c at its bound (or one past).
func (w *boundsWorld) request(t *testing.T, d boundsDoc, c boundCase, r boundRecipe, over bool) (path string, body any, headers []string) {
	if r.path != nil && c.in != "path" {
		path = r.path(t, w)
	} else {
		fx := w.pathFixtures()
		path = regexp.MustCompile(`\{(\w+)\}`).ReplaceAllStringFunc(c.op.path, func(m string) string {
			return url.PathEscape(fx[m[1:len(m)-1]])
		})
	}
	if slices.Contains([]string{http.MethodPatch, http.MethodPut, http.MethodDelete}, c.op.method) {
		headers = append(headers, "If-Match", "*")
	}
	if c.op.raw["requestBody"] != nil {
		var root map[string]any
		for _, mt := range obj(c.op.raw, "requestBody", "content") {
			root = d.resolve(obj(mt, "schema"))
		}
		b := w.sample(t, d, "", root).(map[string]any)
		if r.body != nil {
			for k, v := range r.body(t, w) {
				b[k] = v
			}
		}
		body = b
		if c.in == "body" {
			setMember(t, w, d, b, c.path, w.value(t, d, c, r, over))
		}
	}
	if c.in == "body" {
		return path, body, headers
	}
	// A parameter's value as sent: a list as a,b,c.
	v := w.value(t, d, c, r, over)
	s := fmt.Sprint(v)
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = fmt.Sprint(x)
		}
		s = strings.Join(parts, ",")
	}
	switch c.in {
	case "query":
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + url.QueryEscape(c.name) + "=" + url.QueryEscape(s)
	case "path":
		path = strings.Replace(path, url.PathEscape(w.pathFixtures()[c.name]), url.PathEscape(s), 1)
	case "header":
		if c.kind == "maxLength" && c.schema["pattern"] == nil {
			s = strings.Repeat("a", len([]rune(s))) // header values are ASCII here
		}
		for i := 0; i+1 < len(headers); i += 2 {
			if strings.EqualFold(headers[i], c.name) {
				headers = append(headers[:i], headers[i+2:]...)
				break
			}
		}
		headers = append(headers, c.name, s)
	}
	return path, body, headers
}

// setMember puts v at path inside body, building what leads there.
func setMember(t *testing.T, w *boundsWorld, d boundsDoc, body map[string]any, path []bodyStep, v any) {
	var cur any = body
	for i, s := range path {
		last := i == len(path)-1
		if s.item {
			list := cur.([]any)
			if last {
				list[0] = v
				return
			}
			cur = list[0]
			continue
		}
		m := cur.(map[string]any)
		if last {
			m[s.member] = v
			return
		}
		next := m[s.member]
		if hasType(s.schema, "array") {
			list, _ := next.([]any)
			if len(list) == 0 {
				list = []any{w.sample(t, d, s.member, s.schema["items"])}
			}
			m[s.member] = list
			next = list
		} else if _, ok := next.(map[string]any); !ok {
			next = w.sample(t, d, s.member, s.schema)
			m[s.member] = next
		}
		cur = next
	}
}

// dbFingerprint is the content of every table, hashed: equal fingerprints,
// unchanged database.
func dbFingerprint(t *testing.T, e *apitest.Env) string {
	t.Helper()
	e.Positioned() // the event positioner writes after responses
	var q string
	if err := e.DB.Raw(`SELECT string_agg(format('SELECT %L || '':'' || md5(coalesce(string_agg(x::text, '','' ORDER BY x::text), '''')) FROM %I x',
			tablename, tablename), ' UNION ALL ' ORDER BY tablename)
		FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&q).Error; err != nil {
		t.Fatal(err)
	}
	var parts []string
	if err := e.DB.Raw(q).Scan(&parts).Error; err != nil {
		t.Fatal(err)
	}
	sort.Strings(parts)
	return strings.Join(parts, "\n")
}

// lengthRefusal reports whether a problem refuses loc for its size.
func lengthRefusal(p map[string]any, loc string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		e, _ := e.(map[string]any)
		msg, _ := e["message"].(string)
		if e["location"] == loc && (strings.Contains(msg, "length") || strings.Contains(msg, "<=") ||
			strings.Contains(msg, ">=") || strings.Contains(msg, "at most") || strings.Contains(msg, "at least")) {
			return true
		}
	}
	return false
}

func TestBoundsAreEnforced(t *testing.T) {
	t.Parallel()
	w := newBoundsWorld(t)
	e := w.e
	var root map[string]any
	e.Do(http.MethodGet, "/openapi.json", "", nil).Want(t, http.StatusOK).Decode(t, &root)
	d := boundsDoc{root: root}
	cases := boundCases(d)
	recipes := boundRecipes()
	counts := map[string]int{}
	ruledUsed := map[string]bool{}
	for _, c := range cases {
		counts[c.in]++
		r, ok := recipes[c.op.id]
		if !ok && c.in == "body" {
			t.Errorf("%s: no recipe for calling %s with a bounded body; add one to boundRecipes", c, c.op.id)
			continue
		}
		user := w.alice
		if r.user != nil {
			user = r.user(w)
		}
		streams := obj(c.op.raw, "responses", "200", "content", "text/event-stream") != nil
		// At the bound: not refused for its size; a body member is accepted.
		if !streams {
			path, body, hdrs := w.request(t, d, c, r, false)
			resp := e.Do(c.op.method, path, user.Token, body, hdrs...)
			_, isRuled := contentRuled[c.holder+"."+c.member()]
			switch {
			case resp.Status >= 500:
				t.Errorf("%s at the bound: %d %.300s", c, resp.Status, resp.Body)
			case resp.Status == http.StatusUnprocessableEntity && lengthRefusal(resp.Map(t), c.location()):
				t.Errorf("%s at the bound: refused for its size: %.300s", c, resp.Body)
			case c.in == "body" && resp.Status >= 300 && !isRuled:
				t.Errorf("%s at the bound: %d %.300s", c, resp.Status, resp.Body)
			case c.in == "body" && resp.Status >= 300:
				ruledUsed[c.holder+"."+c.member()] = true
			}
		}
		// One past: 422 naming it, and nothing changes.
		path, body, hdrs := w.request(t, d, c, r, true)
		before := dbFingerprint(t, e)
		resp := e.Do(c.op.method, path, user.Token, body, hdrs...)
		if resp.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s past the bound: %d %.300s", c, resp.Status, resp.Body)
			continue
		}
		if p := resp.Map(t); !apitest.HasErrorAt(p, c.location()) {
			t.Errorf("%s past the bound: the problem names another input: %.300s", c, resp.Body)
		}
		if after := dbFingerprint(t, e); after != before {
			t.Errorf("%s past the bound: the database changed", c)
		}
	}
	for k := range contentRuled {
		if !ruledUsed[k] {
			t.Errorf("contentRuled lists %s, but its value at the bound is accepted: take it off", k)
		}
	}
	if counts["body"] < 150 || counts["query"] < 30 || counts["path"] < 60 || counts["header"] < 30 {
		t.Errorf("too few cases read from the document: %v", counts)
	}
	t.Logf("cases: %v", counts)
}
