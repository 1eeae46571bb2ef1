package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// Referral statuses.
const (
	ReferralSent         = "sent"
	ReferralAcknowledged = "acknowledged"
	ReferralAccepted     = "accepted"
	ReferralInProgress   = "in_progress"
	ReferralDeclined     = "declined"
	ReferralCompleted    = "completed"
	ReferralCancelled    = "cancelled"
)

// ReferralStatuses lists every status in flow order.
func ReferralStatuses() []string {
	return []string{ReferralSent, ReferralAcknowledged, ReferralAccepted, ReferralInProgress, ReferralDeclined, ReferralCompleted, ReferralCancelled}
}

// Decline reasons: why a referral was declined (required when declining).
// Declined referrals count as unmet needs by reason.
func DeclineReasons() []string {
	return []string{"capacity", "eligibility", "unreachable", "client_declined", "other"}
}

// ReferralTransitions is the referral's status table: the statuses a
// referral in status from may move to. The service acknowledges (the
// provider's "received"), then accepts or declines; an accepted referral may
// be marked in progress, and is completed; any referral still open can be
// cancelled. declined, completed and cancelled are final.
func ReferralTransitions(from string) []string {
	switch from {
	case ReferralSent:
		return []string{ReferralAcknowledged, ReferralCancelled}
	case ReferralAcknowledged:
		return []string{ReferralAccepted, ReferralDeclined, ReferralCancelled}
	case ReferralAccepted:
		return []string{ReferralInProgress, ReferralCompleted, ReferralCancelled}
	case ReferralInProgress:
		return []string{ReferralCompleted, ReferralCancelled}
	}
	return nil
}

// ProviderReferralTransitions is the part of ReferralTransitions a provider
// may make: every move but cancelling (the client's and the care team's).
func ProviderReferralTransitions(from string) []string {
	var out []string
	for _, to := range ReferralTransitions(from) {
		if to != ReferralCancelled {
			out = append(out, to)
		}
	}
	return out
}

// MaxReferralStatusChanges is the most entries a referral's status history
// can have: the referral being made, then the longest walk through
// ReferralTransitions. The table has no cycle (declined, completed and
// cancelled end every walk); if it ever had one, every test would panic here.
func MaxReferralStatusChanges() int {
	var longest func(from string, depth int) int
	longest = func(from string, depth int) int {
		if depth > len(ReferralStatuses()) {
			panic("ReferralTransitions has a cycle: a status history would have no bound")
		}
		n := 0
		for _, to := range ReferralTransitions(from) {
			n = max(n, 1+longest(to, depth+1))
		}
		return n
	}
	return 1 + longest(ReferralSent, 0)
}

// checkReferralTransition is nil when from -> to is allowed to the actor
// (provider: ProviderReferralTransitions), else a 409 naming both states.
func checkReferralTransition(from, to string, provider bool) error {
	table := ReferralTransitions
	if provider {
		table = ProviderReferralTransitions
	}
	if slices.Contains(table(from), to) {
		return nil
	}
	next := table(from)
	msg := "a referral that is " + from + " cannot become " + to
	if len(next) == 0 {
		msg += "; " + from + " is final"
	} else {
		msg += "; from " + from + " it can become " + strings.Join(next, ", ")
	}
	return &Error{Kind: KindConflict, Source: SourceContent, Field: "status", Message: msg}
}

// referralNote checks a note's length in characters, as the column's CHECK
// counts them (not bytes: a note in Amharic or with emoji is not shorter).
func referralNote(note string) error {
	if utf8.RuneCountInString(note) > MaxReferralNote {
		return Invalid("note", "note is longer than %d characters", MaxReferralNote)
	}
	return nil
}

// ReferralStatusChange is one row of a referral's status history.
type ReferralStatusChange struct {
	FromStatus    *string   `json:"from_status"`
	ToStatus      string    `json:"to_status"`
	ChangedBy     uuid.UUID `json:"changed_by"`
	ChangedByName string    `json:"changed_by_name"`
	ActorRole     string    `json:"actor_role"`
	ChangedAt     time.Time `json:"changed_at"`
}

// Referral sends a client to a service, optionally for one of their goals.
type Referral struct {
	ID            uuid.UUID
	ClientID      uuid.UUID
	Service       ServiceSummary
	GoalID        *uuid.UUID
	Status        string
	Note          string
	CreatedBy     uuid.UUID
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int64
	StatusHistory []ReferralStatusChange
	// SharedWithProvider is what the client lets the service's staff see.
	SharedWithProvider []string
	DeclineReason      *string
	// Shared is set only when the actor reads as a provider: the fields the
	// client shared (the rest of the referral is cut to what the provider
	// needs: no goal id, the note only when shared).
	Shared *ProviderShared
}

// ProviderShared is what a provider sees of the client behind a referral;
// each member is nil unless the client shares it.
type ProviderShared struct {
	FirstName         *string
	Contact           *ContactPreferences
	PreferredLanguage *string
	GoalTitle         *string
}

type referralRow struct {
	ID        uuid.UUID
	ClientID  uuid.UUID
	GoalID    *uuid.UUID
	Status    string
	Note      string
	CreatedBy uuid.UUID
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
	History   JSONValue[[]ReferralStatusChange]
	Shares    Strings
	Decline   *string
	Svc       serviceSummaryRow `gorm:"embedded"`
	// The provider view's shared fields (providerReferralSelect).
	ProviderView    bool
	SharedFirstName *string
	SharedContact   *JSONValue[ContactPreferences]
	SharedLanguage  *string
	SharedGoalTitle *string
	// GoalHidden is set when the linked goal is one the actor may not see.
	GoalHidden bool
}

func (r referralRow) referral() Referral {
	h := r.History.V
	if h == nil {
		h = []ReferralStatusChange{}
	}
	shares := []string(r.Shares)
	if shares == nil {
		shares = []string{}
	}
	out := Referral{ID: r.ID, ClientID: r.ClientID, Service: r.Svc.summary(), GoalID: r.GoalID, Status: r.Status, Note: r.Note,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version, StatusHistory: h,
		SharedWithProvider: shares, DeclineReason: r.Decline}
	if r.ProviderView {
		sh := &ProviderShared{FirstName: r.SharedFirstName, PreferredLanguage: r.SharedLanguage, GoalTitle: r.SharedGoalTitle}
		if r.SharedContact != nil {
			c := r.SharedContact.V
			// How to reach the client, not their settings in the app.
			c.PushPreviews, c.HelpImproveServices = nil, nil
			sh.Contact = &c
		}
		out.Shared = sh
	}
	return out
}

// referralSelect reads referrals r with their service and status history in
// one statement. Its one argument is the actor's GoalScope for alias lg
// (referralGoalScope): the goal_id of a goal the actor may not see reads as
// null, so a referral never shows that a private or labelled goal exists.
const referralSelect = `SELECT r.id, r.client_id,
	CASE WHEN r.goal_id IS NULL OR EXISTS (SELECT 1 FROM goals lg WHERE lg.client_id = r.client_id AND lg.id = r.goal_id AND ?)
		THEN r.goal_id END AS goal_id, r.status, r.note, r.created_by, r.created_at, r.updated_at, r.version,
	to_jsonb(r.shared_with_provider) AS shares, r.decline_reason AS decline,
	(SELECT coalesce(jsonb_agg(jsonb_build_object('from_status', h.from_status, 'to_status', h.to_status,
		'changed_by', h.changed_by, 'changed_by_name', p.display_name, 'actor_role', h.actor_role, 'changed_at', h.changed_at)
		ORDER BY h.id), '[]')
	 FROM referral_status_history h JOIN people p ON p.id = h.changed_by
	 WHERE h.client_id = r.client_id AND h.referral_id = r.id) AS history,
	` + serviceSummaryColumns + `
	FROM referrals r JOIN services sv ON sv.id = r.service_id JOIN organizations o ON o.id = sv.organization_id`

// providerReferralSelect reads referrals r as their provider sees them: no
// goal id, the note only when shared, the client's first name, contact
// preferences, preferred language and goal title each only when shared
// (the goal title only of a goal shared with the whole care team and not
// labelled), and in the status history the client's own name only when
// shared. It takes no argument; the caller filters by the actor's ProviderScope.
const providerReferralSelect = `SELECT r.id, r.client_id, NULL::uuid AS goal_id, r.status,
	CASE WHEN 'note' = ANY (r.shared_with_provider) THEN r.note ELSE '' END AS note,
	r.created_by, r.created_at, r.updated_at, r.version,
	to_jsonb(r.shared_with_provider) AS shares, r.decline_reason AS decline, true AS provider_view,
	(SELECT coalesce(jsonb_agg(jsonb_build_object('from_status', h.from_status, 'to_status', h.to_status,
		'changed_by', h.changed_by, 'changed_by_name',
		CASE WHEN h.actor_role = 'client' AND NOT 'name' = ANY (r.shared_with_provider) THEN 'The client' ELSE p.display_name END,
		'actor_role', h.actor_role, 'changed_at', h.changed_at) ORDER BY h.id), '[]')
	 FROM referral_status_history h JOIN people p ON p.id = h.changed_by
	 WHERE h.client_id = r.client_id AND h.referral_id = r.id) AS history,
	CASE WHEN 'name' = ANY (r.shared_with_provider) THEN nullif(split_part(btrim(cp.display_name), ' ', 1), '') END AS shared_first_name,
	CASE WHEN 'contact' = ANY (r.shared_with_provider) THEN c.contact_preferences END AS shared_contact,
	CASE WHEN 'preferred_language' = ANY (r.shared_with_provider) THEN nullif(c.preferred_language, '') END AS shared_language,
	CASE WHEN 'goal_title' = ANY (r.shared_with_provider) THEN (SELECT g.title FROM goals g WHERE g.client_id = r.client_id
		AND g.id = r.goal_id AND g.visibility = 'care_team' AND g.sensitivity IS NULL) END AS shared_goal_title,
	` + serviceSummaryColumns + `
	FROM referrals r JOIN services sv ON sv.id = r.service_id JOIN organizations o ON o.id = sv.organization_id
	JOIN clients c ON c.id = r.client_id JOIN people cp ON cp.id = c.person_id`

// Provider shares: what of a referral a client may let the provider see.
const (
	ProviderShareName              = "name"
	ProviderShareContact           = "contact"
	ProviderShareNote              = "note"
	ProviderShareGoalTitle         = "goal_title"
	ProviderSharePreferredLanguage = "preferred_language"
)

// ProviderShares lists them, in order.
func ProviderShares() []string {
	return []string{ProviderShareName, ProviderShareContact, ProviderShareNote, ProviderShareGoalTitle, ProviderSharePreferredLanguage}
}

// DefaultProviderShares is what a provider sees unless the client chooses:
// the client's name and how to reach them.
func DefaultProviderShares() []string { return []string{ProviderShareContact, ProviderShareName} }

// providerShares checks and normalizes a choice of shares (sorted, no repeats).
func providerShares(in []string) ([]string, error) {
	out := []string{}
	for _, v := range in {
		if !slices.Contains(ProviderShares(), v) {
			return nil, Invalid("shared_with_provider", "%q is not something a provider can be shown; choose from %s", v, strings.Join(ProviderShares(), ", "))
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ReferralInput creates a referral.
type ReferralInput struct {
	ServiceID uuid.UUID
	GoalID    *uuid.UUID
	Note      string
	// SharedWithProvider is the client's choice (nil: DefaultProviderShares).
	SharedWithProvider []string
}

// CreateReferral refers a client to a service. The client themself and the
// workers on their care team may; anyone else gets 404. The referral starts
// as sent; the change is recorded, announced (referral.updated) and, when a
// goal is linked, written to the goal's history, all in one transaction.
func (s *Store) CreateReferral(ctx context.Context, a Actor, clientID uuid.UUID, in ReferralInput) (Referral, error) {
	if err := referralNote(in.Note); err != nil {
		return Referral{}, err
	}
	shares := DefaultProviderShares()
	if in.SharedWithProvider != nil {
		var err error
		if shares, err = providerShares(in.SharedWithProvider); err != nil {
			return Referral{}, err
		}
	}
	var out Referral
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := writableClient(tx, a, clientID, ReachReferralsShared, ResourceReferral); err != nil {
			return err
		}
		if in.SharedWithProvider != nil && !a.IsClient(clientID) {
			return &Error{Kind: KindForbidden, Source: SourceContent, Field: "shared_with_provider",
				Message: "the client chooses what the provider sees; leave shared_with_provider out (the default is name and contact)"}
		}
		var status []string
		if err := tx.Raw(`SELECT status FROM services WHERE id = ?`, in.ServiceID).Scan(&status).Error; err != nil {
			return fmt.Errorf("look up service: %w", err)
		}
		if len(status) == 0 {
			return Invalid("service_id", "no service has this id")
		}
		if status[0] != hsds.StatusActive {
			return Invalid("service_id", "the service is %s; refer to an active service", status[0])
		}
		if in.GoalID != nil {
			if err := lockClientGoal(tx, a, clientID, *in.GoalID, "goal_id"); err != nil {
				return err
			}
		}
		id := newID()
		err := tx.Exec(`INSERT INTO referrals (client_id, id, service_id, goal_id, status, note, created_by, shared_with_provider)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, clientID, id, in.ServiceID, in.GoalID, ReferralSent, strings.TrimSpace(in.Note), a.PersonID,
			textArray(shares)).Error
		if err != nil {
			return fmt.Errorf("create referral: %w", err)
		}
		if err := recordReferralStatus(tx, a, clientID, id, nil, ReferralSent); err != nil {
			return err
		}
		if in.GoalID != nil {
			if err := referralGoalHistory(tx, a, clientID, *in.GoalID, id, nil, ReferralSent); err != nil {
				return err
			}
		}
		if out, err = readReferral(tx, a, clientID, id); err != nil {
			return err
		}
		if err := emitReferralEvent(tx, out); err != nil {
			return err
		}
		return logAccess(tx, a, ActionWrite, ResourceReferral, []uuid.UUID{clientID}, []string{id.String()})
	})
	return out, err
}

func recordReferralStatus(tx *gorm.DB, a Actor, clientID, referralID uuid.UUID, from *string, to string) error {
	err := tx.Exec(`INSERT INTO referral_status_history (client_id, id, referral_id, from_status, to_status, changed_by, actor_role)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, clientID, newID(), referralID, from, to, a.PersonID, actorRoleFor(a, clientID)).Error
	if err != nil {
		return fmt.Errorf("record referral status: %w", err)
	}
	return nil
}

// referralGoalHistory writes a referral's status change into the linked
// goal's history, so the goal shows the help it led to (unless the goal was
// entered in error since: frozen, it takes no more history).
func referralGoalHistory(tx *gorm.DB, a Actor, clientID, goalID, referralID uuid.UUID, from *string, to string) error {
	var old any
	if from != nil {
		old = *from
	}
	return recordLinkedGoalHistory(tx, a, clientID, goalID, []FieldChange{{Field: "referral[" + referralID.String() + "].status", Old: old, New: to}})
}

// emitReferralEvent announces a change of r to the client and the care team.
// The event names the linked goal only while that goal is shared with the
// whole care team: a private or labelled goal's id stays out of it.
func emitReferralEvent(tx *gorm.DB, r Referral) error {
	// The goal is read from the referral itself: r may be the view of an
	// actor who does not see the goal (a provider), the recipients may.
	var open []uuid.UUID
	if err := tx.Raw(`SELECT g.id FROM referrals x JOIN goals g ON g.client_id = x.client_id AND g.id = x.goal_id
		WHERE x.client_id = ? AND x.id = ? AND g.visibility = ? AND g.sensitivity IS NULL`,
		r.ClientID, r.ID, VisibilityCareTeam).Scan(&open).Error; err != nil {
		return fmt.Errorf("look up linked goal: %w", err)
	}
	var goal *uuid.UUID
	if len(open) == 1 {
		goal = &open[0]
	}
	return EmitEvent(tx, Event{Type: EventReferralUpdated, ClientID: r.ClientID, SubjectID: r.ID, Data: ReferralEventData{
		ReferralID: r.ID, ServiceID: r.Service.ID, GoalID: goal, Status: r.Status, Version: r.Version,
	}})
}

// ReferralEventData is the data of referral.updated.
type ReferralEventData struct {
	ReferralID uuid.UUID `json:"referral_id"`
	ServiceID  uuid.UUID `json:"service_id"`
	// GoalID is null unless the linked goal is shared with the whole care team.
	GoalID  *uuid.UUID `json:"goal_id"`
	Status  string     `json:"status"`
	Version int64      `json:"version"`
}

// referralGoalScope is referralSelect's argument for the actor: a
// referral shows its goal to those who may read that goal (a supporter
// shared referrals but not goals sees no goal_id).
func referralGoalScope(a Actor) clause.Expr { return a.GoalScope("lg", ReachGoalsShared) }

func readReferral(tx *gorm.DB, a Actor, clientID, id uuid.UUID) (Referral, error) {
	return readReferralAs(tx, a, clientID, id, false)
}

// readReferralAs reads a referral as the client's circle sees it, or as
// its provider sees it (provider: the caller checked ProviderScope).
func readReferralAs(tx *gorm.DB, a Actor, clientID, id uuid.UUID, provider bool) (Referral, error) {
	var row referralRow
	q, args := referralSelect+` WHERE r.client_id = ? AND r.id = ?`, []any{referralGoalScope(a), clientID, id}
	if provider {
		q, args = providerReferralSelect+` WHERE r.client_id = ? AND r.id = ?`, []any{clientID, id}
	}
	res := tx.Raw(q, args...).Scan(&row)
	if res.Error != nil {
		return Referral{}, fmt.Errorf("read referral: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Referral{}, NotFound("referral")
	}
	return row.referral(), nil
}

// GetReferral returns a referral the actor may see: the client, the care
// team and supporters shared referrals see it whole; staff of the service's
// organization (ProviderScope) see what the client shared with them.
func (s *Store) GetReferral(ctx context.Context, a Actor, id uuid.UUID) (Referral, error) {
	var out Referral
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var row referralRow
		res := tx.Raw(referralSelect+` WHERE r.id = ? AND ?`, referralGoalScope(a), id, a.ClientScope("r.client_id", ReachReferralsShared)).Scan(&row)
		if res.Error != nil {
			return fmt.Errorf("read referral: %w", res.Error)
		}
		if res.RowsAffected == 0 && a.Is(RoleProvider) {
			res = tx.Raw(providerReferralSelect+` WHERE r.id = ? AND ?`, id, a.ProviderScope("r")).Scan(&row)
			if res.Error != nil {
				return fmt.Errorf("read referral: %w", res.Error)
			}
		}
		if res.RowsAffected == 0 {
			return missing(a, referralTarget(id))
		}
		out = row.referral()
		return logAccess(tx, a, ActionRead, ResourceReferral, []uuid.UUID{out.ClientID}, []string{id.String()})
	})
	return out, err
}

// ListReferrals lists a client's referrals, newest first.
func (s *Store) ListReferrals(ctx context.Context, a Actor, clientID uuid.UUID, status, cursor string, limit int) ([]Referral, string, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	var rows []referralRow
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := getClient(tx, a, clientID, ReachReferralsShared, ResourceReferral); err != nil {
			return err
		}
		q, args := referralSelect+` WHERE r.client_id = ?`, []any{referralGoalScope(a), clientID}
		if status != "" {
			q += ` AND r.status = ?`
			args = append(args, status)
		}
		q, args = pageClause(q, args, "r.id", after, ListFilter{Limit: limit, Desc: true})
		if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("list referrals: %w", err)
		}
		return logAccess(tx, a, ActionRead, ResourceReferral, []uuid.UUID{clientID}, []string{""})
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := page(rows, limit, func(r referralRow) uuid.UUID { return r.ID })
	out := make([]Referral, len(rows))
	for i, r := range rows {
		out[i] = r.referral()
	}
	return out, next, nil
}

// ReferralPatch changes a referral; nil members are unchanged. GoalID set to
// a pointer to uuid.Nil unlinks the goal.
type ReferralPatch struct {
	Status *string
	Note   *string
	GoalID *uuid.UUID
	// DeclineReason is required with status declined, and only then.
	DeclineReason *string
	// SharedWithProvider is the client's new choice (the client alone may change it).
	SharedWithProvider *[]string
}

// UpdateReferral applies a patch if its version satisfies pre: one conditional
// UPDATE, then the status history, the goal history of the linked goal(s)
// and a referral.updated event in the same transaction. A status the table
// does not allow is 409 naming both states.
func (s *Store) UpdateReferral(ctx context.Context, a Actor, id uuid.UUID, pre Precondition, p ReferralPatch) (Referral, error) {
	if p.Note != nil {
		if err := referralNote(*p.Note); err != nil {
			return Referral{}, err
		}
	}
	if p.Status != nil && !slices.Contains(ReferralStatuses(), *p.Status) {
		return Referral{}, Invalid("status", "status must be one of %s", strings.Join(ReferralStatuses(), ", "))
	}
	if p.DeclineReason != nil && !slices.Contains(DeclineReasons(), *p.DeclineReason) {
		return Referral{}, Invalid("decline_reason", "decline_reason must be one of %s", strings.Join(DeclineReasons(), ", "))
	}
	var shares []string
	if p.SharedWithProvider != nil {
		var err error
		if shares, err = providerShares(*p.SharedWithProvider); err != nil {
			return Referral{}, err
		}
	}
	var out Referral
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// Lock the row (authorization in the same statement): the status
		// history must record the status this change really came from.
		var cur []referralRow
		if err := tx.Raw(`SELECT r.client_id, r.status, r.goal_id, r.version, (r.goal_id IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM goals lg WHERE lg.client_id = r.client_id AND lg.id = r.goal_id AND ?)) AS goal_hidden
			FROM referrals r WHERE r.id = ? AND ? FOR UPDATE OF r`,
			referralGoalScope(a), id, a.ClientScope("r.client_id", ReachCare)).Scan(&cur).Error; err != nil {
			return fmt.Errorf("read referral: %w", err)
		}
		provider := false
		if len(cur) == 0 && a.Is(RoleProvider) {
			// Staff of the service's organization: the goal is never theirs to see.
			if err := tx.Raw(`SELECT r.client_id, r.status, r.goal_id, r.version, (r.goal_id IS NOT NULL) AS goal_hidden
				FROM referrals r WHERE r.id = ? AND ? FOR UPDATE OF r`, id, a.ProviderScope("r")).Scan(&cur).Error; err != nil {
				return fmt.Errorf("read referral: %w", err)
			}
			provider = len(cur) > 0
		}
		if len(cur) == 0 {
			return refusedWrite(tx, missing(a, referralTarget(id)), `referrals r WHERE r.id = ? AND ?`,
				id, a.ClientScope("r.client_id", ReachReferralsShared))
		}
		c := cur[0]
		if err := pre.check(c.Version); err != nil {
			return err
		}
		if provider && (p.Note != nil || p.GoalID != nil || p.SharedWithProvider != nil) {
			return Forbidden("a provider may change a referral's status (with decline_reason when declining), not its note, goal or sharing")
		}
		if p.SharedWithProvider != nil && !a.IsClient(c.ClientID) {
			return &Error{Kind: KindForbidden, Source: SourceContent, Field: "shared_with_provider",
				Message: "only the client chooses what the provider sees"}
		}
		if err := p.behindHiddenGoal(c); err != nil {
			return err
		}
		set := map[string]any{}
		statusChanged := p.Status != nil && *p.Status != c.Status
		if statusChanged {
			if err := checkReferralTransition(c.Status, *p.Status, provider); err != nil {
				return err
			}
			set["status"] = *p.Status
		}
		declining := statusChanged && *p.Status == ReferralDeclined
		switch {
		case declining && p.DeclineReason == nil:
			return Invalid("decline_reason", "declining needs a decline_reason: one of %s", strings.Join(DeclineReasons(), ", "))
		case !declining && p.DeclineReason != nil:
			return Invalid("decline_reason", "decline_reason goes only with a move to declined")
		case declining:
			set["decline_reason"] = *p.DeclineReason
		}
		if p.SharedWithProvider != nil {
			set["shared_with_provider"] = textArray(shares)
		}
		if p.Note != nil {
			set["note"] = strings.TrimSpace(*p.Note)
		}
		newGoal, goalChanged, err := referralGoalPatch(tx, a, c, p.GoalID)
		if err != nil {
			return err
		}
		if p.GoalID != nil {
			set["goal_id"] = newGoal
		}
		if len(set) == 0 { // nothing changes: answer with the referral as it is
			var err error
			if out, err = readReferralAs(tx, a, c.ClientID, id, provider); err != nil {
				return err
			}
			return logAccess(tx, a, ActionRead, ResourceReferral, []uuid.UUID{c.ClientID}, []string{id.String()})
		}
		if err := conditionalUpdate(ctx, tx, "referrals", id, pre, set, gorm.Expr("client_id = ?", c.ClientID)); err != nil {
			return err
		}
		if statusChanged {
			from := c.Status
			if err := recordReferralStatus(tx, a, c.ClientID, id, &from, *p.Status); err != nil {
				return err
			}
		}
		if err := referralGoalChanges(tx, a, c, id, p, statusChanged, goalChanged, newGoal); err != nil {
			return err
		}
		// The event is built from the circle's view (it goes to the client
		// and the care team), the answer from the actor's.
		full, err := readReferral(tx, a, c.ClientID, id)
		if err != nil {
			return err
		}
		if err := emitReferralEvent(tx, full); err != nil {
			return err
		}
		if declining { // an unmet need by reason, anonymous, unless the client opted out
			if err := recordClientServiceNeed(tx, UnmetNeedDeclinedReferral, full.Service.ID, c.ClientID, *p.DeclineReason); err != nil {
				return err
			}
		}
		out = full
		if provider {
			if out, err = readReferralAs(tx, a, c.ClientID, id, true); err != nil {
				return err
			}
		}
		return logAccess(tx, a, ActionWrite, ResourceReferral, []uuid.UUID{c.ClientID}, []string{id.String()})
	})
	return out, err
}

// behindHiddenGoal adapts the patch of an actor who may not see the goal the
// referral c serves (it reads as unlinked to them): unlinking changes
// nothing, and relinking, which would drop the client's link unseen, is the
// client's to do.
func (p *ReferralPatch) behindHiddenGoal(c referralRow) error {
	if !c.GoalHidden || p.GoalID == nil {
		return nil
	}
	if *p.GoalID != uuid.Nil {
		return &Error{Kind: KindForbidden, Source: SourceContent, Field: "goal_id",
			Message: "only the client can change which goal this referral serves"}
	}
	p.GoalID = nil
	return nil
}

// referralGoalPatch reads a patch's goal_id (nil: not in the patch; a
// pointer to uuid.Nil: unlink). A goal newly linked must be the client's and
// not entered in error; it stays locked until the change commits.
func referralGoalPatch(tx *gorm.DB, a Actor, c referralRow, patch *uuid.UUID) (newGoal *uuid.UUID, changed bool, err error) {
	if patch == nil {
		return nil, false, nil
	}
	if *patch != uuid.Nil {
		g := *patch
		newGoal = &g
	}
	if sameGoal(c.GoalID, newGoal) {
		return newGoal, false, nil
	}
	if newGoal != nil {
		if err := lockClientGoal(tx, a, c.ClientID, *newGoal, "goal_id"); err != nil {
			return nil, false, err
		}
	}
	return newGoal, true, nil
}

func sameGoal(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// referralGoalChanges records a referral change in the history of the goals
// it concerns: a status change in the linked goal; linking and unlinking in
// the goal gained and the goal lost. A goal entered in error is left as it is.
func referralGoalChanges(tx *gorm.DB, a Actor, c referralRow, id uuid.UUID, p ReferralPatch, statusChanged, goalChanged bool, newGoal *uuid.UUID) error {
	field := "referral[" + id.String() + "]"
	status := c.Status
	if statusChanged {
		status = *p.Status
	}
	if goalChanged && c.GoalID != nil {
		if err := recordLinkedGoalHistory(tx, a, c.ClientID, *c.GoalID, []FieldChange{{Field: field, Old: map[string]any{"status": c.Status}, New: nil}}); err != nil {
			return err
		}
	}
	if goalChanged && newGoal != nil {
		return recordLinkedGoalHistory(tx, a, c.ClientID, *newGoal, []FieldChange{{Field: field, Old: nil, New: map[string]any{"status": status}}})
	}
	if statusChanged && c.GoalID != nil && !goalChanged {
		from := c.Status
		return referralGoalHistory(tx, a, c.ClientID, *c.GoalID, id, &from, *p.Status)
	}
	return nil
}
