package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// ReferralStatusChange is one step of a referral's status, with who and when.
type ReferralStatusChange struct {
	FromStatus    *string   `json:"from_status" rule:"referral.status" doc:"The status before; null for the referral being made"`
	ToStatus      string    `json:"to_status" rule:"referral.status" example:"acknowledged"`
	ChangedBy     uuid.UUID `json:"changed_by" doc:"The person who made the change"`
	ChangedByName string    `json:"changed_by_name" rule:"person.name" example:"Wanda Okafor"`
	ActorRole     string    `json:"actor_role" rule:"actor_role" doc:"In which capacity they acted"`
	ChangedAt     time.Time `json:"changed_at"`
}

// Referral sends a client to a directory service, optionally for one of the client's goals.
type Referral struct {
	ID            uuid.UUID              `json:"id"`
	ClientID      uuid.UUID              `json:"client_id"`
	Service       ServiceSummary         `json:"service"`
	GoalID        *uuid.UUID             `json:"goal_id" nullable:"true" doc:"The client's goal this referral serves, or null"`
	Status        string                 `json:"status" rule:"referral.status" example:"sent"`
	Note          string                 `json:"note" rule:"referral.note" example:"Ask for Maria at the front desk" doc:"Shared with the client"`
	CreatedBy     uuid.UUID              `json:"created_by"`
	CreatedAt     time.Time              `json:"created_at"`
	UpdatedAt     time.Time              `json:"updated_at"`
	Version       int64                  `json:"version" rule:"version" example:"2" doc:"Version, also the ETag"`
	StatusHistory []ReferralStatusChange `json:"status_history" rule:"referral.status_history" doc:"Every status the referral has had, oldest first"`
	// What the client lets the service's staff see.
	SharedWithProvider []string        `json:"shared_with_provider" rule:"referral.shared_with_provider" example:"[\"contact\",\"name\"]" doc:"What the client lets the service's staff (providers) see: any of name (first name), contact (contact preferences), note, goal_title, preferred_language. Default name and contact; only the client changes it"`
	DeclineReason      *string         `json:"decline_reason" rule:"referral.decline_reason" nullable:"true" example:"capacity" doc:"Why the referral was declined; null unless declined"`
	Shared             *ReferralShared `json:"shared,omitempty" doc:"Only in a provider's view (absent for the client's circle): the client's details the client shared. A provider's view also has goal_id null and note empty unless note is shared"`
}

// ReferralShared is what a provider sees of the client behind a referral:
// each member null unless the client shares it.
type ReferralShared struct {
	FirstName         *string             `json:"first_name" rule:"person.name" nullable:"true" example:"Alice" doc:"Shared as name"`
	Contact           *ContactPreferences `json:"contact,omitempty" doc:"Shared as contact: how and when the client wants to be reached; absent unless shared"`
	PreferredLanguage *string             `json:"preferred_language" rule:"language_tag" nullable:"true" example:"es" doc:"Shared as preferred_language"`
	GoalTitle         *string             `json:"goal_title" rule:"goal.title" nullable:"true" example:"Find stable housing" doc:"Shared as goal_title; null also when the goal is private or labelled"`
}

func referralDTO(r domain.Referral) Referral {
	h := make([]ReferralStatusChange, len(r.StatusHistory))
	for i, c := range r.StatusHistory {
		h[i] = ReferralStatusChange{FromStatus: c.FromStatus, ToStatus: c.ToStatus, ChangedBy: c.ChangedBy,
			ChangedByName: c.ChangedByName, ActorRole: c.ActorRole, ChangedAt: c.ChangedAt.UTC()}
	}
	out := Referral{ID: r.ID, ClientID: r.ClientID, Service: serviceSummaryDTO(r.Service), GoalID: r.GoalID, Status: r.Status,
		Note: r.Note, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version, StatusHistory: h,
		SharedWithProvider: r.SharedWithProvider, DeclineReason: r.DeclineReason}
	if sh := r.Shared; sh != nil {
		out.Shared = &ReferralShared{FirstName: sh.FirstName, PreferredLanguage: sh.PreferredLanguage, GoalTitle: sh.GoalTitle}
		if c := sh.Contact; c != nil {
			ch := c.Channels
			if ch == nil {
				ch = []string{}
			}
			out.Shared.Contact = &ContactPreferences{Channels: ch, Phone: c.Phone, Email: c.Email, BestTimes: c.BestTimes,
				SafeToLeaveMessage: c.SafeToLeaveMessage}
		}
	}
	return out
}

type referralOutput struct {
	ETag     string `header:"ETag" doc:"Strong ETag: the referral's version"`
	Location string `header:"Location" doc:"The referral's URL (on create)"`
	Status   int
	Body     Referral
}

func referralOut(r domain.Referral, status int) *referralOutput {
	o := &referralOutput{ETag: etag(r.Version), Status: status, Body: referralDTO(r)}
	if status == http.StatusCreated {
		o.Location = "/v1/referrals/" + r.ID.String()
	}
	return o
}

// ReferralCreate makes a referral.
type ReferralCreate struct {
	ServiceID uuid.UUID  `json:"service_id" doc:"An active directory service"`
	GoalID    *uuid.UUID `json:"goal_id,omitempty" doc:"One of the client's goals this referral serves (not one entered in error)"`
	Note      string     `json:"note,omitempty" rule:"referral.note" example:"Ask for Maria at the front desk"`
	// SharedWithProvider is the client's choice; nil is the default.
	SharedWithProvider []string `json:"shared_with_provider,omitempty" rule:"referral.shared_with_provider" example:"[\"contact\",\"name\"]" doc:"What the service's staff may see (the client's choice; workers leave it out, 403 otherwise): any of name, contact, note, goal_title, preferred_language. Default name and contact"`
}

type createReferralInput struct {
	ClientPath
	Body ReferralCreate
}

type listReferralsInput struct {
	ClientPath
	Status string `query:"status" rule:"referral.status" doc:"Only referrals in this status"`
	PageParams
}

type referralsOutput struct {
	Body Page[Referral]
}

// ReferralPath is the {referralId} path parameter.
type ReferralPath struct {
	ReferralID uuid.UUID `path:"referralId" doc:"Referral id"`
}

// ReferralPatch is a JSON Merge Patch of a referral.
type ReferralPatch struct {
	Status *string    `json:"status,omitempty" rule:"referral.status" example:"acknowledged" doc:"The next status: sent -> acknowledged -> accepted or declined; accepted -> in_progress or completed; in_progress -> completed; cancelled (not by providers) from any status still open"`
	Note   *string    `json:"note,omitempty" rule:"referral.note" nullable:"true" doc:"Replaces the note; null clears it"`
	GoalID *uuid.UUID `json:"goal_id,omitempty" nullable:"true" doc:"Links one of the client's goals; null unlinks"`
	// DeclineReason goes with status declined.
	DeclineReason      *string   `json:"decline_reason,omitempty" rule:"referral.decline_reason" example:"capacity" doc:"Required with status declined, and only then"`
	SharedWithProvider *[]string `json:"shared_with_provider,omitempty" rule:"referral.shared_with_provider" example:"[\"name\"]" doc:"The client's new choice of what the service's staff may see (the client alone; others get 403)"`
}

type patchReferralInput struct {
	ReferralPath
	IfMatch string `header:"If-Match" doc:"The ETag from your last read (required)"`
	RawBody []byte
	Body    ReferralPatch `contentType:"application/merge-patch+json"`
}

func (s *Server) registerReferrals() {
	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/referrals", "listReferrals", "Referrals", "List a client's referrals",
		"Newest first, each with its service and full status history. Visible to the client and their care team; "+
			"anyone else (administrators included) gets 404. Worker reads are recorded in the client's access log.",
		"referrals:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listReferralsInput) (*referralsOutput, error) {
			rows, next, err := s.store.ListReferrals(ctx, actorFrom(ctx), in.ClientID, in.Status, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &referralsOutput{Body: newPage(rows, next, referralDTO)}, nil
		})

	create := Idempotent(op(http.MethodPost, "/v1/clients/{clientId}/referrals", "createReferral", "Referrals", "Refer a client to a service",
		"Creates a referral in status sent. The client themself or a worker on their care team may (scope referrals:write); "+
			"others get 404. The service must be active; a goal_id must be one of the client's goals (422 otherwise) and not "+
			"entered in error (409: such a goal is frozen), and the referral then appears in that goal's history. Emits "+
			"referral.updated to the client and care team.",
		"referrals:write", http.StatusNotFound, http.StatusUnprocessableEntity), s.replayForClient(domain.ResourceReferral))
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createReferralInput) (*referralOutput, error) {
		r, err := s.store.CreateReferral(ctx, actorFrom(ctx), in.ClientID, domain.ReferralInput{
			ServiceID: in.Body.ServiceID, GoalID: in.Body.GoalID, Note: in.Body.Note, SharedWithProvider: in.Body.SharedWithProvider})
		if err != nil {
			return nil, err
		}
		return referralOut(r, http.StatusCreated), nil
	})

	handle(s.api, op(http.MethodGet, "/v1/referrals/{referralId}", "getReferral", "Referrals", "Get a referral",
		"A referral with its service and status history (who changed it, when). Visible to the client, their care team and "+
			"supporters shared referrals; staff of the service's organization (role provider) see it as the client shares it "+
			"(shared holds the shared details; goal_id is null; note is empty unless shared), and each provider read is in the "+
			"client's access log with relationship provider. Others get 404.",
		"referrals:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *ReferralPath) (*referralOutput, error) {
			r, err := s.store.GetReferral(ctx, actorFrom(ctx), in.ReferralID)
			if err != nil {
				return nil, err
			}
			return referralOut(r, http.StatusOK), nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/referrals/{referralId}", "patchReferral", "Referrals", "Update a referral",
		"JSON Merge Patch of status, note and goal_id. Status moves along sent -> acknowledged -> accepted | declined -> "+
			"completed, and to cancelled from any status still in progress; any other move is 409 naming both states. "+
			"Every status change is recorded with who and when, written to the linked goal's history as "+
			"referral[<id>].status (unless that goal was entered in error since: it is frozen), and announced as referral.updated. "+
			"A goal_id newly linked must be one of the client's goals (422) and not entered in error (409). The client and workers on their care team may "+
			"(scope referrals:write); staff of the service's organization (role provider) may move the status only (not cancel; "+
			"a note, goal_id or shared_with_provider from them is 403); declining needs decline_reason (422 without it). Only the client "+
			"changes shared_with_provider (403 for others). Others get 404. Requires If-Match (missing: 428, stale: 412).",
		"referrals:write", http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity,
		http.StatusPreconditionFailed, http.StatusPreconditionRequired),
		func(ctx context.Context, in *patchReferralInput) (*referralOutput, error) {
			k := parseMergeKeys(in.RawBody)
			if k.sent("status") && k["status"] {
				return nil, domain.Invalid("status", "status cannot be null")
			}
			for _, f := range []string{"decline_reason", "shared_with_provider"} {
				if k.sent(f) && k[f] {
					return nil, domain.Invalid(f, "%s cannot be null", f)
				}
			}
			p := domain.ReferralPatch{Status: in.Body.Status, Note: patchValue(k, "note", in.Body.Note), GoalID: patchValue(k, "goal_id", in.Body.GoalID),
				DeclineReason: in.Body.DeclineReason, SharedWithProvider: in.Body.SharedWithProvider}
			r, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Referral, error) {
				return s.store.UpdateReferral(ctx, actorFrom(ctx), in.ReferralID, v, p)
			})
			if err != nil {
				return nil, err
			}
			return referralOut(r, http.StatusOK), nil
		})
}
