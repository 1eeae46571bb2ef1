package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// CareTeamMember is a worker on a client's care team.
type CareTeamMember struct {
	PersonID    uuid.UUID `json:"person_id"`
	DisplayName string    `json:"display_name" rule:"person.name" example:"Wanda Okafor"`
	Pronouns    string    `json:"pronouns" rule:"person.pronouns" example:"she/her"`
	TeamRole    string    `json:"team_role" rule:"care_team.team_role" example:"case manager" doc:"The worker's role on this team"`
	AddedBy     uuid.UUID `json:"added_by" doc:"The administrator who added them"`
	AddedAt     time.Time `json:"added_at"`
}

func memberDTO(m domain.CareTeamMember) CareTeamMember {
	return CareTeamMember{PersonID: m.PersonID, DisplayName: m.DisplayName, Pronouns: m.Pronouns,
		TeamRole: m.TeamRole, AddedBy: m.AddedBy, AddedAt: m.AddedAt}
}

// CareTeam lists a client's care team.
type CareTeam struct {
	ClientID uuid.UUID        `json:"client_id"`
	Members  []CareTeamMember `json:"members" rule:"care_team.members"`
}

type careTeamOutput struct{ Body CareTeam }

// MemberPath addresses one care team membership.
type MemberPath struct {
	ClientID uuid.UUID `path:"clientId" doc:"Client id"`
	PersonID uuid.UUID `path:"personId" doc:"The worker's person id"`
}

// CareTeamMembership is the optional body of a membership PUT.
type CareTeamMembership struct {
	TeamRole string `json:"team_role,omitempty" rule:"care_team.team_role" example:"case manager" doc:"The worker's role on this team"`
}

type putMemberInput struct {
	MemberPath
	Body *CareTeamMembership `required:"false"`
}

type memberOutput struct {
	Status int
	Body   CareTeamMember
}

func (s *Server) registerCareTeam() {
	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/care-team", "getCareTeam", "Care team", "List a client's care team",
		"The workers who support the client. Visible to the client, the team and administrators.",
		"profile:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *ClientPath) (*careTeamOutput, error) {
			ms, err := s.store.ListCareTeam(ctx, actorFrom(ctx), in.ClientID)
			if err != nil {
				return nil, err
			}
			return &careTeamOutput{Body: CareTeam{ClientID: in.ClientID, Members: newPage(ms, "", memberDTO).Items}}, nil
		})

	handle(s.api, alsoAnswers(op(http.MethodPut, "/v1/clients/{clientId}/care-team/{personId}", "putCareTeamMember", "Care team", "Add a worker to a care team",
		"Administrators only. The person must hold the worker role (422 otherwise). Idempotent: 201 when added, 200 when already a member "+
			"(the team role is updated). The worker can see the client's record and shared plans at once. A care team has at most 50 "+
			"members: adding one more is 409 (remove one first).",
		"profile:write", http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity), http.StatusCreated),
		func(ctx context.Context, in *putMemberInput) (*memberOutput, error) {
			role := ""
			if in.Body != nil {
				role = in.Body.TeamRole
			}
			m, created, err := s.store.AddCareTeamMember(ctx, actorFrom(ctx), in.ClientID, in.PersonID, role)
			if err != nil {
				return nil, err
			}
			st := http.StatusOK
			if created {
				st = http.StatusCreated
			}
			return &memberOutput{Status: st, Body: memberDTO(m)}, nil
		})

	o := op(http.MethodDelete, "/v1/clients/{clientId}/care-team/{personId}", "deleteCareTeamMember", "Care team", "Remove a worker from a care team",
		"Administrators only. Idempotent (204 whether or not they were a member). The worker loses access to the client at once.",
		"profile:write", http.StatusNotFound, http.StatusUnprocessableEntity)
	o.DefaultStatus = http.StatusNoContent
	handle(s.api, o, func(ctx context.Context, in *MemberPath) (*struct{}, error) {
		return nil, s.store.RemoveCareTeamMember(ctx, actorFrom(ctx), in.ClientID, in.PersonID)
	})
}
