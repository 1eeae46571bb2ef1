package api_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/domain"
)

// Follow-up (issue #15): check-in cadence, the agenda, push subscriptions.

type agendaItemView struct {
	Kind     string    `json:"kind"`
	DueAt    time.Time `json:"due_at"`
	ClientID string    `json:"client_id"`
	Title    string    `json:"title"`
	Ref      struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"ref"`
	GoalID  *string `json:"goal_id"`
	Overdue bool    `json:"overdue"`
}

type agendaPage struct {
	Items      []agendaItemView `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

func agenda(t *testing.T, e *apitest.Env, who apitest.User, query string) (agendaPage, *apitest.Resp) {
	t.Helper()
	var p agendaPage
	r := e.Do(http.MethodGet, "/v1/me/agenda"+query, who.Token, nil).Want(t, http.StatusOK)
	r.Decode(t, &p)
	return p, r
}

func agendaRefs(p agendaPage) []string {
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.Kind+":"+it.Ref.ID)
	}
	return out
}

// setContact patches a client's contact preferences (If-Match: *).
func setContact(e *apitest.Env, who, client apitest.User, prefs map[string]any) *apitest.Resp {
	return e.Do(http.MethodPatch, clientURL(client), who.Token, map[string]any{"contact_preferences": prefs}, "If-Match", "*")
}

func execSQL(t *testing.T, e *apitest.Env, q string, args ...any) {
	t.Helper()
	if err := e.DB.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestAgendaForClientAndWorker(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	seedDirectory(t, e.Store)
	// Alice lives in Los Angeles: her days start at midnight there.
	setContact(e, tm.alice, tm.alice, map[string]any{"time_zone": "America/Los_Angeles"}).Want(t, http.StatusOK)
	la, _ := time.LoadLocation("America/Los_Angeles")
	today := time.Now().In(la)
	day := func(d int) string { return today.AddDate(0, 0, d).Format(time.DateOnly) }
	startOf := func(d int) time.Time {
		y, m, dd := today.AddDate(0, 0, d).Date()
		return time.Date(y, m, dd, 0, 0, 0, 0, la)
	}

	shared := teamGoal(t, e, tm.alice, tm.alice, map[string]any{"title": "Find a stable place to live",
		"steps": []any{map[string]any{"title": "Call the housing office", "due_date": day(-1)},
			map[string]any{"title": "Visit two flats", "due_date": day(3)}, map[string]any{"title": "No date"}}})
	private := teamGoal(t, e, tm.alice, tm.alice, map[string]any{"title": "Leave safely", "visibility": "private",
		"steps": []any{map[string]any{"title": "Pack a bag", "due_date": day(-2)}}})
	sud := teamGoal(t, e, tm.alice, tm.alice, map[string]any{"title": "Stay sober", "sensitivity": "sud"})
	// Wanda has Alice's consent for sud records; Will does not.
	e.Do(http.MethodPut, consentPath(tm.alice, tm.wanda), tm.alice.Token, nil).Want(t, http.StatusCreated)

	// The cadence is the client's choice alone.
	patchTeamGoal(t, e, tm.wanda, shared.ID, map[string]any{"check_in_every": "P7D"}).Problem(t, http.StatusForbidden)
	patchTeamGoal(t, e, tm.oscar, shared.ID, map[string]any{"check_in_every": "P7D"}).Problem(t, http.StatusNotFound)
	for _, bad := range []any{"P0D", "P2Y", "PT1H", "7 days", "P", "p7d", 7} {
		patchTeamGoal(t, e, tm.alice, shared.ID, map[string]any{"check_in_every": bad}).Problem(t, http.StatusUnprocessableEntity)
	}
	var g goalView
	patchTeamGoal(t, e, tm.alice, sud.ID, map[string]any{"check_in_every": "P1W"}).Want(t, http.StatusOK)
	r := patchTeamGoal(t, e, tm.alice, shared.ID, map[string]any{"check_in_every": "P7D"}).Want(t, http.StatusOK)
	var withCadence struct {
		CheckInEvery *string `json:"check_in_every"`
	}
	r.Decode(t, &withCadence)
	if withCadence.CheckInEvery == nil || *withCadence.CheckInEvery != "P7D" {
		t.Fatalf("check_in_every = %v, want P7D", withCadence.CheckInEvery)
	}
	r.Decode(t, &g)
	if n := countRows(t, e, `SELECT count(*) FROM goal_history WHERE goal_id = ? AND field = 'check_in_every'`, shared.ID); n != 1 {
		t.Fatalf("%d history rows for check_in_every, want 1", n)
	}
	// A week and a day ago for the shared goal: its check-in is overdue; the sud goal's is due in a week.
	execSQL(t, e, `UPDATE goals SET check_in_since = now() - interval '8 days' WHERE id = ?`, shared.ID)
	// A check-in by the worker does not count; the client's does (below).
	e.Do(http.MethodPost, goalPath(shared.ID)+"/check-ins", tm.wanda.Token, map[string]any{"rating": 5}).Want(t, http.StatusCreated)

	ref := newReferral(t, e, tm.wanda, tm.alice, map[string]any{"service_id": svcShelter.String()})
	execSQL(t, e, `UPDATE referrals SET updated_at = now() - interval '20 days' WHERE id = ?`, ref.ID)
	fresh := newReferral(t, e, tm.alice, tm.alice, map[string]any{"service_id": svcBallard.String()})
	// Bob's record is Oscar's, not Wanda's.
	bobGoal := teamGoal(t, e, tm.bob, tm.bob, map[string]any{"title": "Bob's", "steps": []any{map[string]any{"title": "x", "due_date": day(0)}}})

	steps := func(id string) []string {
		var s []string
		if err := e.DB.Raw(`SELECT id::text FROM goal_steps WHERE goal_id = ? ORDER BY position`, id).Scan(&s).Error; err != nil {
			t.Fatal(err)
		}
		return s
	}
	sharedSteps, privateSteps := steps(shared.ID), steps(private.ID)

	mine, resp := agenda(t, e, tm.alice, "")
	want := []string{"referral_follow_up:" + ref.ID, "step_due:" + privateSteps[0], "step_due:" + sharedSteps[0],
		"check_in_due:" + shared.ID, "step_due:" + sharedSteps[1], "check_in_due:" + sud.ID, "referral_follow_up:" + fresh.ID}
	got := agendaRefs(mine)
	if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
		t.Fatalf("alice's agenda %v, want %v", got, want)
	}
	for i := 1; i < len(mine.Items); i++ {
		if mine.Items[i].DueAt.Before(mine.Items[i-1].DueAt) {
			t.Fatalf("agenda not ordered by due_at: %v", mine.Items)
		}
	}
	wantNotice(t, resp, true, "alice's agenda with her sud goal")
	for _, it := range mine.Items {
		switch it.Ref.ID {
		case sharedSteps[0]:
			if !it.DueAt.Equal(startOf(-1)) || !it.Overdue || it.Title != "Call the housing office" || *it.GoalID != shared.ID {
				t.Fatalf("yesterday's step: %+v, want due %v (midnight in Los Angeles), overdue", it, startOf(-1))
			}
		case sharedSteps[1]:
			if !it.DueAt.Equal(startOf(3)) || it.Overdue {
				t.Fatalf("a step due in 3 days: %+v", it)
			}
		case shared.ID:
			if !it.Overdue || it.Ref.Type != "goal" {
				t.Fatalf("the check-in a day past its week: %+v", it)
			}
		case sud.ID:
			if it.Overdue || it.DueAt.Before(time.Now().Add(6*24*time.Hour)) {
				t.Fatalf("the sud goal's check-in is due in a week: %+v", it)
			}
		case ref.ID:
			if !it.Overdue || it.Ref.Type != "referral" || it.Title != "Georgetown Night Shelter" {
				t.Fatalf("the referral untouched for 20 days: %+v", it)
			}
		}
		if it.Ref.ID == fresh.ID && (it.Overdue || it.DueAt.Before(time.Now().Add(13*24*time.Hour))) {
			t.Fatalf("a referral made today needs a follow-up in 14 days: %+v", it)
		}
		if it.Ref.ID == bobGoal.ID {
			t.Fatalf("alice's agenda lists %+v", it)
		}
	}

	// The client's own check-in moves the goal's next check-in a cadence on from now (the worker's did not).
	e.Do(http.MethodPost, goalPath(shared.ID)+"/check-ins", tm.alice.Token, map[string]any{"rating": 6}).Want(t, http.StatusCreated)
	mine, _ = agenda(t, e, tm.alice, "?limit=100")
	for _, it := range mine.Items {
		if it.Ref.ID == shared.ID && (it.Overdue || it.DueAt.Before(time.Now().Add(6*24*time.Hour))) {
			t.Fatalf("after the client's check-in: %+v, want due in a week", it)
		}
	}

	// Wanda: Alice's items but the private goal's; the sud goal with the notice (she has consent).
	wanda, resp := agenda(t, e, tm.wanda, "?limit=100")
	gotW := agendaRefs(wanda)
	if slices.Contains(gotW, "step_due:"+privateSteps[0]) || !slices.Contains(gotW, "check_in_due:"+sud.ID) ||
		!slices.Contains(gotW, "referral_follow_up:"+ref.ID) || len(gotW) != len(want)-1 {
		t.Fatalf("wanda's agenda %v", gotW)
	}
	wantNotice(t, resp, true, "wanda's agenda")
	if n := countRows(t, e, `SELECT count(*) FROM access_log WHERE client_id = ? AND actor_person_id = ? AND action = 'read'
		AND resource IN ('goal', 'referral')`, tm.alice.ClientID, tm.wanda.PersonID); n < int64(len(gotW)) {
		t.Fatalf("%d access-log entries for wanda's agenda of %d items", n, len(gotW))
	}
	// Will: neither the private goal nor the sud one.
	will, resp := agenda(t, e, tm.will, "?limit=100")
	gotL := agendaRefs(will)
	if slices.Contains(gotL, "check_in_due:"+sud.ID) || slices.Contains(gotL, "step_due:"+privateSteps[0]) || len(gotL) != len(want)-2 {
		t.Fatalf("will's agenda %v", gotL)
	}
	wantNotice(t, resp, false, "will's agenda")
	// Oscar sees Bob's step only; the admin and bob's own view hold nothing of Alice's.
	oscar, _ := agenda(t, e, tm.oscar, "")
	if len(oscar.Items) != 1 || oscar.Items[0].ClientID != tm.bob.ClientID.String() {
		t.Fatalf("oscar's agenda %v", agendaRefs(oscar))
	}
	if admin, _ := agenda(t, e, tm.adam, ""); len(admin.Items) != 0 {
		t.Fatalf("the admin's agenda %v", agendaRefs(admin))
	}

	// Paging: one item a page walks the same list, in the same order.
	var walked []string
	cursor := ""
	for range 20 {
		p, _ := agenda(t, e, tm.alice, "?limit=1&cursor="+cursor)
		walked = append(walked, agendaRefs(p)...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if all := agendaRefs(mine); !slices.Equal(walked, all) {
		t.Fatalf("paged %v, whole %v", walked, all)
	}
	// The window: from..to, bounded.
	narrow, _ := agenda(t, e, tm.alice, "?from="+startOf(2).UTC().Format(time.RFC3339)+"&to="+startOf(4).UTC().Format(time.RFC3339))
	if got := agendaRefs(narrow); !slices.Equal(got, []string{"step_due:" + sharedSteps[1]}) {
		t.Fatalf("agenda of days 2-4: %v", got)
	}
	now := time.Now().UTC()
	for _, q := range []string{
		"?from=" + now.Format(time.RFC3339) + "&to=" + now.Add(-time.Hour).Format(time.RFC3339),
		"?from=" + now.Format(time.RFC3339) + "&to=" + now.Add(400*24*time.Hour).Format(time.RFC3339),
		"?cursor=bm90LWEtY3Vyc29y",
	} {
		e.Do(http.MethodGet, "/v1/me/agenda"+q, tm.alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// pushKeys makes a browser's subscription keys: a P-256 key pair and an auth secret.
func pushKeys(t testing.TB) (*ecdh.PrivateKey, []byte) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	return k, auth
}

func subscriptionBody(endpoint string, k *ecdh.PrivateKey, auth []byte) map[string]any {
	return map[string]any{"endpoint": endpoint, "expirationTime": nil, "keys": map[string]any{
		"p256dh": base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), "auth": base64.RawURLEncoding.EncodeToString(auth)}}
}

func TestPushSubscriptions(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	k, auth := pushKeys(t)
	body := subscriptionBody("https://push.example.org/send/abc", k, auth)
	var sub struct {
		ID       string `json:"id"`
		Endpoint string `json:"endpoint"`
	}
	r := e.Do(http.MethodPost, "/v1/me/push-subscriptions", tm.alice.Token, body).Want(t, http.StatusCreated)
	r.Decode(t, &sub)
	if r.Header.Get("Location") != "/v1/me/push-subscriptions/"+sub.ID || sub.Endpoint != "https://push.example.org/send/abc" {
		t.Fatalf("created %+v at %q", sub, r.Header.Get("Location"))
	}
	// The same browser again: the same subscription.
	var again struct{ ID string }
	e.Do(http.MethodPost, "/v1/me/push-subscriptions", tm.alice.Token, body).Want(t, http.StatusOK).Decode(t, &again)
	if again.ID != sub.ID {
		t.Fatalf("resubscribing made %s, want %s", again.ID, sub.ID)
	}
	if ids := listIDs(t, e.Do(http.MethodGet, "/v1/me/push-subscriptions", tm.alice.Token, nil).Want(t, http.StatusOK)); !slices.Equal(ids, []string{sub.ID}) {
		t.Fatalf("alice's subscriptions %v", ids)
	}
	if ids := listIDs(t, e.Do(http.MethodGet, "/v1/me/push-subscriptions", tm.bob.Token, nil).Want(t, http.StatusOK)); len(ids) != 0 {
		t.Fatalf("bob sees subscriptions %v", ids)
	}
	// Hostile and malformed subscriptions.
	notOnCurve := append([]byte{4}, make([]byte, 64)...)
	notOnCurve[10] = 1
	for name, b := range map[string]map[string]any{
		"http":           subscriptionBody("http://push.example.org/x", k, auth),
		"credentials":    subscriptionBody("https://user:pw@push.example.org/x", k, auth),
		"not a URL":      subscriptionBody("https://", k, auth),
		"compressed key": {"endpoint": "https://push.example.org/y", "keys": map[string]any{"p256dh": base64.RawURLEncoding.EncodeToString(append([]byte{2}, make([]byte, 32)...)), "auth": base64.RawURLEncoding.EncodeToString(auth)}},
		"off the curve":  {"endpoint": "https://push.example.org/y", "keys": map[string]any{"p256dh": base64.RawURLEncoding.EncodeToString(notOnCurve), "auth": base64.RawURLEncoding.EncodeToString(auth)}},
		"short auth":     {"endpoint": "https://push.example.org/y", "keys": map[string]any{"p256dh": base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), "auth": base64.RawURLEncoding.EncodeToString(auth[:15])}},
		"not base64":     {"endpoint": "https://push.example.org/y", "keys": map[string]any{"p256dh": "!!!", "auth": "???"}},
	} {
		if p := e.Do(http.MethodPost, "/v1/me/push-subscriptions", tm.alice.Token, b).Problem(t, http.StatusUnprocessableEntity); p == nil {
			t.Fatal(name)
		}
	}
	// Only clients have reminders; nobody touches another's subscription.
	e.Do(http.MethodPost, "/v1/me/push-subscriptions", tm.wanda.Token, body).Problem(t, http.StatusForbidden)
	e.Do(http.MethodDelete, "/v1/me/push-subscriptions/"+sub.ID, tm.bob.Token, nil).Problem(t, http.StatusNotFound)
	e.Do(http.MethodDelete, "/v1/me/push-subscriptions/"+sub.ID, tm.alice.Token, nil).Want(t, http.StatusNoContent)
	e.Do(http.MethodDelete, "/v1/me/push-subscriptions/"+sub.ID, tm.alice.Token, nil).Problem(t, http.StatusNotFound)
	// At most MaxPushSubscriptions per client.
	for i := range domain.MaxPushSubscriptions {
		kk, aa := pushKeys(t)
		e.Do(http.MethodPost, "/v1/me/push-subscriptions", tm.alice.Token,
			subscriptionBody("https://push.example.org/n/"+string(rune('a'+i)), kk, aa)).Want(t, http.StatusCreated)
	}
	e.Do(http.MethodPost, "/v1/me/push-subscriptions", tm.alice.Token, body).Problem(t, http.StatusConflict)
}

func TestContactPreferencesForReminders(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	for _, bad := range []map[string]any{
		{"time_zone": "Mars/Olympus_Mons"}, {"time_zone": "Local"}, {"time_zone": 5},
		{"quiet_hours": map[string]any{"start": "25:00", "end": "07:00"}}, {"quiet_hours": map[string]any{"start": "22:00"}},
		{"push_previews": "yes"},
	} {
		setContact(e, tm.alice, tm.alice, bad).Problem(t, http.StatusUnprocessableEntity)
	}
	// Previews are the client's decision alone.
	setContact(e, tm.wanda, tm.alice, map[string]any{"push_previews": true}).Problem(t, http.StatusForbidden)
	setContact(e, tm.oscar, tm.alice, map[string]any{"push_previews": true}).Problem(t, http.StatusNotFound)
	var c struct {
		ContactPreferences map[string]any `json:"contact_preferences"`
	}
	setContact(e, tm.alice, tm.alice, map[string]any{"time_zone": "Europe/Madrid", "push_previews": true,
		"quiet_hours": map[string]any{"start": "22:30", "end": "07:15"}}).Want(t, http.StatusOK).Decode(t, &c)
	if c.ContactPreferences["time_zone"] != "Europe/Madrid" || c.ContactPreferences["push_previews"] != true {
		t.Fatalf("contact preferences %v", c.ContactPreferences)
	}
	// The care team may still set the time zone (a profile field); null clears quiet hours.
	c.ContactPreferences = nil
	setContact(e, tm.wanda, tm.alice, map[string]any{"time_zone": "America/New_York", "quiet_hours": nil}).Want(t, http.StatusOK).Decode(t, &c)
	if c.ContactPreferences["time_zone"] != "America/New_York" || c.ContactPreferences["quiet_hours"] != nil || c.ContactPreferences["push_previews"] != true {
		t.Fatalf("contact preferences %v", c.ContactPreferences)
	}
}

// pushSubscription subscribes a made-up browser of who's and returns its id.
func pushSubscription(t *testing.T, e *apitest.Env, who apitest.User) string {
	t.Helper()
	k, auth := pushKeys(t)
	var sub struct{ ID string }
	e.Do(http.MethodPost, "/v1/me/push-subscriptions", who.Token, subscriptionBody("https://push.example.org/"+who.Subject, k, auth)).
		Want(t, http.StatusCreated).Decode(t, &sub)
	return sub.ID
}
