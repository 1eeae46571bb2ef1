package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	base := os.Getenv("WAYPOINT_URL")
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	c := &Client{BaseURL: base, Tokens: NewTokenSource(base+"/dev/oidc/token", os.Getenv("WAYPOINT_CLIENT_ID"),
		os.Getenv("WAYPOINT_TOKEN"), os.Getenv("WAYPOINT_REFRESH_TOKEN"), time.Hour)}
	if err := run(ctx, c); err != nil {
		log.Fatal(err)
	}
}

// run signs in as a client (WAYPOINT_TOKEN from `waypoint dev token --subject alice`),
// creates a goal, renames it, lists every goal and, with -events, follows the live events.
func run(ctx context.Context, c *Client) error {
	me, err := c.Me(ctx)
	if err != nil {
		return err
	}
	if me.ClientID == "" {
		return fmt.Errorf("%s is not a client: sign in as alice", me.DisplayName)
	}
	g, err := c.CreateGoal(ctx, me.ClientID, "Find a quiet place to study")
	if err != nil {
		return err
	}
	if g, err = c.RenameGoal(ctx, g.ID, "Find a quiet place to study, near the bus"); err != nil {
		return err
	}
	fmt.Printf("created %s %q (version %d)\n", g.ID, g.Title, g.Version)
	for goal, err := range c.Goals(ctx, me.ClientID) {
		if err != nil {
			return err
		}
		fmt.Printf("%s\t%s\t%s\n", goal.ID, goal.LifecycleStatus, goal.Title)
	}
	if len(os.Args) > 1 && os.Args[1] == "-events" {
		return c.Events(ctx, func(ev Event) { fmt.Printf("%s %s %s\n", ev.ID, ev.Type, ev.Data) })
	}
	return nil
}
