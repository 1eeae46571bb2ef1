package floor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/waypoint-portal/waypoint/domain"
)

// The headers kept with an idempotent response: what the product's handler
// sets (the content type, and the redisclosure notice for a conversation
// labelled sud).
var (
	plainHeaders = http.Header{"Content-Type": {"application/json"}}
	sudHeaders   = http.Header{"Content-Type": {"application/json"}, "Waypoint-Redisclosure": {domain.RedisclosureNotice}}
)

// reply is a message post's answer: a new message, or a replay.
type reply struct {
	body     []byte
	header   http.Header
	replayed bool
}

// POST /v1/conversations/{conversationId}/messages: the product's
// PostMessage under its idempotency middleware. The body is checked as the
// product checks it; then one statement resolves the person, locks the
// conversation within reach, and writes the idempotency record (with the
// response), the message, the conversation's last message, the sender's
// read marker, the access log (someone other than the client) and the
// message.created event. A used key is replayed after the same checks a
// new request gets, as the product does.
func (f *Floor) postMessage(w http.ResponseWriter, r *http.Request) {
	p, st, ok := f.authorize(w, r, "messages:write", false)
	if !ok {
		return
	}
	convID, err := uuid.Parse(r.PathValue("conversationId"))
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "path.conversationId must be a UUID")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key != "" && !validKey(key) {
		problem(w, http.StatusUnprocessableEntity, "header.Idempotency-Key must be 1-255 visible ASCII characters")
		return
	}
	raw, text, err := readMessage(r)
	if err != nil {
		fail(w, err)
		return
	}
	h := sha256.New()
	_, _ = io.WriteString(h, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+"\n")
	h.Write(raw)
	out, err := f.sendMessage(r.Context(), p, st, convID, text, key, h.Sum(nil))
	if err != nil {
		fail(w, err)
		return
	}
	hd := w.Header()
	for k, vs := range out.header {
		hd[k] = vs
	}
	hd.Set("Cache-Control", "no-store")
	if out.replayed {
		hd.Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(out.body)
}

// sendMessage runs the statement, with a new id when the conversation's
// last message is not below the one it chose (a clock behind, or two in the
// same millisecond: the product's nextMessageID), and answers a used key
// with its replay.
func (f *Floor) sendMessage(ctx context.Context, p *principal, st *stmtSet, convID uuid.UUID, text, key string, hash []byte) (reply, error) {
	body, _ := json.Marshal(text)
	plain, _ := json.Marshal(plainHeaders)
	sud, _ := json.Marshal(sudHeaders)
	id := newID()
	for attempt := 0; attempt < 4; attempt++ {
		at := time.UnixMilli(int64(binary.BigEndian.Uint64(id[0:8]) >> 16)).UTC()
		atJSON, _ := json.Marshal(at)
		prefix := `{"id":"` + id.String() + `","conversation_id":"` + convID.String() + `","sender_id":"`
		suffix := `","body":` + string(body) + `,"created_at":` + string(atJSON) + `,"read_by":[]}` + "\n"
		args := actorArgs(p, convID, id, at, text, key, hash, prefix, suffix, string(plain), newID(), newID(), p.appID,
			at.Format(time.RFC3339Nano), string(sud), "messages:write")
		var convs, inserted int64
		var last *uuid.UUID
		var person uuid.UUID
		var label *string
		err := f.withPerson(ctx, p, func() (bool, error) {
			return f.query(ctx, st.postMessage, args, func(rows pgx.Rows) error {
				return rows.Scan(&convs, &last, &inserted, &person, &label)
			})
		})
		switch {
		case err != nil:
			return reply{}, err
		case convs == 0:
			return reply{}, f.settleMiss(ctx, p, st.deniedConversation, convID, errStatus(http.StatusNotFound, "conversation not found"))
		case inserted == 1:
			f.wakePositioner() // committed with its message.created event
			hd := plainHeaders
			if label != nil && *label == domain.SensitivitySUD {
				hd = sudHeaders
			}
			return reply{body: []byte(prefix + person.String() + suffix), header: hd}, nil
		case last != nil && bytes.Compare(last[:], id[:]) >= 0:
			id = newID()
			if next := successorV7(*last); bytes.Compare(id[:], next[:]) < 0 {
				id = next
			}
			continue
		}
		return f.replayMessage(ctx, p, st, convID, key, hash)
	}
	return reply{}, errStatus(http.StatusServiceUnavailable, "the conversation is busy; retry")
}

// replayMessage answers a key already used: 422 for another request, 409
// while it is still running (a product claim), else the stored response
// once the caller passes a new request's checks (404 otherwise).
func (f *Floor) replayMessage(ctx context.Context, p *principal, st *stmtSet, convID uuid.UUID, key string, hash []byte) (reply, error) {
	var convs int64
	var reqHash, body []byte
	var state *string
	var header http.Header
	_, err := f.query(ctx, st.replayMessage, actorArgs(p, convID, key, hash, newID(), p.appID, "messages:write"), func(rows pgx.Rows) error {
		return rows.Scan(&convs, &reqHash, &state, &header, &body)
	})
	switch {
	case err != nil:
		return reply{}, err
	case reqHash == nil:
		return reply{}, errStatus(http.StatusConflict, "this Idempotency-Key was just released; retry the request")
	case !bytes.Equal(reqHash, hash):
		return reply{}, errStatus(http.StatusUnprocessableEntity, "this Idempotency-Key was already used for a different request")
	case state == nil || *state != "done":
		return reply{}, errStatus(http.StatusConflict, "a request with this Idempotency-Key is still being processed")
	case convs == 0:
		return reply{}, f.settleMiss(ctx, p, st.deniedConversation, convID, errStatus(http.StatusNotFound, "conversation not found"))
	}
	return reply{body: body, header: header, replayed: true}, nil
}

// readMessage reads {"body": "..."} and checks it as the product does:
// plain text without control characters, 1-4000 characters, not blank.
func readMessage(r *http.Request) (raw []byte, text string, err error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, "", errStatus(http.StatusUnsupportedMediaType, "send application/json")
	}
	raw, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, "", errStatus(http.StatusBadRequest, "could not read the request body")
	}
	if len(raw) > maxBody {
		return nil, "", errStatus(http.StatusRequestEntityTooLarge, "request body is too large")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var in struct {
		Body *string `json:"body"`
	}
	if err := dec.Decode(&in); err != nil || in.Body == nil {
		return nil, "", errStatus(http.StatusUnprocessableEntity, "body.body is required")
	}
	text = *in.Body
	n := 0
	for _, c := range text {
		n++
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return nil, "", errStatus(http.StatusUnprocessableEntity, "body.body must be plain text")
		}
	}
	if strings.TrimSpace(text) == "" || n > 4000 {
		return nil, "", errStatus(http.StatusUnprocessableEntity, "body.body must be 1-4000 characters")
	}
	return raw, text, nil
}

func validKey(k string) bool {
	if len(k) < 1 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// successorV7 is the next UUIDv7 after u (domain/messages.go).
func successorV7(u uuid.UUID) uuid.UUID {
	ts := binary.BigEndian.Uint64(u[0:8]) >> 16
	a := binary.BigEndian.Uint16(u[6:8]) & 0x0fff
	b := binary.BigEndian.Uint64(u[8:16]) & (1<<62 - 1)
	b++
	if b == 1<<62 {
		b = 0
		a++
		if a == 1<<12 {
			a = 0
			ts++
		}
	}
	var out uuid.UUID
	binary.BigEndian.PutUint64(out[0:8], ts<<16|0x7000|uint64(a))
	binary.BigEndian.PutUint64(out[8:16], 0x8000000000000000|b)
	return out
}
