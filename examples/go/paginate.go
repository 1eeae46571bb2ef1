package main

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// Goals iterates over all of a client's goals, page by page: pass the
// previous page's next_cursor as cursor until there is none.
func (c *Client) Goals(ctx context.Context, clientID string) iter.Seq2[Goal, error] {
	return func(yield func(Goal, error) bool) {
		cursor := ""
		for {
			path := "/v1/clients/" + clientID + "/goals?limit=100"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			var page Page[Goal]
			if _, err := c.withRetry(ctx, func() (*http.Response, error) {
				return c.do(ctx, http.MethodGet, path, nil, &page)
			}); err != nil {
				yield(Goal{}, err)
				return
			}
			for _, g := range page.Items {
				if !yield(g, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			cursor = page.NextCursor
		}
	}
}
