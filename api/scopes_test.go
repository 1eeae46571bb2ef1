package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

// Finding 5: scopes follow DESIGN.md's table. A write scope implies the read
// scope of its family (so what a write answers is data the token may read),
// a read scope never allows a write, and referrals are their own family.
func TestScopeFamilies(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	seedDirectory(t, e.Store)
	g := newGoal(t, w, w.alice, w.alice, map[string]any{})
	refs := "/v1/clients/" + w.alice.ClientID.String() + "/referrals"
	var ref struct {
		ID      string `json:"id"`
		Version int64  `json:"version"`
	}
	e.Do(http.MethodPost, refs, w.alice.Token, map[string]any{"service_id": svcBallard.String(), "goal_id": g.ID}).
		Want(t, http.StatusCreated).Decode(t, &ref)
	saved := "/v1/clients/" + w.alice.ClientID.String() + "/saved-services"
	e.Do(http.MethodPut, saved+"/"+svcBallard.String(), w.alice.Token, nil).Want(t, http.StatusCreated)
	app := func(scopes ...string) string {
		return e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes(scopes...), authtest.WithClaim("azp", "partner-app"))
	}
	ifm := func(v int64) string { return fmt.Sprintf(`"%d"`, v) }

	for _, tc := range []struct {
		name, scope, method, path string
		body                      any
		ifMatch                   func() string
		want                      int
	}{
		// Write implies read, in every family that has operations.
		{"goals:write reads a goal", "goals:write", http.MethodGet, goalPath(g.ID), nil, nil, 200},
		{"goals:write lists goals", "goals:write", http.MethodGet, goalsPath(w.alice), nil, nil, 200},
		{"goals:write reads history", "goals:write", http.MethodGet, goalPath(g.ID) + "/history", nil, nil, 200},
		{"profile:write reads the profile", "profile:write", http.MethodGet, w.aliceURL, nil, nil, 200},
		{"profile:write reads me", "profile:write", http.MethodGet, "/v1/me", nil, nil, 200},
		{"profile:write reads saved services", "profile:write", http.MethodGet, saved, nil, nil, 200},
		{"messages:write lists conversations", "messages:write", http.MethodGet, "/v1/conversations", nil, nil, 200},
		{"directory:write searches", "directory:write", http.MethodGet, "/v1/services/" + svcBallard.String(), nil, nil, 200},
		{"referrals:write reads a referral", "referrals:write", http.MethodGet, "/v1/referrals/" + ref.ID, nil, nil, 200},
		{"referrals:write lists referrals", "referrals:write", http.MethodGet, refs, nil, nil, 200},
		// Referrals are their own family.
		{"referrals:write refers", "referrals:write", http.MethodPost, refs, map[string]any{"service_id": svcShelter.String()}, nil, 201},
		{"referrals:write updates", "referrals:write", http.MethodPatch, "/v1/referrals/" + ref.ID, map[string]any{"note": "bring ID"},
			func() string { return ifm(ref.Version) }, 200},
		{"referrals:read reads", "referrals:read", http.MethodGet, "/v1/referrals/" + ref.ID, nil, nil, 200},
		{"goals:write does not refer", "goals:write", http.MethodPost, refs, map[string]any{"service_id": svcShelter.String()}, nil, 403},
		{"goals:write does not update a referral", "goals:write", http.MethodPatch, "/v1/referrals/" + ref.ID, map[string]any{"note": "x"},
			func() string { return ifm(ref.Version + 1) }, 403},
		{"services:read does not read referrals", "services:read", http.MethodGet, "/v1/referrals/" + ref.ID, nil, nil, 403},
		{"services:read does not list referrals", "services:read", http.MethodGet, refs, nil, nil, 403},
		// Saved services are the client's profile data, not the public directory.
		{"services:read does not read saved services", "services:read", http.MethodGet, saved, nil, nil, 403},
		{"profile:read reads saved services", "profile:read", http.MethodGet, saved, nil, nil, 200},
		// Read never implies write, and families do not mix.
		{"goals:read does not write", "goals:read", http.MethodPatch, goalPath(g.ID), map[string]any{"title": "x"},
			func() string { return ifm(g.Version) }, 403},
		{"referrals:read does not write", "referrals:read", http.MethodPost, refs, map[string]any{"service_id": svcShelter.String()}, nil, 403},
		{"goals:write does not read messages", "goals:write", http.MethodGet, "/v1/conversations", nil, nil, 403},
		{"messages:write does not read goals", "messages:write", http.MethodGet, goalPath(g.ID), nil, nil, 403},
		{"directory:write does not read saved services", "directory:write", http.MethodGet, saved, nil, nil, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.ifMatch != nil {
				hdr = []string{"If-Match", tc.ifMatch()}
			}
			r := e.Do(tc.method, tc.path, app(tc.scope), tc.body, hdr...)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.want == 403 {
				r.Problem(t, 403)
				if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) {
					t.Fatalf("WWW-Authenticate %q", h)
				}
			}
		})
	}
}

// The event stream applies the same rule per event: referral events need
// referrals:read (or referrals:write), goal events goals:read (or goals:write).
func TestStreamScopeFamilies(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	seedDirectory(t, e.Store)
	refs := "/v1/clients/" + tm.alice.ClientID.String() + "/referrals"
	for _, tc := range []struct {
		scopes []string
		want   string // the first event after a referral and then a conversation
	}{
		{[]string{"messages:read", "services:read", "goals:read"}, "conversation.created"},
		{[]string{"messages:read", "referrals:read"}, "referral.updated"},
		{[]string{"messages:write", "referrals:write"}, "referral.updated"},
	} {
		t.Run(fmt.Sprint(tc.scopes), func(t *testing.T) {
			tok := e.Issuer.Token(t, "wanda", []string{"worker"}, authtest.WithScopes(tc.scopes...))
			s := openStream(t, e.URL, tok, "")
			defer s.Close()
			s.Start()
			e.Do(http.MethodPost, refs, tm.alice.Token, map[string]any{"service_id": svcBallard.String()}).Want(t, http.StatusCreated)
			c := createConversation(t, e, tm.alice, map[string]any{"worker_ids": []uuid.UUID{tm.wanda.PersonID}})
			f, ev := s.Next()
			if f.Event != tc.want {
				t.Fatalf("first event %+v, want %s", f, tc.want)
			}
			if tc.want == "conversation.created" && eventData[api.ConversationCreatedData](t, ev).ConversationID != c.ID {
				t.Fatalf("conversation event %+v", ev)
			}
		})
	}
}
