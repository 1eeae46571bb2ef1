package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/auth"
	"github.com/waypoint-portal/waypoint/domain"
)

// TokenVerifier verifies a bearer access token (auth.Verifier in production).
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*auth.Principal, error)
}

// schemeOAuth2 is the security scheme in the OpenAPI document: the only one,
// as scopes are legal only on oauth2 (and openIdConnect, which Spectral's
// oas3 rules do not accept scopes on).
const schemeOAuth2 = "oauth2"

type actorKey struct{}

// grantKey carries what the token itself grants (scopes, expiry) for
// responses that outlive the request's first check, like event streams.
type grantKey struct{}

type grant struct {
	Scopes []string
	Expiry time.Time
	// App is the token's app: events of clients who revoked it are not delivered.
	App string
	// Person is the token's person (a group's events: their own revocations).
	Person uuid.UUID
}

func grantFrom(ctx context.Context) grant {
	g, _ := ctx.Value(grantKey{}).(grant)
	return g
}

// actorFrom returns the authenticated actor. Operations without declared
// security never call it; the authenticate middleware guarantees it for the rest.
func actorFrom(ctx context.Context) domain.Actor {
	a, _ := ctx.Value(actorKey{}).(domain.Actor)
	return a
}

// requiredScopes reads the scopes an operation declares. Declaring security on
// the operation is the only way to protect it: this middleware enforces
// exactly what the OpenAPI document says.
func requiredScopes(op *huma.Operation) (scopes []string, secured bool) {
	for _, req := range op.Security {
		for _, s := range req {
			secured = true
			for _, sc := range s {
				if !containsStr(scopes, sc) {
					scopes = append(scopes, sc)
				}
			}
		}
		if len(req) == 0 { // {} means anonymous access is allowed
			return nil, false
		}
	}
	return scopes, secured
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// authenticate verifies the bearer token, checks the operation's scopes and
// provisions the person. Rejections write problem+json with the RFC 6750
// WWW-Authenticate challenge and never reach the handler.
func (s *Server) authenticate(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		scopes, secured := requiredScopes(ctx.Operation())
		if !secured {
			next(ctx)
			return
		}
		raw, ok := bearerToken(ctx.Header("Authorization"))
		if !ok {
			s.challenge(api, ctx, http.StatusUnauthorized, `Bearer realm="waypoint"`, "a bearer access token is required")
			return
		}
		p, err := s.verifier.Verify(ctx.Context(), raw)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				// The provider's keys could not be fetched: our problem, not the caller's.
				if ri := requestInfoFrom(ctx.Context()); ri != nil {
					ri.Err = err
				}
				ctx.SetHeader("Retry-After", retryAfterOutage)
				_ = huma.WriteErr(api, ctx, http.StatusServiceUnavailable, "")
				return
			}
			s.log.Debug("token rejected", "reason", err.Error())
			s.challenge(api, ctx, http.StatusUnauthorized, `Bearer realm="waypoint", error="invalid_token", error_description="the access token is invalid or expired"`, s.invalidTokenDetail(ctx, err))
			return
		}
		// The app id is kept (access log, the client's apps) and shown, so it
		// is bounded like an app id in a path; a token naming a longer one is
		// broken or hostile, and invalid.
		if utf8.RuneCountInString(p.AppID) > domain.MaxAppID {
			s.challenge(api, ctx, http.StatusUnauthorized, `Bearer realm="waypoint", error="invalid_token", error_description="the access token is invalid or expired"`,
				s.invalidTokenDetail(ctx, &auth.TokenError{Reason: "its azp or client_id claim is longer than " + strconv.Itoa(domain.MaxAppID) + " characters"}))
			return
		}
		// Counted per person before anything else is spent on the request
		// (the scope check, provisioning, the handler).
		if !s.limitPerson(api, ctx, p.Issuer, p.Subject) {
			return
		}
		var missing []string
		for _, sc := range scopes {
			if !p.HasScope(sc) {
				missing = append(missing, sc)
			}
		}
		if len(missing) > 0 {
			s.challenge(api, ctx, http.StatusForbidden, `Bearer realm="waypoint", error="insufficient_scope", scope="`+strings.Join(scopes, " ")+`"`,
				"this token lacks the scope "+strings.Join(missing, ", ")+" that this operation needs")
			return
		}
		actor, err := s.actorFor(ctx.Context(), p)
		if err != nil {
			writeError(api, ctx, err)
			return
		}
		if ri := requestInfoFrom(ctx.Context()); ri != nil {
			ri.PersonID = actor.PersonID.String()
			ri.AppID = actor.AppID
			actor.RequestID = ri.ID
		}
		if len(scopes) > 0 {
			actor.Scope = scopes[0] // every operation declares exactly one
		}
		// An organizer reaches the insights and otherwise stands where a
		// person without a role does.
		if !actor.ActsOnRecords() && !rolelessAllowed(ctx.Operation().OperationID) &&
			!(actor.Is(domain.RoleOrganizer) && organizerAllowed(ctx.Operation().OperationID)) {
			s.logRolelessAttempt(ctx, actor)
			detail := "this account holds no Waypoint role (" + strings.Join(auth.KnownRoles(), ", ") + "), so it may only " +
				"read and change its own person (/v1/me), read the public resource directory and read what a client shared with it " +
				"as their supporter; ask an administrator for a role"
			if actor.Is(domain.RoleOrganizer) {
				detail = "the organizer role reads only the anonymised community insights (/v1/insights/...); beyond them this " +
					"account may only do what a person without a role may (/v1/me, the public resource directory, what a client shared with it)"
			}
			if s.dev {
				// Roles come from each token: a role-less dev token makes the person role-less until the next token with one.
				detail += " (dev mode: this token carries no Waypoint role; mint one with waypoint dev token --role, or leave --role out for a seeded persona)"
			}
			_ = huma.WriteErr(api, ctx, http.StatusForbidden, detail)
			return
		}
		ctx = huma.WithValue(ctx, grantKey{}, grant{Scopes: p.Scopes, Expiry: p.Expiry, App: p.AppID, Person: actor.PersonID})
		next(huma.WithValue(ctx, actorKey{}, actor))
	}
}

// actorFor is the actor of a verified token: its person, provisioned on
// the token's first request on this replica, then kept (actorCache).
func (s *Server) actorFor(ctx context.Context, p *auth.Principal) (domain.Actor, error) {
	now := time.Now()
	if a, ok := s.actors.get(p.TokenHash, now); ok {
		return a, nil
	}
	a, err := s.store.Provision(ctx, domain.Identity{
		Issuer: p.Issuer, Subject: p.Subject, Name: p.Name, Roles: p.Roles, AppID: p.AppID,
	})
	if err != nil {
		return domain.Actor{}, err
	}
	s.actors.put(p.TokenHash, a, now, p.Expiry)
	return a, nil
}

// rolelessAllowed lists the operations a person holding no Waypoint role may
// call (DESIGN.md, "Who may do what"): their own person, the public
// directory reads, redeeming a supporter invitation, and what a supporter
// does: the reads of shared records (goals with their check-ins and
// history, referrals, saved services, assessments and the domains' labels), their own grant, and leaving it. It
// is the one place that decides it; everything else is 403 for them before
// any handler runs, whatever the token's scopes, so an unknown, revoked or
// mis-mapped role can never act as a privileged one. Being allowed here
// grants nothing: the domain's scope (Actor.ClientScope) shows a person
// without a role only what a client shared with them, and 404 otherwise.
func rolelessAllowed(operationID string) bool {
	switch operationID {
	case "getMe", "patchMe",
		"searchServices", "getService", "getOrganization", "getLocation", "listTaxonomyTerms",
		"redeemSupporterInvitation", "listSupporters", "getSupporter", "deleteSupporter",
		"listGoals", "getGoal", "listGoalCheckIns", "listGoalHistory",
		"listReferrals", "getReferral", "listSavedServices",
		"listAssessmentDomains", "listAssessments", "getAssessment", "getAssessmentSummary":
		return true
	}
	return false
}

// organizerAllowed lists the operations the organizer role adds to what a
// person without a role may call: the anonymised community insights.
func organizerAllowed(operationID string) bool {
	return operationID == "getUnmetNeedInsights" || operationID == "getDirectoryGapInsights"
}

// recordParams are the path parameters that name a client's record, in the
// order that decides which one a path is about (goals/{goalId}/steps/{stepId}
// is about the goal), with the kind of record each names.
var recordParams = [...][2]string{
	{"goalId", domain.ResourceGoal}, {"referralId", domain.ResourceReferral},
	{"conversationId", domain.ResourceConversation}, {"assessmentId", domain.ResourceAssessment}, {"clientId", domain.ResourceClient},
}

// logRolelessAttempt writes a denied entry in the access log of the client
// whose record a person without a Waypoint role asked for (say, a worker
// whose role was withdrawn at the provider): refused here, before any
// handler, they would otherwise leave no trace.
func (s *Server) logRolelessAttempt(ctx huma.Context, a domain.Actor) {
	for _, p := range recordParams {
		id, err := uuid.Parse(ctx.Param(p[0]))
		if err != nil {
			continue
		}
		if err := s.store.LogDenied(ctx.Context(), a, p[1], id); err != nil {
			s.log.Warn("log denied attempt", "error", err.Error())
		}
		return
	}
}

// invalidTokenDetail is the 401's detail for a refused token: the same terse
// sentence in production (the reason goes to the debug log), and in dev mode
// why, with the values compared, plus how to get a token this server accepts.
func (s *Server) invalidTokenDetail(ctx huma.Context, err error) string {
	const terse = "the access token is invalid or expired"
	reason := auth.Reason(err)
	if !s.dev || reason == "" {
		return terse
	}
	return "the access token is invalid: " + reason + " (dev mode; production answers only \"" + terse + "\"). " +
		"Get a token this server accepts: waypoint dev token --server http://" + ctx.Host() + " --subject alice"
}

func (s *Server) challenge(api huma.API, ctx huma.Context, status int, header, msg string) {
	ctx.SetHeader("WWW-Authenticate", header)
	_ = huma.WriteErr(api, ctx, status, msg)
}

func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
