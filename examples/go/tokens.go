package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TokenSource holds an access token and renews it with the refresh_token
// grant (RFC 6749 §6) shortly before it expires. TokenURL is the provider's
// token endpoint (the dev issuer's is http://127.0.0.1:8080/dev/oidc/token);
// ClientID is your app's (public client, no secret, as after a PKCE sign-in).
type TokenSource struct {
	TokenURL, ClientID string

	mu           sync.Mutex
	access       string
	refresh      string
	expiry       time.Time
	httpClient   *http.Client
	refreshEarly time.Duration
}

// NewTokenSource starts from the tokens of a sign-in; refresh may be empty
// (then the access token is used until it expires).
func NewTokenSource(tokenURL, clientID, access, refresh string, expiresIn time.Duration) *TokenSource {
	return &TokenSource{TokenURL: tokenURL, ClientID: clientID, access: access, refresh: refresh,
		expiry: time.Now().Add(expiresIn), httpClient: &http.Client{Timeout: 10 * time.Second}, refreshEarly: 30 * time.Second}
}

// Token returns a valid access token, refreshing it if needed.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refresh == "" || time.Until(s.expiry) > s.refreshEarly {
		return s.access, nil
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.refresh}, "client_id": {s.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := s.httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("refresh token: %w", err)
	}
	defer res.Body.Close()
	var tr struct {
		AccessToken      string `json:"access_token"`
		RefreshToken     string `json:"refresh_token"`
		ExpiresIn        int64  `json:"expires_in"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tr); err != nil {
		return "", fmt.Errorf("refresh token: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		// invalid_grant: the refresh token expired or was revoked; sign in again.
		return "", fmt.Errorf("refresh token: %s: %s", tr.Error, tr.ErrorDescription)
	}
	s.access, s.expiry = tr.AccessToken, time.Now().Add(time.Duration(tr.ExpiresIn)*time.Second)
	if tr.RefreshToken != "" {
		s.refresh = tr.RefreshToken // providers that rotate refresh tokens send a new one each time
	}
	return s.access, nil
}
