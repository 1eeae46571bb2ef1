package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/api/server"
	"github.com/waypoint-portal/waypoint/domain"
)

// BenchmarkHotPaths measures the calls of issue #12's floored scenarios
// (bench/suite) through the whole handler chain, as `waypoint serve` builds
// it (api/server.New), without the network: allocations per request
// (-benchmem) and what each request costs the database, counted on the
// pool (domain.StatementCounter): statements sent (round trips) and commits
// that may carry writes (each is a WAL flush when it wrote). These are the stable
// measures of docs/benchmarks.md; time per request here is the server's
// CPU plus PostgreSQL's, on whatever else the machine runs.
//
//	go test -run '^$' -bench HotPaths -benchmem ./api/
//
// HOTPATH_SQL=1 prints every statement sent.
func BenchmarkHotPaths(b *testing.B) {
	e := apitest.New(b)
	client := e.Login("bench-client", "client")
	worker := e.Login("bench-worker", "worker")
	admin := e.Login("bench-admin", "admin")
	e.Do(http.MethodPut, "/v1/clients/"+client.ClientID.String()+"/care-team/"+worker.PersonID.String(), admin.Token, nil).
		Want(b, http.StatusCreated)
	// Five goals, as the suite seeds them: three steps and four self-ratings each.
	var goals []string
	for i := range 5 {
		var g struct {
			ID string `json:"id"`
		}
		e.Do(http.MethodPost, "/v1/clients/"+client.ClientID.String()+"/goals", client.Token, map[string]any{
			"title": fmt.Sprintf("Goal %d", i), "steps": []map[string]any{{"title": "one"}, {"title": "two"}, {"title": "three"}},
		}).Want(b, http.StatusCreated).Decode(b, &g)
		for r := range 4 {
			e.Do(http.MethodPost, "/v1/goals/"+g.ID+"/check-ins", client.Token, map[string]any{"rating": 3 + r}).Want(b, http.StatusCreated)
		}
		goals = append(goals, g.ID)
	}
	var conv struct {
		ID string `json:"id"`
	}
	e.Do(http.MethodPost, "/v1/conversations", client.Token, map[string]any{}).Want(b, http.StatusCreated).Decode(b, &conv)

	tr := domain.NewStatementCounter(os.Getenv("HOTPATH_SQL") != "")
	db, err := domain.OpenDB(context.Background(), domain.DBConfig{URL: e.DBURL, MaxOpenConns: 20, Statements: tr})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	srv, err := server.New(context.Background(), server.Config{Store: domain.NewStore(db), Auth: e.Issuer.Config(),
		RateLimits: apitest.Unthrottled(), AccessLog: server.AccessLogConfig{PruneEvery: -1}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	h := srv.Handler()

	do := func(b *testing.B, req *http.Request, want int) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatalf("%s %s: %d, want %d: %s", req.Method, req.URL, w.Code, want, w.Body)
		}
		return w
	}
	get := func(token, path string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		return r
	}
	run := func(name string, req func(i int) (*http.Request, int), after func(*httptest.ResponseRecorder)) {
		b.Run(name, func(b *testing.B) {
			r, want := req(-1)
			w := do(b, r, want) // first use: token verified, person provisioned, statements prepared
			if after != nil {
				after(w)
			}
			tr.Reset()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, want := req(i)
				w := do(b, r, want)
				if after != nil {
					after(w)
				}
			}
			b.StopTimer()
			st := tr.Counts()
			b.ReportMetric(float64(st.Statements)/float64(b.N), "statements/op")
			b.ReportMetric(float64(st.Commits)/float64(b.N), "commits/op")
			b.ReportMetric(float64(st.Positioner)/float64(b.N), "positioner-statements/op")
		})
	}

	run("goal-read-client", func(int) (*http.Request, int) { return get(client.Token, "/v1/goals/"+goals[0]), http.StatusOK }, nil)
	run("goal-read-worker", func(int) (*http.Request, int) { return get(worker.Token, "/v1/goals/"+goals[0]), http.StatusOK }, nil)
	run("goal-list", func(int) (*http.Request, int) {
		return get(client.Token, "/v1/clients/"+client.ClientID.String()+"/goals"), http.StatusOK
	}, nil)
	etag := ""
	run("goal-patch", func(i int) (*http.Request, int) {
		if etag == "" {
			etag = do(b, get(client.Token, "/v1/goals/"+goals[1]), http.StatusOK).Header().Get("ETag")
		}
		r := httptest.NewRequest(http.MethodPatch, "/v1/goals/"+goals[1], strings.NewReader(fmt.Sprintf(`{"title":"Title %d"}`, i)))
		r.Header.Set("Authorization", "Bearer "+client.Token)
		r.Header.Set("Content-Type", "application/merge-patch+json")
		r.Header.Set("If-Match", etag)
		return r, http.StatusOK
	}, func(w *httptest.ResponseRecorder) { etag = w.Header().Get("ETag") })
	run("message-post", func(int) (*http.Request, int) {
		r := httptest.NewRequest(http.MethodPost, "/v1/conversations/"+conv.ID+"/messages", strings.NewReader(`{"body":"See you on Thursday"}`))
		r.Header.Set("Authorization", "Bearer "+client.Token)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Idempotency-Key", uuid.NewString())
		return r, http.StatusCreated
	}, nil)
	_ = api.Version
}
