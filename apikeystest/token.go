package apikeystest

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	tokenLifetime   = 300 * time.Second // access token lifetime (expires_in)
	assertionMaxAge = 5 * time.Minute   // iat no older than this; exp no later than iat + this
	clockSkew       = 10 * time.Second  // allowed for an iat (or nbf) in the future and for exp
	jwksTimeout     = 5 * time.Second
	jwksMaxBytes    = 1 << 20

	descKeyNotFound = "Public key not found, check client_id, kid and Redox dashboard settings"
)

var assertionAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA, ed25519Alg,
}

// ed25519Alg is RFC 9864's name for EdDSA over Ed25519. go-jose v4 parses an assertion with it (it
// only looks the alg up in assertionAlgs) but verifies EdDSA only: checkSignature does the rest.
const ed25519Alg jose.SignatureAlgorithm = "Ed25519"

// tokenErr is a refusal of the token endpoint.
type tokenErr struct {
	status int
	code   string
	desc   string
	reason string // logged in Request.Reason
}

func invalidRequest(desc, reason string) *tokenErr {
	return &tokenErr{http.StatusBadRequest, "invalid_request", desc, reason}
}

func invalidClient(desc, reason string) *tokenErr {
	return &tokenErr{http.StatusUnauthorized, "invalid_client", desc, reason}
}

func tokenErrorBody(code, desc string) map[string]string {
	return map[string]string{"error": code, "error_description": desc, "error_uri": ""}
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// token serves POST /v2/auth/token (client credentials with a JWT client assertion).
func (s *Server) token(c *call) {
	c.w.Header().Set("Cache-Control", "no-store")
	now := s.now()
	form, terr := parseTokenForm(c)
	var claims *jwt.Claims
	var kid string
	if terr == nil {
		claims, kid, terr = s.verifyAssertion(c.r.Context(), form.Get("client_assertion"), now)
	}
	if terr == nil {
		terr = checkTimes(claims, now)
	}
	if terr == nil && claims.ID == "" {
		terr = invalidRequest("", "missing jti")
	}
	if terr != nil {
		c.refuse(terr.reason)
		writeJSON(c.w, terr.status, tokenErrorBody(terr.code, terr.desc))
		return
	}

	s.mu.Lock()
	replayed := s.jtis[claims.ID]
	tok := randomHex(32)
	if !replayed {
		s.jtis[claims.ID] = true
		s.tokens[tok] = now.Add(tokenLifetime)
		s.issued = append(s.issued, IssuedToken{ClientID: claims.Issuer, KeyID: kid, IssuedAt: now, ExpiresAt: now.Add(tokenLifetime)})
		s.secrets.add(tok)
	}
	s.mu.Unlock()
	if replayed {
		c.refuse("replayed jti")
		writeJSON(c.w, http.StatusBadRequest, tokenErrorBody("invalid_request", ""))
		return
	}
	writeJSON(c.w, http.StatusOK, tokenResponse{
		AccessToken: tok,
		TokenType:   "bearer",
		ExpiresIn:   int(tokenLifetime / time.Second),
		Scope:       form.Get("scope"),
	})
}

func parseTokenForm(c *call) (url.Values, *tokenErr) {
	if !hasContentType(c.r, "application/x-www-form-urlencoded") {
		return nil, invalidRequest("", "content-type")
	}
	form, err := url.ParseQuery(string(c.body))
	switch {
	case err != nil:
		return nil, invalidRequest("", "malformed form")
	case form.Get("grant_type") == "":
		return nil, invalidRequest("", "missing grant_type")
	case form.Get("grant_type") != "client_credentials":
		return nil, &tokenErr{http.StatusBadRequest, "unsupported_grant_type", "", "unsupported grant_type"}
	case form.Get("client_assertion") == "":
		return nil, invalidRequest("Missing client assertion", "missing client_assertion")
	case form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		return nil, invalidRequest("", "wrong client_assertion_type")
	}
	return form, nil
}

// verifyAssertion checks the assertion's structure, client, key, alg, signature and audience, and
// returns its claims and the kid of the key that signed it.
func (s *Server) verifyAssertion(ctx context.Context, assertion string, now time.Time) (*jwt.Claims, string, *tokenErr) {
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, "", invalidRequest("", "malformed assertion")
	}
	hdr := tok.Headers[0]
	if hdr.KeyID == "" {
		return nil, "", invalidRequest("JWT header kid property is required", "missing kid")
	}
	var claims jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return nil, "", invalidRequest("", "malformed claims")
	}
	switch {
	case claims.Issuer == "":
		return nil, "", invalidRequest("", "missing iss")
	case claims.Subject != claims.Issuer:
		return nil, "", invalidRequest("", "iss and sub differ")
	}

	s.mu.Lock()
	i := s.keyIndex(claims.Issuer)
	var key APIKey
	if i >= 0 {
		key = copyKey(s.keys[i])
	}
	s.mu.Unlock()
	if i < 0 {
		return nil, "", invalidClient(descKeyNotFound, "unknown client")
	}

	jwk, terr := s.findJWK(ctx, key, hdr.KeyID, now)
	if terr != nil {
		return nil, "", terr
	}
	if !algFitsKey(jwk, hdr.Algorithm) {
		return nil, "", invalidRequest("", "alg does not fit key")
	}
	if err := checkSignature(tok, assertion, jwk.Key, &claims); err != nil {
		return nil, "", invalidClient("", "bad signature")
	}
	if len(claims.Audience) != 1 || claims.Audience[0] != s.TokenURL {
		return nil, "", invalidRequest("", "wrong aud")
	}
	return &claims, hdr.KeyID, nil
}

// checkSignature verifies the assertion's signature with key and decodes its claims. An Ed25519
// one is verified with crypto/ed25519 over the segments as sent; algFitsKey let only an Ed25519 key
// through, and its claims are those decoded unverified before.
func checkSignature(tok *jwt.JSONWebToken, assertion string, key any, claims *jwt.Claims) error {
	if tok.Headers[0].Algorithm != string(ed25519Alg) {
		return tok.Claims(key, claims)
	}
	dot := strings.LastIndexByte(assertion, '.')
	sig, err := base64.RawURLEncoding.DecodeString(assertion[dot+1:])
	if err != nil || !ed25519.Verify(key.(ed25519.PublicKey), []byte(assertion[:dot]), sig) {
		return errors.New("bad signature")
	}
	return nil
}

// signatureName maps ed25519Alg to EdDSA, the same signature: a key of either alg fits an
// assertion of either.
func signatureName(alg string) string {
	if alg == string(ed25519Alg) {
		return string(jose.EdDSA)
	}
	return alg
}

// checkTimes applies the iat, exp and nbf windows.
func checkTimes(claims *jwt.Claims, now time.Time) *tokenErr {
	if claims.IssuedAt == nil {
		return invalidRequest("", "missing iat")
	}
	iat := claims.IssuedAt.Time()
	switch {
	case iat.Before(now.Add(-assertionMaxAge)):
		return invalidRequest("", "iat too old")
	case iat.After(now.Add(clockSkew)):
		return invalidRequest("", "iat in the future")
	case claims.Expiry == nil:
		return invalidRequest("", "missing exp")
	case !claims.Expiry.Time().After(now):
		return invalidRequest("", "expired assertion")
	case claims.Expiry.Time().After(iat.Add(assertionMaxAge + clockSkew)):
		return invalidRequest("", "exp too far")
	case claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(clockSkew)):
		return invalidRequest("", "nbf in the future")
	}
	return nil
}

// findJWK finds the public key with kid in the key's jwkSet, else in its jwksURL's set, which is
// fetched only when the fake's cached copy is older than the cache TTL ([WithJWKSCache]), as the
// Platform caches a hosted set: until then a kid added to the hosted set is unknown.
func (s *Server) findJWK(ctx context.Context, key APIKey, kid string, now time.Time) (*jose.JSONWebKey, *tokenErr) {
	if k := findKid(key.JWKSet, kid); k != nil {
		return k, nil
	}
	if key.JWKSURL != "" {
		set, err := s.hostedSet(ctx, key.JWKSURL, now)
		if err != nil {
			return nil, invalidRequest(descKeyNotFound, "jwks fetch failed: "+err.Error())
		}
		if k := findKid(set, kid); k != nil {
			return k, nil
		}
	}
	return nil, invalidRequest(descKeyNotFound, "unknown kid")
}

// cachedSet is a hosted JWK Set as the fake fetched it.
type cachedSet struct {
	body      []byte
	fetchedAt time.Time
}

// hostedSet returns the set at rawURL: the cached copy while it is fresh, else a new fetch
// (which, when it succeeds, is cached).
func (s *Server) hostedSet(ctx context.Context, rawURL string, now time.Time) ([]byte, error) {
	s.mu.Lock()
	c, ok := s.jwksCache[rawURL]
	s.mu.Unlock()
	if ok && now.Before(c.fetchedAt.Add(s.jwksTTL)) {
		return c.body, nil
	}
	body, err := s.fetchJWKS(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if s.jwksTTL > 0 {
		s.mu.Lock()
		s.jwksCache[rawURL] = cachedSet{body: body, fetchedAt: now}
		s.mu.Unlock()
	}
	return body, nil
}

// findKid parses a JWK Set one key at a time (go-jose fails a whole set on one key it does not
// know) and returns the first public key with kid.
func findKid(set []byte, kid string) *jose.JSONWebKey {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if len(set) == 0 || json.Unmarshal(set, &raw) != nil {
		return nil
	}
	for _, r := range raw.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(r) != nil || k.KeyID != kid {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			return &k
		}
	}
	return nil
}

// algFitsKey reports whether a signature algorithm suits the key's type, curve, alg and use.
func algFitsKey(k *jose.JSONWebKey, alg string) bool {
	if (k.Algorithm != "" && signatureName(k.Algorithm) != signatureName(alg)) || (k.Use != "" && k.Use != "sig") {
		return false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		switch jose.SignatureAlgorithm(alg) {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256():
			return alg == string(jose.ES256)
		case elliptic.P384():
			return alg == string(jose.ES384)
		case elliptic.P521():
			return alg == string(jose.ES512)
		}
	case ed25519.PublicKey:
		return signatureName(alg) == string(jose.EdDSA)
	}
	return false
}

// fetchJWKS gets a hosted JWK Set from a loopback URL, capped at 1 MB and 5 s.
func (s *Server) fetchJWKS(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, errors.New("only loopback jwksURLs are fetched by the fake")
	}
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.jwks.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > jwksMaxBytes {
		return nil, errors.New("JWK Set larger than 1 MB")
	}
	return b, nil
}
