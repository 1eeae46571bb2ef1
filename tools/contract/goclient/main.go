// Command goclient is the smoke program for the Go client oapi-codegen
// generates from openapi/openapi.yaml (make test-clients): against a dev
// server (WAYPOINT_URL, WAYPOINT_TOKEN) it creates goals, lists them
// following next_cursor, and handles a 412 on a stale If-Match.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"time"

	"waypoint.example/goclient/gen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "go client:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	token := os.Getenv("WAYPOINT_TOKEN")
	c, err := waypoint.NewClientWithResponses(os.Getenv("WAYPOINT_URL"),
		waypoint.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	if err != nil {
		return err
	}

	me, err := c.GetMeWithResponse(ctx, &waypoint.GetMeParams{})
	if err != nil || me.JSON200 == nil || me.JSON200.ClientId == nil {
		return fmt.Errorf("GET /v1/me: %v %s", err, status(me))
	}
	clientID := *me.JSON200.ClientId

	var created []waypoint.Goal
	for _, title := range []string{"Find a dentist", "Renew my ID", "Open a bank account"} {
		key := rand.Text()
		r, err := c.CreateGoalWithResponse(ctx, clientID, &waypoint.CreateGoalParams{IdempotencyKey: &key},
			waypoint.GoalCreate{Title: "go: " + title})
		if err != nil || r.JSON201 == nil {
			return fmt.Errorf("create goal: %v %s", err, status(r))
		}
		created = append(created, *r.JSON201)
	}

	seen := map[string]bool{}
	pages := 0
	var cursor *string
	for {
		limit := int64(2)
		r, err := c.ListGoalsWithResponse(ctx, clientID, &waypoint.ListGoalsParams{Limit: &limit, Cursor: cursor})
		if err != nil || r.JSON200 == nil {
			return fmt.Errorf("list goals: %v %s", err, status(r))
		}
		pages++
		for _, g := range r.JSON200.Items {
			seen[g.Id.String()] = true
		}
		if r.JSON200.NextCursor == nil || pages == 100 {
			break
		}
		cursor = r.JSON200.NextCursor
	}
	if pages < 2 {
		return fmt.Errorf("expected several pages of 2, got %d", pages)
	}
	for _, g := range created {
		if !seen[g.Id.String()] {
			return fmt.Errorf("goal %s missing from the list", g.Id)
		}
	}

	g, err := c.GetGoalWithResponse(ctx, created[0].Id, &waypoint.GetGoalParams{})
	if err != nil || g.JSON200 == nil {
		return fmt.Errorf("get goal: %v %s", err, status(g))
	}
	etag := g.HTTPResponse.Header.Get("ETag")
	high := waypoint.GoalPatchPriority("high")
	patch := func(ifMatch string) (*waypoint.PatchGoalResponse, error) {
		return c.PatchGoalWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, created[0].Id,
			&waypoint.PatchGoalParams{IfMatch: &ifMatch}, waypoint.GoalPatch{Priority: &high})
	}
	ok, err := patch(etag)
	if err != nil || ok.JSON200 == nil {
		return fmt.Errorf("patch with the current ETag: %v %s", err, status(ok))
	}
	stale, err := patch(etag) // the version moved on
	if err != nil || stale.StatusCode() != http.StatusPreconditionFailed || stale.ApplicationproblemJSON412 == nil {
		return fmt.Errorf("stale If-Match: want 412 with a problem, got %v %s", err, status(stale))
	}
	if p := stale.ApplicationproblemJSON412; p.Type == "" || p.Status != http.StatusPreconditionFailed {
		return fmt.Errorf("412 problem: %+v", p)
	}
	retried, err := patch(stale.HTTPResponse.Header.Get("ETag"))
	if err != nil || retried.JSON200 == nil {
		return fmt.Errorf("retry with the ETag of the 412: %v %s", err, status(retried))
	}
	fmt.Printf("go client: ok (%d goals created, %d listed in %d pages, 412 handled)\n", len(created), len(seen), pages)
	return nil
}

// status describes a response for an error message.
func status[T any, P interface {
	*T
	Status() string
}](r P) string {
	if r == nil {
		return ""
	}
	return r.Status()
}
