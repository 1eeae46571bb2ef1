package domain

import (
	"testing"

	"github.com/google/uuid"
)

// FuzzDecodeCursor: any cursor a caller sends decodes to an id or to a 422
// naming query.cursor, and what it decodes to encodes back to a cursor that
// decodes to the same id.
func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []string{"", "AZQfXmwaezqdLzpLXG1-jw", "AZQfXmwaezqdLzpLXG1-jx", "AAAAAAAAAAAAAAAAAAAAAA", "====", "a b", "\x00", "AZQfXmwaezqdLzpLXG1-jw=="} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		id, err := decodeCursor(c)
		if err != nil {
			if !IsKind(err, KindInvalid) || err.(*Error).Source != SourceSelection || err.(*Error).Field != "cursor" {
				t.Fatalf("%q: error %v is not a 422 naming query.cursor", c, err)
			}
			return
		}
		if c == "" {
			if id != uuid.Nil {
				t.Fatalf("empty cursor decoded to %s", id)
			}
			return
		}
		again, err := decodeCursor(encodeCursor(id))
		if err != nil || again != id {
			t.Fatalf("%q -> %s does not round-trip: %s %v", c, id, again, err)
		}
	})
}
