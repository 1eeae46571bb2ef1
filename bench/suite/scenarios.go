package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// request builds a request with the bearer token and an optional JSON body.
func request(method, u, token, contentType, body string) (*http.Request, error) {
	var req *http.Request
	var err error
	if body == "" {
		req, err = http.NewRequest(method, u, nil)
	} else {
		req, err = http.NewRequest(method, u, strings.NewReader(body))
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// floored are the scenarios that have a floor, in report order.
func floored(f *fixtures) []scenario {
	goalURL := "/v1/goals/" + f.readGoal.String()
	return []scenario{
		{key: "goal-read-client", name: "Client goal read", call: "GET /v1/goals/{id} as the goal's client", floor: true,
			req: func(base string, _, _ int) (*http.Request, error) {
				return request(http.MethodGet, base+goalURL, f.clientTok, "", "")
			}, check: want(http.StatusOK)},
		{key: "goal-read-worker", name: "Worker goal read", call: "GET /v1/goals/{id} as a care team worker (writes the access log)", floor: true,
			req: func(base string, _, _ int) (*http.Request, error) {
				return request(http.MethodGet, base+goalURL, f.workerTok, "", "")
			}, check: want(http.StatusOK)},
		patchScenario(f),
		{key: "goal-list", name: "List a client's goals", call: "GET /v1/clients/{id}/goals as the client (5 goals)", floor: true,
			req: func(base string, _, _ int) (*http.Request, error) {
				return request(http.MethodGet, base+"/v1/clients/"+f.readClient.String()+"/goals", f.clientTok, "", "")
			}, check: want(http.StatusOK)},
		postScenario("message-post", "Post a message", "POST /v1/conversations/{id}/messages as the client, with Idempotency-Key",
			f.postConvs, f.clientTok, true),
	}
}

// patchScenario: each connection edits its own client's goal, sending the
// ETag of its last answer; every edit changes the title (a history row, an
// outbox event).
func patchScenario(f *fixtures) scenario {
	return scenario{key: "goal-patch", name: "Goal PATCH with If-Match",
		call: "PATCH /v1/goals/{id} as the goal's client, If-Match, new title", floor: true,
		req: func(base string, w, i int) (*http.Request, error) {
			t := f.patch[w]
			req, err := request(http.MethodPatch, base+"/v1/goals/"+t.goal.String(), t.token, "application/merge-patch+json",
				fmt.Sprintf(`{"title":"Bench edit %d.%d.%d"}`, w, i, time.Now().UnixNano()))
			if err == nil {
				req.Header.Set("If-Match", `"`+strconv.FormatInt(t.version, 10)+`"`)
			}
			return req, err
		},
		check: func(w int, _ time.Time, status int, h http.Header, body []byte) error {
			// The answer's ETag is the version to send next (also after a 412).
			if v, err := strconv.ParseInt(strings.Trim(h.Get("ETag"), `"`), 10, 64); err == nil {
				f.patch[w].version = v
			}
			if status != http.StatusOK {
				return fmt.Errorf("status %d: %.200s", status, body)
			}
			return nil
		}}
}

// postScenario posts to one conversation per connection, each request with
// a new Idempotency-Key.
func postScenario(key, name, call string, convs []uuid.UUID, token string, hasFloor bool) scenario {
	return scenario{key: key, name: name, call: call, floor: hasFloor,
		req: func(base string, w, i int) (*http.Request, error) {
			req, err := request(http.MethodPost, base+"/v1/conversations/"+convs[w].String()+"/messages", token, "application/json",
				fmt.Sprintf(`{"body":"Bench message %d/%d: see you on Thursday at the clinic."}`, w, i))
			if err == nil {
				req.Header.Set("Idempotency-Key", uuid.NewString())
			}
			return req, err
		}, check: want(http.StatusCreated)}
}

var searchTexts = []string{"food pantry", "food", "shelter", "legal aid", "dental", "counseling", "meals", "rent assistance",
	"immigration", "tax help", "job training", "clinic", "benefits snap"}

// directoryScenario varies the search like bench/directory: a text, a point
// within a few km of a directory location, a 2-10 km radius, open now; the
// first page of 20. Request i of connection w is the same in every round.
func directoryScenario(f *fixtures) scenario {
	return scenario{key: "directory-search", name: "Directory search",
		call: "GET /v1/services?search&lat&lon&radius_km&open_now=true (text + point + radius + open now)",
		req: func(base string, w, i int) (*http.Request, error) {
			rng := rand.New(rand.NewPCG(uint64(w)<<32|uint64(i), 42))
			c := f.points[rng.IntN(len(f.points))]
			q := url.Values{
				"search":    {searchTexts[rng.IntN(len(searchTexts))]},
				"lat":       {strconv.FormatFloat(c.lat+(rng.Float64()-0.5)*0.05, 'f', 4, 64)},
				"lon":       {strconv.FormatFloat(c.lon+(rng.Float64()-0.5)*0.07, 'f', 4, 64)},
				"radius_km": {strconv.Itoa(2 + rng.IntN(9))},
				"open_now":  {"true"},
			}
			return request(http.MethodGet, base+"/v1/services?"+q.Encode(), f.dirTok, "", "")
		}, check: want(http.StatusOK)}
}
