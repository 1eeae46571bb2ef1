package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waypoint-portal/waypoint/domain"
)

// The log is append-only for the application's own connection: UPDATE,
// DELETE and TRUNCATE fail, and so does deleting a client (which would
// cascade into it); only the pruner's transactions may delete.
func TestAccessLogAppendOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	e.Do(http.MethodGet, w.aliceURL, w.wanda.Token, nil).Want(t, http.StatusOK)
	db := e.Store.DB() // the server's own handle
	n := logCount(t, e, w.alice.ClientID)
	for _, q := range []string{
		`UPDATE access_log SET label = 'nothing to see'`,
		`UPDATE access_log SET actor_person_id = actor_person_id`,
		`DELETE FROM access_log`,
		`DELETE FROM access_log WHERE actor_person_id = '` + w.wanda.PersonID.String() + `'`,
		`TRUNCATE access_log`,
		`DELETE FROM clients WHERE id = '` + w.alice.ClientID.String() + `'`,
	} {
		err := db.Exec(q).Error
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
	if got := logCount(t, e, w.alice.ClientID); got != n || n != 2 {
		t.Fatalf("the log holds %d entries, had %d (want 2)", got, n)
	}
}

// Pruning deletes what is older than the retention, in batches of its own
// transactions, and nothing newer.
func TestAccessLogPruning(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.e
	old := time.Now().AddDate(-8, 0, 0)
	for range 25 {
		insertEntry(t, e, w.alice.ClientID, w.wanda.PersonID, old, "read", "goal")
	}
	insertEntry(t, e, w.alice.ClientID, w.wanda.PersonID, time.Now().AddDate(-6, 0, 0), "read", "goal")
	ctx := context.Background()
	if _, err := e.Store.PruneAccessLog(ctx, 0, 10); err == nil {
		t.Fatal("a zero retention was accepted")
	}
	// Watch the deletes: each statement's transaction and row count.
	for _, q := range []string{
		`CREATE TABLE prune_watch (seq serial, xid xid8, n bigint)`,
		`CREATE FUNCTION prune_watch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			INSERT INTO prune_watch (xid, n) SELECT pg_current_xact_id(), count(*) FROM gone; RETURN NULL; END $$`,
		`CREATE TRIGGER prune_watch AFTER DELETE ON access_log REFERENCING OLD TABLE AS gone
			FOR EACH STATEMENT EXECUTE FUNCTION prune_watch()`,
	} {
		if err := e.DB.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.Store.PruneAccessLog(ctx, domain.DefaultAccessLogRetention, 10)
	if err != nil || n != 25 {
		t.Fatalf("pruned %d (%v), want 25", n, err)
	}
	var batches []struct {
		Txn string
		N   int64
	}
	if err := e.DB.Raw(`SELECT xid::text AS txn, n FROM prune_watch ORDER BY seq`).Scan(&batches).Error; err != nil {
		t.Fatal(err)
	}
	if len(batches) != 3 || batches[0].N != 10 || batches[1].N != 10 || batches[2].N != 5 ||
		batches[0].Txn == batches[1].Txn || batches[1].Txn == batches[2].Txn || batches[0].Txn == "" {
		t.Fatalf("batches %+v, want 10, 10, 5 in transactions of their own", batches)
	}
	if got := logCount(t, e, w.alice.ClientID); got != 2 { // the six-year-old entry and adam's
		t.Fatalf("%d entries left, want 2", got)
	}
	if n, err := e.Store.PruneAccessLog(ctx, domain.DefaultAccessLogRetention, 10); err != nil || n != 0 {
		t.Fatalf("a second prune removed %d (%v)", n, err)
	}
}
