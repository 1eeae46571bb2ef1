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

// Feedback is a barrier a client or worker reported on a service, as the
// directory editors' queue shows it: never who reported it.
type Feedback struct {
	ID             uuid.UUID
	ServiceID      uuid.UUID
	ServiceName    string
	ReferralID     *uuid.UUID
	Kind           string
	Text           *string
	ReporterRole   string
	Status         string
	ResolutionNote string
	ResolvedBy     *uuid.UUID
	ResolvedAt     *time.Time
	Version        int64
	CreatedAt      time.Time
}

// FeedbackInput is a barrier report; nil members are not given.
type FeedbackInput struct {
	Kind       string
	Text       *string
	ReferralID *uuid.UUID
}

// FeedbackFilter narrows the queue; empty members do not filter.
type FeedbackFilter struct {
	Status    string
	Kind      string
	ServiceID *uuid.UUID
}

// FeedbackPatch resolves or reopens a report; nil members are unchanged.
type FeedbackPatch struct {
	Status         *string
	ResolutionNote *string
}

// feedbackSelect reads reports f with their service's name; the reporter's
// identity is not among its columns, so no read can show it.
const feedbackSelect = `SELECT f.id, f.service_id, sv.name AS service_name, f.referral_id, f.kind, f.text, f.reporter_role,
	f.status, f.resolution_note, f.resolved_by, f.resolved_at, f.version, f.created_at
	FROM service_feedback f JOIN services sv ON sv.id = f.service_id`

// feedbackReporterRole is the capacity the actor reports in: as a client
// (their own record) or as a worker; anyone else may not report.
func feedbackReporterRole(a Actor) (string, error) {
	switch {
	case a.Is(RoleClient) && a.ClientID != uuid.Nil:
		return RoleClient, nil
	case a.Is(RoleWorker):
		return RoleWorker, nil
	}
	return "", Forbidden("reporting a barrier on a service needs the client or worker role")
}

// CheckFeedbackReporter fails as CreateFeedback would for an actor who may
// not report barriers (replays of a report are authorized with it).
func CheckFeedbackReporter(a Actor) error {
	_, err := feedbackReporterRole(a)
	return err
}

func checkFeedbackInput(in FeedbackInput) (text *string, err error) {
	if !slices.Contains(FeedbackKinds(), in.Kind) {
		return nil, Invalid("kind", "kind must be one of %s", strings.Join(FeedbackKinds(), ", "))
	}
	if in.Text == nil {
		return nil, nil
	}
	return optText("text", *in.Text, MaxFeedbackText)
}

// CreateFeedback records a barrier the actor (a client or a worker) met on a
// service, optionally on a referral to it they can see, and in the same
// transaction counts it as an anonymous unmet need (source barrier, reason
// the kind): a client's unless they opted out, a worker's always.
func (s *Store) CreateFeedback(ctx context.Context, a Actor, serviceID uuid.UUID, in FeedbackInput) (Feedback, error) {
	role, err := feedbackReporterRole(a)
	if err != nil {
		return Feedback{}, err
	}
	text, err := checkFeedbackInput(in)
	if err != nil {
		return Feedback{}, err
	}
	var out Feedback
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var found []bool
		if err := tx.Raw(`SELECT true FROM services WHERE id = ?`, serviceID).Scan(&found).Error; err != nil {
			return fmt.Errorf("look up service: %w", err)
		}
		if len(found) == 0 {
			return NotFound("service")
		}
		var refClient *uuid.UUID
		if in.ReferralID != nil {
			var owner []uuid.UUID
			if err := tx.Raw(`SELECT r.client_id FROM referrals r WHERE r.id = ? AND r.service_id = ? AND ?`,
				*in.ReferralID, serviceID, a.ClientScope("r.client_id", ReachCare)).Scan(&owner).Error; err != nil {
				return fmt.Errorf("look up referral: %w", err)
			}
			if len(owner) == 0 {
				return Invalid("referral_id", "no referral to this service that you can see has this id")
			}
			refClient = &owner[0]
			if err := logAccess(tx, a, ActionRead, ResourceReferral, []uuid.UUID{owner[0]}, []string{in.ReferralID.String()}); err != nil {
				return err
			}
		}
		id := newID()
		if err := tx.Exec(`INSERT INTO service_feedback (id, service_id, referral_client_id, referral_id, kind, text,
				reporter_person_id, reporter_role, client_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, serviceID, refClient, in.ReferralID, in.Kind, text, a.PersonID, role, reporterClient(a, role)).Error; err != nil {
			return fmt.Errorf("create feedback: %w", err)
		}
		if role == RoleClient {
			err = recordClientServiceNeed(tx, UnmetNeedBarrier, serviceID, a.ClientID, in.Kind)
		} else {
			err = recordServiceNeed(tx, UnmetNeedBarrier, serviceID, a.PersonID, nil, in.Kind, time.Now())
		}
		if err != nil {
			return err
		}
		out, err = readFeedback(tx, id)
		return err
	})
	return out, err
}

// reporterClient is the reporting client's record, nil for a worker.
func reporterClient(a Actor, role string) *uuid.UUID {
	if role != RoleClient {
		return nil
	}
	return &a.ClientID
}

func readFeedback(tx *gorm.DB, id uuid.UUID) (Feedback, error) {
	var rows []Feedback
	if err := tx.Raw(feedbackSelect+` WHERE f.id = ?`, id).Scan(&rows).Error; err != nil {
		return Feedback{}, fmt.Errorf("read feedback: %w", err)
	}
	if len(rows) == 0 {
		return Feedback{}, NotFound("feedback")
	}
	return rows[0], nil
}

// ListFeedback is the directory editors' queue (roles admin and
// directory_editor), newest first.
func (s *Store) ListFeedback(ctx context.Context, a Actor, f FeedbackFilter, cursor string, limit int) ([]Feedback, string, error) {
	if err := canWriteDirectory(a); err != nil {
		return nil, "", err
	}
	if f.Status != "" && !slices.Contains(FeedbackStatuses(), f.Status) {
		return nil, "", InvalidIn(SourceSelection, "status", "status must be one of %s", strings.Join(FeedbackStatuses(), ", "))
	}
	if f.Kind != "" && !slices.Contains(FeedbackKinds(), f.Kind) {
		return nil, "", InvalidIn(SourceSelection, "kind", "kind must be one of %s", strings.Join(FeedbackKinds(), ", "))
	}
	q, args := feedbackSelect+` WHERE TRUE`, []any{}
	if f.Status != "" {
		q += ` AND f.status = ?`
		args = append(args, f.Status)
	}
	if f.Kind != "" {
		q += ` AND f.kind = ?`
		args = append(args, f.Kind)
	}
	if f.ServiceID != nil {
		q += ` AND f.service_id = ?`
		args = append(args, *f.ServiceID)
	}
	return listPage(ctx, s, cursor, listSpec[Feedback]{what: "feedback", query: q, args: args, col: "f.id",
		filter: ListFilter{Limit: limit, Desc: true}, id: func(f Feedback) uuid.UUID { return f.ID }})
}

// GetFeedback reads one report of the queue (admin and directory_editor).
func (s *Store) GetFeedback(ctx context.Context, a Actor, id uuid.UUID) (Feedback, error) {
	if err := canWriteDirectory(a); err != nil {
		return Feedback{}, err
	}
	return readFeedback(s.db.WithContext(ctx), id)
}

// UpdateFeedback resolves a report (with a note) or reopens it, if its
// version satisfies pre: one conditional update. Resolving records who and
// when; reopening clears them.
func (s *Store) UpdateFeedback(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, p FeedbackPatch) (Feedback, error) {
	if err := canWriteDirectory(a); err != nil {
		return Feedback{}, err
	}
	set := map[string]any{}
	if p.Status != nil {
		switch *p.Status {
		case FeedbackResolved:
			set["resolved_by"], set["resolved_at"] = a.PersonID, gorm.Expr("now()")
		case FeedbackOpen:
			set["resolved_by"], set["resolved_at"] = nil, nil
		default:
			return Feedback{}, Invalid("status", "status must be one of %s", strings.Join(FeedbackStatuses(), ", "))
		}
		set["status"] = *p.Status
	}
	if p.ResolutionNote != nil {
		n, err := optText("resolution_note", *p.ResolutionNote, MaxResolutionNote)
		if err != nil {
			return Feedback{}, err
		}
		set["resolution_note"] = "" // the column is '' when there is no note
		if n != nil {
			set["resolution_note"] = *n
		}
	}
	var out Feedback
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if len(set) == 0 {
			cur, err := readFeedback(tx, id)
			if err != nil {
				return err
			}
			if err := pre.check(cur.Version); err != nil {
				return err
			}
			out = cur
			return nil
		}
		if err := conditionalUpdate(ctx, tx, "service_feedback", id, pre, set, nil); err != nil {
			if IsKind(err, KindNotFound) {
				return NotFound("feedback")
			}
			return err
		}
		var err error
		out, err = readFeedback(tx, id)
		return err
	})
	return out, err
}
