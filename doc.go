// Package apikeys is a client for managing API keys on two APIs:
//
//   - Platform OAuth API keys (Client.APIKeys, Client.Environments): keys
//     scoped to an environment whose public keys are given as a JWKS URL or
//     an inline JWK Set. A key's holder signs RFC 7523 client assertions
//     with its private key and trades them for short-lived access tokens
//     (NewTokenSource).
//   - Legacy user and app API keys (Client.Legacy) of FeedHenry/RHMAP
//     style platforms.
//
// Every call takes a context, validates its input before any I/O, and goes
// through one request path with one retry policy: reads, updates and
// deletes are retried on transport errors, 408, 429 and 5xx; creates are
// never sent twice once they may have reached the server, and an unknown
// outcome is reported as an error for which IsAmbiguous is true. Errors are typed
// (*APIError for both APIs, *TokenError, *ValidationError, *DecodeError,
// *TransportError, *AmbiguousError), name the call that failed (Op), and
// match sentinels such as ErrNotFound with errors.Is.
//
// Access tokens, user keys, key secrets and private keys never appear in
// the SDK's logs, error strings or formatted values (any fmt verb, slog's
// LogValue). One exception, by design: json.Marshal writes a LegacyKey
// whole, Key and Secret included (it is for storage), so a LegacyKey inside
// a struct or slice that slog's JSON handler encodes shows them; log the
// key itself, or use the text handler.
//
// Package apikeystest provides an in-process fake of both APIs for tests.
package apikeys
