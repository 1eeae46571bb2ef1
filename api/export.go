package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/google/uuid"

	"github.com/waypoint-portal/waypoint/domain"
)

// The client's download of all their data ("Download my data"): one JSON
// document, streamed from one database snapshot section by section. A
// section is one line below (its name, schema type and description) and one
// entry in domain.ExportSections (its SQL).
func exportSections() []exportSection {
	return []exportSection{
		exportOne[ExportProfile]("profile", "The client's person (as GET /v1/me shows it, without the clients the person supports: those are theirs) and client record (as GET /v1/clients/{clientId})"),
		exportList[CareTeamMember]("care_team", "The workers on the client's care team, as GET /v1/clients/{clientId}/care-team lists them"),
		exportList[Supporter]("supporters", "The people the client chose as supporters, with their shares (expired grants included); oldest first"),
		exportList[SupporterInvitation]("supporter_invitations", "The client's invitations that can still be redeemed (never their codes, which Waypoint does not keep); oldest first. A redeemed one is a supporter"),
		exportList[Consent]("consents", "The workers the client consented to for sensitive (sud) records, as GET /v1/clients/{clientId}/consents lists them"),
		exportList[Goal]("goals", "Every goal with its steps, latest rating and trend, as GET /v1/goals/{goalId} shows it, entered-in-error ones included; oldest first"),
		exportList[GoalCheckIn]("goal_check_ins", "Every check-in on any of the goals (goal_id names it), by the client or the care team; oldest first"),
		exportList[GoalHistoryEntry]("goal_history", "Who changed what on the goals, one entry per changed field (goal_id names the goal); oldest first"),
		exportList[SavedService]("saved_services", "The services on the client's list, in the order they were saved"),
		exportList[Referral]("referrals", "Every referral with its service and full status history; oldest first"),
		exportList[Conversation]("conversations", "Every conversation with its participants and last message, unread_count as the client's own; oldest first. The messages are in messages"),
		exportList[Message]("messages", "Every message of every conversation, grouped by conversation_id, oldest first within each"),
		exportList[Assessment]("assessments", "Every self-assessment, drafts included, with all its ratings, as GET /v1/assessments/{assessmentId} shows it to the client; oldest first"),
		exportList[AssessmentGoalLink]("assessment_goals", "Which goals the client (or a care-team worker proposing) adopted from an assessment's suggestions: the assessment, domain and goal template; ordered by goal"),
		exportList[ServiceFeedback]("service_feedback", "The barriers the client reported on services (POST /v1/services/{serviceId}/feedback), with their words and how directory editors resolved them; oldest first"),
		exportList[ExportAccessEntry]("access_log", "Every recorded access to the client's data by someone else, and the client's exports (this one included); oldest first"),
	}
}

const exportTag = "Export"

// exportFormat names the document format; exportFormatVersion changes when
// a member changes meaning or disappears (new sections do not change it).
const (
	exportFormat        = "waypoint.client-export"
	exportFormatVersion = 1
)

const (
	// maxConcurrentExports bounds the exports one process streams at once:
	// each holds a database connection for its whole download.
	maxConcurrentExports = 4
	// exportMaxDuration bounds one download (and its open snapshot).
	exportMaxDuration = 15 * time.Minute
	// exportWriteTimeout bounds each write: a client that stops reading for
	// this long is disconnected (the server's WriteTimeout does not apply).
	exportWriteTimeout = 30 * time.Second
)

// exportSlots bounds the exports in progress: at most max per process, and
// one per client, so one client's slow downloads cannot hold every slot.
type exportSlots struct {
	mu      sync.Mutex
	max     int
	running map[uuid.UUID]bool
}

func newExportSlots(max int) *exportSlots {
	return &exportSlots{max: max, running: map[uuid.UUID]bool{}}
}

// acquire takes a slot for client's export, or says why not (status 0: taken).
func (x *exportSlots) acquire(client uuid.UUID) (int, string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case x.running[client]:
		return http.StatusTooManyRequests, "an export of this client is already being downloaded; retry when it has finished"
	case len(x.running) >= x.max:
		return http.StatusServiceUnavailable, "too many downloads are running on this server; retry shortly"
	}
	x.running[client] = true
	return 0, ""
}

func (x *exportSlots) release(client uuid.UUID) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.running, client)
}

// ExportProfile is the client's person and client record.
type ExportProfile struct {
	Person Person `json:"person" doc:"The client's person, as GET /v1/me shows it (without supporting: the clients the person supports are theirs)"`
	Client Client `json:"client" doc:"The client record, as GET /v1/clients/{clientId} shows it"`
}

// ExportActor is who an access-log entry is about.
type ExportActor struct {
	ID           uuid.UUID `json:"id" doc:"The person's id"`
	DisplayName  string    `json:"display_name" rule:"person.name" example:"Wanda Okafor"`
	Relationship string    `json:"relationship" rule:"access_log.relationship" example:"care_team_worker" doc:"Their relationship to the client then (see AccessActor); the client's own export: self"`
}

// ExportAccessEntry is one entry of the client's access log.
type ExportAccessEntry struct {
	ID         uuid.UUID   `json:"id" doc:"Entry id (UUIDv7; entries sort by it)"`
	At         time.Time   `json:"at"`
	Action     string      `json:"action" rule:"access_log.action" example:"read" doc:"read or write: by someone other than the client; denied: an attempt on a record they may not see; export: a download of this data (by the client)"`
	Resource   string      `json:"resource" rule:"access_log.resource" example:"goal" doc:"The kind of record"`
	ResourceID string      `json:"resource_id" rule:"access_log.resource_id" doc:"The record's id; empty for a whole list"`
	Label      string      `json:"label" rule:"access_log.label" example:"Find stable housing" doc:"The record in words, as it was then; empty when there is none"`
	Actor      ExportActor `json:"actor" doc:"Who it was"`
	AppID      *string     `json:"app_id,omitempty" rule:"app.id" example:"waypoint-web" doc:"The app (OAuth2 client) the access came through, when the token named one"`
	RequestID  string      `json:"request_id" rule:"request_id" doc:"The request's id (X-Request-Id)"`
}

// exportSection is how api writes and documents one section.
type exportSection struct {
	name, doc string
	one       bool
	schema    func(huma.Registry) *huma.Schema
	// copy decodes one row into the section's type (refusing members the
	// type lacks) and writes it as the API would.
	copy func(enc *json.Encoder, row []byte) error
	// members are the type's members that are always present: the first
	// row of a section must give them all, so a member added to the type
	// but not to the query fails loudly instead of exporting zero values.
	members []string
	sql     domain.ExportSection
}

func exportList[T any](name, doc string) exportSection {
	return exportSection{name: name, doc: doc, copy: copyRow[T], members: jsonMembers(reflect.TypeFor[T]()), schema: func(r huma.Registry) *huma.Schema {
		return &huma.Schema{Type: huma.TypeArray, Description: doc, Items: r.Schema(reflect.TypeFor[T](), true, "")}
	}}
}

func exportOne[T any](name, doc string) exportSection {
	s := exportList[T](name, doc)
	s.one = true
	s.schema = func(r huma.Registry) *huma.Schema {
		return &huma.Schema{Description: doc, AllOf: []*huma.Schema{r.Schema(reflect.TypeFor[T](), true, "")}}
	}
	return s
}

// jsonMembers lists the JSON members of struct type t that are never left
// out (no omitempty).
func jsonMembers(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || strings.Contains(opts, "omitempty") {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// missingMembers names the members of row (a JSON object) not among want.
func missingMembers(row []byte, want []string) ([]string, error) {
	var got map[string]json.RawMessage
	if err := json.Unmarshal(row, &got); err != nil {
		return nil, err
	}
	var missing []string
	for _, m := range want {
		if _, ok := got[m]; !ok {
			missing = append(missing, m)
		}
	}
	return missing, nil
}

func copyRow[T any](enc *json.Encoder, row []byte) error {
	var v T
	d := json.NewDecoder(bytes.NewReader(row))
	d.DisallowUnknownFields()
	if err := d.Decode(&v); err != nil {
		return fmt.Errorf("decode %T row: %w", v, err)
	}
	return enc.Encode(v)
}

// exportPlan pairs each section with its query; a section without one (or a
// query without a section) is a programming error caught at start-up.
func exportPlan() []exportSection {
	secs := exportSections()
	queries := domain.ExportSections()
	if len(queries) != len(secs) {
		panic(fmt.Sprintf("export: %d sections in api, %d queries in domain", len(secs), len(queries)))
	}
	for i := range secs {
		if q := queries[i]; q.Name != secs[i].name || q.One != secs[i].one {
			panic(fmt.Sprintf("export: section %d is %q (one: %v) in api but %q (one: %v) in domain",
				i, secs[i].name, secs[i].one, q.Name, q.One))
		}
		secs[i].sql = queries[i]
	}
	return secs
}

const exportDescription = "Everything Waypoint holds about the client, as one JSON document (schema ClientExport) to keep or to take " +
	"elsewhere: profile, care team, goals with their steps, check-ins and history, saved services, referrals with their status " +
	"history, conversations and messages, and the access log. Only the client may download it: anyone else, care team and " +
	"administrators included, gets 404. Every download is written to the client's access log (action export) before any data is sent.\n\n" +
	"The document is one consistent snapshot (exported_at), streamed as it is read, so it may be large; it is sent with " +
	"Content-Disposition: attachment. Each record has the shape the API gives it elsewhere.\n\n" +
	"**Completeness.** The last member is always `\"complete\": true`. If anything fails after the response has started, the " +
	"server stops writing and drops the connection: the body then ends early, is not valid JSON and has no `complete` member. " +
	"Treat any document without `\"complete\": true` as incomplete and download it again.\n\n" +
	"At most 4 downloads run at once per server (503 with Retry-After beyond); a download may take up to 15 minutes, and a " +
	"client that stops reading for 30 seconds is disconnected."

func (s *Server) registerExport() {
	secs := exportPlan()
	reg := s.api.OpenAPI().Components.Schemas
	reg.Map()["ClientExport"] = exportSchema(reg, secs)
	o := op(http.MethodGet, "/v1/clients/{clientId}/export", "exportClientData", exportTag, "Download all my data",
		exportDescription, "export:read", http.StatusNotFound)
	o.Responses = map[string]*huma.Response{"200": {
		Description: "The whole export, streamed. Complete only if it ends with \"complete\": true.",
		Headers: map[string]*huma.Param{"Content-Disposition": {
			Description: "attachment, with the file name waypoint-export-<clientId>-<date of exported_at>.json",
			Schema:      &huma.Schema{Type: huma.TypeString},
			Example:     `attachment; filename="waypoint-export-01936f5e-6c1a-7b3e-9d2f-3a4b5c6d7e8f-2025-06-01.json"`,
		}, "Waypoint-Redisclosure": {
			Description: "The 42 CFR Part 2 redisclosure notice: present exactly when the export holds a record labelled sud " +
				"(the document's redisclosure_notice then has the full notice)",
			Schema: &huma.Schema{Type: huma.TypeString},
		}},
		Content: map[string]*huma.MediaType{"application/json": {Schema: &huma.Schema{Ref: schemaRefPrefix + "ClientExport"}}},
	}}
	handle(s.api, o, func(ctx context.Context, in *ClientPath) (*huma.StreamResponse, error) {
		if status, msg := s.exports.acquire(in.ClientID); status != 0 {
			return nil, huma.ErrorWithHeaders(newProblem(ctx, status, msg), http.Header{"Retry-After": []string{"10"}})
		}
		ctx, cancel := context.WithTimeout(ctx, exportMaxDuration)
		done := func() { cancel(); s.exports.release(in.ClientID) }
		exp, err := s.store.OpenExport(ctx, actorFrom(ctx), in.ClientID)
		if err != nil {
			done()
			return nil, err
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			defer done()
			defer exp.Close()
			s.streamExport(hctx, exp, in.ClientID, secs)
		}}, nil
	})
}

// exportSchema documents the document: its head, each section, complete.
func exportSchema(reg huma.Registry, secs []exportSection) *huma.Schema {
	props := map[string]*huma.Schema{
		"format": {Type: huma.TypeString, Enum: []any{exportFormat}, Description: "Always " + exportFormat},
		"format_version": {Type: huma.TypeInteger, Format: "int32", Enum: []any{exportFormatVersion},
			Minimum: ptr(float64(exportFormatVersion)), Maximum: ptr(float64(exportFormatVersion)),
			Description: "Changes when a member changes meaning or is removed; new sections and members may appear without it"},
		"client_id": {Type: huma.TypeString, Format: "uuid", Description: "The client whose data this is"},
		"exported_at": {Type: huma.TypeString, Format: "date-time",
			Description: "The moment of the snapshot: every section shows the data as it was then"},
		"redisclosure_notice": {Type: huma.TypeString, Nullable: true, Enum: []any{domain.RedisclosureNoticeFull, nil},
			Description: "The redisclosure notice (42 CFR 2.32, in full) that must accompany the export when it holds records labelled sud " +
				"(goals and conversations with sensitivity sud, and their check-ins, history and messages; substance_use assessment ratings); null otherwise. The response then " +
				"also carries the short notice in the Waypoint-Redisclosure header"},
		"complete": {Type: huma.TypeBoolean, Enum: []any{true},
			Description: "Always true, and always the last member: a document without it ended early and is incomplete"},
	}
	required := []string{"format", "format_version", "client_id", "exported_at", "redisclosure_notice"}
	for _, sec := range secs {
		props[sec.name] = sec.schema(reg)
		required = append(required, sec.name)
	}
	return &huma.Schema{
		Type:                 huma.TypeObject,
		Description:          "A client's data export (GET /v1/clients/{clientId}/export). See docs/export.md for the format.",
		Properties:           props,
		Required:             append(required, "complete"),
		AdditionalProperties: false,
	}
}

// errClientGone marks a failed write: the client left or stopped reading.
var errClientGone = errors.New("the client stopped reading")

// exportHead is the document's first members.
type exportHead struct {
	Format             string    `json:"format"`
	FormatVersion      int       `json:"format_version"`
	ClientID           uuid.UUID `json:"client_id"`
	ExportedAt         time.Time `json:"exported_at"`
	RedisclosureNotice *string   `json:"redisclosure_notice"`
}

// streamExport writes the document. Once the 200 has started nothing can
// turn it into an error, so a failure drops the connection instead: the body
// ends early, without its closing brace and without "complete": true.
func (s *Server) streamExport(hctx huma.Context, exp *domain.Export, clientID uuid.UUID, secs []exportSection) {
	r, w := humago.Unwrap(hctx)
	rc := http.NewResponseController(w)
	// A long download must outlive the server's read timeout (which would
	// cancel the request) and its write timeout (each write has its own).
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", noStoreValue)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="waypoint-export-%s-%s.json"`,
		clientID, exp.At.UTC().Format(time.DateOnly)))
	if exp.Sensitive { // records labelled sud inside: the notice travels with them
		h.Set("Waypoint-Redisclosure", domain.RedisclosureNotice)
	}
	w.WriteHeader(http.StatusOK)
	out := &exportOut{w: w, rc: rc}
	out.buf = bufio.NewWriterSize(out, 64<<10)
	out.enc = json.NewEncoder(out.buf)
	out.enc.SetEscapeHTML(false)
	err := writeExport(out, exp, clientID, secs)
	if err == nil {
		return
	}
	ri := requestInfoFrom(r.Context())
	switch {
	case errors.Is(err, errClientGone) || r.Context().Err() != nil:
		s.log.Info("export: the client left before the end", "error", err.Error())
	case ri != nil:
		ri.Err = fmt.Errorf("export ended early (the client got an incomplete document): %w", err)
	}
	panic(http.ErrAbortHandler)
}

// writeExport writes the head, every section (flushed as it ends) and the
// closing "complete": true.
func writeExport(out *exportOut, exp *domain.Export, clientID uuid.UUID, secs []exportSection) error {
	head := exportHead{Format: exportFormat, FormatVersion: exportFormatVersion, ClientID: clientID, ExportedAt: exp.At.UTC()}
	if exp.Sensitive {
		notice := domain.RedisclosureNoticeFull
		head.RedisclosureNotice = &notice
	}
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	_, _ = out.buf.Write(b[:len(b)-1]) // without its closing brace; write errors surface at flush
	if err := out.flush(); err != nil {
		return err
	}
	for _, sec := range secs {
		_, _ = out.buf.WriteString(",\n\"" + sec.name + "\":")
		if err := writeSection(out, exp, sec); err != nil {
			return err
		}
		if err := out.flush(); err != nil {
			return err
		}
	}
	_, _ = out.buf.WriteString(",\n\"complete\":true}\n")
	return out.flush()
}

// writeSection writes one section: a list, or the one object.
func writeSection(out *exportOut, exp *domain.Export, sec exportSection) error {
	n := 0
	if !sec.one {
		_ = out.buf.WriteByte('[')
	}
	err := exp.Rows(sec.sql, func(row []byte) error {
		switch {
		case sec.one && n > 0:
			return fmt.Errorf("section %s has more than one row", sec.name)
		case n > 0:
			_ = out.buf.WriteByte(',')
		default:
			missing, err := missingMembers(row, sec.members)
			switch {
			case err != nil:
				return fmt.Errorf("section %s: %w", sec.name, err)
			case len(missing) > 0:
				return fmt.Errorf("section %s: its query gives no %v: add them in domain.ExportSections", sec.name, missing)
			}
		}
		n++
		return sec.copy(out.enc, row)
	})
	if err != nil {
		return err
	}
	switch {
	case !sec.one:
		_ = out.buf.WriteByte(']')
	case n == 0:
		return fmt.Errorf("section %s has no row", sec.name)
	}
	return nil
}

// exportOut writes the document through a buffer, each write to the
// connection with a deadline of its own.
type exportOut struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf *bufio.Writer
	enc *json.Encoder
}

// Write is what the buffer writes to: the connection, with a deadline.
func (o *exportOut) Write(p []byte) (int, error) {
	_ = o.rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	n, err := o.w.Write(p)
	if err != nil {
		return n, fmt.Errorf("%w: %w", errClientGone, err)
	}
	return n, nil
}

// flush sends what is buffered now, so the client sees each section arrive.
func (o *exportOut) flush() error {
	if err := o.buf.Flush(); err != nil {
		return err
	}
	if err := o.rc.Flush(); err != nil {
		return fmt.Errorf("%w: %w", errClientGone, err)
	}
	return nil
}
