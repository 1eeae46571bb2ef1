package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// AccessEntry is one access-log entry as the client sees it: who (and in
// what relationship to them, through which app) did what to which record.
type AccessEntry struct {
	ID           uuid.UUID
	At           time.Time
	Action       string
	Resource     string
	ResourceID   string
	Label        string
	ActorID      uuid.UUID // uuid.Nil: a supporter, in an administrator's view
	ActorName    string
	Relationship string
	AppID        string
	RequestID    string
}

// AccessFilter narrows ListAccessLog; zero values do not filter. Since is
// inclusive, Until exclusive.
type AccessFilter struct {
	ActorID  uuid.UUID
	Resource string
	Action   string
	Since    time.Time
	Until    time.Time
	Cursor   string
	Limit    int
}

func (f AccessFilter) check() error {
	if f.Action != "" && !slices.Contains(AccessActions(), f.Action) {
		return InvalidIn(SourceSelection, "action", "action must be one of %s", strings.Join(AccessActions(), ", "))
	}
	if f.Resource != "" && !slices.Contains(AccessResources(), f.Resource) {
		return InvalidIn(SourceSelection, "resource", "resource must be one of %s", strings.Join(AccessResources(), ", "))
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return InvalidIn(SourceSelection, "until", "until is before since; give a time range that is not empty")
	}
	return nil
}

// ListAccessLog lists the entries of a client's access log, newest first.
// The client reads their own; administrators may read it for audit, without
// labels or supporters' identities, and that read is itself an entry. Anyone else who can see the client record
// (their care team) gets 403; everyone else 404.
func (s *Store) ListAccessLog(ctx context.Context, a Actor, clientID uuid.UUID, f AccessFilter) ([]AccessEntry, string, error) {
	if err := f.check(); err != nil {
		return nil, "", err
	}
	before, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	// An administrator audits who touched the data, not the data: labels
	// (a goal's title, a conversation's subject, possibly of a private or
	// sud record) are the client's, and so is whom they chose as a
	// supporter: supporter entries keep their relationship and lose the
	// person, and filtering by a person never matches them.
	own := a.IsClient(clientID)
	q := `SELECT l.id, l.at, l.action, l.resource, l.resource_id,
			CASE WHEN ? THEN l.label ELSE '' END AS label,
			CASE WHEN ? OR l.relationship <> 'supporter' THEN l.actor_person_id END AS actor_id,
			CASE WHEN ? OR l.relationship <> 'supporter' THEN p.display_name ELSE '' END AS actor_name,
			l.relationship, l.app_id, l.request_id
		FROM access_log l JOIN people p ON p.id = l.actor_person_id WHERE l.client_id = ?`
	args := []any{own, own, own, clientID}
	actorCond := " AND l.actor_person_id = ?"
	if !own {
		actorCond += " AND l.relationship <> 'supporter'"
	}
	for _, c := range []struct {
		cond string
		v    any
		set  bool
	}{
		{actorCond, f.ActorID, f.ActorID != uuid.Nil},
		{" AND l.resource = ?", f.Resource, f.Resource != ""},
		{" AND l.action = ?", f.Action, f.Action != ""},
		{" AND l.at >= ?", f.Since, !f.Since.IsZero()},
		{" AND l.at < ?", f.Until, !f.Until.IsZero()},
		{" AND l.id < ?", before, before != uuid.Nil},
	} {
		if c.set {
			q += c.cond
			args = append(args, c.v)
		}
	}
	q += ` ORDER BY l.id DESC LIMIT ?`
	args = append(args, f.Limit+1)
	var out []AccessEntry
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := reachOrForbid(tx, a, clientID, ReachAudit, ResourceAccessLog,
			"only the client, and administrators auditing it, can read a client's access log"); err != nil {
			return err
		}
		if err := tx.Raw(q, args...).Scan(&out).Error; err != nil {
			return fmt.Errorf("list access log: %w", err)
		}
		// An administrator's audit read is itself in the log (the client's
		// own read is not: it records only the app's use).
		return logAccess(tx, a, ActionRead, ResourceAccessLog, []uuid.UUID{clientID}, []string{""})
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, f.Limit, func(e AccessEntry) uuid.UUID { return e.ID })
	return out, next, nil
}

// reachOrForbid passes when the actor reaches clientID's records with
// reach; an actor who sees the client record but not this (a care-team
// worker asking for the access log) gets 403 saying msg; anyone else 404.
func reachOrForbid(tx *gorm.DB, a Actor, clientID uuid.UUID, reach Reach, resource, msg string) error {
	_, err := getClient(tx, a, clientID, reach, resource)
	if !IsKind(err, KindNotFound) {
		return err
	}
	if _, err := getClient(tx, a, clientID, ReachRecord, resource); err != nil {
		return err
	}
	return Forbidden("%s", msg)
}

// DefaultAccessLogRetention is how long access-log entries are kept unless
// configured: seven years of 365 days.
const DefaultAccessLogRetention = 7 * 365 * 24 * time.Hour

// PruneAccessLog deletes access-log entries older than keep, batch rows per
// transaction (so no long lock, and a large backlog goes in steps), until
// none are left; it reports how many went. Replicas pruning at once skip
// each other's rows. It is the only deleter the
// append-only trigger lets through, by setting waypoint.prune_access_log for
// its own transactions.
func (s *Store) PruneAccessLog(ctx context.Context, keep time.Duration, batch int) (int64, error) {
	if keep <= 0 || batch <= 0 {
		return 0, fmt.Errorf("prune access log: keep %s and batch %d must be positive", keep, batch)
	}
	var total int64
	for {
		var n int64
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(`SET LOCAL waypoint.prune_access_log = 'on'`).Error; err != nil {
				return fmt.Errorf("allow pruning: %w", err)
			}
			res := tx.Exec(`DELETE FROM access_log WHERE (client_id, id) IN (
				SELECT client_id, id FROM access_log WHERE at < now() - make_interval(secs => ?) LIMIT ?
				FOR UPDATE SKIP LOCKED)`, keep.Seconds(), batch)
			if res.Error != nil {
				return fmt.Errorf("prune access log: %w", res.Error)
			}
			n = res.RowsAffected
			return nil
		})
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
}
