package apikeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

	obj objectRef // for Raw
}

// Raw returns the JSON object the key was decoded from, members the SDK
// does not model included; nil for a key not decoded from JSON. Should a
// reply name the object twice (in two letter cases, say), the fields
// merge both, as encoding/json does, and Raw is the last.
//
// A key from a reply shares the reply's memory: do not modify Raw, and
// know that keeping the key keeps the whole reply body (for a List, the
// objects of every key in it) until the key is dropped.
func (k APIKey) Raw() json.RawMessage { return k.obj.object() }

// UnmarshalJSON decodes a key and keeps a copy of the object for Raw.
// As for any struct, the members b lacks leave their fields as they were.
func (k *APIKey) UnmarshalJSON(b []byte) error {
	w := apiKeyJSON{ID: k.ID, Name: k.Name, JWKSURL: k.JWKSURL, JWKSet: k.JWKSet, Environment: k.Environment.json()}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if obj := ownObject(b); obj.objs != nil { // null leaves k as it is
		*k = *w.key(obj)
	}
	return nil
}

// apiKeyJSON is an APIKey as the API sends it: replies decode into it (see
// raw.go), and key makes the APIKey.
type apiKeyJSON struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	JWKSURL     string          `json:"jwksURL"`
	JWKSet      *JWKSet         `json:"jwkSet"`
	Environment environmentJSON `json:"environment"`
}

// key returns the APIKey of w (nil for nil: a null), whose object obj is.
func (w *apiKeyJSON) key(obj objectRef) *APIKey {
	if w == nil {
		return nil
	}
	envObj := obj
	envObj.inKey = true
	return &APIKey{ID: w.ID, Name: w.Name, JWKSURL: w.JWKSURL, JWKSet: w.JWKSet, Environment: w.Environment.environment(envObj), obj: obj}
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

// c returns the Client of s: nil for a nil or zero service, whose calls
// doPlatform refuses.
func (s *APIKeysService) c() *Client {
	if s == nil {
		return nil
	}
	return s.client
}

var (
	opCreateAPIKey = operation{"APIKeys.Create", nonIdempotent}
	opGetAPIKey    = operation{"APIKeys.Get", idempotent}
	opListAPIKeys  = operation{"APIKeys.List", idempotent}
	opUpdateAPIKey = operation{"APIKeys.Update", idempotent}
	opDeleteAPIKey = operation{"APIKeys.Delete", idempotentDelete}
)

// The payloads of the replies. Each says, with missing, which member a
// reply must carry: a missing or null one is a *DecodeError.
type apiKeyPayload struct {
	APIKey *apiKeyJSON `json:"apikey"`
	objs   *replyObjects
}

func (p *apiKeyPayload) keepObjects(body []byte) { p.objs = newReplyObjects(body, platformKey) }

// key returns the key of the reply.
func (p *apiKeyPayload) key() *APIKey { return p.APIKey.key(objectRef{objs: p.objs}) }

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
	APIKeys []*apiKeyJSON `json:"apikeys"`
	objs    *replyObjects
}

func (p *apiKeysPayload) keepObjects(body []byte) { p.objs = newReplyObjects(body, platformKeys) }

// keys returns the keys of the reply.
func (p *apiKeysPayload) keys() []*APIKey { return models(p.APIKeys, p.objs, (*apiKeyJSON).key) }

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
// satisfies IsAmbiguous, and the caller should ask FindCreated whether
// the key was made before creating it again.
func (s *APIKeysService) Create(ctx context.Context, environmentID string, req CreateAPIKeyRequest) (*APIKey, error) {
	op := opCreateAPIKey.name
	if err := validateID(op, "environmentID", environmentID); err != nil {
		return nil, err
	}
	if err := validateName(op, "Name", req.Name); err != nil {
		return nil, err
	}
	if err := s.validateKeys(op, req.JWKSURL, req.JWKSet); err != nil {
		return nil, err
	}
	p, err := doPlatform[apiKeyPayload](ctx, s.c(), opCreateAPIKey, http.MethodPost, req, "v1", "environments", environmentID, "apikeys")
	return p.key(), err
}

// Get returns one key by its ID (client ID).
func (s *APIKeysService) Get(ctx context.Context, apiKeyID string) (*APIKey, error) {
	if err := validateID(opGetAPIKey.name, "apiKeyID", apiKeyID); err != nil {
		return nil, err
	}
	p, err := doPlatform[apiKeyPayload](ctx, s.c(), opGetAPIKey, http.MethodGet, nil, "v1", "apikeys", apiKeyID)
	return p.key(), err
}

// List returns the keys of an environment.
func (s *APIKeysService) List(ctx context.Context, environmentID string) ([]*APIKey, error) {
	if err := validateID(opListAPIKeys.name, "environmentID", environmentID); err != nil {
		return nil, err
	}
	p, err := doPlatform[apiKeysPayload](ctx, s.c(), opListAPIKeys, http.MethodGet, nil, "v1", "environments", environmentID, "apikeys")
	if err != nil {
		return nil, err
	}
	return p.keys(), nil
}

// FindCreated returns the key that a Create of req in environmentID made,
// for reconciling a Create whose error satisfies IsAmbiguous. A key
// matches when it has req's Name and:
//   - req's JWKSURL, when req has one, whatever JWK Set the server shows
//     for the key (the keys it fetched from the URL, say);
//   - else no JWKSURL and exactly the kids of req's JWKSet (in any order),
//     none for a req without one.
//
// A freshly generated kid (GenerateSigningKey's thumbprint) is in no other
// key, so a match by kids is proof; a match by JWKSURL is proof when the
// URL is the new key's own. Of several matches, the last listed is
// returned.
//
// When no key matches, the error matches ErrNotFound: the create was not
// applied, and Create may be called again. Other errors are List's.
func (s *APIKeysService) FindCreated(ctx context.Context, environmentID string, req CreateAPIKeyRequest) (*APIKey, error) {
	const op = "APIKeys.FindCreated"
	if err := validateID(op, "environmentID", environmentID); err != nil {
		return nil, err
	}
	if err := validateName(op, "Name", req.Name); err != nil {
		return nil, err
	}
	keys, err := s.List(ctx, environmentID)
	if err != nil {
		return nil, err
	}
	want := sortedKeyIDs(req.JWKSet)
	matches := func(k *APIKey) bool {
		switch {
		case k.Name != req.Name:
			return false
		case req.JWKSURL != "":
			return k.JWKSURL == req.JWKSURL
		}
		return k.JWKSURL == "" && slices.Equal(sortedKeyIDs(k.JWKSet), want)
	}
	for _, k := range slices.Backward(keys) {
		if matches(k) {
			return k, nil
		}
	}
	return nil, &opError{op: op, err: &sentinelError{ErrNotFound, fmt.Sprintf("no key named %s made by that create", quoted(req.Name))}}
}

// sortedKeyIDs returns the kids of set, sorted.
func sortedKeyIDs(set *JWKSet) []string {
	kids := set.KeyIDs()
	slices.Sort(kids)
	return kids
}

// Update changes the fields of req that are set and returns the updated key.
func (s *APIKeysService) Update(ctx context.Context, apiKeyID string, req UpdateAPIKeyRequest) (*APIKey, error) {
	op := opUpdateAPIKey.name
	if err := validateID(op, "apiKeyID", apiKeyID); err != nil {
		return nil, err
	}
	if req.Name == nil && req.JWKSURL == nil && req.JWKSet == nil {
		return nil, invalid(op, "UpdateAPIKeyRequest", "sets no field")
	}
	if req.Name != nil {
		if err := validateName(op, "Name", *req.Name); err != nil {
			return nil, err
		}
	}
	if err := s.validateKeys(op, deref(req.JWKSURL), req.JWKSet); err != nil {
		return nil, err
	}
	p, err := doPlatform[apiKeyPayload](ctx, s.c(), opUpdateAPIKey, http.MethodPatch, req, "v1", "apikeys", apiKeyID)
	return p.key(), err
}

// Delete deletes a key for good and returns the server's message. If an
// attempt's reply was lost and the retry gets the API's own answer that
// the key does not exist (a JSON 404 saying "API key not found"), the
// delete is reported as done with an empty message. A 404 that says
// nothing about the key (a proxy's page, Go's "404 page not found") is an
// error: see the README's retry table.
func (s *APIKeysService) Delete(ctx context.Context, apiKeyID string) (string, error) {
	if err := validateID(opDeleteAPIKey.name, "apiKeyID", apiKeyID); err != nil {
		return "", err
	}
	p, err := doPlatform[deletePayload](ctx, s.c(), opDeleteAPIKey, http.MethodDelete, nil, "v1", "apikeys", apiKeyID)
	if err != nil || p.Message == nil { // nil: an earlier attempt deleted it
		return "", err
	}
	return *p.Message, nil
}

// validateKeys checks the public keys of a create or update: jwksURL
// unless it is empty (none, or a request to clear it), and set unless nil.
func (s *APIKeysService) validateKeys(op, jwksURL string, set *JWKSet) error {
	if jwksURL != "" {
		// The Platform fetches this URL: plain http, even to loopback,
		// only with WithInsecureHTTP.
		insecure := s.c() != nil && s.c().insecureHTTP
		u, err := checkURL(op, "JWKSURL", jwksURL, insecure)
		if err != nil {
			return err
		}
		if u.Scheme != "https" && !insecure {
			return invalid(op, "JWKSURL", "must use https (plain http only with WithInsecureHTTP)")
		}
	}
	if set != nil {
		if err := set.Validate(); err != nil {
			var se *JWKSetError
			if errors.As(err, &se) {
				return invalid(op, "JWKSet", "%s", strings.Join(se.Problems, "; "))
			}
			return err
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Errors of AddPublicKeys and RemovePublicKeys (match them with errors.Is).
var (
	// ErrKeysHosted: the API key's public keys are hosted at its jwksURL,
	// not held inline; change them where they are hosted (see JWKSHost).
	ErrKeysHosted = errors.New("apikeys: the API key's public keys are hosted at its jwksURL")
	// ErrLastPublicKey: the change would remove the API key's last public
	// key, after which no client assertion could be verified.
	ErrLastPublicKey = errors.New("apikeys: refusing to remove the API key's last public key")
	// ErrConcurrentChange: the API key's public keys were changed by someone
	// else while they were being read and written.
	ErrConcurrentChange = errors.New("apikeys: the API key's public keys changed meanwhile")
)

var (
	opAddPublicKeys    = operation{"APIKeys.AddPublicKeys", idempotent}
	opRemovePublicKeys = operation{"APIKeys.RemovePublicKeys", idempotent}
)

// AddPublicKeys adds public keys to the inline JWK Set of an API key, next
// to the keys it holds, and returns the key as the server then holds it.
// A key already there with the same kid and key material is left as it is,
// so AddPublicKeys is idempotent: after an ambiguous outcome, call it again.
// The keys must pass JWKSet.Validate (public keys only); a kid already there
// with other key material is a *ValidationError.
//
// The API has no ETag, so AddPublicKeys reads the key, reads it again right
// before it writes the whole set (Update), and reads it once more to verify
// that the server holds what was written. A set changed by someone else
// between the first two reads is not overwritten; one changed after the
// write is reported. Both fail with ErrConcurrentChange. A change that lands
// between the second read and the write (milliseconds) is overwritten, and
// reported only if the final read shows it: give one writer at a time the
// job of changing a key's public keys. A key whose public keys are at a
// jwksURL fails with ErrKeysHosted.
func (s *APIKeysService) AddPublicKeys(ctx context.Context, apiKeyID string, keys ...JWK) (*APIKey, error) {
	op := opAddPublicKeys.name
	if err := validateID(op, "apiKeyID", apiKeyID); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, invalid(op, "keys", "is empty")
	}
	if err := s.validateKeys(op, "", NewJWKSet(keys...)); err != nil {
		return nil, err
	}
	return s.changePublicKeys(ctx, opAddPublicKeys, apiKeyID, func(set *JWKSet) (*JWKSet, error) {
		out, err := set.With(keys...)
		if err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				ve.Op = op
			}
			return nil, err
		}
		return out, nil
	})
}

// RemovePublicKeys removes the public keys with the given kids from the
// inline JWK Set of an API key and returns the key as the server then
// holds it. A kid the set does not hold is ignored, so RemovePublicKeys is
// idempotent: after an ambiguous outcome, call it again. Removing the
// set's last key fails with ErrLastPublicKey. Reading, writing and
// verifying are as for AddPublicKeys.
func (s *APIKeysService) RemovePublicKeys(ctx context.Context, apiKeyID string, kids ...string) (*APIKey, error) {
	op := opRemovePublicKeys.name
	if err := validateID(op, "apiKeyID", apiKeyID); err != nil {
		return nil, err
	}
	if len(kids) == 0 {
		return nil, invalid(op, "kids", "is empty")
	}
	for i, kid := range kids {
		if kid == "" || !utf8.ValidString(kid) {
			return nil, invalid(op, fmt.Sprintf("kids[%d]", i), "is empty or not valid UTF-8")
		}
	}
	return s.changePublicKeys(ctx, opRemovePublicKeys, apiKeyID, func(set *JWKSet) (*JWKSet, error) {
		out := set.Without(kids...)
		if len(out.Keys) == 0 && len(set.keys()) > 0 {
			return nil, &opError{op: op, err: &sentinelError{ErrLastPublicKey,
				"refusing to remove the API key's last public key (kids " + strings.Join(kids, ", ") + ")"}}
		}
		return out, nil
	})
}

// changePublicKeys applies change to the inline JWK Set of an API key:
// read, change, read again right before writing, write the whole set,
// read back to verify (see AddPublicKeys). A change that changes nothing
// writes nothing.
func (s *APIKeysService) changePublicKeys(ctx context.Context, op operation, apiKeyID string, change func(*JWKSet) (*JWKSet, error)) (*APIKey, error) {
	conflict := func(detail string) error {
		return &opError{op: op.name, err: &sentinelError{ErrConcurrentChange, "the API key's public keys " + detail}}
	}
	read := func() (*APIKey, error) {
		p, err := doPlatform[apiKeyPayload](ctx, s.c(), op, http.MethodGet, nil, "v1", "apikeys", apiKeyID)
		if err == nil && p.APIKey.JWKSURL != "" {
			err = &opError{op: op.name, err: &sentinelError{ErrKeysHosted, "the API key's public keys are hosted at its jwksURL; change them there"}}
		}
		return p.key(), err
	}
	key, err := read()
	if err != nil {
		return nil, err
	}
	want, err := change(key.JWKSet)
	if err != nil {
		return nil, err
	}
	if sameKeySet(want, key.JWKSet) {
		return key, nil // nothing to write
	}
	now, err := read()
	if err != nil {
		return nil, err
	}
	if !sameKeySet(now.JWKSet, key.JWKSet) {
		return nil, conflict("changed between reading and writing them; nothing was written")
	}
	if _, err := doPlatform[apiKeyPayload](ctx, s.c(), op, http.MethodPatch, UpdateAPIKeyRequest{JWKSet: want}, "v1", "apikeys", apiKeyID); err != nil {
		return nil, err
	}
	got, err := read()
	if err != nil {
		return nil, err
	}
	if !sameKeySet(got.JWKSet, want) {
		return nil, conflict("read back after writing them are not the ones written: another writer changed them")
	}
	return got, nil
}

// sameKeySet reports whether a and b hold the same keys (kid and key
// material), in any order.
func sameKeySet(a, b *JWKSet) bool {
	if len(a.keys()) != len(b.keys()) {
		return false
	}
	for _, k := range a.keys() {
		held, ok := b.Key(k.KeyID())
		if !ok || !sameKeyMaterial(k, held) {
			return false
		}
	}
	return true
}
