package devissuer

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// The persona form mints a token for whoever posts it, so a post is admitted
// only when it comes from this issuer's own page, checked twice:
//
//   - same origin: the browser's Sec-Fetch-Site, or else its Origin, must
//     name this host (net/http.CrossOriginProtection);
//   - a form token: the page embeds an HMAC of the authorization request and
//     an expiry under a key only the issuer knows, and the post must carry it
//     for exactly the request it carries.
//
// Another site can neither read the page (no CORS on /authorize) nor compute
// the token, so a cross-site post can no longer pick a persona.

const (
	csrfField = "csrf_token"
	// csrfTTL bounds how long a rendered page can be submitted.
	csrfTTL  = 30 * time.Minute
	csrfInfo = "waypoint devissuer persona form v1"
	csrfExp  = 8 // bytes of the big-endian expiry in front of the MAC
)

var (
	errFormToken   = errors.New("form token missing or not for this request")
	errFormExpired = errors.New("form token expired")
)

// deriveCSRFKey derives the form key from the signing key (HKDF-SHA256), so
// processes sharing the key accept each other's pages without sharing state.
func deriveCSRFKey(key *rsa.PrivateKey) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, key.D.Bytes(), nil, csrfInfo, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("devissuer: derive form key: %w", err)
	}
	return k, nil
}

// csrfToken returns base64url(expiry || HMAC(key, expiry || request)).
func (i *Issuer) csrfToken(ar *authRequest) string {
	var exp [csrfExp]byte
	binary.BigEndian.PutUint64(exp[:], uint64(i.now().Add(csrfTTL).Unix()))
	return base64.RawURLEncoding.EncodeToString(append(exp[:], i.csrfMAC(exp[:], ar)...))
}

// csrfMAC covers every request parameter the form carries, each length
// prefixed so that no two requests share an encoding.
func (i *Issuer) csrfMAC(exp []byte, ar *authRequest) []byte {
	m := hmac.New(sha256.New, i.csrfKey)
	m.Write(exp)
	var n [binary.MaxVarintLen64]byte
	for _, f := range []string{ar.ClientID, ar.RedirectURI, ar.CodeChallenge, ar.State, ar.Scope, ar.Nonce} {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}

// checkCSRF verifies the form token posted with ar.
func (i *Issuer) checkCSRF(v url.Values, ar *authRequest) error {
	if len(v[csrfField]) != 1 {
		return errFormToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(v.Get(csrfField))
	if err != nil || len(raw) != csrfExp+sha256.Size {
		return errFormToken
	}
	if !hmac.Equal(raw[csrfExp:], i.csrfMAC(raw[:csrfExp], ar)) {
		return errFormToken
	}
	if i.now().Unix() >= int64(binary.BigEndian.Uint64(raw[:csrfExp])) {
		return errFormExpired
	}
	return nil
}

// readForm parses a POST to /authorize and admits it only from the issuer's
// own page. On refusal it has answered (400 or 403 page, never a redirect)
// and returns ok false.
func (i *Issuer) readForm(w http.ResponseWriter, r *http.Request) (ar *authRequest, params url.Values, ok bool) {
	if err := i.crossOrigin.Check(r); err != nil {
		i.renderError(w, http.StatusForbidden, "This sign-in form was sent from another site, so it was refused. "+
			"Start sign-in again from the app.")
		return nil, nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		i.renderError(w, http.StatusBadRequest, "The form could not be read.")
		return nil, nil, false
	}
	params = r.PostForm
	ar, err := i.parseAuthRequest(params)
	if err != nil {
		i.renderError(w, http.StatusBadRequest, err.Error())
		return nil, nil, false
	}
	switch err := i.checkCSRF(params, ar); {
	case errors.Is(err, errFormExpired):
		i.renderError(w, http.StatusForbidden, "This sign-in page has expired. Start sign-in again from the app.")
		return nil, nil, false
	case err != nil:
		i.renderError(w, http.StatusForbidden, "This sign-in form did not come from this issuer's page "+
			"(its form token is missing or does not match the request). Start sign-in again from the app.")
		return nil, nil, false
	}
	return ar, params, true
}
