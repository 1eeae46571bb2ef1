package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/api/apitest"
)

func redeem(e *apitest.Env, u apitest.User, code any, hdrs ...string) *apitest.Resp {
	return e.Do(http.MethodPost, "/v1/supporter-invitations/redeem", u.Token, map[string]any{"code": code}, hdrs...)
}

// The code: 12 symbols of Crockford's base32 in groups of four, shown once,
// stored only as a hash, and forgiving of how a person types it.
func TestInvitationCode(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	inv := c.invite(t, map[string]any{"shares": []string{"referrals", "goals", "goals"}})
	code := inv["code"].(string)
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`).MatchString(code) {
		t.Fatalf("code %q", code)
	}
	if fmt.Sprint(inv["shares"]) != "[goals referrals]" {
		t.Fatalf("shares %v, want the set in canonical order", inv["shares"])
	}
	exp, err := time.Parse(time.RFC3339, inv["expires_at"].(string))
	if err != nil || time.Until(exp) < 167*time.Hour || time.Until(exp) > 169*time.Hour {
		t.Fatalf("expires_at %v (%v), want in 7 days", inv["expires_at"], err)
	}
	plain := strings.ReplaceAll(code, "-", "")
	if n := countRows(t, c.e, `SELECT count(*) FROM supporter_invitations i WHERE i::text LIKE ?`, "%"+plain+"%"); n != 0 {
		t.Fatal("the code is stored in plain text")
	}
	list := string(c.e.Do(http.MethodGet, c.aliceURL+"/supporter-invitations", c.alice.Token, nil).Want(t, http.StatusOK).Body)
	if !strings.Contains(list, inv["id"].(string)) || strings.Contains(list, plain[:4]+"-") || strings.Contains(list, `"code"`) {
		t.Fatalf("pending list %s", list)
	}
	// Lower case, spaces instead of dashes, O for 0 and I or L for 1.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	typed = strings.NewReplacer("0", "o", "1", "l").Replace(typed)
	sam := c.e.Login("sam")
	sp := redeem(c.e, sam, "  "+typed+" ").Want(t, http.StatusCreated)
	if sp.Header.Get("Location") != c.supporterURL(sam) || sp.Header.Get("ETag") != `"1"` {
		t.Fatalf("Location %q ETag %q", sp.Header.Get("Location"), sp.Header.Get("ETag"))
	}
	m := sp.Map(t)
	if m["client_id"] != c.alice.ClientID.String() || m["person_id"] != sam.PersonID.String() || m["status"] != "active" ||
		m["client_display_name"] != "Test alice" {
		t.Fatalf("supporter %v", m)
	}
	list = string(c.e.Do(http.MethodGet, c.aliceURL+"/supporter-invitations", c.alice.Token, nil).Want(t, http.StatusOK).Body)
	if strings.Contains(list, inv["id"].(string)) {
		t.Fatal("a redeemed invitation is still listed as pending")
	}
}

// Wrong, expired, cancelled and used codes are one answer; so is a code
// whose access would already have ended.
func TestRedeemRefusesUniformly(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	sam, sue := c.e.Login("sam"), c.e.Login("sue")
	used := c.invite(t, map[string]any{"shares": []string{"goals"}})["code"].(string)
	redeem(c.e, sue, used).Want(t, http.StatusCreated)
	expired := c.invite(t, map[string]any{"shares": []string{"goals"}})
	c.e.DB.Exec(`UPDATE supporter_invitations SET expires_at = now() - interval '1 second' WHERE id = ?`, expired["id"])
	ended := c.invite(t, map[string]any{"shares": []string{"goals"}, "access_expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
	c.e.DB.Exec(`UPDATE supporter_invitations SET access_expires_at = now() - interval '1 second' WHERE id = ?`, ended["id"])
	cancelled := c.invite(t, map[string]any{"shares": []string{"goals"}})
	c.e.Do(http.MethodDelete, c.aliceURL+"/supporter-invitations/"+cancelled["id"].(string), c.alice.Token, nil).Want(t, http.StatusNoContent)
	var details []string
	for _, code := range []any{"ZZZZ-ZZZZ-ZZZZ", used, expired["code"], ended["code"], cancelled["code"]} {
		p := redeem(c.e, sam, code).Problem(t, http.StatusNotFound)
		details = append(details, p["detail"].(string))
	}
	for _, d := range details[1:] {
		if d != details[0] {
			t.Fatalf("refusals differ: %q", details)
		}
	}
	c.e.Do(http.MethodGet, goalsPath(c.alice), sam.Token, nil).Problem(t, http.StatusNotFound)
}

// Of concurrent redemptions of one code exactly one succeeds.
func TestRedeemConcurrentlyExactlyOnce(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	code := c.invite(t, map[string]any{"shares": []string{"goals"}})["code"].(string)
	people := make([]apitest.User, 8)
	for i := range people {
		people[i] = c.e.Login(fmt.Sprintf("racer-%d", i))
	}
	statuses := make([]int, len(people))
	var wg sync.WaitGroup
	for i, u := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = redeem(c.e, u, code).Status
		}()
	}
	wg.Wait()
	won := 0
	for _, st := range statuses {
		switch st {
		case http.StatusCreated:
			won++
		case http.StatusNotFound:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	if won != 1 || countRows(t, c.e, `SELECT count(*) FROM supporters WHERE client_id = ?`, c.alice.ClientID) != 1 {
		t.Fatalf("statuses %v: want exactly one 201 and one grant", statuses)
	}
}

// Redeeming your own code is 422 and redeeming while already a supporter is
// 409; either way the code stays good for the person it was meant for.
func TestRedeemOwnCodeOrTwice(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	code := c.invite(t, map[string]any{"shares": []string{"goals"}})["code"].(string)
	p := redeem(c.e, c.alice, code).Problem(t, http.StatusUnprocessableEntity)
	if !apitest.HasErrorAt(p, "body.code") {
		t.Fatalf("problem %v", p)
	}
	sam := c.supporter(t, "sam", nil, "referrals")
	redeem(c.e, sam, code).Problem(t, http.StatusConflict)
	c.e.Do(http.MethodGet, goalsPath(c.alice), sam.Token, nil).Problem(t, http.StatusNotFound) // shares unchanged
	redeem(c.e, c.e.Login("sue"), code).Want(t, http.StatusCreated)
	// A grant whose access ended is renewed by a new invitation.
	c.e.DB.Exec(`UPDATE supporters SET access_expires_at = now() - interval '1 second' WHERE person_id = ?`, sam.PersonID)
	renew := c.invite(t, map[string]any{"shares": []string{"goals"}})["code"].(string)
	if m := redeem(c.e, sam, renew).Want(t, http.StatusCreated).Map(t); m["version"] != float64(2) || m["status"] != "active" {
		t.Fatalf("renewed grant %v", m)
	}
	c.e.Do(http.MethodGet, goalsPath(c.alice), sam.Token, nil).Want(t, http.StatusOK)
}

// Guessing codes is slow: after 10 tries in an hour a person gets 429 with
// Retry-After, even for a good code; the count is per person.
func TestRedeemAttemptsAreLimited(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	mallory := c.e.Login("mallory")
	for i := 0; i < 10; i++ {
		redeem(c.e, mallory, fmt.Sprintf("AAAA-AAAA-%04d", i)).Problem(t, http.StatusNotFound)
	}
	good := c.invite(t, map[string]any{"shares": []string{"goals"}})["code"].(string)
	r := redeem(c.e, mallory, good)
	r.Problem(t, http.StatusTooManyRequests)
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	redeem(c.e, c.e.Login("sam"), good).Want(t, http.StatusCreated)
	// A good code uses up no try, and does not give back the failed ones
	// (a colluding client's codes buy no guesses): after nine failures and
	// a success sue has one failure left.
	sue := c.e.Login("sue")
	for i := 0; i < 9; i++ {
		redeem(c.e, sue, fmt.Sprintf("BBBB-BBBB-%04d", i)).Problem(t, http.StatusNotFound)
	}
	redeem(c.e, sue, c.invite(t, map[string]any{"shares": []string{"goals"}})["code"]).Want(t, http.StatusCreated)
	redeem(c.e, sue, "CCCC-CCCC-0000").Problem(t, http.StatusNotFound)
	redeem(c.e, sue, "CCCC-CCCC-CCCC").Problem(t, http.StatusTooManyRequests)
}

// Hostile or malformed input is 422 naming the field, never a 5xx, and
// changes nothing.
func TestSupporterHostileInput(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	sam := c.supporter(t, "sam", nil, "goals")
	state := newDBState(t, c.e)
	before := state.snapshot(t, c.e)
	inv := c.aliceURL + "/supporter-invitations"
	cases := []struct {
		method, path, body, loc string
		who                     apitest.User
	}{
		{http.MethodPost, inv, `{"shares":[]}`, "body.shares", c.alice},
		{http.MethodPost, inv, `{}`, "body", c.alice},
		{http.MethodPost, inv, `{"shares":["goals","messages"]}`, "body.shares[1]", c.alice},
		{http.MethodPost, inv, `{"shares":["goals","goals","goals","goals","goals"]}`, "body.shares", c.alice},
		{http.MethodPost, inv, `{"shares":["goals"],"access_expires_at":"2001-01-01T00:00:00Z"}`, "body.access_expires_at", c.alice},
		{http.MethodPost, inv, `{"shares":["goals"],"access_expires_at":"0000-01-01T00:00:00Z"}`, "body.access_expires_at", c.alice},
		{http.MethodPost, inv, `{"shares":["goals\u0000"]}`, "body.shares[0]", c.alice},
		{http.MethodPost, inv, `{"shares":["goals"],"Shares":["goals"]}`, "body.Shares", c.alice},
		{http.MethodPost, "/v1/supporter-invitations/redeem", `{"code":"ABCD-EFGH-JKM"}`, "body.code", sam},
		{http.MethodPost, "/v1/supporter-invitations/redeem", `{"code":"ABCD-EFGH-JKMU"}`, "body.code", sam},
		{http.MethodPost, "/v1/supporter-invitations/redeem", `{"code":"\ud800BCD-EFGH-JKMN"}`, "body.code", sam},
		{http.MethodPost, "/v1/supporter-invitations/redeem", `{"code":"` + strings.Repeat("A", 65) + `"}`, "body.code", sam},
		{http.MethodPost, "/v1/supporter-invitations/redeem", `{"code":12}`, "body.code", sam},
		{http.MethodPost, "/v1/supporter-invitations/redeem", `{"code":"ＡＢＣＤ-EFGH-JKMN"}`, "body.code", sam},
		{http.MethodPatch, c.supporterURL(sam), `{"shares":null}`, "body.shares", c.alice},
		{http.MethodPatch, c.supporterURL(sam), `{"shares":[]}`, "body.shares", c.alice},
		{http.MethodPatch, c.supporterURL(sam), `{"access_expires_at":"2020-01-01T00:00:00Z"}`, "body.access_expires_at", c.alice},
		{http.MethodPatch, c.supporterURL(sam), `{"status":"expired"}`, "body.status", c.alice},
		{http.MethodGet, c.aliceURL + "/supporters?limit=0", "", "query.limit", c.alice},
		{http.MethodGet, c.aliceURL + "/supporters?cursor=%00", "", "query.cursor", c.alice},
		{http.MethodDelete, c.aliceURL + "/supporter-invitations/not-an-id", "", "path.invitationId", c.alice},
	}
	for _, tc := range cases {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		p := c.e.Do(tc.method, tc.path, tc.who.Token, body, "If-Match", `"1"`).Problem(t, http.StatusUnprocessableEntity)
		if !apitest.HasErrorAt(p, tc.loc) {
			t.Errorf("%s %s %s: problem does not name %s: %v", tc.method, tc.path, tc.body, tc.loc, p)
		}
	}
	if ch := changedTables(before, state.snapshot(t, c.e)); len(ch) > 0 {
		t.Fatalf("refused input changed %v", ch)
	}
}
