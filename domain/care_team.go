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

// CareTeamMember is a worker on a client's care team.
type CareTeamMember struct {
	ClientID    uuid.UUID
	PersonID    uuid.UUID
	DisplayName string
	Pronouns    string
	TeamRole    string
	AddedBy     uuid.UUID
	AddedAt     time.Time
}

// careTeamMember is the one definition of care-team membership: it holds
// when person is on client's care team. Visibility (ClientScope),
// conversation participants and event recipients all use it, so a change to
// who counts as the team (an end date, a consent) is made here once. Each
// argument is a column, column("e.client_id"), or a value bound as a parameter.
func careTeamMember(client, person any) clause.Expr {
	return clause.Expr{SQL: "EXISTS (SELECT 1 FROM care_team_members ctm WHERE ctm.client_id = ? AND ctm.person_id = ?)",
		Vars: []any{client, person}}
}

// careTeamExportSQL is the care team of the client the condition ("?")
// names, one JSON object per member as the API shows it (for the export,
// domain/export.go), in the order ListCareTeam lists them.
const careTeamExportSQL = `SELECT jsonb_build_object('person_id', m.person_id, 'display_name', p.display_name,
	'pronouns', p.pronouns, 'team_role', m.team_role, 'added_by', m.added_by, 'added_at', m.added_at)
	FROM care_team_members m JOIN people p ON p.id = m.person_id WHERE ? ORDER BY m.added_at, m.person_id`

const memberColumns = `m.client_id, m.person_id, p.display_name, p.pronouns, m.team_role, m.added_by, m.added_at`

// ListCareTeam lists a client's care team, visible to the client, the team and admins.
func (s *Store) ListCareTeam(ctx context.Context, a Actor, clientID uuid.UUID) ([]CareTeamMember, error) {
	var out []CareTeamMember
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := getClient(tx, a, clientID, ReachRecord, ResourceCareTeam); err != nil {
			return err
		}
		err := tx.Table("care_team_members m").Joins("JOIN people p ON p.id = m.person_id").
			Select(memberColumns).Where("m.client_id = ?", clientID).Order("m.added_at, m.person_id").Scan(&out).Error
		if err != nil {
			return fmt.Errorf("list care team: %w", err)
		}
		return logAccess(tx, a, ActionRead, ResourceCareTeam, []uuid.UUID{clientID}, []string{""})
	})
	return out, err
}

// AddCareTeamMember puts a worker on a client's care team (admins only). It is
// idempotent: adding a member again updates their team role. created reports
// whether the membership is new.
func (s *Store) AddCareTeamMember(ctx context.Context, a Actor, clientID, personID uuid.UUID, teamRole string) (m CareTeamMember, created bool, err error) {
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.requireAdminOn(tx, a, clientID); err != nil {
			return err
		}
		var isWorker []bool
		if err := tx.Raw(`SELECT roles @> '["worker"]' FROM people WHERE id = ?`, personID).Scan(&isWorker).Error; err != nil {
			return fmt.Errorf("look up person: %w", err)
		}
		if len(isWorker) == 0 {
			return &Error{Kind: KindNotFound, Source: SourceTarget, Field: "personId", Message: "person not found"}
		}
		if !isWorker[0] {
			return InvalidIn(SourceTarget, "personId", "this person does not hold the worker role; only workers can join a care team")
		}
		if err := serializeCount(tx, countCareTeam, clientID); err != nil {
			return err
		}
		var inserted []bool
		err := tx.Raw(`INSERT INTO care_team_members (client_id, person_id, team_role, added_by)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (client_id, person_id) DO UPDATE SET team_role = EXCLUDED.team_role
			RETURNING (xmax = 0)`, clientID, personID, strings.TrimSpace(teamRole), a.PersonID).Scan(&inserted).Error
		if err != nil {
			return fmt.Errorf("add care team member: %w", err)
		}
		created = len(inserted) == 1 && inserted[0]
		if err := checkCount(tx, MaxCareTeam, `SELECT count(*) FROM care_team_members WHERE client_id = ?`, clientID,
			"this care team has %d members, the most a care team can have; remove one first", MaxCareTeam); err != nil {
			return err
		}
		if err := tx.Table("care_team_members m").Joins("JOIN people p ON p.id = m.person_id").
			Select(memberColumns).Where("m.client_id = ? AND m.person_id = ?", clientID, personID).Scan(&m).Error; err != nil {
			return fmt.Errorf("read care team member: %w", err)
		}
		return logAccess(tx, a, ActionWrite, ResourceCareTeam, []uuid.UUID{clientID}, []string{personID.String()})
	})
	return m, created, err
}

// RemoveCareTeamMember takes a worker off a care team (admins only); removing
// a non-member succeeds, so retries are safe. The worker loses access at once,
// because every client-scoped query checks membership.
func (s *Store) RemoveCareTeamMember(ctx context.Context, a Actor, clientID, personID uuid.UUID) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.requireAdminOn(tx, a, clientID); err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM care_team_members WHERE client_id = ? AND person_id = ?`, clientID, personID)
		if res.Error != nil {
			return fmt.Errorf("remove care team member: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return logAccess(tx, a, ActionWrite, ResourceCareTeam, []uuid.UUID{clientID}, []string{personID.String()})
	})
}

func (s *Store) requireAdminOn(tx *gorm.DB, a Actor, clientID uuid.UUID) error {
	if _, err := getClient(tx, a, clientID, ReachRecord, ResourceCareTeam); err != nil {
		return err
	}
	if !a.Is(RoleAdmin) {
		return Forbidden("only administrators can change a care team")
	}
	return nil
}
