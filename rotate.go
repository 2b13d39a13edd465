package apikeys

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"
)

// KeyPublisher publishes the public keys of a Platform API key: where the
// Platform reads them to verify client assertions. There are two: the
// key's inline JWK Set (InlineKeys) and a JWKSet served at the key's
// jwksURL (*JWKSHost). Rotate publishes a new key through one and retires
// the old ones. AddPublicKeys and RemovePublicKeys must be idempotent:
// Rotate calls them again when it runs again after it stopped.
type KeyPublisher interface {
	// PublicKeys returns the keys published now.
	PublicKeys(ctx context.Context) (*JWKSet, error)
	// AddPublicKeys publishes keys next to the keys published now.
	AddPublicKeys(ctx context.Context, keys ...JWK) error
	// RemovePublicKeys stops publishing the keys with the given kids.
	RemovePublicKeys(ctx context.Context, kids ...string) error
}

// InlineKeys returns the KeyPublisher of an API key whose public keys are
// its inline JWK Set: APIKeys.AddPublicKeys and APIKeys.RemovePublicKeys.
func InlineKeys(keys *APIKeysService, apiKeyID string) KeyPublisher {
	return inlineKeys{svc: keys, id: apiKeyID}
}

type inlineKeys struct {
	svc *APIKeysService
	id  string
}

func (k inlineKeys) PublicKeys(ctx context.Context) (*JWKSet, error) {
	key, err := k.svc.Get(ctx, k.id)
	if err != nil {
		return nil, err
	}
	if key.JWKSURL != "" {
		return nil, &opError{op: opGetAPIKey.name, err: &sentinelError{ErrKeysHosted, "the API key's public keys are hosted at its jwksURL"}}
	}
	return NewJWKSet(key.JWKSet.keys()...), nil
}

func (k inlineKeys) AddPublicKeys(ctx context.Context, keys ...JWK) error {
	_, err := k.svc.AddPublicKeys(ctx, k.id, keys...)
	return err
}

func (k inlineKeys) RemovePublicKeys(ctx context.Context, kids ...string) error {
	_, err := k.svc.RemovePublicKeys(ctx, k.id, kids...)
	return err
}

// MaxRetireAfter is the longest RotateConfig.RetireAfter: the lifetime of
// a Platform access token. By then every token got with the old key has
// expired.
const MaxRetireAfter = 5 * time.Minute

// RotateConfig configures Rotate.
type RotateConfig struct {
	// Source is the live token source to move to the new key: the one the
	// service's Client uses.
	Source *AssertionTokenSource
	// NewKey is the signing key to rotate to. Its public JWK (NewKey.JWK)
	// is what gets published.
	NewKey SigningKey
	// Publisher publishes the API key's public keys: InlineKeys for a key
	// with an inline JWK Set, the *JWKSHost serving the key's jwksURL.
	Publisher KeyPublisher
	// RetireAfter is how long after the switch the old public keys are
	// removed: tokens got with them must have expired first. 0 means
	// MaxRetireAfter; more is capped at MaxRetireAfter.
	RetireAfter time.Duration
	// ProofPolicy paces the proof that the Platform accepts the new key
	// (step 2): the waits between tries grow from MinWait to MaxWait, and
	// the tries go on until one succeeds or ctx ends (MaxRetries is not
	// used). The zero value means MinWait 1 s and MaxWait 30 s.
	ProofPolicy RetryPolicy
	// Logger logs each step at debug level; nil logs nothing.
	Logger *slog.Logger
}

// RotateReport says what Rotate did. A step that found its work done (by an
// earlier, interrupted Rotate) reports false.
type RotateReport struct {
	// KeyID is the new key's kid.
	KeyID string
	// Published is true when Rotate added the new public key (step 1).
	Published bool
	// ProofAttempts counts the token requests signed with the new key that
	// it took until the Platform accepted one (step 2).
	ProofAttempts int
	// Switched is true when Rotate moved the source to the new key (step 3).
	Switched bool
	// Retired lists the kids of the old public keys Rotate removed (step 4).
	Retired []string
}

// Rotate moves a live token source to a new signing key without downtime,
// in four steps, each logged at debug level and reported:
//
//  1. Publish the new public key next to the old ones (Publisher).
//  2. Prove that the Platform accepts it: get a token with a throwaway
//     source on the new key, trying again with backoff (ProofPolicy) until
//     the Platform accepts it or ctx ends: the Platform caches a hosted set
//     for a time only it knows.
//  3. Move the live source to the new key (SetKey): its next assertion is
//     signed with it.
//  4. Wait RetireAfter, for the tokens got with the old keys to expire, and
//     remove every public key but the new one.
//
// Callers of the live source go on getting tokens throughout: the old key
// stays published until no token got with it is in use.
//
// Rotate is resumable. When it stops at any step (an error, a crash, a
// cancelled ctx), calling it again with the same configuration finishes
// the job: a key already published is not added again, a source already
// switched is left as it is, and only the kids still published are
// removed, so nothing is duplicated or removed twice. When it returns nil,
// exactly the new key is published and the source signs with it.
func Rotate(ctx context.Context, cfg RotateConfig) (*RotateReport, error) {
	const op = "Rotate"
	switch {
	case ctx == nil:
		return nil, invalid(op, "ctx", "is nil")
	case cfg.Source == nil || cfg.Source.s == nil:
		return nil, invalid(op, "RotateConfig.Source", "is nil (use NewTokenSource)")
	case cfg.Publisher == nil:
		return nil, invalid(op, "RotateConfig.Publisher", "is nil")
	case cfg.RetireAfter < 0:
		return nil, invalid(op, "RotateConfig.RetireAfter", "is negative")
	}
	if cfg.RetireAfter == 0 || cfg.RetireAfter > MaxRetireAfter {
		cfg.RetireAfter = MaxRetireAfter
	}
	if cfg.ProofPolicy == (RetryPolicy{}) {
		cfg.ProofPolicy = RetryPolicy{MinWait: time.Second, MaxWait: 30 * time.Second}
	} else if err := cfg.ProofPolicy.validate("RotateConfig.ProofPolicy"); err != nil {
		return nil, err
	}
	newKey, err := newAssertionKey(op, "RotateConfig.NewKey", cfg.NewKey)
	if err != nil {
		return nil, err
	}
	jwk, err := cfg.NewKey.JWK()
	if err != nil {
		return nil, err
	}
	src := cfg.Source.s
	rep := &RotateReport{KeyID: cfg.NewKey.KeyID}
	log := func(step string, attrs ...slog.Attr) {
		if cfg.Logger != nil {
			attrs = append([]slog.Attr{slog.String("kid", rep.KeyID)}, attrs...)
			cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "apikeys: Rotate: "+step, attrs...)
		}
	}

	// 1. Publish.
	published, err := cfg.Publisher.PublicKeys(ctx)
	if err != nil {
		return rep, err
	}
	if held, ok := published.Key(rep.KeyID); !ok || !sameKeyMaterial(held, jwk) {
		if err := cfg.Publisher.AddPublicKeys(ctx, jwk); err != nil {
			return rep, err
		}
		rep.Published = true
	}
	log("published", slog.Bool("added", rep.Published))

	// 2. Prove, with a source of its own: the live source's cache is not
	// touched, and its callers never get a token the Platform refused.
	proof := &tokenSource{clientID: src.clientID, tokenURL: src.tokenURL, scope: src.scope,
		sender: src.sender, now: src.now, fetchTimeout: src.fetchTimeout}
	proof.key.Store(newKey)
	for {
		rep.ProofAttempts++
		_, _, err := proof.fetchWithin(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return rep, &opError{op: op, what: "proving the new key", err: errors.Join(ctx.Err(), err)}
		}
		wait := cfg.ProofPolicy.backoff(rep.ProofAttempts-1, nil, src.now(), src.sender.jitter())
		log("new key not accepted yet", slog.Int("attempt", rep.ProofAttempts), slog.Duration("wait", wait),
			slog.String("error", serverText(err.Error(), maxServerText)))
		if err := src.sender.sleep(ctx, wait); err != nil {
			return rep, &opError{op: op, what: "proving the new key", err: err}
		}
	}
	log("proved", slog.Int("attempts", rep.ProofAttempts))

	// 3. Switch.
	if src.key.Load().key.KeyID != rep.KeyID {
		src.key.Store(newKey)
		rep.Switched = true
	}
	log("switched", slog.Bool("changed", rep.Switched))

	// 4. Retire, once the tokens got with the old keys have expired.
	published, err = cfg.Publisher.PublicKeys(ctx)
	if err != nil {
		return rep, err
	}
	old := slices.DeleteFunc(published.KeyIDs(), func(kid string) bool { return kid == rep.KeyID })
	if len(old) > 0 {
		log("waiting to retire", slog.Any("kids", old), slog.Duration("wait", cfg.RetireAfter))
		if err := src.sender.sleep(ctx, cfg.RetireAfter); err != nil {
			return rep, &opError{op: op, what: "waiting to retire the old keys", err: err}
		}
		if err := cfg.Publisher.RemovePublicKeys(ctx, old...); err != nil {
			return rep, err
		}
		rep.Retired = old
	}
	log("retired", slog.Any("kids", rep.Retired))
	return rep, nil
}
