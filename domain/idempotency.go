package domain

import (
	"bytes"
	"context"
	"encoding/json"
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

// Keep asks a creating call to claim an Idempotency-Key and keep its
// response in the statement that does its work (PostMessage): the claim, the
// work and the response commit together, in one round trip. Render is the
// response to keep for what the call creates; the domain stores it as
// given, as SavedOutcome says.
type Keep[T any] struct {
	Key    string
	Hash   []byte
	Render func(T) (SavedOutcome, error)
}

// metaArg is kept headers as a jsonb argument: NULL when there are none.
func metaArg(meta json.RawMessage) any {
	if len(meta) == 0 {
		return nil
	}
	return string(meta)
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
				body = NULL, locked_until = EXCLUDED.locked_until, ` + claimTakeover
	// claimTakeover ends a claim's ON CONFLICT DO UPDATE (after its SET
	// list): when a used key's row may be taken, and the claim's time.
	claimTakeover = `
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

// CompleteIdempotencyKey saves the outcome of a claimed request.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, personID uuid.UUID, key string, o SavedOutcome) error {
	return saveOutcome(s.db.WithContext(ctx), personID, key, o)
}

func saveOutcome(db *gorm.DB, personID uuid.UUID, key string, o SavedOutcome) error {
	err := db.Exec(`UPDATE idempotency_keys SET state = 'done', status = ?, headers = ?, body = ?
		WHERE person_id = ? AND key = ? AND state = 'running'`, o.Code, metaArg(o.Meta), o.Body, personID, key).Error
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
