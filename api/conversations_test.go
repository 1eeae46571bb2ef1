package api_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/api"
	"github.com/waypoint-portal/waypoint/api/apitest"
	"github.com/waypoint-portal/waypoint/auth/authtest"
)

func participantIDs(c api.Conversation) []uuid.UUID {
	var ids []uuid.UUID
	for _, p := range c.Participants {
		ids = append(ids, p.PersonID)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

func sortedIDs(ids ...uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

func accessLogCount(t *testing.T, e *apitest.Env, actor uuid.UUID, action, resource string) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Raw(`SELECT count(*) FROM access_log WHERE actor_person_id = ? AND action = ? AND resource = ?`,
		actor, action, resource).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// createGoalOf creates a goal of u's own and returns its id.
func createGoalOf(t *testing.T, e *apitest.Env, u apitest.User) uuid.UUID {
	t.Helper()
	var g struct {
		ID uuid.UUID `json:"id"`
	}
	e.Do(http.MethodPost, "/v1/clients/"+u.ClientID.String()+"/goals", u.Token, map[string]any{"title": "Find a flat"}).
		Want(t, http.StatusCreated).Decode(t, &g)
	return g.ID
}

func TestCreateConversation(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e

	// A client with no worker_ids talks with the whole care team.
	all := createConversation(t, e, tm.alice, map[string]any{"subject": " Housing application "})
	if all.ClientID != tm.alice.ClientID || all.Subject != "Housing application" || all.CreatedBy != tm.alice.PersonID ||
		all.UnreadCount != 0 || all.LastMessage != nil || all.Link != nil {
		t.Fatalf("conversation %+v", all)
	}
	if got, want := participantIDs(all), sortedIDs(tm.alice.PersonID, tm.wanda.PersonID, tm.will.PersonID); !slices.Equal(got, want) {
		t.Fatalf("participants %v, want %v", got, want)
	}
	for _, p := range all.Participants {
		wantRole := "worker"
		if p.PersonID == tm.alice.PersonID {
			wantRole = "client"
		}
		if p.Role != wantRole || !p.Active || p.ReadUpTo != nil || p.DisplayName == "" {
			t.Fatalf("participant %+v", p)
		}
	}

	// Chosen members, with a link to one of her goals.
	goal := createGoalOf(t, e, tm.alice)
	one := createConversation(t, e, tm.alice, map[string]any{"worker_ids": []uuid.UUID{tm.will.PersonID},
		"link": map[string]any{"kind": "goal", "id": goal}})
	if got, want := participantIDs(one), sortedIDs(tm.alice.PersonID, tm.will.PersonID); !slices.Equal(got, want) {
		t.Fatalf("participants %v, want %v", got, want)
	}
	if one.Link == nil || one.Link.Kind != "goal" || one.Link.ID != goal {
		t.Fatalf("link %+v", one.Link)
	}

	// A worker with a client on their caseload; they are always included.
	byWorker := createConversation(t, e, tm.wanda, map[string]any{"client_id": tm.alice.ClientID})
	if got, want := participantIDs(byWorker), sortedIDs(tm.alice.PersonID, tm.wanda.PersonID); !slices.Equal(got, want) {
		t.Fatalf("participants %v, want %v", got, want)
	}
	if n := accessLogCount(t, e, tm.wanda.PersonID, "write", "conversation"); n != 1 {
		t.Fatalf("access log writes by wanda = %d, want 1", n)
	}

	// Everyone listed must be on the care team; the failing entry is named.
	p := e.Do(http.MethodPost, "/v1/conversations", tm.alice.Token,
		map[string]any{"worker_ids": []uuid.UUID{tm.wanda.PersonID, tm.oscar.PersonID}}).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.worker_ids[1]") {
		t.Fatalf("problem %v", p)
	}
	p = e.Do(http.MethodPost, "/v1/conversations", tm.wanda.Token,
		map[string]any{"client_id": tm.alice.ClientID, "worker_ids": []uuid.UUID{tm.oscar.PersonID}}).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.worker_ids[0]") {
		t.Fatalf("problem %v", p)
	}
	// A worker only with a client on their caseload; a missing client reads the same.
	for _, c := range []uuid.UUID{tm.bob.ClientID, uuid.Must(uuid.NewV7())} {
		p = e.Do(http.MethodPost, "/v1/conversations", tm.wanda.Token, map[string]any{"client_id": c}).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, "body.client_id") {
			t.Fatalf("problem %v", p)
		}
	}
	p = e.Do(http.MethodPost, "/v1/conversations", tm.wanda.Token, map[string]any{}).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.client_id") {
		t.Fatalf("problem %v", p)
	}
	// A client only about themself.
	p = e.Do(http.MethodPost, "/v1/conversations", tm.alice.Token, map[string]any{"client_id": tm.bob.ClientID}).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.client_id") {
		t.Fatalf("problem %v", p)
	}
	// Administrators are not participants.
	e.Do(http.MethodPost, "/v1/conversations", tm.adam.Token, map[string]any{"client_id": tm.alice.ClientID}).Problem(t, http.StatusForbidden)
	// A client without a care team has nobody to talk with.
	carol := e.Login("carol", "client")
	p = e.Do(http.MethodPost, "/v1/conversations", carol.Token, map[string]any{}).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.worker_ids") {
		t.Fatalf("problem %v", p)
	}
	// Bad links and subjects.
	for body, loc := range map[string]string{
		`{"link":{"kind":"invoice","id":"` + goal.String() + `"}}`: "body.link.kind",
		`{"subject":"` + strings.Repeat("x", 201) + `"}`:           "body.subject",
		`{"subject":"bell\u0007"}`:                                 "body.subject",
		`{"unknown":1}`:                                            "body.unknown",
	} {
		p = e.Do(http.MethodPost, "/v1/conversations", tm.alice.Token, body).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, loc) {
			t.Fatalf("%s: problem %v, want error at %s", body, p, loc)
		}
	}
	// Nothing was written by the failures.
	var n int64
	e.DB.Raw(`SELECT count(*) FROM conversations`).Scan(&n)
	if n != 3 {
		t.Fatalf("%d conversations, want 3", n)
	}
	// Without messages:write the scope check refuses first.
	tok := e.Issuer.Token(t, "alice", []string{"client"}, authtest.WithScopes("messages:read"))
	e.Do(http.MethodPost, "/v1/conversations", tok, map[string]any{}).Problem(t, http.StatusForbidden)
}

func TestListConversations(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	c1 := createConversation(t, e, tm.alice, map[string]any{"subject": "first"})
	c2 := createConversation(t, e, tm.alice, map[string]any{"subject": "second", "worker_ids": []uuid.UUID{tm.wanda.PersonID}})
	c3 := createConversation(t, e, tm.wanda, map[string]any{"client_id": tm.alice.ClientID, "subject": "third"})
	bobs := createConversation(t, e, tm.bob, map[string]any{})

	order := func(p api.Page[api.Conversation]) []uuid.UUID {
		var ids []uuid.UUID
		for _, c := range p.Items {
			ids = append(ids, c.ID)
		}
		return ids
	}
	if got := order(listConversations(t, e, tm.alice, "")); !slices.Equal(got, []uuid.UUID{c3.ID, c2.ID, c1.ID}) {
		t.Fatalf("alice's order %v", got)
	}
	// A message moves its conversation to the top, with last message and unread counts.
	m := postMessage(t, e, tm.wanda, c1.ID, "Hello Alice, how did the viewing go?")
	page := listConversations(t, e, tm.alice, "")
	if got := order(page); !slices.Equal(got, []uuid.UUID{c1.ID, c3.ID, c2.ID}) {
		t.Fatalf("alice's order after a message %v", got)
	}
	top := page.Items[0]
	if top.LastMessage == nil || top.LastMessage.ID != m.ID || top.LastMessage.Body != m.Body || top.UnreadCount != 1 ||
		!top.LastActivityAt.Equal(m.CreatedAt) {
		t.Fatalf("top conversation %+v", top)
	}
	wpage := listConversations(t, e, tm.wanda, "")
	if got := order(wpage); !slices.Equal(got, []uuid.UUID{c1.ID, c3.ID, c2.ID}) {
		t.Fatalf("wanda's order %v", got)
	}
	if wpage.Items[0].UnreadCount != 0 {
		t.Fatalf("own messages are not unread: %d", wpage.Items[0].UnreadCount)
	}
	// Will takes part in c1 only; oscar in bob's; admins in none.
	if got := order(listConversations(t, e, tm.will, "")); !slices.Equal(got, []uuid.UUID{c1.ID}) {
		t.Fatalf("will's %v", got)
	}
	if got := order(listConversations(t, e, tm.oscar, "")); !slices.Equal(got, []uuid.UUID{bobs.ID}) {
		t.Fatalf("oscar's %v", got)
	}
	if got := listConversations(t, e, tm.adam, ""); len(got.Items) != 0 {
		t.Fatalf("admin sees %v", got.Items)
	}
	// Cursor pages cover everything once, in order.
	var seen []uuid.UUID
	cursor := ""
	for i := 0; i < 5; i++ {
		q := "?limit=1"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		p := listConversations(t, e, tm.alice, q)
		seen = append(seen, order(p)...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(seen, []uuid.UUID{c1.ID, c3.ID, c2.ID}) {
		t.Fatalf("paged %v", seen)
	}
	e.Do(http.MethodGet, "/v1/conversations?cursor=nope", tm.alice.Token, nil).Problem(t, http.StatusUnprocessableEntity)
	// Listing is a read of the client's messages by the worker: logged, per conversation.
	if n := accessLogCount(t, e, tm.wanda.PersonID, "read", "conversation"); n != 3 {
		t.Fatalf("wanda's logged conversation reads = %d, want 3", n)
	}
	if n := accessLogCount(t, e, tm.alice.PersonID, "read", "conversation"); n != 0 {
		t.Fatalf("the client's own reads are not logged, got %d", n)
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	var sent []api.Message
	for i := 0; i < 7; i++ {
		u := tm.alice
		if i%2 == 1 {
			u = tm.wanda
		}
		m := postMessage(t, e, u, c.ID, fmt.Sprintf("message %d", i))
		if m.ConversationID != c.ID || m.SenderID != u.PersonID || len(m.ReadBy) != 0 || m.Body != fmt.Sprintf("message %d", i) {
			t.Fatalf("message %+v", m)
		}
		if i > 0 && bytes.Compare(m.ID[:], sent[i-1].ID[:]) <= 0 {
			t.Fatalf("ids not increasing: %s after %s", m.ID, sent[i-1].ID)
		}
		if m.ID.Version() != 7 {
			t.Fatalf("id %s is not UUIDv7", m.ID)
		}
		sent = append(sent, m)
	}
	ids := func(ms []api.Message) []uuid.UUID {
		var out []uuid.UUID
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	all := ids(sent)
	// Default: the newest page, oldest first; the cursor goes back in time.
	p := listMessages(t, e, tm.will, c.ID, "?limit=3")
	if !slices.Equal(ids(p.Items), all[4:7]) || p.NextCursor == "" {
		t.Fatalf("newest page %v", ids(p.Items))
	}
	p = listMessages(t, e, tm.will, c.ID, "?limit=3&cursor="+p.NextCursor)
	if !slices.Equal(ids(p.Items), all[1:4]) || p.NextCursor == "" {
		t.Fatalf("second page %v", ids(p.Items))
	}
	p = listMessages(t, e, tm.will, c.ID, "?limit=3&cursor="+p.NextCursor)
	if !slices.Equal(ids(p.Items), all[0:1]) || p.NextCursor != "" {
		t.Fatalf("last page %v %q", ids(p.Items), p.NextCursor)
	}
	// after: forward; before: backward.
	p = listMessages(t, e, tm.will, c.ID, "?limit=4&after="+all[1].String())
	if !slices.Equal(ids(p.Items), all[2:6]) || p.NextCursor == "" {
		t.Fatalf("after page %v", ids(p.Items))
	}
	p = listMessages(t, e, tm.will, c.ID, "?limit=4&cursor="+p.NextCursor)
	if !slices.Equal(ids(p.Items), all[6:7]) || p.NextCursor != "" {
		t.Fatalf("after page 2 %v", ids(p.Items))
	}
	p = listMessages(t, e, tm.will, c.ID, "?limit=2&before="+all[3].String())
	if !slices.Equal(ids(p.Items), all[1:3]) {
		t.Fatalf("before page %v", ids(p.Items))
	}
	if p.Items[0].Body != "message 1" || p.Items[0].SenderID != tm.wanda.PersonID {
		t.Fatalf("message content %+v", p.Items[0])
	}
	for q, loc := range map[string]string{
		"?before=x": "query.before",
		"?after=x":  "query.after",
		"?after=" + all[0].String() + "&before=" + all[1].String(): "query.after",
		"?cursor=abc": "query.cursor",
		"?limit=101":  "query.limit",
	} {
		pr := e.Do(http.MethodGet, "/v1/conversations/"+c.ID.String()+"/messages"+q, tm.will.Token, nil).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(pr, loc) {
			t.Fatalf("%s: %v", q, pr)
		}
	}
	// Body rules: 1-4000 characters of plain text; nothing written otherwise.
	long := strings.Repeat("é", 4000)
	if m := postMessage(t, e, tm.alice, c.ID, long); m.Body != long {
		t.Fatalf("4000 characters not kept")
	}
	for _, b := range []string{`{"body":""}`, `{"body":"   "}`, `{"body":"` + strings.Repeat("a", 4001) + `"}`, `{"body":"nul\u0000"}`, `{}`} {
		pr := e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/messages", tm.alice.Token, b).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(pr, "body.body") && !apitest.HasErrorAt(pr, "body") {
			t.Fatalf("%.30s: %v", b, pr)
		}
	}
	var n int64
	e.DB.Raw(`SELECT count(*) FROM messages`).Scan(&n)
	if n != 8 {
		t.Fatalf("%d messages stored, want 8", n)
	}
	// Foreign people and admins: 404 on reading and writing.
	for _, u := range []apitest.User{tm.oscar, tm.bob, tm.adam} {
		e.Do(http.MethodGet, "/v1/conversations/"+c.ID.String()+"/messages", u.Token, nil).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/messages", u.Token, map[string]string{"body": "hi"}).Problem(t, http.StatusNotFound)
		e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/read", u.Token, map[string]any{"up_to": all[0]}).Problem(t, http.StatusNotFound)
	}
	e.Do(http.MethodGet, "/v1/conversations/"+uuid.NewString()+"/messages", tm.alice.Token, nil).Problem(t, http.StatusNotFound)
	// Worker reads and writes are in the access log; the client's are not.
	if got := accessLogCount(t, e, tm.will.PersonID, "read", "conversation"); got != 6 { // one per successful list of messages
		t.Fatalf("will's logged message reads = %d, want 6", got)
	}
	if got := accessLogCount(t, e, tm.wanda.PersonID, "write", "message"); got != 3 {
		t.Fatalf("wanda's logged message writes = %d, want 3", got)
	}
	if got := accessLogCount(t, e, tm.alice.PersonID, "write", "message"); got != 0 {
		t.Fatalf("alice's own writes logged: %d", got)
	}
}

// Forward paging with after= sees every message exactly once, in id order,
// while writers on two replicas add messages concurrently.
func TestMessagePagingWhileWriting(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e, r := tm.e, tm.e.Replica()
	c := createConversation(t, e, tm.alice, map[string]any{})
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env, u := e, tm.alice
			if w%2 == 1 {
				env, u = r, tm.wanda
			}
			for i := 0; i < each; i++ {
				res := env.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/messages", u.Token,
					map[string]string{"body": fmt.Sprintf("w%d-%d", w, i)})
				if res.Status != http.StatusCreated {
					t.Errorf("post: %d %s", res.Status, res.Body)
					return
				}
			}
		}()
	}
	var seen []uuid.UUID
	after := uuid.Nil
	for len(seen) < writers*each {
		q := "?limit=7"
		if after != uuid.Nil {
			q += "&after=" + after.String()
		} else {
			q += "&after=00000000-0000-0000-0000-000000000000"
		}
		p := listMessages(t, e, tm.will, c.ID, q)
		for _, m := range p.Items {
			seen = append(seen, m.ID)
			after = m.ID
		}
		if t.Failed() {
			break
		}
	}
	wg.Wait()
	final := listMessages(t, e, tm.will, c.ID, "?limit=100&after=00000000-0000-0000-0000-000000000000")
	var want []uuid.UUID
	for _, m := range final.Items {
		want = append(want, m.ID)
	}
	if len(want) != writers*each || !slices.Equal(seen, want) {
		t.Fatalf("reader saw %d messages, final list has %d; equal=%v", len(seen), len(want), slices.Equal(seen, want))
	}
}

func idemHash(method, path, body string) []byte {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "?" + "\n"))
	h.Write([]byte(body))
	return h.Sum(nil)
}

func TestMessageIdempotency(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	path := "/v1/conversations/" + c.ID.String() + "/messages"
	body := `{"body":"I got the apartment!"}`
	count := func() int64 {
		var n int64
		e.DB.Raw(`SELECT count(*) FROM messages`).Scan(&n)
		return n
	}

	first := e.Do(http.MethodPost, path, tm.alice.Token, body, "Idempotency-Key", "k-1").Want(t, http.StatusCreated)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first response marked replayed")
	}
	// A retry replays the first 201 byte for byte; the message exists once.
	again := e.Do(http.MethodPost, path, tm.alice.Token, body, "Idempotency-Key", "k-1").Want(t, http.StatusCreated)
	if !bytes.Equal(first.Body, again.Body) || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
		t.Fatalf("replay differs:\n%s\n%s\n%v", first.Body, again.Body, again.Header)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	// Same key, other body: 422 naming the header.
	p := e.Do(http.MethodPost, path, tm.alice.Token, `{"body":"something else"}`, "Idempotency-Key", "k-1").Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "header.Idempotency-Key") {
		t.Fatalf("problem %v", p)
	}
	// Keys are per person: wanda's k-1 is hers.
	w := e.Do(http.MethodPost, path, tm.wanda.Token, body, "Idempotency-Key", "k-1").Want(t, http.StatusCreated)
	if bytes.Equal(w.Body, first.Body) || w.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("another person's key replayed alice's response")
	}
	if n := count(); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
	// While the first request with a key is running: 409 with Retry-After.
	if err := e.DB.Exec(`INSERT INTO idempotency_keys (person_id, key, request_hash, state, locked_until)
		VALUES (?, 'k-running', ?, 'running', now() + interval '1 minute')`, tm.alice.PersonID, idemHash("POST", path, body)).Error; err != nil {
		t.Fatal(err)
	}
	r := e.Do(http.MethodPost, path, tm.alice.Token, body, "Idempotency-Key", "k-running")
	r.Problem(t, http.StatusConflict)
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("409 without Retry-After")
	}
	if n := count(); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
	// Failures are not kept: after a 422 the same key with a fixed body runs.
	e.Do(http.MethodPost, path, tm.alice.Token, `{"body":""}`, "Idempotency-Key", "k-fix").Problem(t, http.StatusUnprocessableEntity)
	e.Do(http.MethodPost, path, tm.alice.Token, `{"body":"fixed"}`, "Idempotency-Key", "k-fix").Want(t, http.StatusCreated)
	// Bad keys.
	p = e.Do(http.MethodPost, path, tm.alice.Token, body, "Idempotency-Key", "has space").Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "header.Idempotency-Key") {
		t.Fatalf("problem %v", p)
	}

	// Concurrent retries of one request: one message; every 201 is the same bytes.
	before := count()
	var wg sync.WaitGroup
	res := make([]*apitest.Resp, 8)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = e.Do(http.MethodPost, path, tm.alice.Token, `{"body":"on a bad connection"}`, "Idempotency-Key", "k-burst")
		}()
	}
	wg.Wait()
	var body201 []byte
	for _, r := range res {
		switch r.Status {
		case http.StatusCreated:
			if body201 != nil && !bytes.Equal(body201, r.Body) {
				t.Fatalf("different 201 bodies:\n%s\n%s", body201, r.Body)
			}
			body201 = r.Body
		case http.StatusConflict:
		default:
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
	}
	if body201 == nil {
		t.Fatalf("no request succeeded")
	}
	if n := count(); n != before+1 {
		t.Fatalf("%d messages after a burst of retries, want %d", n, before+1)
	}

	// A claim left running by a server that died before its work (other
	// operations claim before they work) is taken over once it expires: the
	// message is posted once, and its response kept.
	if err := e.DB.Exec(`INSERT INTO idempotency_keys (person_id, key, request_hash, state, locked_until)
		VALUES (?, 'k-crash', ?, 'running', now() - interval '1 second')`, tm.alice.PersonID, idemHash("POST", path, `{"body":"crash"}`)).Error; err != nil {
		t.Fatal(err)
	}
	before = count()
	rerun := e.Do(http.MethodPost, path, tm.alice.Token, `{"body":"crash"}`, "Idempotency-Key", "k-crash").Want(t, http.StatusCreated)
	replayed := e.Do(http.MethodPost, path, tm.alice.Token, `{"body":"crash"}`, "Idempotency-Key", "k-crash").Want(t, http.StatusCreated)
	if count() != before+1 || !bytes.Equal(rerun.Body, replayed.Body) || replayed.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("after a stale claim: %d messages (want %d), replay %s vs %s", count(), before+1, replayed.Body, rerun.Body)
	}

	// A conversation that is not hers: 404, and neither a message nor a
	// claim stays, so the key is still hers to use.
	other := createConversation(t, e, tm.bob, map[string]any{})
	e.Do(http.MethodPost, "/v1/conversations/"+other.ID.String()+"/messages", tm.alice.Token, body, "Idempotency-Key", "k-foreign").
		Problem(t, http.StatusNotFound)
	var claims int64
	e.DB.Raw(`SELECT count(*) FROM idempotency_keys WHERE key = 'k-foreign'`).Scan(&claims)
	if claims != 0 || count() != before+1 {
		t.Fatalf("a foreign conversation left %d claims, %d messages", claims, count())
	}

	// In a sud conversation the redisclosure notice is part of the kept
	// response: the replay carries it too.
	e.Do(http.MethodPatch, "/v1/conversations/"+c.ID.String(), tm.alice.Token, map[string]any{"sensitivity": "sud"}).Want(t, http.StatusOK)
	sud := e.Do(http.MethodPost, path, tm.alice.Token, `{"body":"day 30"}`, "Idempotency-Key", "k-sud").Want(t, http.StatusCreated)
	sudAgain := e.Do(http.MethodPost, path, tm.alice.Token, `{"body":"day 30"}`, "Idempotency-Key", "k-sud").Want(t, http.StatusCreated)
	if sud.Header.Get("Waypoint-Redisclosure") == "" || sudAgain.Header.Get("Waypoint-Redisclosure") != sud.Header.Get("Waypoint-Redisclosure") ||
		!bytes.Equal(sud.Body, sudAgain.Body) {
		t.Fatalf("sud replay: %v vs %v", sud.Header, sudAgain.Header)
	}

	// Creating conversations takes keys too.
	c1 := e.Do(http.MethodPost, "/v1/conversations", tm.alice.Token, `{"subject":"once"}`, "Idempotency-Key", "conv-1").Want(t, http.StatusCreated)
	c2 := e.Do(http.MethodPost, "/v1/conversations", tm.alice.Token, `{"subject":"once"}`, "Idempotency-Key", "conv-1").Want(t, http.StatusCreated)
	if !bytes.Equal(c1.Body, c2.Body) {
		t.Fatalf("conversation replay differs")
	}
}

func TestReadMarkers(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	m1 := postMessage(t, e, tm.wanda, c.ID, "one")
	m2 := postMessage(t, e, tm.wanda, c.ID, "two")
	m3 := postMessage(t, e, tm.wanda, c.ID, "three")
	unread := func(u apitest.User) int64 {
		t.Helper()
		p := listConversations(t, e, u, "")
		for _, x := range p.Items {
			if x.ID == c.ID {
				return x.UnreadCount
			}
		}
		t.Fatalf("conversation not listed for %s", u.Subject)
		return 0
	}
	read := func(u apitest.User, upTo uuid.UUID) api.ReadState {
		t.Helper()
		var st api.ReadState
		e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/read", u.Token, map[string]any{"up_to": upTo}).
			Want(t, http.StatusOK).Decode(t, &st)
		return st
	}
	if unread(tm.alice) != 3 || unread(tm.will) != 3 || unread(tm.wanda) != 0 {
		t.Fatalf("unread alice=%d will=%d wanda=%d", unread(tm.alice), unread(tm.will), unread(tm.wanda))
	}
	st := read(tm.alice, m2.ID)
	if st.ReadUpTo == nil || *st.ReadUpTo != m2.ID || st.UnreadCount != 1 {
		t.Fatalf("read state %+v", st)
	}
	// Never backwards.
	st = read(tm.alice, m1.ID)
	if *st.ReadUpTo != m2.ID || st.UnreadCount != 1 || unread(tm.alice) != 1 {
		t.Fatalf("marker moved back: %+v", st)
	}
	// read_by on each message.
	p := listMessages(t, e, tm.wanda, c.ID, "")
	want := map[uuid.UUID][]uuid.UUID{m1.ID: {tm.alice.PersonID}, m2.ID: {tm.alice.PersonID}, m3.ID: {}}
	for _, m := range p.Items {
		if !slices.Equal(m.ReadBy, want[m.ID]) {
			t.Fatalf("read_by of %s = %v, want %v", m.Body, m.ReadBy, want[m.ID])
		}
	}
	// Concurrent moves end at the furthest, whatever the order.
	var wg sync.WaitGroup
	for _, id := range []uuid.UUID{m1.ID, m3.ID, m2.ID, m1.ID, m3.ID, m2.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/read", tm.will.Token, map[string]any{"up_to": id}); r.Status != http.StatusOK {
				t.Errorf("read: %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if st := read(tm.will, m1.ID); *st.ReadUpTo != m3.ID || st.UnreadCount != 0 {
		t.Fatalf("will's marker %+v, want at %s", st, m3.ID)
	}
	var moves int64
	e.DB.Raw(`SELECT count(*) FROM events WHERE type = 'message.read' AND data->>'person_id' = ?`, tm.will.PersonID.String()).Scan(&moves)
	if moves < 1 || moves > 3 {
		t.Fatalf("%d message.read events for will's moves, want 1-3 (one per forward move)", moves)
	}
	// The sender's marker follows their own message; replying clears unread.
	m4 := postMessage(t, e, tm.alice, c.ID, "thanks")
	if unread(tm.alice) != 0 || unread(tm.wanda) != 1 {
		t.Fatalf("after alice's reply: alice=%d wanda=%d", unread(tm.alice), unread(tm.wanda))
	}
	conv := listConversations(t, e, tm.wanda, "").Items[0]
	if conv.LastMessage.ID != m4.ID || !slices.Equal(conv.LastMessage.ReadBy, []uuid.UUID{}) {
		t.Fatalf("last message %+v", conv.LastMessage)
	}
	// up_to must be a message of this conversation.
	other := createConversation(t, e, tm.alice, map[string]any{})
	mo := postMessage(t, e, tm.alice, other.ID, "elsewhere")
	for _, id := range []uuid.UUID{mo.ID, uuid.Must(uuid.NewV7())} {
		pr := e.Do(http.MethodPost, "/v1/conversations/"+c.ID.String()+"/read", tm.alice.Token, map[string]any{"up_to": id}).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(pr, "body.up_to") {
			t.Fatalf("problem %v", pr)
		}
	}
}

// A worker who leaves the care team loses the conversation at once.
func TestLeavingCareTeamEndsAccess(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	e := tm.e
	c := createConversation(t, e, tm.alice, map[string]any{})
	m := postMessage(t, e, tm.wanda, c.ID, "see you Thursday")
	tm.removeFromTeam(t, tm.alice, tm.wanda)

	path := "/v1/conversations/" + c.ID.String()
	e.Do(http.MethodGet, path+"/messages", tm.wanda.Token, nil).Problem(t, http.StatusNotFound)
	e.Do(http.MethodPost, path+"/messages", tm.wanda.Token, map[string]string{"body": "hello?"}).Problem(t, http.StatusNotFound)
	e.Do(http.MethodPost, path+"/read", tm.wanda.Token, map[string]any{"up_to": m.ID}).Problem(t, http.StatusNotFound)
	if p := listConversations(t, e, tm.wanda, ""); len(p.Items) != 0 {
		t.Fatalf("wanda still lists %d conversations", len(p.Items))
	}
	// The others see she is no longer active, and go on.
	conv := listConversations(t, e, tm.alice, "").Items[0]
	for _, p := range conv.Participants {
		if p.PersonID == tm.wanda.PersonID && p.Active {
			t.Fatalf("wanda still active: %+v", p)
		}
	}
	postMessage(t, e, tm.will, c.ID, "I'll take over from Wanda")
	// Rejoining restores access.
	tm.addToTeam(t, tm.alice, tm.wanda)
	if p := listMessages(t, e, tm.wanda, c.ID, ""); len(p.Items) != 2 {
		t.Fatalf("after rejoining: %d messages", len(p.Items))
	}
}
