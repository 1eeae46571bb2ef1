package domain

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// ImportBatch stores a batch of HSDS records in one transaction. Each record
// runs under its own savepoint, so one the database refuses (e.g. a reference
// to an unknown organization) is rolled back alone and reported in errs at its
// index; records that arrive already malformed are skipped the same way.
// Records are upserted by HSDS id, so importing the same data twice leaves
// the directory as it was. The returned error is for the batch as a whole.
func (s *Store) ImportBatch(ctx context.Context, recs []hsds.Record) (errs []error, err error) {
	errs = make([]error, len(recs))
	err = s.tx(ctx, func(tx *gorm.DB) error {
		w := newDirWriter(tx, false, true)
		for i := range recs {
			r := &recs[i]
			if r.Err != nil {
				errs[i] = r.Err
				continue
			}
			if err := tx.Exec("SAVEPOINT hsds_record").Error; err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			if err := importRecord(w, r); err != nil {
				errs[i] = importError(err)
				if err := tx.Exec("ROLLBACK TO SAVEPOINT hsds_record").Error; err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
				continue
			}
			if err := tx.Exec("RELEASE SAVEPOINT hsds_record").Error; err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return w.finish()
	})
	return errs, err
}

func importRecord(w *dirWriter, r *hsds.Record) error {
	switch {
	case r.Taxonomy != nil:
		return w.taxonomy(r.Taxonomy)
	case r.TaxonomyTerm != nil:
		return w.term(r.TaxonomyTerm)
	case r.Organization != nil:
		return w.organization(r.Organization)
	case r.Location != nil:
		return w.location(r.Location)
	case r.ServiceAtLocation != nil:
		return w.serviceAtLocation(r.ServiceAtLocation, r.Service)
	case r.Service != nil:
		return w.service(r.Service)
	}
	return errors.New("empty record")
}

// importError keeps what the database said (it is a report for an operator,
// not an HTTP response) but in one line.
func importError(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		msg := pg.Message
		if pg.Detail != "" {
			msg += ": " + pg.Detail
		}
		return errors.New(msg)
	}
	return err
}

// ExportDirectory streams the whole directory from one consistent snapshot,
// in a stable order (by id): taxonomies, taxonomy terms, organizations (with
// their locations), locations of no organization, then services in full (as
// HSDS's service_full example, with organization and locations embedded). The
// importer reads the result back to the same state.
func (s *Store) ExportDirectory(ctx context.Context, emit func(kind hsds.Kind, v any) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		steps := []struct {
			kind  hsds.Kind
			query string
			new   func() any
		}{
			{hsds.KindTaxonomy, `SELECT to_jsonb(t) - '{created_at,updated_at}'::text[] FROM taxonomies t ORDER BY t.id`,
				func() any { return &hsds.Taxonomy{} }},
			{hsds.KindTaxonomyTerm, `SELECT ` + termJSON("t") + ` FROM taxonomy_terms t ORDER BY t.id`,
				func() any { return &hsds.TaxonomyTerm{} }},
			{hsds.KindOrganization, `SELECT ` + organizationJSON("o") + ` FROM organizations o ORDER BY o.id`,
				func() any { return &hsds.Organization{} }},
			{hsds.KindLocation, `SELECT ` + locationJSON("l", "NULL::uuid") + ` FROM locations l WHERE l.organization_id IS NULL ORDER BY l.id`,
				func() any { return &hsds.Location{} }},
			{hsds.KindService, `SELECT ` + serviceFullJSON + ` FROM services s ORDER BY s.id`,
				func() any { return &hsds.Service{} }},
		}
		for _, st := range steps {
			rows, err := tx.Raw(st.query).Rows()
			if err != nil {
				return fmt.Errorf("export %s: %w", st.kind, err)
			}
			for rows.Next() {
				var doc []byte
				if err := rows.Scan(&doc); err != nil {
					rows.Close()
					return fmt.Errorf("export %s: %w", st.kind, err)
				}
				v := st.new()
				if err := json.Unmarshal(doc, v); err != nil {
					rows.Close()
					return fmt.Errorf("decode %s: %w", st.kind, err)
				}
				if err := emit(st.kind, v); err != nil {
					rows.Close()
					return err
				}
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return fmt.Errorf("export %s: %w", st.kind, err)
			}
		}
		return nil
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
}

// ImportBatchSize is how many records share one transaction.
const ImportBatchSize = 200

// RecordFailure is a record the import skipped.
type RecordFailure struct {
	Where string // file:line kind id
	Err   error
}

// ImportReport tells what an import did.
type ImportReport struct {
	Imported map[hsds.Kind]int
	Failed   []RecordFailure
	Skipped  []hsds.Skipped
}

// Print writes the report for a person: the summary, then what was skipped.
func (r ImportReport) Print(w io.Writer) {
	r.PrintSummary(w)
	r.PrintSkips(w)
}

// PrintSummary writes how many records of each kind were imported.
func (r ImportReport) PrintSummary(w io.Writer) {
	kinds := []hsds.Kind{hsds.KindTaxonomy, hsds.KindTaxonomyTerm, hsds.KindOrganization, hsds.KindLocation, hsds.KindService, hsds.KindServiceAtLocation}
	total := 0
	for _, k := range kinds {
		total += r.Imported[k]
	}
	fmt.Fprintf(w, "imported %d record(s):", total)
	for _, k := range kinds {
		if n := r.Imported[k]; n > 0 {
			fmt.Fprintf(w, " %s %d", k, n)
		}
	}
	fmt.Fprintln(w)
}

// PrintSkips writes one line per skipped file and per skipped record
// (file:line kind id: why).
func (r ImportReport) PrintSkips(w io.Writer) {
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "skipped file %s: %s\n", s.File, s.Reason)
	}
	if len(r.Failed) > 0 {
		fmt.Fprintf(w, "skipped %d malformed record(s):\n", len(r.Failed))
		for _, f := range r.Failed {
			fmt.Fprintf(w, "  %s: %v\n", f.Where, f.Err)
		}
	}
}

// Lost counts what the import left out that may hold directory data: the
// malformed records and the skipped files other than the HSDS API base
// document (which holds none).
func (r ImportReport) Lost() (records, files int) {
	for _, s := range r.Skipped {
		if s.Reason != hsds.ReasonBaseDocument {
			files++
		}
	}
	return len(r.Failed), files
}

// ImportHSDS imports a file or directory of HSDS JSON (see hsds.Read) in
// transactions of ImportBatchSize records. Records are upserted by HSDS id;
// malformed ones are reported and skipped without stopping the rest.
func (s *Store) ImportHSDS(ctx context.Context, path string) (ImportReport, error) {
	rep := ImportReport{Imported: map[hsds.Kind]int{}}
	var batch []hsds.Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		errs, err := s.ImportBatch(ctx, batch)
		if err != nil {
			return fmt.Errorf("import batch ending at %s: %w", batch[len(batch)-1].Where(), err)
		}
		for i, r := range batch {
			if errs[i] != nil {
				rep.Failed = append(rep.Failed, RecordFailure{Where: r.Where(), Err: errs[i]})
			} else {
				rep.Imported[r.Kind]++
			}
		}
		batch = batch[:0]
		return nil
	}
	skipped, err := hsds.Read(path, func(r hsds.Record) error {
		batch = append(batch, r)
		if len(batch) >= ImportBatchSize {
			return flush()
		}
		return nil
	})
	rep.Skipped = skipped
	if err != nil {
		return rep, err
	}
	return rep, flush()
}

// ExportHSDS writes the directory to dir as HSDS list documents (one item
// per line): taxonomy_list.json, taxonomy_term_list.json,
// organization_list.json, location_list.json and service_list.json.
func (s *Store) ExportHSDS(ctx context.Context, dir string) (map[hsds.Kind]int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	files := map[hsds.Kind]string{
		hsds.KindTaxonomy: "taxonomy_list.json", hsds.KindTaxonomyTerm: "taxonomy_term_list.json",
		hsds.KindOrganization: "organization_list.json", hsds.KindLocation: "location_list.json",
		hsds.KindService: "service_list.json",
	}
	writers := map[hsds.Kind]*hsds.ListWriter{}
	closeAll := func() {
		for _, w := range writers {
			_ = w.Close()
		}
	}
	for k, name := range files {
		w, err := hsds.CreateList(dir, name)
		if err != nil {
			closeAll()
			return nil, err
		}
		writers[k] = w
	}
	err := s.ExportDirectory(ctx, func(k hsds.Kind, v any) error { return writers[k].Add(v) })
	counts := map[hsds.Kind]int{}
	for k, w := range writers {
		counts[k] = w.Count()
		if cerr := w.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return counts, err
}
