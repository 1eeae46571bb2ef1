package domain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// SavedOutcome is what a finished operation produced, kept so a retry with
// the same key gets it again instead of running twice. The domain stores it
// as given: what Code, Meta (a JSON document) and Body mean is the caller's.
type SavedOutcome struct {
	Code int
	Meta json.RawMessage
	Body []byte
}

// claimInsert and claimConflict claim (person, key) for a request whose
// content hashes to the third argument: a new key, an expired one (24 h),
// or a claim whose server died (running past locked_until, same request) is
// taken and its claim time returned; otherwise nothing is returned and the
// key's row says why (usedKey). Between them may come the FROM and WHERE
// of the claim's row.
const (
	claimInsert = `INSERT INTO idempotency_keys (person_id, key, request_hash, state, locked_until)
		SELECT ?::uuid, ?::text, ?::bytea, 'running', now() + interval '2 minutes'`
	claimConflict = `
		ON CONFLICT (person_id, key) DO UPDATE
			SET request_hash = EXCLUDED.request_hash, state = 'running', status = NULL, headers = NULL,
				body = NULL, locked_until = EXCLUDED.locked_until,
				created_at = CASE WHEN idempotency_keys.created_at < now() - interval '24 hours'
					THEN now() ELSE idempotency_keys.created_at END
			-- expired keys are reusable; a claim whose server died is taken over
			WHERE idempotency_keys.created_at < now() - interval '24 hours'
			   OR (idempotency_keys.state = 'running' AND idempotency_keys.locked_until < now()
			       AND idempotency_keys.request_hash = EXCLUDED.request_hash)
		RETURNING created_at`
)

// claimToken names a claim: its key and claim time.
func claimToken(key string, at time.Time) string {
	return key + "@" + strconv.FormatInt(at.UnixMicro(), 10)
}

// ClaimIdempotencyKey claims (person, key) for a request whose content hashes
// to hash. It returns a non-empty token when the caller should run the
// request; the saved outcome when it already ran; a 422 error for the same key
// with a different request and a 409 error while the first request is in
// flight. The claim is one statement, so two concurrent retries cannot both run.
//
// The token names this claim (key and claim time). A claim whose server died
// is taken over with the same token, so a handler that records the token with
// its work can recognise a re-run of work that committed before the crash.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, personID uuid.UUID, key string, hash []byte) (token string, saved *SavedOutcome, err error) {
	var claimedAt []time.Time
	err = s.db.WithContext(ctx).Raw(claimInsert+claimConflict, personID, key, hash).Scan(&claimedAt).Error
	if err != nil {
		return "", nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if len(claimedAt) == 1 {
		return claimToken(key, claimedAt[0]), nil, nil
	}
	saved, err = s.usedKey(ctx, personID, key, hash)
	return "", saved, err
}

// usedKey explains a claim that was not taken: the saved outcome of the same
// request, 422 for another request, 409 while the first is still running.
func (s *Store) usedKey(ctx context.Context, personID uuid.UUID, key string, hash []byte) (*SavedOutcome, error) {
	var row struct {
		RequestHash []byte
		State       string
		SavedOutcome
	}
	// The columns keep their first names (status, headers, body); the domain
	// gives them no meaning.
	res := s.db.WithContext(ctx).Raw(`SELECT request_hash, state, status AS code, headers AS meta, body FROM idempotency_keys
		WHERE person_id = ? AND key = ?`, personID, key).Scan(&row)
	if res.Error != nil {
		return nil, fmt.Errorf("read idempotency key: %w", res.Error)
	}
	switch {
	case res.RowsAffected == 0:
		return nil, Errorf(KindConflict, "this Idempotency-Key was just released; retry the request")
	case !bytes.Equal(row.RequestHash, hash):
		return nil, InvalidIn(SourceRetryKey, "", "this Idempotency-Key was already used for a different request; use a new key for a new request")
	case row.State == "running":
		return nil, stillRunning()
	}
	return &row.SavedOutcome, nil
}

func stillRunning() *Error {
	return Errorf(KindConflict, "a request with this Idempotency-Key is still being processed; retry shortly")
}

// requestTx is a request's own transaction (RunIdempotent): Store.tx runs
// its work in it instead of in one of its own.
type requestTx struct {
	tx   *gorm.DB
	mark *emitMark
	// done: committed or rolled back; nothing more may run in it.
	done bool
}

type requestTxKey struct{}

// errRequestTxDone refuses work after the request's transaction ended (a
// statement of the request failed, which rolled it back).
var errRequestTxDone = errors.New("the request's transaction has already ended")

func (r *requestTx) rollback() {
	if !r.done {
		r.done = true
		_ = r.tx.Rollback().Error
	}
}

// inRequestTx runs fn in the request's transaction. A failure ends it at
// once: nothing of the request may commit (its Idempotency-Key claim
// included), and a miss is then settled on another connection, so a denied
// attempt is still logged and the request holds one connection at a time.
func (s *Store) inRequestTx(ctx context.Context, r *requestTx, fn func(tx *gorm.DB) error) error {
	if r.done {
		return errRequestTxDone
	}
	if err := fn(r.tx.WithContext(context.WithValue(ctx, emitMarkKey{}, r.mark))); err != nil {
		r.rollback()
		return s.settleMiss(ctx, err)
	}
	return nil
}

// RunIdempotent runs a request under an Idempotency-Key in ONE transaction
// with its claim and its outcome: one commit where claiming, working and
// saving the outcome took three. run gets a context whose Store.tx work
// joins that transaction, and the claim's token (see
// ClaimIdempotencyKey); it returns the outcome to save and whether to keep
// it (only successes are kept). Then:
//
//   - kept: the outcome is saved and everything commits together, or
//     nothing does (an error: the caller must not answer with the outcome);
//   - not kept, a failed statement, a panic: everything rolls back, the
//     claim too, so a retry runs again;
//   - the key already used: run does not run; the saved outcome of the same
//     request (to replay), or 422 (another request with this key);
//   - the same key in flight in another transaction: 409 at once, without
//     waiting for it (a transaction-scoped advisory lock per person and key,
//     tried before the claim).
//
// Claims committed as running (by ClaimIdempotencyKey, whose work commits
// on its own) are answered and taken over as there.
func (s *Store) RunIdempotent(ctx context.Context, personID uuid.UUID, key string, hash []byte,
	run func(ctx context.Context, token string) (SavedOutcome, bool)) (*SavedOutcome, error) {
	tx := s.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return nil, fmt.Errorf("begin: %w", tx.Error)
	}
	r := &requestTx{tx: tx, mark: &emitMark{}}
	defer r.rollback() // a panic, or anything but a commit
	h := sha256.Sum256(append(personID[:], key...))
	var rows []struct {
		Locked    bool
		ClaimedAt *time.Time
	}
	err := tx.Raw(`WITH l AS (SELECT pg_try_advisory_xact_lock(?, ?) AS locked),
		c AS (`+claimInsert+` FROM l WHERE l.locked`+claimConflict+`)
		SELECT l.locked, (SELECT created_at FROM c) AS claimed_at FROM l`,
		int32(binary.BigEndian.Uint32(h[0:4])), int32(binary.BigEndian.Uint32(h[4:8])), personID, key, hash).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	switch {
	case len(rows) != 1 || !rows[0].Locked:
		return nil, stillRunning()
	case rows[0].ClaimedAt == nil:
		r.rollback()
		return s.usedKey(ctx, personID, key, hash)
	}
	out, keep := run(context.WithValue(ctx, requestTxKey{}, r), claimToken(key, *rows[0].ClaimedAt))
	if !keep {
		return nil, nil
	}
	if r.done {
		return nil, errRequestTxDone
	}
	if err := saveOutcome(tx, personID, key, out); err != nil {
		return nil, err
	}
	r.done = true
	if err := tx.Commit().Error; err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	if r.mark.emitted.Load() {
		s.WakePositioner()
	}
	return nil, nil
}

// CompleteIdempotencyKey saves the outcome of a claimed request.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, personID uuid.UUID, key string, o SavedOutcome) error {
	return saveOutcome(s.db.WithContext(ctx), personID, key, o)
}

func saveOutcome(db *gorm.DB, personID uuid.UUID, key string, o SavedOutcome) error {
	var meta any // NULL when there is none; jsonb takes JSON as text
	if len(o.Meta) > 0 {
		meta = string(o.Meta)
	}
	err := db.Exec(`UPDATE idempotency_keys SET state = 'done', status = ?, headers = ?, body = ?
		WHERE person_id = ? AND key = ? AND state = 'running'`, o.Code, meta, o.Body, personID, key).Error
	if err != nil {
		return fmt.Errorf("save idempotent outcome: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey forgets a claim whose request failed on our side, so
// a retry runs again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, personID uuid.UUID, key string) error {
	err := s.db.WithContext(ctx).Exec(`DELETE FROM idempotency_keys WHERE person_id = ? AND key = ? AND state = 'running'`,
		personID, key).Error
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
