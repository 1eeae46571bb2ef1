package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

const feedbackTag = "Feedback"

// FeedbackServiceRef names the service a barrier was met on.
type FeedbackServiceRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name" rule:"hsds.name" example:"Ballard Food Pantry"`
}

// ServiceFeedback is a barrier reported on a service. Only the reporter (in
// the answer to their report and their export), administrators and
// directory editors read it; it never says who reported it.
type ServiceFeedback struct {
	ID             uuid.UUID          `json:"id"`
	Service        FeedbackServiceRef `json:"service"`
	ReferralID     *uuid.UUID         `json:"referral_id" nullable:"true" doc:"The referral the barrier was met on, or null"`
	Kind           string             `json:"kind" rule:"feedback.kind" example:"closed_when_listed_open"`
	Text           *string            `json:"text" rule:"feedback.text" nullable:"true" example:"The door said closed on Tuesdays, the listing says open" doc:"The reporter's words, or null"`
	ReporterRole   string             `json:"reporter_role" rule:"feedback.reporter_role" example:"client" doc:"Whether a client or a worker reported it (never who)"`
	Status         string             `json:"status" rule:"feedback.status" example:"open"`
	ResolutionNote string             `json:"resolution_note" rule:"feedback.resolution_note" example:"Hours corrected with the pantry" doc:"The directory editor's note; empty until they write one"`
	ResolvedBy     *uuid.UUID         `json:"resolved_by" nullable:"true" doc:"The administrator or directory editor who resolved it, or null"`
	ResolvedAt     *time.Time         `json:"resolved_at" nullable:"true" doc:"When it was resolved, or null while open"`
	Version        int64              `json:"version" rule:"version" example:"1"`
	CreatedAt      time.Time          `json:"created_at"`
}

func feedbackDTO(f domain.Feedback) ServiceFeedback {
	return ServiceFeedback{ID: f.ID, Service: FeedbackServiceRef{ID: f.ServiceID, Name: f.ServiceName}, ReferralID: f.ReferralID,
		Kind: f.Kind, Text: f.Text, ReporterRole: f.ReporterRole, Status: f.Status, ResolutionNote: f.ResolutionNote,
		ResolvedBy: f.ResolvedBy, ResolvedAt: utcPtr(f.ResolvedAt), Version: f.Version, CreatedAt: f.CreatedAt.UTC()}
}

// FeedbackCreate reports a barrier on a service.
type FeedbackCreate struct {
	Kind       string     `json:"kind" rule:"feedback.kind" example:"closed_when_listed_open" doc:"What stood in the way"`
	Text       *string    `json:"text,omitempty" rule:"feedback.text" example:"The door said closed on Tuesdays, the listing says open" doc:"In your words (optional). Read only by administrators and directory editors: never by the service's staff, other clients or the public"`
	ReferralID *uuid.UUID `json:"referral_id,omitempty" doc:"A referral to this service you can see, if the barrier was met on it"`
}

// FeedbackPatch resolves or reopens a report (JSON Merge Patch).
type FeedbackPatch struct {
	Status         *string `json:"status,omitempty" rule:"feedback.status" example:"resolved"`
	ResolutionNote *string `json:"resolution_note,omitempty" rule:"feedback.resolution_note" example:"Hours corrected with the pantry" doc:"What was done (fixing the listing is the usual outcome)"`
}

// FeedbackPath is the {feedbackId} path parameter.
type FeedbackPath struct {
	FeedbackID uuid.UUID `path:"feedbackId" doc:"Feedback id"`
}

type (
	createFeedbackInput struct {
		ServicePath
		Body FeedbackCreate
	}
	listFeedbackInput struct {
		Status    string    `query:"status" rule:"feedback.status" doc:"Only reports in this status"`
		Kind      string    `query:"kind" rule:"feedback.kind" doc:"Only reports of this kind"`
		ServiceID uuid.UUID `query:"service_id" doc:"Only reports on this service"`
		PageParams
	}
	patchFeedbackInput struct {
		FeedbackPath
		IfMatch string        `header:"If-Match" doc:"The ETag from your last read (required)"`
		Body    FeedbackPatch `contentType:"application/merge-patch+json"`
	}
	feedbackOut struct {
		ETag     string `header:"ETag" doc:"Strong ETag: the report's version"`
		Location string `header:"Location" doc:"The report's URL in the directory editors' queue (on create)"`
		Body     ServiceFeedback
	}
	feedbackListOut struct {
		Body Page[ServiceFeedback]
	}
)

const feedbackQueueRules = " Administrators and directory editors only (403 for everyone else). The queue never shows who reported."

func (s *Server) registerFeedback() {
	create := Idempotent(op(http.MethodPost, "/v1/services/{serviceId}/feedback", "createServiceFeedback", feedbackTag,
		"Report a barrier on a service",
		"A client or a worker (403 for other roles) reports what stood in the way at a service: closed when listed open, wrong "+
			"information, language, cost, transport, eligibility, discrimination, other; optionally in their own words and on a "+
			"referral to the service they can see (another is 422 naming referral_id). Directory editors work these reports "+
			"(GET /v1/directory/feedback); the text never reaches the service's staff, other clients or the public. Each report "+
			"also counts, anonymously, as an unmet need (the service's category and area, the kind; a client's only if they "+
			"have not turned off help_improve_services). An unknown service is 404.",
		"referrals:write", notFound, invalid, tooLarge, badType),
		func(ctx context.Context, _ huma.Context, _ []byte) error {
			// A replay is refused as a fresh report would be: 403 once the caller is no client or worker.
			return domain.CheckFeedbackReporter(actorFrom(ctx))
		})
	create.DefaultStatus = http.StatusCreated
	handle(s.api, create, func(ctx context.Context, in *createFeedbackInput) (*feedbackOut, error) {
		f, err := s.store.CreateFeedback(ctx, actorFrom(ctx), in.ServiceID, domain.FeedbackInput{Kind: in.Body.Kind,
			Text: in.Body.Text, ReferralID: in.Body.ReferralID})
		if err != nil {
			return nil, err
		}
		return &feedbackOut{ETag: etag(f.Version), Location: "/v1/directory/feedback/" + f.ID.String(), Body: feedbackDTO(f)}, nil
	})

	handle(s.api, op(http.MethodGet, "/v1/directory/feedback", "listDirectoryFeedback", feedbackTag, "List the feedback queue",
		"Barriers reported on services, newest first: kind, text, service (id and name), referral_id, reporter_role, status, "+
			"created_at. Filters: status, kind, service_id."+feedbackQueueRules,
		"services:read", invalid),
		func(ctx context.Context, in *listFeedbackInput) (*feedbackListOut, error) {
			f := domain.FeedbackFilter{Status: in.Status, Kind: in.Kind}
			if in.ServiceID != uuid.Nil {
				f.ServiceID = &in.ServiceID
			}
			rows, next, err := s.store.ListFeedback(ctx, actorFrom(ctx), f, in.Cursor, in.Limit)
			if err != nil {
				return nil, err
			}
			return &feedbackListOut{Body: newPage(rows, next, feedbackDTO)}, nil
		})

	handle(s.api, op(http.MethodGet, "/v1/directory/feedback/{feedbackId}", "getDirectoryFeedback", feedbackTag,
		"Get a report of the feedback queue",
		"One barrier report with its ETag, for If-Match on PATCH."+feedbackQueueRules+" An unknown id is 404.",
		"services:read", notFound, invalid),
		func(ctx context.Context, in *FeedbackPath) (*feedbackOut, error) {
			f, err := s.store.GetFeedback(ctx, actorFrom(ctx), in.FeedbackID)
			if err != nil {
				return nil, err
			}
			return &feedbackOut{ETag: etag(f.Version), Body: feedbackDTO(f)}, nil
		})

	handle(s.api, op(http.MethodPatch, "/v1/directory/feedback/{feedbackId}", "patchDirectoryFeedback", feedbackTag,
		"Resolve or reopen a report",
		"JSON Merge Patch of status (resolved or open) and resolution_note: resolve a report with a note once the listing is "+
			"fixed (resolved_by and resolved_at are set; reopening clears them). Requires If-Match (missing: 428, stale: 412)."+
			feedbackQueueRules,
		"directory:write", notFound, invalid, stale, noMatch, tooLarge, badType),
		func(ctx context.Context, in *patchFeedbackInput) (*feedbackOut, error) {
			f, err := conditionalWrite(in.IfMatch, func(v domain.Precondition) (domain.Feedback, error) {
				return s.store.UpdateFeedback(ctx, actorFrom(ctx), in.FeedbackID, v,
					domain.FeedbackPatch{Status: in.Body.Status, ResolutionNote: in.Body.ResolutionNote})
			})
			if err != nil {
				return nil, err
			}
			return &feedbackOut{ETag: etag(f.Version), Body: feedbackDTO(f)}, nil
		})
}
