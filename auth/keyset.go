package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// maxJWKSBytes bounds the JWKS response we read; real key sets are a few KiB.
	maxJWKSBytes = 1 << 20
	// keysMaxAge makes keys removed at the provider stop being accepted even when
	// no unknown kid ever forces a refresh. A stale cache is still used while it
	// refreshes in the background, so a provider outage does not fail every request.
	keysMaxAge = time.Hour
	// defaultFetchTimeout bounds a JWKS fetch when the HTTP client has no timeout:
	// a hung fetch would otherwise block every later refresh.
	defaultFetchTimeout = 10 * time.Second
)

// remoteKeySet is an oidc.KeySet backed by a provider's jwks_uri. Unlike
// go-oidc's RemoteKeySet it rate-limits refreshes (a flood of tokens with forged
// kids must not become a flood of fetches), lets concurrent callers share one
// in-flight fetch, and replaces the whole cache on refresh so that removed keys
// stop verifying.
type remoteKeySet struct {
	url      string
	client   *http.Client
	cooldown time.Duration
	algs     []jose.SignatureAlgorithm
	now      func() time.Time

	mu          sync.Mutex
	keys        []jose.JSONWebKey // nil until the first successful fetch
	fetchedAt   time.Time         // last successful fetch
	lastAttempt time.Time         // end of the last fetch, successful or not
	lastErr     error             // result of the last fetch
	inflight    *fetchCall
	// gen counts successful fetches: the Verifier's token cache drops what
	// was verified with an earlier key set.
	gen atomic.Uint64
}

func (ks *remoteKeySet) generation() uint64 { return ks.gen.Load() }

// fetchCall is one JWKS fetch that any number of callers may wait on.
type fetchCall struct {
	done chan struct{}
	err  error // written before done is closed
}

func newRemoteKeySet(url string, client *http.Client, cooldown time.Duration, algs []jose.SignatureAlgorithm) *remoteKeySet {
	return &remoteKeySet{url: url, client: client, cooldown: cooldown, algs: algs, now: time.Now}
}

// VerifySignature implements oidc.KeySet. It returns the verified payload.
func (ks *remoteKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	// The Verifier has already checked the header; parsing again with the same
	// algorithm list keeps this type safe on its own.
	jws, err := jose.ParseSignedCompact(jwt, ks.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed jws: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("expected exactly one signature")
	}

	keys, stale := ks.cached()
	if keys != nil {
		if stale {
			ks.begin() // refresh in the background; the cache serves meanwhile
		}
		if payload, matched, err := verifyWithKeys(jws, keys); matched {
			return payload, err
		}
	}

	// No cached key can answer for this token: refresh, subject to the cooldown.
	keys, fetchErr := ks.refresh(ctx)
	payload, matched, err := verifyWithKeys(jws, keys)
	if matched {
		return payload, err
	}
	if fetchErr != nil {
		// We cannot tell whether the token is good: that is our outage, not
		// the caller's bad token. go-oidc flattens errors from the key set into
		// text, so the typed error travels back to Verify through ctx.
		err := fmt.Errorf("%w: %w", ErrKeysUnavailable, fetchErr)
		if slot, ok := ctx.Value(keyErrKey{}).(*keyErrSlot); ok {
			slot.err = err
		}
		return nil, err
	}
	return nil, err
}

// keyErrKey is the context key under which Verify passes a *keyErrSlot.
type keyErrKey struct{}

// keyErrSlot receives a key-availability error from VerifySignature, and the
// payload once a signature verified (recordingKeySet). It is written and read
// by the one goroutine running Verify.
type keyErrSlot struct {
	err     error
	payload []byte
}

// verifyWithKeys tries the keys that may have signed jws. matched reports
// whether the answer is final: a key with the token's kid exists (a bad
// signature from a known kid is not fixed by refetching), or, for a token
// without kid, some key verified it.
func verifyWithKeys(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) (payload []byte, matched bool, err error) {
	h := jws.Signatures[0].Header
	kid, alg := h.KeyID, h.Algorithm
	err = errors.New("no key matches the token's kid")
	if kid == "" {
		err = errors.New("no key verifies the token")
	}
	for i := range keys {
		k := &keys[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		if kid != "" {
			matched = true
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			err = errors.New("token alg does not match the key's alg")
			continue
		}
		p, verr := jws.Verify(k.Key)
		if verr == nil {
			return p, true, nil
		}
		err = errors.New("signature does not verify")
	}
	return nil, matched, err
}

// cached returns the current keys and whether they are older than keysMaxAge.
func (ks *remoteKeySet) cached() ([]jose.JSONWebKey, bool) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.keys, ks.keys != nil && ks.now().Sub(ks.fetchedAt) > keysMaxAge
}

// begin returns the in-flight fetch, starting one unless the last fetch ended
// less than cooldown ago (then it returns nil).
func (ks *remoteKeySet) begin() *fetchCall {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.inflight != nil {
		return ks.inflight
	}
	if !ks.lastAttempt.IsZero() && ks.now().Sub(ks.lastAttempt) < ks.cooldown {
		return nil
	}
	call := &fetchCall{done: make(chan struct{})}
	ks.inflight = call
	// The fetch runs detached from any caller's context: it is shared, and one
	// caller giving up must not fail it for the others. The HTTP client's
	// timeout (or defaultFetchTimeout) bounds it.
	go ks.fetch(call)
	return call
}

// refresh waits for a fetch (starting one if the cooldown allows) and returns
// the keys cached afterwards, with the error of the fetch that produced them
// failing, if any.
func (ks *remoteKeySet) refresh(ctx context.Context) ([]jose.JSONWebKey, error) {
	if call := ks.begin(); call != nil {
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.keys, ks.lastErr
}

func (ks *remoteKeySet) fetch(call *fetchCall) {
	ctx := context.Background()
	if ks.client.Timeout <= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultFetchTimeout)
		defer cancel()
	}
	keys, err := ks.download(ctx)

	ks.mu.Lock()
	if err == nil {
		ks.keys = keys
		ks.fetchedAt = ks.now()
		ks.gen.Add(1)
	}
	// The cooldown counts from the end of the fetch, so a slow provider cannot
	// make refreshes back-to-back.
	ks.lastAttempt = ks.now()
	ks.lastErr = err
	ks.inflight = nil
	ks.mu.Unlock()

	call.err = err
	close(call.done)
}

func (ks *remoteKeySet) download(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := ks.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks fetch: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks read: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, errors.New("jwks response too large")
	}
	return parseJWKS(body)
}

// parseJWKS keeps the public signing keys of a JWK set. Keys we cannot use
// (unknown kty or curve, symmetric or private keys, use other than "sig") are
// skipped rather than failing the whole set, as RFC 7517 §5 asks.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("jwks decode: %w", err)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if !k.Valid() || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		// Keep the previous cache: an empty set is far more likely a broken
		// provider response than a deliberate revocation of every key.
		return nil, errors.New("jwks has no usable signing keys")
	}
	return keys, nil
}
