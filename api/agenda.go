package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// AgendaRef names the record an agenda item is about.
type AgendaRef struct {
	Type string    `json:"type" rule:"agenda.ref_type" example:"goal" doc:"step (GET it through its goal), goal, referral or group_session"`
	ID   uuid.UUID `json:"id"`
}

// AgendaItem is something due for a client.
type AgendaItem struct {
	Kind     string     `json:"kind" rule:"agenda.kind" example:"check_in_due" doc:"step_due: a step's due date; check_in_due: the goal's check-in cadence (check_in_every) ran out since the client's last check-in; referral_follow_up: a referral still waiting with no change for 14 days; group_session: a session of a group the client is in"`
	DueAt    time.Time  `json:"due_at" doc:"When it is due (a step: the start of its due date in the client's time zone)"`
	ClientID uuid.UUID  `json:"client_id" doc:"Whose item it is"`
	Title    string     `json:"title" rule:"goal.title" example:"Move into my own apartment by autumn" doc:"The step's or goal's title, the referred service's name, or the group's name (a session)"`
	Ref      AgendaRef  `json:"ref"`
	GoalID   *uuid.UUID `json:"goal_id,omitempty" doc:"For a step or a check-in: its goal"`
	Overdue  bool       `json:"overdue" doc:"Past due (a step: its due date is over in the client's time zone)"`
}

func agendaDTO(it domain.AgendaItem) AgendaItem {
	return AgendaItem{Kind: it.Kind, DueAt: it.DueAt.UTC(), ClientID: it.ClientID, Title: it.Title,
		Ref: AgendaRef{Type: it.RefType, ID: it.RefID}, GoalID: it.GoalID, Overdue: it.Overdue}
}

// AgendaDueData is the data of agenda.due: ids and times, never titles.
type AgendaDueData struct {
	Kind   string     `json:"kind" rule:"agenda.kind" doc:"What came due"`
	DueAt  time.Time  `json:"due_at"`
	Ref    AgendaRef  `json:"ref"`
	GoalID *uuid.UUID `json:"goal_id,omitempty" doc:"For a step or a check-in: its goal"`
}

type agendaDueEvent struct {
	EventEnvelope
	Type string        `json:"type" rule:"event.agenda_due"`
	Data AgendaDueData `json:"data"`
}

type agendaInput struct {
	From time.Time `query:"from" example:"2025-07-01T00:00:00Z" doc:"Items due at or after this time (RFC 3339); default 30 days ago"`
	To   time.Time `query:"to" example:"2025-07-15T00:00:00Z" doc:"Items due before this time (RFC 3339); default 14 days from now; at most 366 days after from"`
	PageParams
}

type agendaOutput struct {
	Redisclosure string `header:"Waypoint-Redisclosure" doc:"The 42 CFR Part 2 redisclosure notice: present exactly when the page carries an item of a goal labelled sud"`
	Body         Page[AgendaItem]
}

func (s *Server) registerAgenda() {
	handle(s.api, op(http.MethodGet, "/v1/me/agenda", "getAgenda", "Agenda", "What is due: my agenda, or my caseload's",
		"For a client, their own steps due, goal check-ins due (check_in_every) and referrals needing a follow-up; for a worker, "+
			"the same across the clients on their care teams (the worker's daily view of who needs a call): only the goals the worker "+
			"may see (a client's private goals, and goals labelled sud without the client's consent, are not there). "+
			"Ordered by due_at (then kind and id), so overdue items come first; the window is from..to (at most 366 days; default "+
			"the last 30 days to the next 14). Day boundaries (when a step is due) are the client's time zone "+
			"(contact_preferences.time_zone, default UTC). Every item of another person's record listed is written to that "+
			"client's access log. Anyone else gets an empty list.",
		"assessments:read", invalid),
		func(ctx context.Context, in *agendaInput) (*agendaOutput, error) {
			now := time.Now()
			from, to := in.From, in.To
			if from.IsZero() {
				from = now.Add(-30 * 24 * time.Hour)
			}
			if to.IsZero() {
				to = now.Add(14 * 24 * time.Hour)
			}
			if !to.After(from) {
				return nil, domain.InvalidIn(domain.SourceSelection, "to", "to must be after from")
			}
			if to.Sub(from) > domain.MaxAgendaWindow {
				return nil, domain.InvalidIn(domain.SourceSelection, "to", "from..to spans more than 366 days; ask for a shorter window")
			}
			rows, next, err := s.store.Agenda(ctx, actorFrom(ctx), domain.AgendaFilter{From: from, To: to, Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			return &agendaOutput{Redisclosure: redisclosureOf(rows, func(it domain.AgendaItem) *string { return it.Sensitivity }),
				Body: newPage(rows, next, agendaDTO)}, nil
		})
}
