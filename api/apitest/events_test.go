package apitest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

const (
	evID     = "0193f5e2-6c1a-7b3e-9d2f-3a4b5c6d7e8f"
	evClient = "0193f5e2-6c1a-7b3e-9d2f-3a4b5c6d7e80"
	evGoal   = "0193f5e2-6c1a-7b3e-9d2f-3a4b5c6d7e81"
)

// goalFrame is a goal.updated frame at position 42 whose data member is data.
func goalFrame(event, typ, data string) Frame {
	return Frame{ID: "42", Event: event, Data: fmt.Sprintf(`{"id":%q,"seq":42,"type":%q,"client_id":%q,"subject_id":%q,`+
		`"created_at":"2025-01-02T03:04:05Z","data":%s}`, evID, typ, evClient, evGoal, data)}
}

const goalData = `{"goal_id":"` + evGoal + `","version":3,"change":"updated","fields":["title"]}`

// The checker, with the committed asyncapi.yaml, must catch each way a
// frame can break the event contract, and let conforming frames through.
func TestEventContractCheck(t *testing.T) {
	c := TheEventContract(t)
	for _, want := range []string{"conversation.created", "message.created", "message.read", "goal.updated", "goal.proposed",
		"referral.updated", "goal.hidden", "conversation.hidden", "resync"} {
		if !slices.Contains(c.Events(), want) {
			t.Fatalf("the contract lacks %s: %v", want, c.Events())
		}
	}
	cases := []struct {
		name    string
		f       Frame
		wantErr string // "" means conforming
	}{
		{"conforming goal.updated", goalFrame("goal.updated", "goal.updated", goalData), ""},
		{"conforming goal.proposed", goalFrame("goal.proposed", "goal.proposed", `{"goal_id":"`+evGoal+`","version":1,"change":"created"}`), ""},
		{"conforming resync", Frame{ID: "7", Event: "resync", Data: `{"seq":7,"reason":"missed too much"}`}, ""},
		{"conforming referral.updated", Frame{ID: "9", Event: "referral.updated", Data: fmt.Sprintf(`{"id":%q,"seq":9,"type":"referral.updated",`+
			`"client_id":%q,"created_at":"2025-01-02T03:04:05Z","data":{"referral_id":%q,"service_id":%q,"goal_id":null,"status":"sent","version":1}}`,
			evID, evClient, evGoal, evGoal)}, ""},
		{"the opening frame", Frame{ID: "0", Retry: "2000"}, ""},
		{"a heartbeat", Frame{Comment: "heartbeat"}, ""},

		{"unknown event type", goalFrame("goal.deleted", "goal.deleted", goalData), `"goal.deleted" is not a message`},
		{"type in data differs from event:", goalFrame("goal.updated", "goal.proposed", goalData), "at '/type'"},
		{"data member not in the schema", goalFrame("goal.updated", "goal.updated",
			`{"goal_id":"`+evGoal+`","version":3,"change":"updated","title":"Find a home"}`), "additional properties 'title'"},
		{"envelope member not in the schema", Frame{ID: "7", Event: "resync", Data: `{"seq":7,"reason":"x","extra":true}`}, "additional properties 'extra'"},
		{"change outside its enum", goalFrame("goal.updated", "goal.updated",
			`{"goal_id":"`+evGoal+`","version":3,"change":"renamed"}`), "at '/data/change'"},
		{"missing required data member", goalFrame("goal.updated", "goal.updated", `{"goal_id":"`+evGoal+`","change":"updated"}`), "missing property 'version'"},
		{"untyped data", goalFrame("goal.updated", "goal.updated", `{"i":1,"pad":"xxxx"}`), "additional properties"},
		{"id that is not a uuid", goalFrame("goal.updated", "goal.updated", `{"goal_id":"g1","version":3,"change":"updated"}`), "at '/data/goal_id'"},
		{"referral status outside its enum", Frame{ID: "9", Event: "referral.updated", Data: fmt.Sprintf(`{"id":%q,"seq":9,"type":"referral.updated",`+
			`"client_id":%q,"created_at":"2025-01-02T03:04:05Z","data":{"referral_id":%q,"service_id":%q,"goal_id":null,"status":"received","version":1}}`,
			evID, evClient, evGoal, evGoal)}, "at '/data/status'"},
		{"id: other than seq", func() Frame { f := goalFrame("goal.updated", "goal.updated", goalData); f.ID = "43"; return f }(), "seq"},
		{"data that is not JSON", Frame{ID: "7", Event: "resync", Data: `{"seq":7,`}, "not JSON"},
		{"data without an event", Frame{ID: "7", Data: `{}`}, "no event"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.CheckFrame(tc.f)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("conforming frame refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("frame let through, want an error about %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}

// recordingTB is a testing.TB that keeps Errorf calls instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// The reader every events test reads through fails its test on a frame
// off the contract, returns whole frames only, and parses SSE as browsers do.
func TestEventReaderChecksEveryFrame(t *testing.T) {
	good := goalFrame("goal.updated", "goal.updated", goalData)
	bad := goalFrame("goal.updated", "goal.updated", `{"goal_id":"`+evGoal+`","version":3,"change":"renamed"}`)
	stream := "retry: 2000\nid: 41\n\n" +
		": heartbeat\n\n" +
		"id: 42\nevent: goal.updated\ndata: " + good.Data + "\n\n" +
		"id: 42\nevent: goal.updated\ndata:" + bad.Data + "\n\n" + // no space after the colon: still the same data
		"id: 43\nevent: goal.updated\ndata: {\"cut" // a frame cut short: never dispatched
	rec := &recordingTB{TB: t}
	rd := ReadEvents(rec, strings.NewReader(stream))
	var got []Frame
	for f, ok := rd.Next(); ok; f, ok = rd.Next() {
		got = append(got, f)
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	want := []Frame{{ID: "41", Retry: "2000"}, {Comment: "heartbeat"}, good, bad}
	if !slices.Equal(got, want) {
		t.Fatalf("frames\n%+v\nwant\n%+v", got, want)
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "at '/data/change'") {
		t.Fatalf("reported %q, want exactly the bad frame's change", rec.errs)
	}
}
