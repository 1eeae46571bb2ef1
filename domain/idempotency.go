package domain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// SavedOutcome is what a finished operation produced, kept so a retry with
// the same key gets it again instead of running twice. The domain stores it
// as given: what Code, Meta (a JSON document) and Body mean is the caller's.
type SavedOutcome struct {
	Code int
	Meta json.RawMessage
	Body []byte
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
	err = s.db.WithContext(ctx).Raw(`
		INSERT INTO idempotency_keys (person_id, key, request_hash, state, locked_until)
		VALUES (?, ?, ?, 'running', now() + interval '2 minutes')
		ON CONFLICT (person_id, key) DO UPDATE
			SET request_hash = EXCLUDED.request_hash, state = 'running', status = NULL, headers = NULL,
				body = NULL, locked_until = EXCLUDED.locked_until,
				created_at = CASE WHEN idempotency_keys.created_at < now() - interval '24 hours'
					THEN now() ELSE idempotency_keys.created_at END
			-- expired keys are reusable; a claim whose server died is taken over
			WHERE idempotency_keys.created_at < now() - interval '24 hours'
			   OR (idempotency_keys.state = 'running' AND idempotency_keys.locked_until < now()
			       AND idempotency_keys.request_hash = EXCLUDED.request_hash)
		RETURNING created_at`, personID, key, hash).Scan(&claimedAt).Error
	if err != nil {
		return "", nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if len(claimedAt) == 1 {
		return key + "@" + strconv.FormatInt(claimedAt[0].UnixMicro(), 10), nil, nil
	}
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
		return "", nil, fmt.Errorf("read idempotency key: %w", res.Error)
	}
	switch {
	case res.RowsAffected == 0:
		return "", nil, Errorf(KindConflict, "this Idempotency-Key was just released; retry the request")
	case !bytes.Equal(row.RequestHash, hash):
		return "", nil, InvalidIn(SourceRetryKey, "", "this Idempotency-Key was already used for a different request; use a new key for a new request")
	case row.State == "running":
		return "", nil, Errorf(KindConflict, "a request with this Idempotency-Key is still being processed; retry shortly")
	}
	return "", &row.SavedOutcome, nil
}

// CompleteIdempotencyKey saves the outcome of a claimed request.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, personID uuid.UUID, key string, o SavedOutcome) error {
	var meta any // NULL when there is none; jsonb takes JSON as text
	if len(o.Meta) > 0 {
		meta = string(o.Meta)
	}
	err := s.db.WithContext(ctx).Exec(`UPDATE idempotency_keys SET state = 'done', status = ?, headers = ?, body = ?
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
