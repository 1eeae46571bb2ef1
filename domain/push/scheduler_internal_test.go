package push

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// A push endpoint is client input: the default client never dials the
// deployment's own network (here, loopback), and follows no redirect.
func TestPublicHTTPClientRefusesLoopback(t *testing.T) {
	hit := false
	ts := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer ts.Close()
	_, err := PublicHTTPClient(5*time.Second).Post(ts.URL, "application/octet-stream", nil)
	if err == nil || !strings.Contains(err.Error(), "not public") || hit {
		t.Fatalf("a push to loopback: err %v, reached %v", err, hit)
	}
}

func TestBackoffAndTopic(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	if Backoff(30) != 6*time.Hour {
		t.Errorf("Backoff(30) = %s, want the 6 h cap", Backoff(30))
	}
	id := uuid.New()
	if tp := Topic(id); len(tp) != 32 || tp != Topic(id) || tp == Topic(uuid.New()) || strings.ContainsAny(tp, "+/=") {
		t.Errorf("Topic %q: want 32 URL-safe characters, one per reminder", tp)
	}
}

// Without the client's opt-in, nothing but the generic sentence leaves.
func TestPayloadIsGenericUnlessPreviews(t *testing.T) {
	d := domain.PushDelivery{ReminderID: uuid.New(), Kind: domain.AgendaCheckInDue, DueAt: time.Now(), Title: "Stay sober"}
	if p := payloadOf(d); p.Body != GenericMessage || p.Kind != "" || p.DueAt != nil || p.Tag != d.ReminderID.String() {
		t.Fatalf("without previews: %+v", p)
	}
	d.Previews = true
	if p := payloadOf(d); p.Body != "Time to check in: Stay sober" || p.Kind != domain.AgendaCheckInDue || p.DueAt == nil {
		t.Fatalf("with previews: %+v", p)
	}
}
