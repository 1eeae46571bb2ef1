package hsds

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// Kind names an HSDS object type.
type Kind string

// Object kinds the importer reads.
const (
	KindTaxonomy          Kind = "taxonomy"
	KindTaxonomyTerm      Kind = "taxonomy_term"
	KindOrganization      Kind = "organization"
	KindLocation          Kind = "location"
	KindService           Kind = "service"
	KindServiceAtLocation Kind = "service_at_location"
)

// Record is one top-level object read from a file. Exactly one of the object
// pointers is set unless Err is (a service-at-location also carries the
// service it embeds, if any): a malformed record carries its id (as far as
// it could be read), where it starts, and why, and is skipped.
type Record struct {
	Kind Kind
	ID   string
	File string
	Line int

	Taxonomy          *Taxonomy
	TaxonomyTerm      *TaxonomyTerm
	Organization      *Organization
	Location          *Location
	Service           *Service
	ServiceAtLocation *ServiceAtLocation

	Err error
}

// Where names the record for reports: file:line id.
func (r Record) Where() string {
	id := r.ID
	if id == "" {
		id = "(no id)"
	}
	return fmt.Sprintf("%s:%d %s %s", r.File, r.Line, r.Kind, id)
}

// ReasonBaseDocument is why the HSDS API base document is skipped: it holds
// no directory data, so skipping it loses nothing.
const ReasonBaseDocument = "HSDS API base document (no directory data)"

// Skipped is a file the reader did not import, and why.
type Skipped struct {
	File   string
	Reason string
}

// Read walks path (a file, or a directory read recursively in name order)
// and calls fn for every record of every .json or .ndjson file. A file's
// shape may be a single object, an array of objects, an HSDS paginated list
// (contents), or one object per line. The object type comes from the file
// name (service_full.json, organization_list.json, ...) or, failing that,
// from the object's members. Files that are not HSDS data (the API's base
// document, the tabular CSV-as-JSON form) are listed in the returned skips.
// fn's error stops the walk.
func Read(path string, fn func(Record) error) ([]Skipped, error) {
	var files []string
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if st.IsDir() {
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".ndjson")) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", path, err)
		}
		sort.Strings(files)
	} else {
		files = []string{path}
	}
	var skipped []Skipped
	for _, f := range files {
		reason, err := readFile(f, fn)
		if err != nil {
			return skipped, err
		}
		if reason != "" {
			skipped = append(skipped, Skipped{File: f, Reason: reason})
		}
	}
	return skipped, nil
}

// kindFromName guesses the object type from an HSDS example-style file name.
func kindFromName(file string) Kind {
	base := strings.ToLower(filepath.Base(file))
	for _, k := range []Kind{KindServiceAtLocation, KindService, KindOrganization, KindLocation, KindTaxonomyTerm, KindTaxonomy} {
		if strings.HasPrefix(base, string(k)) {
			return k
		}
	}
	// plural forms written by other tools (services.json, taxonomy_terms.json)
	for _, k := range []Kind{KindServiceAtLocation, KindService, KindOrganization, KindLocation, KindTaxonomyTerm} {
		if strings.HasPrefix(base, string(k)+"s") {
			return k
		}
	}
	if strings.HasPrefix(base, "taxonomies") {
		return KindTaxonomy
	}
	return ""
}

// kindFromMembers infers an object's type from the members it has.
func kindFromMembers(m map[string]json.RawMessage) Kind {
	has := func(k string) bool { _, ok := m[k]; return ok }
	switch {
	case has("location_type"):
		return KindLocation
	case has("status"):
		return KindService
	case has("service") || (has("location") && has("service_id")):
		return KindServiceAtLocation
	case has("parent_id") || has("term_uri") || has("taxonomy_detail") || has("code"):
		return KindTaxonomyTerm
	case has("tax_status") || has("year_incorporated") || has("website") || has("organization_identifiers") || has("services") || has("legal_status"):
		return KindOrganization
	case has("version") && has("name"):
		return KindTaxonomy
	}
	return ""
}

// lineIndex maps byte offsets to line numbers.
type lineIndex struct {
	r        io.Reader
	off      int64
	newlines []int64
}

func (l *lineIndex) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			l.newlines = append(l.newlines, l.off+int64(i))
		}
	}
	l.off += int64(n)
	return n, err
}

// line returns the 1-based line of offset off.
func (l *lineIndex) line(off int64) int {
	return sort.Search(len(l.newlines), func(i int) bool { return l.newlines[i] >= off }) + 1
}

// fileReader streams the records of one file.
type fileReader struct {
	file string
	kind Kind
	li   *lineIndex
	dec  *json.Decoder
	fn   func(Record) error
}

func readFile(file string, fn func(Record) error) (skipReason string, err error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", file, err)
	}
	defer f.Close()
	li := &lineIndex{r: bufio.NewReaderSize(f, 1<<16)}
	dec := json.NewDecoder(li)
	dec.UseNumber()
	r := &fileReader{file: file, kind: kindFromName(file), li: li, dec: dec, fn: fn}

	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return "empty file", nil
	}
	if err != nil {
		return "not JSON: " + err.Error(), nil
	}
	switch tok {
	case json.Delim('['):
		if err := r.items(); err != nil {
			return "", err
		}
		return "", r.end()
	case json.Delim('{'):
		return r.object()
	default:
		return "not an HSDS object or list", nil
	}
}

// broken reports malformed JSON at the line where the value that failed
// starts: the decoder stops after the last good value, and the whitespace
// between them can span lines.
func (r *fileReader) broken(err error) error {
	off := r.dec.InputOffset()
	rest, _ := io.ReadAll(r.dec.Buffered())
	for _, c := range rest {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',' {
			break
		}
		off++
	}
	return fmt.Errorf("%s: broken JSON near line %d: %w", r.file, r.li.line(off), err)
}

// emit hands fn the record in raw, the value just decoded.
func (r *fileReader) emit(raw json.RawMessage) error {
	line := r.li.line(r.dec.InputOffset() - int64(len(raw)))
	return r.fn(decodeRecord(r.kind, raw, r.file, line))
}

// items streams the elements of the array whose '[' was just read, through
// its ']': a truncated file must not pass for a complete one.
func (r *fileReader) items() error {
	for r.dec.More() {
		var raw json.RawMessage
		if err := r.dec.Decode(&raw); err != nil {
			return r.broken(err)
		}
		if err := r.emit(raw); err != nil {
			return err
		}
	}
	if t, err := r.dec.Token(); err != nil || t != json.Delim(']') {
		return fmt.Errorf("%s: list not closed near line %d", r.file, r.li.line(r.dec.InputOffset()))
	}
	return nil
}

// end requires the file to end after its list: a second list would be lost.
func (r *fileReader) end() error {
	if _, err := r.dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: unexpected data after the list near line %d", r.file, r.li.line(r.dec.InputOffset()))
	}
	return nil
}

// object reads a top-level object whose '{' was just read: a paginated list
// (its contents are streamed), or one record, or the first of several one
// per line (NDJSON).
func (r *fileReader) object() (skipReason string, err error) {
	startLine := r.li.line(r.dec.InputOffset() - 1)
	top := map[string]json.RawMessage{}
	sawContents := false
	for r.dec.More() {
		kt, err := r.dec.Token()
		if err != nil {
			return "", r.broken(err)
		}
		key, _ := kt.(string)
		if key == "contents" {
			if t, err := r.dec.Token(); err != nil || t != json.Delim('[') {
				return "", fmt.Errorf("%s: contents must be an array", r.file)
			}
			sawContents = true
			if err := r.items(); err != nil {
				return "", err
			}
			continue
		}
		var raw json.RawMessage
		if err := r.dec.Decode(&raw); err != nil {
			return "", r.broken(err)
		}
		top[key] = raw
	}
	if _, err := r.dec.Token(); err != nil { // }
		return "", fmt.Errorf("%s: %w", r.file, err)
	}
	if sawContents {
		return "", r.end()
	}
	if _, ok := top["openapi_url"]; ok {
		return ReasonBaseDocument, nil
	}
	for k := range top {
		if strings.HasSuffix(k, ".csv") {
			return "HSDS tabular (CSV) form is not supported; import the JSON objects instead", nil
		}
	}
	whole, err := json.Marshal(top)
	if err != nil {
		return "", fmt.Errorf("%s: %w", r.file, err)
	}
	if err := r.fn(decodeRecord(r.kind, whole, r.file, startLine)); err != nil {
		return "", err
	}
	return "", r.ndjson()
}

// ndjson streams the further objects of a file of one object per line.
func (r *fileReader) ndjson() error {
	for {
		var raw json.RawMessage
		err := r.dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return r.broken(err)
		}
		if err := r.emit(raw); err != nil {
			return err
		}
	}
}

// decodeRecord decodes and validates one object. Failures become the
// record's Err, so one bad record never stops an import.
func decodeRecord(kind Kind, raw json.RawMessage, file string, line int) Record {
	rec := Record{Kind: kind, File: file, Line: line}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		rec.Err = fmt.Errorf("not a JSON object")
		return rec
	}
	// The id as the typed decode below sees it: encoding/json matches member
	// names case-insensitively, and the last match wins.
	var idm struct {
		ID json.RawMessage `json:"id"`
	}
	_ = json.Unmarshal(raw, &idm)
	var id string
	_ = json.Unmarshal(idm.ID, &id)
	rec.ID = id
	if rec.Kind == "" {
		rec.Kind = kindFromMembers(members)
	}
	if err := checkID(idm.ID, id); err != nil {
		rec.Err = err
		return rec
	}
	var err error
	switch rec.Kind {
	case KindTaxonomy:
		rec.Taxonomy = &Taxonomy{}
		if err = unmarshal(raw, rec.Taxonomy); err == nil {
			err = ValidateTaxonomy(rec.Taxonomy)
		}
	case KindTaxonomyTerm:
		rec.TaxonomyTerm = &TaxonomyTerm{}
		if err = unmarshal(raw, rec.TaxonomyTerm); err == nil {
			err = ValidateTaxonomyTerm(rec.TaxonomyTerm)
		}
	case KindOrganization:
		rec.Organization = &Organization{}
		if err = unmarshal(raw, rec.Organization); err == nil {
			err = ValidateOrganization(rec.Organization, false)
		}
	case KindLocation:
		rec.Location = &Location{}
		if err = unmarshal(raw, rec.Location); err == nil {
			err = ValidateLocation(rec.Location, false)
		}
	case KindService:
		rec.Service = &Service{}
		if err = unmarshal(raw, rec.Service); err == nil {
			err = ValidateService(rec.Service, false)
		}
	case KindServiceAtLocation:
		var sal struct {
			ServiceAtLocation
			Service *Service `json:"service"`
		}
		if err = unmarshal(raw, &sal); err == nil {
			rec.ServiceAtLocation = &sal.ServiceAtLocation
			if sal.Service != nil {
				rec.ServiceAtLocation.ServiceID = sal.Service.ID
				rec.Service = sal.Service
			}
			err = ValidateServiceAtLocation(rec.ServiceAtLocation, rec.Service, false)
		}
	default:
		err = fmt.Errorf("cannot tell which HSDS object this is; name the file after its type (e.g. service_list.json)")
	}
	if err != nil {
		rec.Err = err
		rec.Taxonomy, rec.TaxonomyTerm, rec.Organization, rec.Location, rec.Service, rec.ServiceAtLocation = nil, nil, nil, nil, nil, nil
	}
	return rec
}

// checkID requires a record's id to be a UUID other than the nil UUID,
// which export leaves out where an id is optional (omitzero).
func checkID(raw json.RawMessage, id string) error {
	if id == "" && (len(raw) == 0 || string(raw) == "null" || string(raw) == `""`) {
		return fieldErr("id", "is required")
	}
	if u, err := uuid.Parse(id); err != nil || u == uuid.Nil {
		return fieldErr("id", "must be a UUID other than the nil UUID")
	}
	return nil
}

// unmarshal decodes one object, naming the member that cannot be decoded.
func unmarshal(raw json.RawMessage, v any) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	if fe := locate(raw, reflect.TypeOf(v), "", 0); fe != nil {
		return fe
	}
	return fmt.Errorf("bad value: %w", err)
}
