package apitest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/jsonschema/v6"
)

// EventContract checks the frames of GET /v1/events against the committed
// AsyncAPI document (openapi/asyncapi.yaml, which `make check` keeps equal to
// what `waypoint asyncapi` generates): each event's data must be the payload
// of the message of that name, typed data and closed enums included. The
// payloads are compiled with the JSON Schema validator the other schema tests
// use (pb33f/jsonschema, already a dependency of libopenapi-validator).
type EventContract struct {
	messages map[string]*jsonschema.Schema // by event name (the SSE event: field)
}

// sharedEvents builds the event contract once per test binary, like
// sharedContract: a memoised constant of a committed file.
var sharedEvents = sync.OnceValues(func() (*EventContract, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return nil, errors.New("locate the apitest package")
	}
	return LoadEventContract(filepath.Join(filepath.Dir(file), "..", "..", "openapi", "asyncapi.yaml"))
})

// TheEventContract returns the committed event contract, built once per test binary.
func TheEventContract(t testing.TB) *EventContract {
	t.Helper()
	c, err := sharedEvents()
	if err != nil {
		t.Fatalf("load the AsyncAPI contract: %v", err)
	}
	return c
}

// LoadEventContract reads an AsyncAPI 3.0 document and compiles the payload
// of every message its receive operations name, keyed by the message name.
func LoadEventContract(path string) (*EventContract, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read event contract: %w", err)
	}
	var tree any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("parse event contract: %w", err)
	}
	j, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("event contract as JSON: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return nil, fmt.Errorf("event contract as JSON: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	base := "file://" + filepath.ToSlash(abs)
	c := jsonschema.NewCompiler()
	// AsyncAPI's default schema format is a superset of JSON Schema draft 07.
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	if err := c.AddResource(base, doc); err != nil {
		return nil, fmt.Errorf("event contract: %w", err)
	}
	ec := &EventContract{messages: map[string]*jsonschema.Schema{}}
	ops, _ := pointer(doc, "/operations").(map[string]any)
	for opName, o := range ops {
		op, _ := o.(map[string]any)
		if op["action"] != "receive" {
			continue
		}
		msgs, _ := op["messages"].([]any)
		for _, m := range msgs {
			ptr, msg, err := resolve(doc, m)
			if err != nil {
				return nil, fmt.Errorf("operation %s: %w", opName, err)
			}
			name, _ := msg["name"].(string)
			if name == "" {
				return nil, fmt.Errorf("operation %s: message %s has no name", opName, ptr)
			}
			if _, ok := msg["payload"]; !ok {
				return nil, fmt.Errorf("message %s has no payload", name)
			}
			s, err := c.Compile(base + "#" + ptr + "/payload")
			if err != nil {
				return nil, fmt.Errorf("compile the payload of %s: %w", name, err)
			}
			ec.messages[name] = s
		}
	}
	if len(ec.messages) == 0 {
		return nil, errors.New("event contract: no message to receive")
	}
	return ec, nil
}

// resolve follows local $refs from v to the object they end at and returns
// that object's JSON pointer.
func resolve(doc, v any) (string, map[string]any, error) {
	ptr := ""
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("%q is not an object", ptr)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return ptr, m, nil
		}
		if !strings.HasPrefix(ref, "#/") {
			return "", nil, fmt.Errorf("$ref %q is not local", ref)
		}
		ptr = ref[1:]
		if v = pointer(doc, ptr); v == nil {
			return "", nil, fmt.Errorf("$ref %q resolves to nothing", ref)
		}
	}
	return "", nil, fmt.Errorf("$ref chain at %q is too long", ptr)
}

// pointer evaluates a JSON pointer (RFC 6901) of object members.
func pointer(doc any, ptr string) any {
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")]
	}
	return doc
}

// Events lists the event names the contract knows, sorted.
func (c *EventContract) Events() []string {
	out := make([]string, 0, len(c.messages))
	for k := range c.messages {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Frame is one Server-Sent Events frame as a browser assembles it: the
// lines up to a blank line. Comment is the last comment line (heartbeats).
type Frame struct {
	ID, Event, Data, Comment, Retry string
}

// CheckFrame says how a frame breaks the event contract, or nil. A frame
// without event: (the opening id/retry frame, a heartbeat comment) carries
// no data; one with an event must be a message of the document, its data
// that message's payload, and its id: the position the data names (seq).
func (c *EventContract) CheckFrame(f Frame) error {
	if f.Event == "" {
		if f.Data != "" {
			return fmt.Errorf("a frame with data but no event: %q", f.Data)
		}
		return nil
	}
	s, ok := c.messages[f.Event]
	if !ok {
		return fmt.Errorf("event %q is not a message of asyncapi.yaml (it has %s)", f.Event, strings.Join(c.Events(), ", "))
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(f.Data))
	if err != nil {
		return fmt.Errorf("event %s: data is not JSON: %w", f.Event, err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("event %s: data breaks its payload schema: %w", f.Event, err)
	}
	if m, ok := v.(map[string]any); ok {
		if seq, ok := m["seq"].(json.Number); ok && seq.String() != f.ID {
			return fmt.Errorf("event %s: id: %q but seq %s", f.Event, f.ID, seq)
		}
	}
	if _, err := strconv.ParseInt(f.ID, 10, 64); err != nil {
		return fmt.Errorf("event %s: id: %q is not a position", f.Event, f.ID)
	}
	return nil
}

// EventReader reads the frames of an event stream and checks each against
// the event contract as it goes: every test that reads GET /v1/events reads
// it through one, so every frame any test sees is checked. A frame that
// breaks the contract fails t with Errorf (the reader often runs on a
// goroutine of its own, where Fatal is not allowed) and is still returned.
type EventReader struct {
	t  testing.TB
	c  *EventContract
	sc *bufio.Scanner
}

// ReadEvents starts reading the event stream r for t.
func ReadEvents(t testing.TB, r io.Reader) *EventReader {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return &EventReader{t: t, c: TheEventContract(t), sc: sc}
}

// Next returns the next complete frame, or false at the end of the stream.
// As in a browser, lines after the last blank line (a frame cut short) are
// dropped, and data: lines are joined with newlines.
func (r *EventReader) Next() (Frame, bool) {
	var f Frame
	var data []string
	seen := false
	for r.sc.Scan() {
		line := r.sc.Text()
		if line == "" {
			if !seen {
				continue
			}
			f.Data = strings.Join(data, "\n")
			if err := r.c.CheckFrame(f); err != nil {
				r.t.Errorf("event stream frame breaks openapi/asyncapi.yaml: %v\n\tframe: %+v", err, f)
			}
			return f, true
		}
		seen = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			f.Comment = value
		case "id":
			f.ID = value
		case "event":
			f.Event = value
		case "data":
			data = append(data, value)
		case "retry":
			f.Retry = value
		default:
			r.t.Errorf("event stream: unknown field in line %q", line)
		}
	}
	return Frame{}, false
}

// Err is the error that ended the stream, nil for a clean end.
func (r *EventReader) Err() error { return r.sc.Err() }
