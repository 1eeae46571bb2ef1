package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// Consents: the client decides which care-team workers may see their
// records labelled sud (42 CFR Part 2 in spirit), and every response that
// carries such a record says so in the Waypoint-Redisclosure header.

// redisclosure is the Waypoint-Redisclosure header for a response carrying
// records with these labels: the notice when one is sud, else nothing.
func redisclosure(labels ...*string) string {
	for _, l := range labels {
		if l != nil && *l == domain.SensitivitySUD {
			return domain.RedisclosureNotice
		}
	}
	return ""
}

// redisclosureOf is redisclosure for a list of records.
func redisclosureOf[T any](items []T, label func(T) *string) string {
	for _, it := range items {
		if h := redisclosure(label(it)); h != "" {
			return h
		}
	}
	return ""
}

// Consent lets a worker on the client's care team see the client's records labelled label.
type Consent struct {
	Label       string    `json:"label" rule:"sensitivity" example:"sud" doc:"The sensitivity label the consent is for"`
	PersonID    uuid.UUID `json:"person_id" doc:"The worker the client consented to"`
	DisplayName string    `json:"display_name" rule:"person.name" example:"Wanda Okafor"`
	GrantedAt   time.Time `json:"granted_at"`
	OnCareTeam  bool      `json:"on_care_team" example:"true" doc:"False when the worker has left the care team since: the consent stays until withdrawn, but counts only while they are on the team"`
}

func consentDTO(c domain.Consent) Consent {
	return Consent{Label: c.Label, PersonID: c.PersonID, DisplayName: c.DisplayName, GrantedAt: c.GrantedAt.UTC(), OnCareTeam: c.OnCareTeam}
}

// Consents lists a client's consents.
type Consents struct {
	ClientID uuid.UUID `json:"client_id"`
	Items    []Consent `json:"items" rule:"consent.items" doc:"The client sees all their consents; a worker on the care team sees only their own"`
}

type consentsOutput struct{ Body Consents }

type consentOutput struct {
	Status int
	Body   Consent
}

// ConsentPath addresses the client's sud consent for one person.
type ConsentPath struct {
	ClientID uuid.UUID `path:"clientId" doc:"Client id"`
	PersonID uuid.UUID `path:"personId" doc:"The worker's person id"`
}

const consentTag = "Consents"

func (s *Server) registerConsents() {
	handle(s.api, op(http.MethodGet, "/v1/clients/{clientId}/consents", "listConsents", consentTag, "List consents",
		"Who the client has let see their records labelled sud. The client sees every consent; a worker on the care team sees "+
			"only their own (an empty list tells them nothing about anyone else's). Anyone else, administrators included, gets "+
			"404. A worker's read is in the client's access log.",
		"privacy:read", http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *ClientPath) (*consentsOutput, error) {
			cs, err := s.store.ListConsents(ctx, actorFrom(ctx), in.ClientID)
			if err != nil {
				return nil, err
			}
			return &consentsOutput{Body: Consents{ClientID: in.ClientID, Items: newPage(cs, "", consentDTO).Items}}, nil
		})

	handle(s.api, alsoAnswers(op(http.MethodPut, "/v1/clients/{clientId}/consents/sud/{personId}", "putSudConsent", consentTag,
		"Consent to a worker seeing sud records",
		"The client lets a worker on their care team see their goals and conversations labelled sud, from the next request and on "+
			"open event streams. Only the client may (403 for the care team, 404 for anyone else). The person must be on the care "+
			"team (422 naming path.personId otherwise: a consent for anyone else could do nothing). Idempotent: 201 when new, 200 "+
			"when it already existed. A client has at most 100 consents (they outlast a worker's time on the team until withdrawn): "+
			"one more is 409 (withdraw one first).",
		"privacy:write", http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity), http.StatusCreated),
		func(ctx context.Context, in *ConsentPath) (*consentOutput, error) {
			c, created, err := s.store.GrantConsent(ctx, actorFrom(ctx), in.ClientID, domain.SensitivitySUD, in.PersonID)
			if err != nil {
				return nil, err
			}
			st := http.StatusOK
			if created {
				st = http.StatusCreated
			}
			return &consentOutput{Status: st, Body: consentDTO(c)}, nil
		})

	o := op(http.MethodDelete, "/v1/clients/{clientId}/consents/sud/{personId}", "deleteSudConsent", consentTag,
		"Withdraw a consent to see sud records",
		"The client withdraws a worker's consent: from the next request the worker gets 404 on every goal and conversation "+
			"labelled sud, and their open event streams stop carrying them (they get goal.hidden and conversation.hidden for what "+
			"they could see until now). Only the client may (403 for the care team, 404 for anyone else). Idempotent: 204 whether "+
			"or not the consent existed.",
		"privacy:write", http.StatusNotFound, http.StatusUnprocessableEntity)
	o.DefaultStatus = http.StatusNoContent
	handle(s.api, o, func(ctx context.Context, in *ConsentPath) (*struct{}, error) {
		return nil, s.store.WithdrawConsent(ctx, actorFrom(ctx), in.ClientID, domain.SensitivitySUD, in.PersonID)
	})
}
