package api

// Page is one page of a cursor-paginated list.
type Page[T any] struct {
	Items      []T    `json:"items" rule:"page.items" nullable:"false" doc:"The items of this page, in a stable order; empty (never null) when there are none"`
	NextCursor string `json:"next_cursor,omitempty" rule:"page.cursor" doc:"Pass as cursor to get the next page; absent on the last page"`
}

// PageParams are the cursor pagination query parameters every list takes.
type PageParams struct {
	Cursor string `query:"cursor" rule:"page.cursor" doc:"Opaque cursor from a previous page's next_cursor"`
	Limit  int    `query:"limit" rule:"page.size" default:"20" doc:"Page size (1-100)"`
}

func newPage[D, T any](rows []D, next string, conv func(D) T) Page[T] {
	items := make([]T, len(rows))
	for i, r := range rows {
		items[i] = conv(r)
	}
	return Page[T]{Items: items, NextCursor: next}
}
