package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// HealthStatus reports liveness or readiness.
type HealthStatus struct {
	Status string      `json:"status" enum:"ok,unavailable" example:"ok" doc:"ok when healthy"`
	Push   *PushStatus `json:"push,omitempty" doc:"Readiness only: whether reminders are pushed to phones"`
}

// PushStatus says whether Web Push reminders are sent, and the VAPID public
// key a front end passes to pushManager.subscribe (applicationServerKey).
type PushStatus struct {
	Enabled        bool   `json:"enabled" doc:"false when the server has no VAPID keys (WAYPOINT_VAPID_PUBLIC_KEY, WAYPOINT_VAPID_PRIVATE_KEY): reminders are on the agenda and the event stream, not on phones"`
	VAPIDPublicKey string `json:"vapid_public_key,omitempty" rule:"push.key" example:"BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U" doc:"The server's VAPID public key (base64url), for applicationServerKey"`
}

// PushInfo is what the API says about Web Push (GET /readyz).
type PushInfo struct {
	Enabled   bool
	PublicKey string
}

type healthOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         HealthStatus
}

func (s *Server) registerHealth() {
	handle(s.api, op(http.MethodGet, "/healthz", "getHealth", "Operations", "Liveness",
		"Answers 200 while the process is up. It does not touch the database, so an orchestrator does not restart healthy processes during a database outage.", ""),
		func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
			return &healthOutput{CacheControl: "no-store", Body: HealthStatus{Status: "ok"}}, nil
		})

	o := op(http.MethodGet, "/readyz", "getReadiness", "Operations", "Readiness",
		"Answers 200 when the database is reachable, else 503 with Retry-After, so a load balancer sends traffic elsewhere. "+
			"push says whether reminders are pushed to phones (no VAPID keys configured: disabled) and gives the VAPID public key for pushManager.subscribe.", "", http.StatusServiceUnavailable)
	handle(s.api, o, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := s.store.Ping(pctx); err != nil {
			s.log.Warn("readiness check failed", "error", err.Error())
			return nil, huma.ErrorWithHeaders(newProblem(ctx, http.StatusServiceUnavailable, "database unreachable"),
				http.Header{"Retry-After": []string{"5"}})
		}
		return &healthOutput{CacheControl: "no-store", Body: HealthStatus{Status: "ok",
			Push: &PushStatus{Enabled: s.push.Enabled, VAPIDPublicKey: s.push.PublicKey}}}, nil
	})
}
