package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// HealthStatus reports liveness or readiness.
type HealthStatus struct {
	Status string `json:"status" enum:"ok,unavailable" example:"ok" doc:"ok when healthy"`
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
		"Answers 200 when the database is reachable, else 503 with Retry-After, so a load balancer sends traffic elsewhere.", "", http.StatusServiceUnavailable)
	handle(s.api, o, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := s.store.Ping(pctx); err != nil {
			s.log.Warn("readiness check failed", "error", err.Error())
			return nil, huma.ErrorWithHeaders(newProblem(ctx, http.StatusServiceUnavailable, "database unreachable"),
				http.Header{"Retry-After": []string{"5"}})
		}
		return &healthOutput{CacheControl: "no-store", Body: HealthStatus{Status: "ok"}}, nil
	})
}
