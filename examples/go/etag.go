package main

import (
	"context"
	"fmt"
	"net/http"
)

// RenameGoal changes a goal's title without overwriting anyone's concurrent
// edit: read the goal (its ETag), PATCH with If-Match; on 412 someone else
// changed it first, so read it again and reapply the change.
func (c *Client) RenameGoal(ctx context.Context, goalID, title string) (Goal, error) {
	for attempt := 0; attempt < 3; attempt++ {
		var cur Goal
		res, err := c.do(ctx, http.MethodGet, "/v1/goals/"+goalID, nil, &cur)
		if err != nil {
			return Goal{}, err
		}
		etag := res.Header.Get("ETag") // strong, e.g. "4"
		var g Goal
		_, err = c.do(ctx, http.MethodPatch, "/v1/goals/"+goalID, map[string]any{"title": title}, &g, "If-Match", etag)
		if IsStatus(err, http.StatusPreconditionFailed) {
			continue // stale: re-read and reapply
		}
		return g, err
	}
	return Goal{}, fmt.Errorf("goal %s kept changing; giving up", goalID)
}
