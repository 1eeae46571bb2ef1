package devissuer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// The CLI's token endpoint, POST {issuer}/cli-token: `waypoint dev token
// --server URL` asks the running dev server to mint, so the token carries
// that server's issuer and key and cannot disagree with it (a token minted
// with another WAYPOINT_ADDR or DATABASE_URL than the server's would). Both
// sides of the exchange live here.
//
// It mints for anyone who can reach it, as the persona page does, so it gets
// the same fences: loopback Host only (Handler), POST with a JSON body (a
// cross-origin page cannot send one without a CORS preflight, which this
// route never grants) and the browser's cross-site marks refused.

// CLITokenPath is the endpoint's path below the issuer URL.
const CLITokenPath = "/cli-token"

// maxCLITokenTTL bounds ttl_seconds (a year), so the lifetime cannot overflow.
const maxCLITokenTTL = 366 * 24 * time.Hour

// cliTokenRequest is the endpoint's body. Roles has no default: a role-less
// token must be asked for as "roles": [], never by leaving the member out.
type cliTokenRequest struct {
	Subject    string    `json:"subject"`
	Name       string    `json:"name,omitempty"`
	Roles      *[]string `json:"roles"`
	Scopes     *[]string `json:"scopes,omitempty"` // absent: every Waypoint scope
	ClientID   string    `json:"client_id,omitempty"`
	TTLSeconds int64     `json:"ttl_seconds,omitempty"`
}

type cliTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Issuer      string `json:"issuer"`
}

func (i *Issuer) serveCLIToken(w http.ResponseWriter, r *http.Request) {
	if err := i.crossOrigin.Check(r); err != nil {
		writeProblem(w, http.StatusForbidden, "cross-origin requests may not mint tokens")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, "the body must be application/json")
		return
	}
	var body cliTokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || dec.More() {
		writeProblem(w, http.StatusBadRequest, "the body must be one JSON object with subject, roles and optionally name, scopes, client_id, ttl_seconds")
		return
	}
	req, err := i.cliTokenRequest(body)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	tok, c, err := i.mint(req)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "devissuer: "))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, cliTokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: c.Expiry - c.IssuedAt, Issuer: c.Issuer})
}

// cliTokenRequest checks the body and fills the name from the persona.
func (i *Issuer) cliTokenRequest(b cliTokenRequest) (TokenRequest, error) {
	if b.Roles == nil {
		return TokenRequest{}, errors.New(`roles is required ([] for a token with no Waypoint role)`)
	}
	maxSeconds := int64(maxCLITokenTTL / time.Second)
	if b.TTLSeconds < 0 || b.TTLSeconds > maxSeconds { // compared before multiplying: no overflow
		return TokenRequest{}, fmt.Errorf("ttl_seconds must be between 1 and %d (0: one hour)", maxSeconds)
	}
	ttl := time.Duration(b.TTLSeconds) * time.Second
	req := TokenRequest{Subject: b.Subject, Name: b.Name, Roles: *b.Roles, ClientID: b.ClientID, TTL: ttl}
	if b.Scopes != nil {
		req.Scopes = append([]string{}, *b.Scopes...) // [] stays "no scope", never "all"
	}
	if req.Name == "" {
		req.Name = req.Subject
		for _, p := range i.personas {
			if p.Subject == req.Subject {
				req.Name = p.Name
			}
		}
	}
	return req, nil
}

// FetchToken asks the dev issuer at issuerURL (e.g.
// "http://127.0.0.1:8080/dev/oidc") to mint req. req.Roles is sent as given:
// nil and empty both ask for a token with no role. An empty Name takes the
// persona's name (or the subject).
func FetchToken(ctx context.Context, client *http.Client, issuerURL string, req TokenRequest) (string, error) {
	roles := append([]string{}, req.Roles...)
	body := cliTokenRequest{Subject: req.Subject, Name: req.Name, Roles: &roles, ClientID: req.ClientID,
		TTLSeconds: int64((req.TTL + time.Second - 1) / time.Second)} // whole seconds, rounded up
	if req.Scopes != nil {
		body.Scopes = &req.Scopes
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("encode token request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(issuerURL, "/")+CLITokenPath, bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/json")
	res, err := client.Do(hr)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read the answer of %s: %w", hr.URL, err)
	}
	if res.StatusCode != http.StatusOK {
		var p struct {
			Detail string `json:"detail"`
		}
		if json.Unmarshal(raw, &p) != nil || p.Detail == "" {
			p.Detail = http.StatusText(res.StatusCode)
		}
		return "", &FetchError{Status: res.StatusCode, Detail: p.Detail}
	}
	var out cliTokenResponse
	if err := json.Unmarshal(raw, &out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("%s answered 200 without a token", hr.URL)
	}
	return out.AccessToken, nil
}

// FetchError is a refusal from the dev issuer's token endpoint.
type FetchError struct {
	Status int
	Detail string
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Detail)
}
