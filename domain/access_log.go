package domain

import (
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Access log actions.
const (
	ActionRead  = "read"
	ActionWrite = "write"
	// ActionExport is the client's download of all their data.
	ActionExport = "export"
	// ActionDenied is an attempt on a record the actor may not see.
	ActionDenied = "denied"
)

// logAccess records, inside tx, that the actor read or wrote resources of the
// given clients. The client's own access is not logged: the log exists so
// clients can see who else touched their data.
func logAccess(tx *gorm.DB, a Actor, action, resource string, clientIDs []uuid.UUID, resourceIDs []string) error {
	ids := make([]uuid.UUID, 0, len(clientIDs))
	rids := make([]string, 0, len(clientIDs))
	for i, c := range clientIDs {
		if a.IsClient(c) {
			continue
		}
		ids = append(ids, c)
		rid := ""
		if i < len(resourceIDs) {
			rid = resourceIDs[i]
		}
		rids = append(rids, rid)
	}
	if len(ids) == 0 {
		return nil
	}
	logIDs := make([]uuid.UUID, len(ids))
	for i := range logIDs {
		logIDs[i] = newID()
	}
	err := tx.Exec(`INSERT INTO access_log (client_id, id, actor_person_id, app_id, action, resource, resource_id)
		SELECT c, l, ?, ?, ?, ?, r FROM unnest(?::uuid[], ?::uuid[], ?::text[]) AS t(c, l, r)`,
		a.PersonID, a.AppID, action, resource, uuidArray(ids), uuidArray(logIDs), textArray(rids)).Error
	if err != nil {
		return fmt.Errorf("write access log: %w", err)
	}
	return nil
}

// logAccessFrom is logAccess for a read that is a single statement: an
// INSERT (for a WITH clause of that statement) logging the access to the one
// row of src, unless the row is the actor's own. One round trip, and the log
// commits with the read or not at all.
func logAccessFrom(a Actor, action, resource, src, clientCol, resourceCol string) clause.Expr {
	return clause.Expr{SQL: `INSERT INTO access_log (client_id, id, actor_person_id, app_id, action, resource, resource_id)
		SELECT ` + clientCol + `, ?, ?, ?, ?, ?, ` + resourceCol + `::text FROM ` + src +
		` WHERE ` + clientCol + ` IS DISTINCT FROM ?`,
		Vars: []any{newID(), a.PersonID, a.AppID, action, resource, a.ClientID}}
}

func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
