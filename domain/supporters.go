package domain

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Supporter is a person a client chose to let read some of their records
// (the shares), until AccessExpiresAt if set. Supporting is not a role:
// anyone may be one, and a supporter never writes.
type Supporter struct {
	ClientID          uuid.UUID
	PersonID          uuid.UUID
	ID                uuid.UUID
	DisplayName       string
	ClientDisplayName string
	Shares            Strings
	AccessExpiresAt   *time.Time
	// Status is SupporterActive, or SupporterExpired once AccessExpiresAt has passed.
	Status    string
	AddedAt   time.Time
	UpdatedAt time.Time
	Version   int64
}

// Statuses of a supporter grant.
const (
	SupporterActive  = "active"
	SupporterExpired = "expired"
)

// SupporterStatuses lists the statuses of a supporter grant (computed, never stored).
func SupporterStatuses() []string { return []string{SupporterActive, SupporterExpired} }

// supporterGrant is the one definition of an active supporter grant: it
// holds when person has an unexpired grant of share for client. Each of
// client and person is a column, column("g.client_id"), or a bound value.
// ClientScope's shared reaches use it, and nothing else decides it.
func supporterGrant(client, person any, share string) clause.Expr {
	return clause.Expr{SQL: "EXISTS (SELECT 1 FROM supporters sg WHERE sg.client_id = ? AND sg.person_id = ? " +
		"AND ? = ANY (sg.shares) AND (sg.access_expires_at IS NULL OR sg.access_expires_at > now()))",
		Vars: []any{client, person, share}}
}

const supporterSelect = `SELECT s.client_id, s.person_id, s.id, p.display_name, cp.display_name AS client_display_name,
	to_jsonb(s.shares) AS shares, s.access_expires_at,
	CASE WHEN s.access_expires_at IS NULL OR s.access_expires_at > now() THEN 'active' ELSE 'expired' END AS status, s.added_at, s.updated_at, s.version
	FROM supporters s JOIN people p ON p.id = s.person_id
	JOIN clients c ON c.id = s.client_id JOIN people cp ON cp.id = c.person_id`

// readSupporter reads one grant; callers have authorized the actor.
func readSupporter(tx *gorm.DB, clientID, personID uuid.UUID) (Supporter, error) {
	var out Supporter
	res := tx.Raw(supporterSelect+` WHERE s.client_id = ? AND s.person_id = ?`, clientID, personID).Scan(&out)
	if res.Error != nil {
		return Supporter{}, fmt.Errorf("read supporter: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Supporter{}, NotFound("supporter")
	}
	return out, nil
}

// ListSupporters lists a client's supporters, oldest grant first: all of
// them for the client, only themself for a supporter. The care team and
// administrators are refused (403): who supports a client is the client's.
func (s *Store) ListSupporters(ctx context.Context, a Actor, clientID uuid.UUID, cursor string, limit int) ([]Supporter, string, error) {
	return listPage(ctx, s, cursor, listSpec[Supporter]{what: "supporters",
		query: supporterSelect + ` WHERE s.client_id = ? AND ?`, args: []any{clientID, a.SupporterScope("s")},
		col: "s.id", filter: ListFilter{Limit: limit}, id: func(s Supporter) uuid.UUID { return s.ID },
		after: func(tx *gorm.DB, rows []Supporter) error {
			if len(rows) == 0 {
				var self []bool
				if err := tx.Raw(`SELECT true FROM supporters s WHERE s.client_id = ? AND ?`, clientID, a.SupporterScope("s")).Scan(&self).Error; err != nil {
					return fmt.Errorf("look up supporter: %w", err)
				}
				if len(self) == 0 {
					if err := requireOwner(tx, a, clientID, "only the client sees who supports them"); err != nil {
						return err
					}
				}
			}
			return logAccess(tx, a, ActionRead, ResourceSupporter, []uuid.UUID{clientID}, []string{a.PersonID.String()})
		}})
}

// GetSupporter returns one grant: to the client, or to the supporter
// themself; anyone else gets NotFound.
func (s *Store) GetSupporter(ctx context.Context, a Actor, clientID, personID uuid.UUID) (Supporter, error) {
	var out Supporter
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Raw(supporterSelect+` WHERE s.client_id = ? AND s.person_id = ? AND ?`, clientID, personID, a.SupporterScope("s")).Scan(&out)
		if res.Error != nil {
			return fmt.Errorf("read supporter: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			if revoked, err := appRevokedBy(tx, a, clientID); err != nil {
				return err
			} else if revoked {
				return revokedApp(a.AppID)
			}
			return NotFound("supporter")
		}
		return logAccess(tx, a, ActionRead, ResourceSupporter, []uuid.UUID{clientID}, []string{personID.String()})
	})
	return out, err
}

// SupporterPatch changes a grant; nil members are unchanged. A zero
// AccessExpiresAt clears the expiry.
type SupporterPatch struct {
	Shares          *[]string
	AccessExpiresAt *time.Time
}

func (p SupporterPatch) set() (string, []any, error) {
	var set []string
	var args []any
	if p.Shares != nil {
		shares, err := cleanShares("shares", *p.Shares)
		if err != nil {
			return "", nil, err
		}
		set, args = append(set, "shares = ?::text[]"), append(args, textArray(shares))
	}
	if p.AccessExpiresAt != nil {
		until, err := futureTime("access_expires_at", p.AccessExpiresAt)
		if err != nil {
			return "", nil, err
		}
		set, args = append(set, "access_expires_at = ?"), append(args, until)
	}
	return strings.Join(set, ", "), args, nil
}

// UpdateSupporter changes what a supporter may read, or until when: the
// client only, with one conditional UPDATE; it applies to the next request.
// The supporter may see their grant but not change it (403).
func (s *Store) UpdateSupporter(ctx context.Context, a Actor, clientID, personID uuid.UUID, pre Precondition, p SupporterPatch) (Supporter, error) {
	set, args, err := p.set()
	if err != nil {
		return Supporter{}, err
	}
	var out Supporter
	err = s.tx(ctx, func(tx *gorm.DB) error {
		where := `s.client_id = ? AND s.person_id = ? AND ? AND ?`
		wargs := []any{clientID, personID, a.ClientScope("s.client_id", ReachOwner), pre.sql("s.version")}
		q := `SELECT s.person_id FROM supporters s WHERE ` + where
		if set != "" {
			q = `UPDATE supporters s SET ` + set + `, updated_at = now(), version = s.version + 1 WHERE ` + where +
				` RETURNING s.person_id`
		}
		var hit []uuid.UUID
		if err := tx.Raw(q, append(args, wargs...)...).Scan(&hit).Error; err != nil {
			return fmt.Errorf("update supporter: %w", err)
		}
		if len(hit) == 0 {
			return supporterUpdateRefused(tx, a, clientID, personID, pre)
		}
		if out, err = readSupporter(tx, clientID, personID); err != nil {
			return err
		}
		return nil
	})
	return out, err
}

// supporterUpdateRefused explains a conditional update that changed nothing:
// not visible (404), visible but not the client's to change (403), or stale (412).
func supporterUpdateRefused(tx *gorm.DB, a Actor, clientID, personID uuid.UUID, pre Precondition) error {
	var rows []struct {
		Version int64
		Owner   bool
	}
	err := tx.Raw(`SELECT s.version, ? AS owner FROM supporters s WHERE s.client_id = ? AND s.person_id = ? AND ?`,
		a.ClientScope("s.client_id", ReachOwner), clientID, personID, a.SupporterScope("s")).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("read supporter version: %w", err)
	}
	switch {
	case len(rows) == 0:
		return NotFound("supporter")
	case !rows[0].Owner:
		return Forbidden("only the client changes what a supporter may see")
	}
	if err := pre.check(rows[0].Version); err != nil {
		return err
	}
	return Stale(rows[0].Version)
}

// RemoveSupporter ends a supporter's access at once: the client may remove
// anyone (idempotent: removing a non-supporter succeeds), and a supporter
// may leave; anyone else gets 403 or 404 as for the client record.
func (s *Store) RemoveSupporter(ctx context.Context, a Actor, clientID, personID uuid.UUID) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM supporters s WHERE s.client_id = ? AND s.person_id = ? AND ?`,
			clientID, personID, a.SupporterScope("s"))
		if res.Error != nil {
			return fmt.Errorf("remove supporter: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			if revoked, err := appRevokedBy(tx, a, clientID); err != nil {
				return err
			} else if revoked {
				return revokedApp(a.AppID)
			}
			return requireOwner(tx, a, clientID, "only the client, or the supporter themself, ends a supporter's access")
		}
		return logAccess(tx, a, ActionWrite, ResourceSupporter, []uuid.UUID{clientID}, []string{personID.String()})
	})
}

// Supporting lists the active grants the actor holds: whom they support,
// with what shares. It is the actor's own membership, shown with the
// client's display name and not logged as a read of the client's records;
// through an app a client revoked, that client is not listed.
func (s *Store) Supporting(ctx context.Context, a Actor) ([]Supporter, error) {
	var out []Supporter
	allowed := clause.Expr{SQL: "TRUE"}
	if a.AppID != "" {
		allowed = a.appAllowedBy(column("s.client_id"))
	}
	err := s.db.WithContext(ctx).Raw(supporterSelect+` WHERE s.person_id = ? AND ?
		AND (s.access_expires_at IS NULL OR s.access_expires_at > now()) ORDER BY s.id`, a.PersonID, allowed).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list supported clients: %w", err)
	}
	return out, nil
}

// Writes use ReachCare, which no supporter reaches. A supporter who can
// read the record they tried to change gets 403 rather than 404: they see
// it, and supporters never write (DESIGN.md, "Conventions").

// writableClient passes when the actor may change clientID's shared records
// (ReachCare); else Forbidden when they read them through share's reach,
// else NotFound.
func writableClient(tx *gorm.DB, a Actor, clientID uuid.UUID, read Reach, resource string) error {
	_, err := getClient(tx, a, clientID, ReachCare, resource)
	if !IsKind(err, KindNotFound) {
		return err
	}
	return refusedWrite(tx, err, `clients c WHERE c.id = ? AND ?`, clientID, a.ClientScope("c.id", read))
}

// goalWriteRefused answers a goal write that matched nothing under ReachCare.
func goalWriteRefused(tx *gorm.DB, a Actor, goalID uuid.UUID) error {
	return refusedWrite(tx, missing(a, goalTarget(goalID)), `goals g WHERE g.id = ? AND ?`, goalID, a.GoalScope("g", ReachGoalsShared))
}

// refusedWrite is Forbidden when a row of from (a FROM clause with its
// WHERE, naming the record under the actor's shared reach) exists, else notFound.
func refusedWrite(tx *gorm.DB, notFound error, from string, args ...any) error {
	var ok []bool
	if err := tx.Raw(`SELECT true FROM `+from+` LIMIT 1`, args...).Scan(&ok).Error; err != nil {
		return fmt.Errorf("look up shared record: %w", err)
	}
	if len(ok) > 0 {
		return Forbidden("supporters may read what the client shares with them, but not change it")
	}
	return notFound
}
