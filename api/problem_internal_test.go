package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

// Every problem carries type (its page, or about:blank), title and status,
// as the contract requires, whatever its status and whether it has a detail.
func TestProblemAlwaysHasTypeTitleStatus(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusTooManyRequests, http.StatusInternalServerError, 499} {
		b, err := json.Marshal(newProblem(context.Background(), status, ""))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m["type"] != problemType(status) || m["type"] == "" || m["title"] == nil || m["status"] != float64(status) {
			t.Errorf("%d: %s", status, b)
		}
	}
}

// An empty page is an empty array, never null.
func TestEmptyPageItemsAreAnArray(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(newPage[int, int](nil, "", func(i int) int { return i }))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"items":[]}` {
		t.Fatalf("empty page: %s", b)
	}
}
