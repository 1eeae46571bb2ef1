package main

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"time"
)

// Event is one Server-Sent Event of GET /v1/events.
type Event struct {
	ID   string // the stream position; resume after it with Last-Event-ID
	Type string // e.g. message.created, goal.updated
	Data string // JSON: {"id","seq","type","client_id","subject_id","created_at","data"}
}

// Events reads the caller's live events and calls handle for each, forever:
// when the connection drops it reconnects with Last-Event-ID set to the last
// id seen, and Waypoint replays what was missed (up to 24 h / 1000 events; a
// "resync" event means reload your data, then continue). EventSource cannot
// send Authorization, so this is plain net/http.
func (c *Client) Events(ctx context.Context, handle func(Event)) error {
	last := ""
	retry := 2 * time.Second
	for ctx.Err() == nil {
		err := c.readEvents(ctx, &last, &retry, handle)
		if IsStatus(err, http.StatusUnauthorized) || IsStatus(err, http.StatusForbidden) {
			return err // a token problem will not fix itself by reconnecting
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
	return ctx.Err()
}

func (c *Client) readEvents(ctx context.Context, last *string, retry *time.Duration, handle func(Event)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/v1/events", nil)
	if err != nil {
		return err
	}
	tok, err := c.Tokens.Token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "text/event-stream")
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return problemOf(res)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var ev Event
	var data []string
	for sc.Scan() {
		line := sc.Text()
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "": // end of an event
			if ev.ID != "" {
				*last = ev.ID
			}
			if len(data) > 0 {
				ev.Data = strings.Join(data, "\n")
				if ev.Type == "" {
					ev.Type = "message"
				}
				handle(ev)
			}
			ev, data = Event{}, nil
		case field == "": // a comment (heartbeat)
		case field == "id":
			ev.ID = value
		case field == "event":
			ev.Type = value
		case field == "data":
			data = append(data, value)
		case field == "retry":
			if ms, err := time.ParseDuration(value + "ms"); err == nil {
				*retry = ms
			}
		}
	}
	return sc.Err()
}
