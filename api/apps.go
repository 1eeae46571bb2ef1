package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// ClientApp is an app (OAuth2 client) that acted on the client's data, and
// the client's decision about it.
type ClientApp struct {
	AppID       string     `json:"app_id" rule:"app.id" example:"budget-buddy" doc:"The app's id: the azp or client_id of its tokens"`
	AppName     string     `json:"app_name" rule:"app.id" example:"budget-buddy" doc:"The app's name (its id: Waypoint keeps no app registry)"`
	FirstParty  bool       `json:"first_party" doc:"One of this service's own apps: it cannot be revoked, so the client cannot lock themself out"`
	Status      string     `json:"status" rule:"app.status" example:"allowed" doc:"allowed, or revoked by the client"`
	FirstUsedAt time.Time  `json:"first_used_at" doc:"When it first acted on the client's data"`
	LastUsedAt  time.Time  `json:"last_used_at" doc:"When it last did (recorded at most once a minute)"`
	ScopesUsed  []string   `json:"scopes_used" rule:"api.scopes" example:"[\"goals:read\"]" doc:"The scopes of the operations it used on the client's data"`
	RevokedAt   *time.Time `json:"revoked_at" doc:"When the client revoked it; null while allowed"`
}

func clientAppDTO(c domain.ClientApp) ClientApp {
	var revoked *time.Time
	if c.RevokedAt != nil {
		t := c.RevokedAt.UTC()
		revoked = &t
	}
	return ClientApp{AppID: c.AppID, AppName: c.Name, FirstParty: c.FirstParty, Status: c.Status(),
		FirstUsedAt: c.FirstUsedAt.UTC(), LastUsedAt: c.LastUsedAt.UTC(), ScopesUsed: orEmpty(c.ScopesUsed), RevokedAt: revoked}
}

// AppPath addresses one app of a client's.
type AppPath struct {
	ClientID uuid.UUID `path:"clientId" doc:"Client id"`
	AppID    string    `path:"appId" rule:"app.id" pattern:"^[^\\p{Cc}]+$" patternDescription:"text without control characters" example:"budget-buddy" doc:"The app's id (URL-encode it)"`
}

type listClientAppsInput struct {
	ClientPath
	PageParams
}

type clientAppsOutput struct {
	Body Page[ClientApp]
}

type clientAppOutput struct {
	Body ClientApp
}

func (s *Server) registerApps() {
	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/apps", "listClientApps", privacyTag, "List the apps that used the client's data",
		"Every app (the azp or client_id of a token) that acted on the client's data, whether the client's own requests through it "+
			"or someone else's, by app id: first and last use, the scopes used, and whether the client allows it. Only the client "+
			"sees their apps: their care team and administrators get 403, anyone else 404.",
		"privacy:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listClientAppsInput) (*clientAppsOutput, error) {
			rows, next, err := s.store.ListClientApps(ctx, actorFrom(ctx), s.apps, in.ClientID, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &clientAppsOutput{Body: newPage(rows, next, clientAppDTO)}, nil
		})

	handle(s.api, op(http.MethodPut, "/v1/clients/{clientId}/apps/{appId}", "allowClientApp", privacyTag, "Allow an app again",
		"The client allows an app they revoked: its tokens reach the client's data again from the next request. Idempotent "+
			"(allowing an allowed app changes nothing); no If-Match. Only the client: their care team and administrators get 403, "+
			"anyone else 404; an app that never acted on the client's data is 404 naming path.appId.",
		"privacy:write", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *AppPath) (*clientAppOutput, error) {
			c, err := s.store.AllowApp(ctx, actorFrom(ctx), s.apps, in.ClientID, in.AppID)
			if err != nil {
				return nil, err
			}
			return &clientAppOutput{Body: clientAppDTO(c)}, nil
		})

	o := op(http.MethodDelete, "/v1/clients/{clientId}/apps/{appId}", "revokeClientApp", privacyTag, "Revoke an app",
		"The client revokes an app: from the next request, that app's tokens (whoever they belong to) get 403 on this client's "+
			"data (and lists leave it out), and its open event streams stop delivering this client's events. Other clients are "+
			"unaffected. Idempotent (204 again for a revoked app); no If-Match. First-party apps (the service's own) cannot be "+
			"revoked: 409 says why. Only the client: their care team and administrators get 403, anyone else 404; an app that "+
			"never acted on the client's data is 404 naming path.appId.",
		"privacy:write", http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity)
	o.DefaultStatus = http.StatusNoContent
	handle(s.api, o, func(ctx context.Context, in *AppPath) (*struct{}, error) {
		_, err := s.store.RevokeApp(ctx, actorFrom(ctx), s.apps, in.ClientID, in.AppID)
		return nil, err
	})
}
