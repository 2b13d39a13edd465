package apikeys

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// APIKey is a Platform OAuth API key. Its ID is the OAuth client ID used as
// iss and sub of the client assertions signed with the key's private keys.
type APIKey struct {
	// ID is the key's ID, which is also its OAuth client ID.
	ID string `json:"id"`
	// Name is the key's user-given name.
	Name string `json:"name"`
	// JWKSURL is where the key's public keys are hosted, if they are.
	JWKSURL string `json:"jwksURL,omitempty"`
	// JWKSet holds the key's public keys when they are given inline.
	JWKSet *JWKSet `json:"jwkSet,omitempty"`
	// Environment is the environment the key belongs to (ID and flag).
	Environment Environment `json:"environment"`
}

// CreateAPIKeyRequest is the body of APIKeysService.Create. Set JWKSURL
// (preferred: keys rotate without API calls) or JWKSet, or neither to start
// with an empty set.
type CreateAPIKeyRequest struct {
	// Name is the key's name; required.
	Name string `json:"name"`
	// JWKSURL is the absolute https URL where the key's public JWK Set is
	// hosted; empty for none.
	JWKSURL string `json:"jwksURL,omitempty"`
	// JWKSet is the key's public keys given inline; nil for none. It must
	// pass JWKSet.Validate (public keys only).
	JWKSet *JWKSet `json:"jwkSet,omitempty"`
}

// UpdateAPIKeyRequest is the body of APIKeysService.Update. Only the fields
// that are set are sent; a JWKSet replaces the key's whole set.
type UpdateAPIKeyRequest struct {
	// Name, when set, renames the key; nil leaves it as it is.
	Name *string `json:"name,omitempty"`
	// JWKSURL, when set to "", asks the server to clear the URL.
	JWKSURL *string `json:"jwksURL,omitempty"`
	// JWKSet, when set, replaces the key's whole inline set; nil leaves it
	// as it is. It must pass JWKSet.Validate (public keys only).
	JWKSet *JWKSet `json:"jwkSet,omitempty"`
}

// APIKeysService manages Platform OAuth API keys. Get it from Client.APIKeys.
type APIKeysService struct {
	client *Client
}

var (
	opCreateAPIKey = operation{"APIKeys.Create", nonIdempotent}
	opGetAPIKey    = operation{"APIKeys.Get", idempotent}
	opListAPIKeys  = operation{"APIKeys.List", idempotent}
	opUpdateAPIKey = operation{"APIKeys.Update", idempotent}
	opDeleteAPIKey = operation{"APIKeys.Delete", idempotentDelete}
)

type apiKeyPayload struct {
	APIKey *APIKey `json:"apikey"`
}

func (p *apiKeyPayload) missing() string {
	if p.APIKey == nil {
		return "payload.apikey"
	}
	return ""
}

// apiKeysPayload is a list reply. A missing or null list is not an empty
// one: read as [], it would tell a caller reconciling an ambiguous create
// that the create did not happen.
type apiKeysPayload struct {
	APIKeys []*APIKey `json:"apikeys"`
}

func (p *apiKeysPayload) missing() string {
	if p.APIKeys == nil {
		return "payload.apikeys"
	}
	return ""
}

// deletePayload is a delete reply: the API always sends a message.
type deletePayload struct {
	Message *string `json:"message"`
}

func (p *deletePayload) missing() string {
	if p.Message == nil {
		return "payload.message"
	}
	return ""
}

// Create creates a key in an environment. It is never sent twice once it
// may have reached the server: if its outcome is unknown the error
// satisfies IsAmbiguous, and the caller should look for the key with List
// before creating it again.
func (s *APIKeysService) Create(ctx context.Context, environmentID string, req CreateAPIKeyRequest) (*APIKey, error) {
	if err := validateID("environmentID", environmentID); err != nil {
		return nil, err
	}
	if err := validateName("Name", req.Name); err != nil {
		return nil, err
	}
	if err := s.validateKeys(req.JWKSURL != "", req.JWKSURL, req.JWKSet); err != nil {
		return nil, err
	}
	return s.do(ctx, opCreateAPIKey, http.MethodPost, req, "v1", "environments", environmentID, "apikeys")
}

// Get returns one key by its ID (client ID).
func (s *APIKeysService) Get(ctx context.Context, apiKeyID string) (*APIKey, error) {
	if err := validateID("apiKeyID", apiKeyID); err != nil {
		return nil, err
	}
	return s.do(ctx, opGetAPIKey, http.MethodGet, nil, "v1", "apikeys", apiKeyID)
}

// List returns the keys of an environment.
func (s *APIKeysService) List(ctx context.Context, environmentID string) ([]*APIKey, error) {
	if err := validateID("environmentID", environmentID); err != nil {
		return nil, err
	}
	r, err := s.client.newRequest(opListAPIKeys, http.MethodGet, s.client.baseURL, nil, "v1", "environments", environmentID, "apikeys")
	if err != nil {
		return nil, err
	}
	p, err := doPlatform[apiKeysPayload](ctx, s.client, r)
	if err != nil {
		return nil, err
	}
	// A null element would be a nil *APIKey for the caller to trip on.
	return slices.DeleteFunc(p.APIKeys, isNil), nil
}

// Update changes the fields of req that are set and returns the updated key.
func (s *APIKeysService) Update(ctx context.Context, apiKeyID string, req UpdateAPIKeyRequest) (*APIKey, error) {
	if err := validateID("apiKeyID", apiKeyID); err != nil {
		return nil, err
	}
	if req.Name == nil && req.JWKSURL == nil && req.JWKSet == nil {
		return nil, invalid("UpdateAPIKeyRequest", "sets no field")
	}
	if req.Name != nil {
		if err := validateName("Name", *req.Name); err != nil {
			return nil, err
		}
	}
	if err := s.validateKeys(req.JWKSURL != nil && *req.JWKSURL != "", deref(req.JWKSURL), req.JWKSet); err != nil {
		return nil, err
	}
	return s.do(ctx, opUpdateAPIKey, http.MethodPatch, req, "v1", "apikeys", apiKeyID)
}

// Delete deletes a key for good and returns the server's message. If an
// attempt's reply was lost and the retry finds the key gone, the delete is
// reported as done with an empty message.
func (s *APIKeysService) Delete(ctx context.Context, apiKeyID string) (string, error) {
	if err := validateID("apiKeyID", apiKeyID); err != nil {
		return "", err
	}
	r, err := s.client.newRequest(opDeleteAPIKey, http.MethodDelete, s.client.baseURL, nil, "v1", "apikeys", apiKeyID)
	if err != nil {
		return "", err
	}
	p, err := doPlatform[deletePayload](ctx, s.client, r)
	if err != nil || p.Message == nil { // nil: an earlier attempt deleted it
		return "", err
	}
	return *p.Message, nil
}

// do sends a call whose payload is {"apikey": {...}}.
func (s *APIKeysService) do(ctx context.Context, op operation, method string, body any, segments ...string) (*APIKey, error) {
	r, err := s.client.newRequest(op, method, s.client.baseURL, body, segments...)
	if err != nil {
		return nil, err
	}
	p, err := doPlatform[apiKeyPayload](ctx, s.client, r)
	if err != nil {
		return nil, err
	}
	return p.APIKey, nil
}

// validateKeys checks the public keys of a create or update.
func (s *APIKeysService) validateKeys(hasURL bool, jwksURL string, set *JWKSet) error {
	if hasURL {
		// The Platform fetches this URL: plain http, even to loopback,
		// only with WithInsecureHTTP.
		u, err := checkURL("JWKSURL", jwksURL, s.client.insecureHTTP)
		if err != nil {
			return err
		}
		if u.Scheme != "https" && !s.client.insecureHTTP {
			return invalid("JWKSURL", "must use https (plain http only with WithInsecureHTTP)")
		}
	}
	if set != nil {
		if err := set.Validate(); err != nil {
			var se *JWKSetError
			if errors.As(err, &se) {
				return invalid("JWKSet", "%s", strings.Join(se.Problems, "; "))
			}
			return err
		}
	}
	return nil
}

// validateName checks a key name or label. Invalid UTF-8 is refused: JSON
// would carry U+FFFD in its place, and a caller reconciling an ambiguous
// create by name would then find nothing and create again.
func validateName(field, name string) error {
	switch {
	case !utf8.ValidString(name):
		return invalid(field, "is not valid UTF-8")
	case strings.TrimSpace(name) == "":
		return invalid(field, "is empty")
	case len(name) > 1024:
		return invalid(field, "is longer than 1024 bytes")
	case hasControl(name):
		return invalid(field, "contains control characters")
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
