package main

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// insights export writes the finest published cells, the gaps and a Data
// Package whose schemas describe exactly the CSV columns; a cell under k
// never reaches the files.
func TestInsightsExport(t *testing.T) {
	url := freshDatabase(t)
	db := env(map[string]string{"DATABASE_URL": url})
	if r := runCLI(db, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %d %s", r.code, r.stderr)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	now := time.Now().UTC()
	monday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday = monday.AddDate(0, 0, -((int(monday.Weekday())+6)%7)-7) // the last complete week
	add := func(n int, term, area, lang string) {
		for range n {
			mark := make([]byte, 16)
			_, _ = rand.Read(mark)
			if _, err := conn.Exec(ctx, `INSERT INTO unmet_needs (source, week, taxonomy_term, area, language, person_mark)
				VALUES ('search', $1, $2, $3, $4, $5)`, monday, term, area, lang, mark); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(11, "0193a000-0000-7000-8000-00000000a1e9", "c23n9", "es")
	add(6, "0193a000-0000-7000-8000-00000000f00d", "c23p0", "so")
	add(5, "0193a000-0000-7000-8000-00000000f00e", "c22zz", "en")
	dir := filepath.Join(t.TempDir(), "open-data")
	r := runCLI(db, "insights", "export", dir)
	if r.code != exitOK || !strings.Contains(r.stdout, "unmet-needs.csv (1 cells") {
		t.Fatalf("export: %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	read := func(name string) [][]string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	needs, gaps := read("unmet-needs.csv"), read("directory-gaps.csv")
	if len(needs) != 2 || needs[1][len(needs[1])-1] != "11" || !strings.Contains(strings.Join(needs[1], ","), "c23n9,es") {
		t.Fatalf("unmet-needs.csv: %v", needs)
	}
	if len(gaps) != 2 || gaps[1][2] != "c23n9" || gaps[1][3] != "11" {
		t.Fatalf("directory-gaps.csv: %v", gaps)
	}
	var pkg struct {
		Profile   string `json:"profile"`
		K         int    `json:"k"`
		Resources []struct {
			Path   string `json:"path"`
			Schema struct {
				Fields []struct{ Name, Type, Description string } `json:"fields"`
			} `json:"schema"`
		} `json:"resources"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "datapackage.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Profile != "tabular-data-package" || pkg.K != 10 || len(pkg.Resources) != 2 || !strings.Contains(string(b), "complementary suppression") {
		t.Fatalf("datapackage.json: %s", b)
	}
	for i, header := range [][]string{needs[0], gaps[0]} {
		res := pkg.Resources[i]
		if len(res.Schema.Fields) != len(header) {
			t.Fatalf("%s: %d fields for %d columns", res.Path, len(res.Schema.Fields), len(header))
		}
		for j, f := range res.Schema.Fields {
			if f.Name != header[j] || f.Type == "" || f.Description == "" {
				t.Errorf("%s field %d: %+v, column %s", res.Path, j, f, header[j])
			}
		}
	}
}
