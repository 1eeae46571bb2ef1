package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// TaxonomyTermPage is a page of taxonomy terms in HSDS's paginated shape.
type TaxonomyTermPage struct {
	TotalItems int                 `json:"total_items" rule:"count" example:"17"`
	TotalPages int                 `json:"total_pages" rule:"count" example:"1"`
	PageNumber int                 `json:"page_number" rule:"page.number" example:"1"`
	Size       int                 `json:"size" rule:"page.length" example:"17"`
	FirstPage  bool                `json:"first_page"`
	LastPage   bool                `json:"last_page"`
	Empty      bool                `json:"empty"`
	Contents   []hsds.TaxonomyTerm `json:"contents" rule:"page.items"`
}

type listTermsInput struct {
	ParentID   uuid.UUID `query:"parent_id" doc:"Only the terms directly under this term (HSDS)"`
	TopOnly    bool      `query:"top_only" doc:"Only top-level terms, those without a parent (HSDS)"`
	TaxonomyID uuid.UUID `query:"taxonomy_id" doc:"Only terms of this taxonomy (HSDS)"`
	Search     string    `query:"search" maxLength:"200" example:"food" doc:"Case-insensitive substring of name, code or description"`
	Page       int       `query:"page" rule:"page.number" default:"1" doc:"Page number, from 1 (HSDS); pages past the last are empty"`
	PerPage    int       `query:"per_page" rule:"page.size" default:"100"`
}

type termsOutput struct {
	Body TaxonomyTermPage
}

func (s *Server) registerTaxonomy() {
	handle(s.api, op(http.MethodGet, "/v1/taxonomy_terms", "listTaxonomyTerms", "Directory", "List taxonomy terms",
		"The categories services are filed under (HSDS taxonomy terms, in the style of 211 / AIRS), by name. "+
			"Terms form a hierarchy through parent_id: start with top_only=true and walk down with parent_id. "+
			"Searching services by a term (taxonomy_term_id) includes every narrower term.",
		"services:read", http.StatusUnprocessableEntity),
		func(ctx context.Context, in *listTermsInput) (*termsOutput, error) {
			terms, total, err := s.store.ListTaxonomyTerms(ctx, domain.TermFilter{
				ParentID: in.ParentID, TopOnly: in.TopOnly, TaxonomyID: in.TaxonomyID, Search: in.Search,
				Page: in.Page, PerPage: in.PerPage,
			})
			if err != nil {
				return nil, err
			}
			p := hsds.NewPage(terms, total, in.Page, in.PerPage)
			return &termsOutput{Body: TaxonomyTermPage{TotalItems: p.TotalItems, TotalPages: p.TotalPages, PageNumber: p.PageNumber,
				Size: p.Size, FirstPage: p.FirstPage, LastPage: p.LastPage, Empty: p.Empty, Contents: p.Contents}}, nil
		})
}
