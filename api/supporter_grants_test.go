package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The client changes what a supporter reads (PATCH, with If-Match) and it
// applies to the supporter's next request; access that reaches its end
// date stops by itself; DELETE ends it at once.
func TestSupporterGrantChanges(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	sam := c.supporter(t, "sam", nil, "goals")
	url := c.supporterURL(sam)
	c.e.Do(http.MethodGet, goalPath(c.goal.ID), sam.Token, nil).Want(t, http.StatusOK)

	c.e.Do(http.MethodPatch, url, c.alice.Token, map[string]any{"shares": []string{"referrals"}}).Problem(t, http.StatusPreconditionRequired)
	c.e.Do(http.MethodPatch, url, c.alice.Token, map[string]any{"shares": []string{"referrals"}}, "If-Match", `"7"`).
		Problem(t, http.StatusPreconditionFailed)
	r := c.e.Do(http.MethodPatch, url, c.alice.Token, map[string]any{"shares": []string{"referrals"}}, "If-Match", `"1"`).Want(t, http.StatusOK)
	if r.Header.Get("ETag") != `"2"` || r.Map(t)["shares"].([]any)[0] != "referrals" {
		t.Fatalf("patched: %s %s", r.Header.Get("ETag"), r.Body)
	}
	c.e.Do(http.MethodGet, goalPath(c.goal.ID), sam.Token, nil).Problem(t, http.StatusNotFound)
	c.e.Do(http.MethodGet, "/v1/referrals/"+c.referral.ID, sam.Token, nil).Want(t, http.StatusOK)
	// The supporter sees their grant and its ETag, but cannot change it.
	got := c.e.Do(http.MethodGet, url, sam.Token, nil).Want(t, http.StatusOK)
	if got.Header.Get("ETag") != `"2"` {
		t.Fatalf("ETag %q", got.Header.Get("ETag"))
	}
	c.e.Do(http.MethodPatch, url, sam.Token, map[string]any{"shares": []string{"goals"}}, "If-Match", `"2"`).Problem(t, http.StatusForbidden)

	// An end date: ahead, access goes on; passed, it stops (and shows).
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	r = c.e.Do(http.MethodPatch, url, c.alice.Token, map[string]any{"access_expires_at": until.Format(time.RFC3339)}, "If-Match", `"2"`).
		Want(t, http.StatusOK)
	if r.Map(t)["access_expires_at"] != until.Format(time.RFC3339) {
		t.Fatalf("patched: %s", r.Body)
	}
	c.e.Do(http.MethodGet, c.aliceURL+"/referrals", sam.Token, nil).Want(t, http.StatusOK)
	c.e.DB.Exec(`UPDATE supporters SET access_expires_at = now() - interval '1 second' WHERE person_id = ?`, sam.PersonID)
	for _, p := range []string{"/v1/referrals/" + c.referral.ID, c.aliceURL + "/referrals"} {
		c.e.Do(http.MethodGet, p, sam.Token, nil).Problem(t, http.StatusNotFound)
	}
	if st := c.e.Do(http.MethodGet, url, c.alice.Token, nil).Want(t, http.StatusOK).Map(t)["status"]; st != "expired" {
		t.Fatalf("status %v", st)
	}
	// null clears the end date: access again.
	c.e.Do(http.MethodPatch, url, c.alice.Token, `{"access_expires_at":null}`, "If-Match", "*").Want(t, http.StatusOK)
	c.e.Do(http.MethodGet, c.aliceURL+"/referrals", sam.Token, nil).Want(t, http.StatusOK)

	// DELETE ends access at once, and is idempotent for the client.
	c.e.Do(http.MethodDelete, url, c.alice.Token, nil).Want(t, http.StatusNoContent)
	c.e.Do(http.MethodGet, c.aliceURL+"/referrals", sam.Token, nil).Problem(t, http.StatusNotFound)
	c.e.Do(http.MethodGet, url, sam.Token, nil).Problem(t, http.StatusNotFound)
	c.e.Do(http.MethodDelete, url, c.alice.Token, nil).Want(t, http.StatusNoContent)
	c.e.Do(http.MethodPatch, url, c.alice.Token, map[string]any{"shares": []string{"goals"}}, "If-Match", "*").Problem(t, http.StatusNotFound)
}

// A supporter may leave a client's circle; nobody else but the client may
// remove them.
func TestSupporterLeaves(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	sam := c.supporter(t, "sam", nil, "goals")
	sue := c.supporter(t, "sue", nil, "goals")
	c.e.Do(http.MethodDelete, c.supporterURL(sue), sam.Token, nil).Problem(t, http.StatusNotFound)
	c.e.Do(http.MethodDelete, c.supporterURL(sue), c.wanda.Token, nil).Problem(t, http.StatusForbidden)
	c.e.Do(http.MethodDelete, c.supporterURL(sue), c.will.Token, nil).Problem(t, http.StatusNotFound)
	c.e.Do(http.MethodGet, goalPath(c.goal.ID), sue.Token, nil).Want(t, http.StatusOK)
	c.e.Do(http.MethodDelete, c.supporterURL(sam), sam.Token, nil).Want(t, http.StatusNoContent)
	c.e.Do(http.MethodGet, goalPath(c.goal.ID), sam.Token, nil).Problem(t, http.StatusNotFound)
	c.e.Do(http.MethodDelete, c.supporterURL(sam), sam.Token, nil).Problem(t, http.StatusNotFound)
	if n := countRows(t, c.e, `SELECT count(*) FROM access_log WHERE actor_person_id = ? AND action = 'write' AND resource = 'supporter'`,
		sam.PersonID); n != 2 {
		t.Fatalf("%d write entries for sam (joining and leaving), want 2", n)
	}
	var page struct {
		Items []struct {
			PersonID string `json:"person_id"`
		} `json:"items"`
	}
	c.e.Do(http.MethodGet, c.aliceURL+"/supporters", c.alice.Token, nil).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].PersonID != sue.PersonID.String() {
		t.Fatalf("alice's supporters %+v", page.Items)
	}
}

// Only the client cancels an invitation; cancelling voids the code, is
// idempotent, and refuses an invitation already redeemed.
func TestCancelSupporterInvitation(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	inv := c.invite(t, map[string]any{"shares": []string{"goals"}})
	url := c.aliceURL + "/supporter-invitations/" + inv["id"].(string)
	c.e.Do(http.MethodDelete, url, c.wanda.Token, nil).Problem(t, http.StatusForbidden)
	c.e.Do(http.MethodDelete, url, c.bob.Token, nil).Problem(t, http.StatusNotFound)
	c.e.Do(http.MethodDelete, url, c.alice.Token, nil).Want(t, http.StatusNoContent)
	c.e.Do(http.MethodDelete, url, c.alice.Token, nil).Want(t, http.StatusNoContent)
	redeem(c.e, c.e.Login("sam"), inv["code"]).Problem(t, http.StatusNotFound)

	used := c.invite(t, map[string]any{"shares": []string{"goals"}})
	redeem(c.e, c.e.Login("sue"), used["code"]).Want(t, http.StatusCreated)
	c.e.Do(http.MethodDelete, c.aliceURL+"/supporter-invitations/"+used["id"].(string), c.alice.Token, nil).Problem(t, http.StatusConflict)
}

// Creating an invitation is idempotent, yet the code is stored nowhere: a
// retry with the same key answers the same invitation with a new code, and
// the first code no longer works. A replayed redemption is re-authorized.
func TestInvitationRetryNeverStoresTheCode(t *testing.T) {
	t.Parallel()
	c := newCircle(t)
	body := map[string]any{"shares": []string{"goals"}}
	first := c.invite(t, body, "Idempotency-Key", "invite-sam")
	res := c.e.Do(http.MethodPost, c.aliceURL+"/supporter-invitations", c.alice.Token, body, "Idempotency-Key", "invite-sam").
		Want(t, http.StatusCreated)
	second := res.Map(t)
	if res.Header.Get("Idempotent-Replayed") != "true" || second["id"] != first["id"] || second["code"] == first["code"] ||
		second["expires_at"] != first["expires_at"] {
		t.Fatalf("replay %v of %v", second, first)
	}
	for _, code := range []string{first["code"].(string), second["code"].(string)} {
		plain := strings.ReplaceAll(code, "-", "")
		if n := countRows(t, c.e, `SELECT count(*) FROM idempotency_keys k WHERE k::text LIKE ? OR encode(k.body, 'escape') LIKE ?`,
			"%"+plain+"%", "%"+code+"%"); n != 0 {
			t.Fatalf("code %s is stored for replays", code)
		}
	}
	sam := c.e.Login("sam")
	redeem(c.e, sam, first["code"]).Problem(t, http.StatusNotFound)
	redeem(c.e, sam, second["code"], "Idempotency-Key", "join-alice").Want(t, http.StatusCreated)
	if r := redeem(c.e, sam, second["code"], "Idempotency-Key", "join-alice").Want(t, http.StatusCreated); r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("the redemption was not replayed")
	}
	// Once the invitation is redeemed, the creation cannot be replayed (a new code would be pointless).
	c.e.Do(http.MethodPost, c.aliceURL+"/supporter-invitations", c.alice.Token, body, "Idempotency-Key", "invite-sam").
		Problem(t, http.StatusConflict)
	// Removed, sam's replay is refused as a fresh redemption would be.
	c.e.Do(http.MethodDelete, c.supporterURL(sam), c.alice.Token, nil).Want(t, http.StatusNoContent)
	redeem(c.e, sam, second["code"], "Idempotency-Key", "join-alice").Problem(t, http.StatusNotFound)
}
