// Package api exposes Waypoint over HTTP with Huma: one file per resource,
// DTOs separate from domain models, errors as RFC 9457 problems, and security
// enforced from each operation's declared OpenAPI security.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/live"
)

// Version of the API contract.
const Version = "1.0.0"

// MaxBodyBytes caps request bodies; larger ones get 413.
const MaxBodyBytes = 1 << 20

// Deps are what the API needs from the outside.
type Deps struct {
	Store    *domain.Store
	Verifier TokenVerifier
	Logger   *slog.Logger
	// Registry receives the HTTP metrics; the caller serves it (never on the
	// API's own listener: see api/server).
	Registry *prometheus.Registry
	// DevIssuer, when set, is mounted at /dev/oidc/ and puts the server in
	// dev mode: every request whose Host is not loopback gets 421 (DNS
	// rebinding). Tying the guard to the issuer means one cannot be mounted
	// without the other.
	DevIssuer http.Handler
	// Hub delivers live events to GET /v1/events (503 without one).
	Hub *live.Hub
	// Events tunes the event stream.
	Events EventsConfig
	// CORS lists the browser origins allowed to call the API.
	CORS CORS
	// Apps names the first-party apps, which clients cannot revoke.
	Apps domain.Apps
	// RateLimits limits requests per person and per client address; zero
	// values take the defaults.
	RateLimits RateLimits
	// TrustedProxies are the peers whose X-Forwarded-For (client address)
	// and X-Forwarded-Proto (HSTS) are believed; none by default.
	TrustedProxies TrustedProxies
	// Push says whether Web Push reminders are sent (GET /readyz).
	Push PushInfo
}

// Server is the HTTP face of Waypoint.
type Server struct {
	store    *domain.Store
	verifier TokenVerifier
	log      *slog.Logger
	metrics  *metrics
	api      huma.API
	handler  http.Handler
	hub      *live.Hub
	events   EventsConfig
	apps     domain.Apps
	// dev is dev mode (a DevIssuer is mounted): a refused token's 401 says why.
	dev     bool
	proxies TrustedProxies
	// ipPolicy and personPolicy are nil when turned off.
	ipPolicy, personPolicy *policy
	// exports are the data exports in progress.
	exports *exportSlots
	// conns are the event streams on hijacked connections (events_conn.go).
	conns *connStreams
	// actors are the people resolved per verified token (actor_cache.go).
	actors *actorCache
	push   PushInfo
}

// New builds the server and registers every operation.
func New(d Deps) *Server {
	installProblemErrors()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	d.Events.defaults()
	s := &Server{store: d.Store, verifier: d.Verifier, log: d.Logger, metrics: newMetrics(d.Registry), hub: d.Hub, events: d.Events,
		dev: d.DevIssuer != nil, proxies: d.TrustedProxies, apps: d.Apps, exports: newExportSlots(maxConcurrentExports),
		conns: newConnStreams(d.Events.Heartbeat), actors: newActorCache(), push: d.Push}
	limits := d.RateLimits.Effective()
	s.ipPolicy = newPolicy("ip", limits.IP, limits.MaxKeys, d.Registry)
	s.personPolicy = newPolicy("person", limits.Person, limits.MaxKeys, d.Registry)
	if d.Hub != nil {
		registerHubMetrics(d.Registry, d.Hub, s.conns)
	}
	mux := http.NewServeMux()
	s.api = humago.New(mux, humaConfig())
	// Every uuid.UUID is documented (and validated) as format uuid, which is
	// also how the input guard knows a member is an id.
	s.api.OpenAPI().Components.Schemas.RegisterTypeAlias(reflect.TypeFor[uuid.UUID](), reflect.TypeFor[uuidText]())
	s.api.UseMiddleware(operationInfo, noStore, s.authenticate(s.api), s.guardInput(s.api), boundIfNoneMatch(s.api), s.idempotency(s.api))
	s.register()
	// The event stream's contract; generated from the types the stream
	// sends, so a failure here is a programming error caught by every test.
	asyncJSON, err := AsyncAPI()
	if err != nil {
		panic(err)
	}
	asyncYAML, err := AsyncAPIYAML()
	if err != nil {
		panic(err)
	}
	mux.HandleFunc("GET /asyncapi.json", serveDocument(asyncJSON, "application/json"))
	mux.HandleFunc("GET /asyncapi.yaml", serveDocument(asyncYAML, "application/yaml"))
	mux.HandleFunc("GET /docs", serveDocsPage(d.DevIssuer != nil))
	mux.HandleFunc("GET /docs/assets/{name}", serveDocsAsset)
	if d.DevIssuer != nil {
		// "Try it" with the dev issuer's sign-in (docs.go); no such page in production.
		mux.HandleFunc("GET /docs/login", serveDocsLogin)
		mux.HandleFunc("GET /docs/assets/login.js", serveDocsLoginJS)
	}
	mux.HandleFunc("GET "+problemTypeBase+"{$}", serveProblems)
	mux.HandleFunc("GET "+problemTypeBase+"{slug}", serveProblems)
	// Passes over every operation registered, whoever added it (before the
	// header passes, so the responses they add get those headers too).
	documentNotModified(s.api.OpenAPI())
	documentLinks(s.api.OpenAPI())
	documentRateLimits(s.api.OpenAPI())
	documentNoStore(s.api.OpenAPI())
	dropRawBodyMediaTypes(s.api.OpenAPI())
	documentCORS(s.api.OpenAPI())
	applySchemaRules(s.api.OpenAPI().Components.Schemas)
	boundDocument(s.api.OpenAPI())
	// ClientPatch inlines it (see ClientPatch.TransformSchema); the component
	// alone would be an unused one in the contract.
	delete(s.api.OpenAPI().Components.Schemas.Map(), "ContactPreferencesPatch")

	// Preflights (CORS) are answered before the address limit; everything
	// else, routed or not, spends from it first.
	h := d.CORS.wrap(s.limitByAddress(notModified(problemForUnrouted(mux))))
	if d.DevIssuer != nil {
		mux.Handle("/dev/oidc/", d.DevIssuer)
		h = loopbackOnly(h)
	}
	s.handler = s.observe(s.securityHeaders(h))
	return s
}

// Handler is the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// API exposes the Huma API (for the OpenAPI document).
func (s *Server) API() huma.API { return s.api }

// register wires every operation; each resource file contributes one function.
func (s *Server) register() {
	s.registerHealth()
	s.registerMe()
	s.registerPeople()
	s.registerClients()
	s.registerCareTeam()
	s.registerConsents()
	s.registerGoals()
	s.registerGoalProposals()
	s.registerGoalHistory()
	s.registerGoalSteps()
	s.registerGoalCheckIns()
	s.registerConversations()
	s.registerEvents()
	s.registerServices()
	s.registerOrganizations()
	s.registerLocations()
	s.registerTaxonomy()
	s.registerSavedServices()
	s.registerReferrals()
	s.registerProviders()
	s.registerFeedback()
	s.registerAccessLog()
	s.registerApps()
	s.registerSupporterInvitations()
	s.registerSupporters()
	s.registerExport()
	s.registerAssessments()
	s.registerAgenda()
	s.registerPushSubscriptions()
	s.registerGroups()
	s.registerInsights()
}

func humaConfig() huma.Config {
	cfg := huma.DefaultConfig("Waypoint API", Version)
	// No $schema links in bodies: the contract is the OpenAPI document.
	cfg.CreateHooks = nil
	// /docs is served from the binary (docs.go), not Huma's CDN page.
	cfg.DocsPath = ""
	cfg.Transformers = append(cfg.Transformers, linkNextTransformer)
	cfg.OpenAPI.Info.Description = "Waypoint is a client self-service portal for people receiving social services: " +
		"their own goals, community resources near them, secure messages with their care team, and control over who touches their data.\n\n" +
		"Errors are RFC 9457 problem+json. Resources you may not see are 404. Versioned resources carry a strong ETag; " +
		"PATCH/PUT/DELETE of them require If-Match (missing: 428, stale: 412); as in RFC 9110, If-Match may list several strong ETags " +
		"(any one matching will do) or be * (any current version); weak ETags never match. PATCH bodies are JSON Merge Patch.\n\n" +
		"Roles (from the token's roles claim): client, worker, admin, directory_editor, provider, organizer (reads only the community insights, and otherwise stands where a person without a role does). A token whose person holds none of them may " +
		"only use GET/PATCH /v1/me, the directory reads, redeeming a supporter invitation and the reads a supporter makes (a client's goals, " +
		"referrals and saved services as shared with them, their own supporter grant, leaving it); every other operation answers it 403. " +
		"Scopes: each operation declares exactly one; a write scope implies the read scope of its family " +
		"(profile, goals, assessments, services/directory:write, referrals, messages, groups, privacy; export and insights have a read scope only).\n\n" +
		"While the database is unreachable every operation answers 503 with Retry-After (seconds); retry then.\n\n" +
		"Input rules (422 naming the field): body members match exactly; text may not contain U+0000, unpaired surrogates or " +
		"invalid UTF-8; numbers are finite (no NaN or Infinity); dates and times fall in 1900-01-01..9999-12-31; the all-zero " +
		"UUID is never an id. List parameters take a,b or the parameter repeated (x=a&x=b); any other parameter appears once. " +
		"Every response of an operation has Cache-Control: no-store (it carries a person's data, or shows what they looked for).\n\n" +
		"Rate limits: every request counts against its client address (policy \"ip\") and, once its token is verified, against its person " +
		"(policy \"person\"), as token buckets. Responses carry RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers-11); " +
		"beyond a limit the answer is 429 problem+json with Retry-After in seconds. Health probes are not limited."
	cfg.OpenAPI.Info.Contact = &huma.Contact{Name: "Waypoint", URL: "https://github.com/waypoint-portal/waypoint"}
	cfg.OpenAPI.Info.License = &huma.License{Name: "Apache-2.0", Identifier: "Apache-2.0"}
	cfg.OpenAPI.Servers = []*huma.Server{{URL: "/", Description: "Whichever server this document was read from, local, staging or production (a relative URL: it works at any address)",
		Extensions: map[string]any{"x-internal": false}}}
	cfg.OpenAPI.Tags = []*huma.Tag{
		{Name: "Me", Description: "The caller's own person"},
		{Name: "People", Description: "People known to Waypoint (administrators)"},
		{Name: "Clients", Description: "Client profiles: strengths, interests, language, contact preferences"},
		{Name: "Care team", Description: "The workers who support a client"},
		{Name: "Consents", Description: "Which care-team workers the client lets see their sensitive (sud) records"},
		{Name: "Goals", Description: "The client's own goals, their steps, check-ins and history; workers on the care team propose and co-edit"},
		{Name: "Messages", Description: "Secure conversations between a client and their care team"},
		{Name: "Events", Description: "Live events (Server-Sent Events) for the caller"},
		{Name: "Directory", Description: "The resource directory (Open Referral HSDS 3.0): search services, read organizations, locations and taxonomy; administrators and directory editors maintain it"},
		{Name: "Saved services", Description: "The services a client keeps on their list"},
		{Name: "Referrals", Description: "Referrals of a client to directory services, with their status history, linked to the client's goals"},
		{Name: "Providers", Description: "Staff of directory organizations (role provider): linking them, and the referrals to their organizations as clients share them"},
		{Name: "Feedback", Description: "Barriers clients and workers report on services, and the directory editors' queue that works them (the text never reaches providers or the public)"},
		{Name: "Privacy", Description: "The client's control over their data: who touched it (the access log) and which apps may act on it"},
		{Name: "Insights", Description: "Anonymised community insights for advocacy (admins, workers, organizers): unmet needs and directory gaps, k-anonymous (k = 10) in fixed weekly cells"},
		{Name: "Groups", Description: "Mutual-aid groups facilitated by workers: invitations the client decides on, members shown as they choose, shared goals with aggregates suppressed below 3, a mutual-aid board and sessions"},
		{Name: "Supporters", Description: "The client's own circle: people the client invites to read chosen records (goals, referrals, saved services, assessments), never to change them"},
		{Name: "Assessments", Description: "The client's self-assessment of their life domains (1 in crisis ... 5 thriving), its summary over time, and suggestions from it: goals to adopt and services to look for"},
		{Name: "Export", Description: "Download my data: everything Waypoint holds about the client, as one JSON document"},
		{Name: "Agenda", Description: "What is due, ordered by urgency: steps, goal check-ins and referral follow-ups; a client's own, or a worker's whole caseload"},
		{Name: "Reminders", Description: "Web Push subscriptions: reminders of due agenda items on the client's phone, never in their quiet hours, generic unless they opt in to previews"},
		{Name: "Operations", Description: "Health, readiness and metrics"},
	}
	scopes := map[string]string{}
	for k, v := range auth.AllScopes {
		scopes[k] = v
	}
	cfg.OpenAPI.Components.Schemas = huma.NewMapRegistry(schemaRefPrefix, schemaName)
	cfg.OpenAPI.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		schemeOAuth2: {
			Type: "oauth2",
			Description: "An OIDC access token (a JWT, RFC 9068) from the configured issuer, with the API audience, sent as " +
				"Authorization: Bearer; each operation lists the one scope it needs. Get it with the authorization code flow with " +
				"PKCE at your OIDC provider: the URLs below are the embedded development issuer's, in production use your provider's. " + jwtNotes,
			Flows: &huma.OAuthFlows{AuthorizationCode: &huma.OAuthFlow{
				AuthorizationURL: devAuthorizeURL,
				TokenURL:         devTokenURL,
				Scopes:           scopes,
			}},
		},
	}
	return cfg
}

// jwtNotes is what a client needs to know of how tokens are checked.
const jwtNotes = "Tokens are verified as RFC 8725 (RFC8725, JWT Best Current Practices) asks: the signature with the issuer's " +
	"published keys and an algorithm they declare (never none, never a symmetric key), the issuer, the audience and the expiry " +
	"(access tokens are short-lived: get a new one from your provider when one expires; an expired token is 401)."

// schemaRenames are the schemas whose Go type name would collide with what
// client generators emit (oapi-codegen calls its client struct Client). Only
// the schema's name changes; the JSON is the same.
var schemaRenames = map[string]string{
	"Client":     "ClientProfile",
	"PageClient": "PageClientProfile",
}

// schemaName is Huma's default schema namer with schemaRenames applied.
func schemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	if to, ok := schemaRenames[name]; ok {
		return to
	}
	return name
}

// op fills the parts every operation shares: security for scope, the error
// responses it documents, and the operation-wide body limits.
func op(method, path, id, tag, summary, description, scope string, errs ...int) huma.Operation {
	o := huma.Operation{
		OperationID: id, Method: method, Path: path, Summary: summary, Description: description,
		Tags: []string{tag}, MaxBodyBytes: MaxBodyBytes, BodyReadTimeout: 10 * time.Second,
	}
	if scope != "" {
		o.Security = []map[string][]string{{schemeOAuth2: {scope}}}
		// 503: the token could not be checked (the provider's keys were unreachable).
		errs = append([]int{http.StatusUnauthorized, http.StatusForbidden}, append(errs, http.StatusServiceUnavailable)...)
	}
	// Every operation may meet a database outage: 503 with Retry-After.
	if !slices.Contains(errs, http.StatusServiceUnavailable) {
		errs = append(errs, http.StatusServiceUnavailable)
	}
	o.Errors = append(errs, http.StatusInternalServerError)
	return o
}

// handle registers h for o, mapping its errors in one place and declaring
// every status the operation can answer.
func handle[I, O any](api huma.API, o huma.Operation, h func(context.Context, *I) (*O, error)) {
	if names := idParams(reflect.TypeFor[I]()); len(names) > 0 {
		if o.Metadata == nil {
			o.Metadata = map[string]any{}
		}
		o.Metadata[metaIDParams] = names
	}
	implicitErrors(&o, reflect.TypeFor[I]())
	huma.Register(api, o, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, toHTTPError(ctx, err)
		}
		return out, nil
	})
	applyParamRules(api.OpenAPI(), o, reflect.TypeFor[I]())
	declareAlsoAnswers(api, o)
}

// uuidText is how uuid.UUID appears in the schema: a string of format uuid.
type uuidText string

// Schema implements huma.SchemaProvider.
func (uuidText) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "uuid"}
}
