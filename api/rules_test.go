package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/domain"
)

// The enums and limits are declared once in domain (domain.Rules). These
// tests hold the two other places that state them to the declarations: the
// CHECK constraints of the migrated schema, and the OpenAPI document.

// bounds is what a CHECK constraint or a schema says about one value.
type bounds struct {
	Enum           []string // sorted
	MinLen, MaxLen int
	Min, Max       *int64
}

func (b bounds) String() string {
	var s []string
	if b.Enum != nil {
		s = append(s, fmt.Sprintf("one of %v", b.Enum))
	}
	if b.MinLen > 0 || b.MaxLen > 0 {
		s = append(s, fmt.Sprintf("length %d..%d", b.MinLen, b.MaxLen))
	}
	if b.Min != nil {
		s = append(s, fmt.Sprintf("min %d", *b.Min))
	}
	if b.Max != nil {
		s = append(s, fmt.Sprintf("max %d", *b.Max))
	}
	return strings.Join(s, ", ")
}

func ruleBounds(r domain.Rule) bounds {
	b := bounds{MinLen: r.MinLen, MaxLen: r.MaxLen, Min: r.Min, Max: r.Max}
	if r.Enum != nil {
		b.Enum = slices.Sorted(slices.Values(r.Enum))
	}
	return b
}

var (
	checkEnumRe = regexp.MustCompile(`^CHECK \(\("?(\w+)"? = ANY \(ARRAY\[(.*)\]\)\)\)$`)
	// A list of one code, col IN ('sud'), which PostgreSQL prints as an equality.
	checkOneRe   = regexp.MustCompile(`^CHECK \(\("?(\w+)"? = ('(?:[^']|'')*'::text)\)\)$`)
	checkValueRe = regexp.MustCompile(`'((?:[^']|'')*)'::text`)
	// A comparison of a column or its char_length with a whole number, as
	// pg_get_constraintdef prints it: (rating >= 0), (char_length(title) <= 200),
	// (timezone >= ('-14'::integer)::numeric).
	checkCmpRe = regexp.MustCompile(`\((char_length\()?"?(\w+)"?\)? (>=|<=) \(*'?(-?\d+)'?(?:::integer)?\)?(?:::numeric)?\)`)
	checkAndRe = regexp.MustCompile(`\) AND \(`)
)

// parseCheck reads a single-column CHECK constraint that lists codes or
// bounds a length or number. ok is false for any other kind (name <> ”,
// jsonb_typeof, multi-column, ...), which no rule describes.
func parseCheck(col, def string) (b bounds, ok bool) {
	m := checkEnumRe.FindStringSubmatch(def)
	if m == nil {
		m = checkOneRe.FindStringSubmatch(def)
	}
	if m != nil && m[1] == col {
		for _, v := range checkValueRe.FindAllStringSubmatch(m[2], -1) {
			// '' is how the directory's columns store "not given" (HSDS).
			if v[1] != "" {
				b.Enum = append(b.Enum, strings.ReplaceAll(v[1], "''", "'"))
			}
		}
		slices.Sort(b.Enum)
		return b, true
	}
	body := strings.TrimSuffix(strings.TrimPrefix(def, "CHECK ("), ")")
	for _, part := range checkAndRe.Split(strings.Trim(body, "()"), -1) {
		m := checkCmpRe.FindStringSubmatch("(" + part + ")")
		if m == nil || m[2] != col {
			return bounds{}, false
		}
		n, _ := strconv.ParseInt(m[4], 10, 64)
		switch {
		case m[1] != "" && m[3] == ">=":
			b.MinLen = int(n)
		case m[1] != "":
			b.MaxLen = int(n)
		case m[3] == ">=":
			b.Min = &n
		default:
			b.Max = &n
		}
	}
	return b, true
}

// TestRulesMatchCheckConstraints: every rule that names columns says exactly
// what their CHECK constraints say, and every CHECK constraint listing codes
// or bounding a length is declared by a rule, so a migration and the Go
// declarations cannot drift apart.
func TestRulesMatchCheckConstraints(t *testing.T) {
	t.Parallel()
	db, _ := apitest.NewDB(t)
	var rows []struct{ Tbl, Col, Def string }
	if err := db.Raw(`SELECT c.conrelid::regclass::text AS tbl, a.attname AS col, pg_get_constraintdef(c.oid) AS def
		FROM pg_constraint c
		JOIN pg_namespace n ON n.oid = c.connamespace
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		WHERE c.contype = 'c' AND n.nspname = 'public' AND cardinality(c.conkey) = 1`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	inDB := map[string]bounds{}
	for _, r := range rows {
		if b, ok := parseCheck(r.Col, r.Def); ok {
			inDB[r.Tbl+"."+r.Col] = b
		}
	}
	if len(inDB) < 20 {
		t.Fatalf("read only %d parseable CHECK constraints; the parser no longer matches pg_get_constraintdef", len(inDB))
	}

	claimed := map[string]string{}
	for _, r := range api.Rules() {
		for _, col := range r.Columns {
			if other, dup := claimed[col]; dup {
				t.Errorf("%s: claimed by rules %s and %s", col, other, r.Name)
			}
			claimed[col] = r.Name
			got, ok := inDB[col]
			switch {
			case !ok:
				t.Errorf("rule %s: %s has no CHECK constraint stating it", r.Name, col)
			case !reflect.DeepEqual(got, ruleBounds(r)):
				t.Errorf("rule %s: %s is CHECKed as %v, declared as %v", r.Name, col, got, ruleBounds(r))
			}
		}
	}
	for col, b := range inDB {
		if _, ok := claimed[col]; !ok && (b.Enum != nil || b.MaxLen > 0 || b.MinLen > 0) {
			t.Errorf("%s: CHECK (%v) is declared by no rule; add it to domain.Rules", col, b)
		}
	}
}

// openAPIDoc is the generated document as third parties read it.
func openAPIDoc(t *testing.T) (map[string]any, huma.Registry) {
	t.Helper()
	oapi := api.New(api.Deps{}).API().OpenAPI()
	b, err := json.Marshal(oapi)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc, oapi.Components.Schemas
}

func obj(v any, path ...string) map[string]any {
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

// types of a schema: "string", or ["string", "null"] for nullable ones.
func types(s map[string]any) []any {
	switch v := s["type"].(type) {
	case string:
		return []any{v}
	case []any:
		return v
	}
	return nil
}

// wantSchema is what rule r puts on schema s (in the document's JSON).
func wantSchema(r domain.Rule, s map[string]any) (list, target map[string]any) {
	target = map[string]any{}
	if slices.Contains(types(s), "array") {
		list = map[string]any{}
		if n := api.ListBound(r); n > 0 {
			list["maxItems"] = float64(n)
		}
		s = obj(s, "items")
	}
	if r.Enum != nil {
		var e []any
		for _, v := range r.Enum {
			e = append(e, v)
		}
		if slices.Contains(types(s), "null") {
			e = append(e, nil)
		}
		target["enum"] = e
	}
	set := func(k string, v int64, ok bool) {
		if ok {
			target[k] = float64(v)
		}
	}
	set("minLength", int64(r.MinLen), r.MinLen > 0)
	set("maxLength", int64(r.MaxLen), r.MaxLen > 0)
	set("minimum", deref(r.Min), r.Min != nil)
	set("maximum", deref(r.Max), r.Max != nil)
	return list, target
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// ruleKeys are the schema keywords a rule fills.
var ruleKeys = []string{"enum", "minLength", "maxLength", "minimum", "maximum", "maxItems"}

// checkSchema reports where schema s (a property or parameter schema) says
// something else than rule r.
func checkSchema(t *testing.T, where string, r domain.Rule, s map[string]any) {
	t.Helper()
	list, target := wantSchema(r, s)
	got := s
	if list != nil {
		if !reflect.DeepEqual(pick(s, "maxItems"), list) {
			t.Errorf("%s: %v, rule %s says %v", where, pick(s, "maxItems"), r.Name, list)
		}
		got = obj(s, "items")
	}
	g := pick(got, ruleKeys...)
	if _, ruled := target["maxLength"]; !ruled {
		dropFormatLength(got, g)
	}
	if !reflect.DeepEqual(g, target) {
		t.Errorf("%s: %v, rule %s says %v", where, g, r.Name, target)
	}
}

// dropFormatLength removes from bounds b (picked from schema s) the
// maxLength that s's format gives it (api.FormatMaxLength): a bound of the
// format, put on every string of that format, not a rule's.
func dropFormatLength(s, b map[string]any) {
	f, _ := s["format"].(string)
	if n, ok := api.FormatMaxLength(f); ok && b["maxLength"] == float64(n) {
		delete(b, "maxLength")
	}
}

// ownBounds are the rule keywords of a property or parameter schema v
// besides its format's length.
func ownBounds(v any) map[string]any {
	s := constrained(v)
	b := pick(s, ruleKeys...)
	dropFormatLength(s, b)
	return b
}

func pick(s map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := s[k]; ok {
			out[k] = v
		}
	}
	return out
}

// ruleFields lists the rule-tagged fields of struct type t by JSON name,
// descending into embedded structs as Huma does.
func ruleFields(t reflect.Type, out map[string]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			ruleFields(ft, out)
			continue
		}
		if name, ok := f.Tag.Lookup("rule"); ok {
			out[strings.Split(f.Tag.Get("json"), ",")[0]] = name
		}
	}
}

// paramRules are the parameters filled from rules (besides every limit).
var paramRules = map[string]string{
	"listGoals query lifecycle_status":    "goal.lifecycle_status",
	"deleteGroupMember query reason":      "group.reason",
	"listGoals query category":            "goal.category",
	"listReferrals query status":          "referral.status",
	"listPeople query role":               "person.role",
	"searchServices query status":         "hsds.service_status",
	"searchServices query per_page":       "page.size",
	"listTaxonomyTerms query per_page":    "page.size",
	"listAccessLog query resource":        "access_log.resource",
	"listAccessLog query action":          "access_log.action",
	"allowClientApp path appId":           "app.id",
	"revokeClientApp path appId":          "app.id",
	"searchServices query page":           "page.number",
	"listTaxonomyTerms query page":        "page.number",
	"searchServices query language":       "language_tag",
	"listAssessments query status":        "assessment.status",
	"listDirectoryFeedback query status":  "feedback.status",
	"listDirectoryFeedback query kind":    "feedback.kind",
	"listProviderReferrals query status":  "referral.status",
	"getUnmetNeedInsights query area":     "insights.area_prefix",
	"getUnmetNeedInsights query source":   "unmet_need.source",
	"getUnmetNeedInsights query group_by": "insights.group_by",
	"getDirectoryGapInsights query area":  "insights.area_prefix",
}

// apiOnly are the places whose enum or bounds are the API's own (sort
// orders, formats, cursors, search text, coordinates, ages, event types),
// not a domain rule: schema properties as "Schema.property", parameters as
// "in name".
func apiOnly() map[string]bool {
	return map[string]bool{
		"query order": true, "query sort": true, "query format": true, "query q": true,
		"query search": true, "query lat": true, "query lon": true, "query radius_km": true, "query age": true,
		"header Idempotency-Key": true, "header If-Match": true, "header If-None-Match": true,
		"header Last-Event-ID": true, "query last_event_id": true, "header Accept-Language": true,
		"HealthStatus.status": true, "GoalStepCreate.position": true, "GoalStepPatch.position": true,
		"LocationInput.latitude": true, "LocationInput.longitude": true, "OrganizationInput.year_incorporated": true,
		"ServiceInput.minimum_age": true, "ServiceInput.maximum_age": true,
		"ServiceResult.minimum_age": true, "ServiceResult.maximum_age": true, "Service.minimum_age": true,
		"Service.maximum_age": true, "ServiceDetail.minimum_age": true, "ServiceDetail.maximum_age": true,
		"ClientExport.format": true, "ClientExport.format_version": true, "ClientExport.complete": true,
		"ClientExport.redisclosure_notice": true,
		"GapCentre.lat":                    true, "GapCentre.lon": true,
	}
}

// TestRulesMatchOpenAPI: every schema property and parameter that names a
// rule carries exactly its enum and bounds in the generated document, and no
// enum or bound in the document comes from anywhere else than a rule or the
// short list of the API's own.
func TestRulesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	doc, reg := openAPIDoc(t)
	used := map[string]bool{}
	explained := map[string]bool{}
	own, ownSeen := apiOnly(), map[string]bool{}
	schemas := obj(doc, "components", "schemas")
	for name := range reg.Map() {
		typ := reg.TypeFromRef("#/components/schemas/" + name)
		if typ == nil || typ.Kind() != reflect.Struct {
			continue
		}
		fields := map[string]string{}
		ruleFields(typ, fields)
		for prop, ruleName := range fields {
			r, ok := api.RuleByName(ruleName)
			if !ok {
				t.Errorf("%s.%s: unknown rule %q", name, prop, ruleName)
				continue
			}
			used[ruleName] = true
			explained[name+"."+prop] = true
			checkSchema(t, name+"."+prop, r, obj(schemas, name, "properties", prop))
		}
	}
	for name := range schemas {
		// The FHIR R4 shapes are HL7's (api/goals_fhir.go): their bounds are
		// the representation's, not Waypoint's domain rules.
		if strings.HasPrefix(name, "FHIR") {
			continue
		}
		for prop, s := range obj(schemas, name, "properties") {
			key := name + "." + prop
			bounded := len(ownBounds(s)) > 0
			ownSeen[key] = bounded && own[key]
			if bounded && !explained[key] && !own[key] {
				t.Errorf("%s: %v comes from no domain rule; name one in a rule tag (or list it as the API's own)", key, ownBounds(s))
			}
		}
	}
	checkParams(t, doc, used, own, ownSeen)
	for k := range own {
		if !ownSeen[k] {
			t.Errorf("%s is listed as the API's own, but the document has no such bounded property or parameter", k)
		}
	}
	for _, r := range api.Rules() {
		if !used[r.Name] && len(r.Columns) == 0 {
			t.Errorf("rule %s constrains no column and no API field: remove it or use it", r.Name)
		}
	}
}

// constrained is the schema holding a property's own keywords: its items
// for a list of scalars (whose maxItems the list holds).
func constrained(v any) map[string]any {
	s, _ := v.(map[string]any)
	if items := obj(s, "items"); items != nil && items["$ref"] == nil {
		merged := maps.Clone(items)
		if mi, ok := s["maxItems"]; ok {
			merged["maxItems"] = mi
		}
		return merged
	}
	return s
}

func checkParams(t *testing.T, doc map[string]any, used, own, ownSeen map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	for path, item := range obj(doc, "paths") {
		for method, o := range item.(map[string]any) {
			op, _ := o.(map[string]any)
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				p := p.(map[string]any)
				loc, name, id := p["in"].(string), p["name"].(string), fmt.Sprint(op["operationId"])
				key := id + " " + loc + " " + name
				ruleName, ok := paramRules[key]
				if !ok && loc == "query" && name == "limit" {
					ruleName, ok = "page.size", true
				}
				if !ok && loc == "query" && name == "cursor" {
					ruleName, ok = "page.cursor", true
				}
				s := obj(p, "schema")
				bounded := len(ownBounds(s)) > 0
				if bounded && own[loc+" "+name] {
					ownSeen[loc+" "+name] = true
				}
				switch {
				case ok:
					r, _ := api.RuleByName(ruleName)
					used[ruleName], seen[key] = true, true
					checkSchema(t, key, r, s)
				case bounded && !own[loc+" "+name]:
					t.Errorf("%s %s %s: %v comes from no domain rule", method, path, key, ownBounds(s))
				}
			}
		}
	}
	for key := range paramRules {
		if !seen[key] {
			t.Errorf("%s: no such parameter in the document", key)
		}
	}
}

// TestRuleDeclarations: the declarations are consistent among themselves.
func TestRuleDeclarations(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, r := range api.Rules() {
		if names[r.Name] {
			t.Errorf("rule %s declared twice", r.Name)
		}
		names[r.Name] = true
		if r.Enum == nil && r.MaxLen == 0 && r.MaxItems == 0 && r.Min == nil && r.Max == nil {
			t.Errorf("rule %s bounds nothing", r.Name)
		}
		if r.MinLen > r.MaxLen && r.MaxLen > 0 {
			t.Errorf("rule %s: length %d..%d", r.Name, r.MinLen, r.MaxLen)
		}
	}
	lifecycle := domain.GoalLifecycleStatuses()
	for _, s := range domain.GoalStartStatuses() {
		if !slices.Contains(lifecycle, s) {
			t.Errorf("start status %s is not a lifecycle status", s)
		}
	}
	for _, s := range domain.GoalAcceptStatuses() {
		if !domain.GoalMoveAllowed(domain.GoalProposed, s, domain.MoverClient) {
			t.Errorf("accepting a proposal as %s is not a move of the lifecycle table", s)
		}
	}
	// auth reads roles from tokens without importing domain; the two lists must agree.
	if !slices.Equal(auth.KnownRoles(), domain.KnownRoles()) {
		t.Errorf("auth.KnownRoles %v, domain.KnownRoles %v", auth.KnownRoles(), domain.KnownRoles())
	}
}

// TestRuleBoundsAreEnforced: what the rules put into the schema is what
// requests are validated against (the hooks run after Huma built the
// schemas), for bodies and parameters alike, and lengths count characters.
func TestRuleBoundsAreEnforced(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	// Pronouns have no domain check and no column constraint: only the
	// schema filled from person.pronouns can refuse 41 characters.
	etag := e.Do(http.MethodGet, "/v1/me", w.alice.Token, nil).Want(t, http.StatusOK).Header.Get("ETag")
	long := strings.Repeat("é", domain.MaxPronouns+1)
	p := e.Do(http.MethodPatch, "/v1/me", w.alice.Token, map[string]any{"pronouns": long}, "If-Match", etag).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.pronouns") {
		t.Fatalf("41 characters of pronouns: %v", p)
	}
	e.Do(http.MethodPatch, "/v1/me", w.alice.Token, map[string]any{"pronouns": long[len("é"):]}, "If-Match", etag).Want(t, http.StatusOK)
	// A parameter's enum: the domain would simply find nobody.
	p = e.Do(http.MethodGet, "/v1/people?role=superuser", w.adam.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "query.role") {
		t.Fatalf("unknown role filter: %v", p)
	}
	// A nullable enum accepts null (the rule lists it) and refuses other codes.
	g := newGoal(t, w, w.alice, w.alice, map[string]any{"title": "Find a dentist", "category": "health"})
	patchGoal(w, w.alice, g, map[string]any{"category": "dentistry"}).Problem(t, http.StatusUnprocessableEntity)
	if got := patchGoal(w, w.alice, g, `{"category":null}`).Want(t, http.StatusOK).Map(t); got["category"] != nil {
		t.Fatalf("category not cleared: %v", got)
	}
	// Each strength is at most MaxStrengthLen characters, now in the schema too.
	p = e.Do(http.MethodPost, goalsPath(w.alice), w.alice.Token, map[string]any{"title": "t",
		"strengths_used": []string{strings.Repeat("x", domain.MaxStrengthLen+1)}}).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.strengths_used[0]") {
		t.Fatalf("long strength: %v", p)
	}
}

// TestReferralNoteCountsCharacters: a note as long as the limit in
// characters is accepted whatever its script, as the column's CHECK and the
// schema count; one character more is refused, naming the field.
func TestReferralNoteCountsCharacters(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	refs := "/v1/clients/" + w.alice.ClientID.String() + "/referrals"
	note := strings.Repeat("ሰ", domain.MaxReferralNote) // 3 bytes each in UTF-8
	var ref referralView
	e.Do(http.MethodPost, refs, w.alice.Token, map[string]any{"service_id": svcBallard.String(), "note": note}).
		Want(t, http.StatusCreated).Decode(t, &ref)
	p := patchReferral(e, w.alice, ref, map[string]any{"note": note + "ሰ"}).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.note") {
		t.Fatalf("note one character too long: %v", p)
	}
	patchReferral(e, w.alice, ref, map[string]any{"note": "ሰ" + note[len("ሰ"):]}).Want(t, http.StatusOK)
}
