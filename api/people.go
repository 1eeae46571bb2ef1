package api

import (
	"context"
	"net/http"

	"github.com/waypoint-portal/waypoint/domain"
)

type listPeopleInput struct {
	Role string `query:"role" rule:"person.role" doc:"Only people holding this role"`
	Q    string `query:"q" maxLength:"100" doc:"Case-insensitive substring of the display name"`
	PageParams
}

type peopleOutput struct {
	Body Page[Person]
}

func (s *Server) registerPeople() {
	handle(s.api, op(http.MethodGet, "/v1/people", "listPeople", "People", "List people (administrators)",
		"Lists people known to Waypoint, e.g. the workers an administrator can put on a care team. "+
			"People appear after their first sign-in. Other roles get 403.",
		"profile:read", http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listPeopleInput) (*peopleOutput, error) {
			people, next, err := s.store.ListPeople(ctx, actorFrom(ctx), domain.PeopleFilter{
				Role: in.Role, Query: in.Q, Cursor: in.Cursor, Limit: in.Limit,
			})
			if err != nil {
				return nil, err
			}
			return &peopleOutput{Body: newPage(people, next, personDTO)}, nil
		})
}
