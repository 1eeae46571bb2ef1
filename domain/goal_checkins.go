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

// CheckIn is a self-rating of progress on a goal, attributed to its author.
type CheckIn struct {
	ID                uuid.UUID
	GoalID            uuid.UUID
	Rating            int
	Note              *string
	Mood              *string
	AuthorPersonID    uuid.UUID
	AuthorDisplayName string
	// AuthorRole is client (the client's own rating) or worker (a care team
	// member's observation, which does not count towards latest rating or trend).
	AuthorRole string
	CreatedAt  time.Time
	// Sensitivity is the goal's label (responses with a labelled goal's
	// records carry the redisclosure notice).
	Sensitivity *string `gorm:"-"`
}

// CheckInInput records a check-in.
type CheckInInput struct {
	Rating int
	Note   string
	Mood   string
}

const checkInColumns = `ci.id, ci.goal_id, ci.rating, ci.note, ci.mood, ci.author_person_id,
	p.display_name AS author_display_name, ci.author_role, ci.created_at`

// AddCheckIn records a check-in on a goal by the client or a care team member.
func (s *Store) AddCheckIn(ctx context.Context, a Actor, goalID uuid.UUID, in CheckInInput) (CheckIn, error) {
	if in.Rating < MinCheckInRating || in.Rating > MaxCheckInRating {
		return CheckIn{}, Invalid("rating", "a rating is a whole number from %d to %d", MinCheckInRating, MaxCheckInRating)
	}
	note, err := optText("note", in.Note, MaxCheckInNote)
	if err != nil {
		return CheckIn{}, err
	}
	if in.Mood != "" && !slices.Contains(CheckInMoods(), in.Mood) {
		return CheckIn{}, Invalid("mood", "mood must be one of %s", strings.Join(CheckInMoods(), ", "))
	}
	var ci CheckIn
	err = s.tx(ctx, func(tx *gorm.DB) error {
		// A check-in changes the goal's latest rating and trend, so its version.
		g, err := touchGoal(tx, a, goalID)
		if err != nil {
			return err
		}
		clientID := g.ClientID
		role := RoleWorker
		if a.IsClient(clientID) {
			role = RoleClient
		}
		id := newID()
		if err := tx.Raw(`WITH ci AS (
				INSERT INTO goal_check_ins (client_id, goal_id, id, rating, note, mood, author_person_id, author_role)
				VALUES (?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?) RETURNING *)
			SELECT `+checkInColumns+` FROM ci JOIN people p ON p.id = ci.author_person_id`,
			clientID, goalID, id, in.Rating, note, in.Mood, a.PersonID, role).Scan(&ci).Error; err != nil {
			return fmt.Errorf("insert check-in: %w", err)
		}
		ci.Sensitivity = g.Sensitivity
		return goalChildWritten(tx, a, clientID, goalID, g.Version, GoalChangeCheckIn,
			[]FieldChange{{Field: "check_ins[" + id.String() + "]", New: map[string]any{
				"rating": in.Rating, "mood": ci.Mood, "author_role": role,
			}}})
	})
	return ci, err
}

// ListCheckIns lists a goal's check-ins, oldest first unless f.Desc.
func (s *Store) ListCheckIns(ctx context.Context, a Actor, goalID uuid.UUID, f ListFilter) ([]CheckIn, string, error) {
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var out []CheckIn
	var label *string
	err = s.tx(ctx, func(tx *gorm.DB) error {
		g, err := goalClient(tx, a, goalID, ReachGoalsShared)
		if err != nil {
			return err
		}
		clientID := g.ClientID
		label = g.Sensitivity
		q, args := `SELECT `+checkInColumns+` FROM goal_check_ins ci JOIN people p ON p.id = ci.author_person_id
			WHERE ci.client_id = ? AND ci.goal_id = ?`, []any{clientID, goalID}
		q, args = pageClause(q, args, "ci.id", after, f)
		if err := tx.Raw(q, args...).Scan(&out).Error; err != nil {
			return fmt.Errorf("list check-ins: %w", err)
		}
		return logAccess(tx, a, ActionRead, ResourceGoalCheckIn, []uuid.UUID{clientID}, []string{goalID.String()})
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, f.Limit, func(c CheckIn) uuid.UUID { return c.ID })
	for i := range out {
		out[i].Sensitivity = label
	}
	return out, next, nil
}
