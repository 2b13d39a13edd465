// Package apikeystest runs a strict, in-process fake of the Platform OAuth API keys API, its
// token endpoint and the legacy (FeedHenry) API keys API, for use in tests.
//
// Start one per test and close it when the test ends:
//
//	srv := apikeystest.NewServer()
//	t.Cleanup(srv.Close)
//
// [Server.Client] returns an *apikeys.Client wired to it, ready for both APIs: Platform calls
// authenticate through the real token flow (a generated signing key, a stored management key,
// [apikeys.NewTokenSource]) and legacy calls with the seeded user key; retries never wait. In
// programs without a testing.TB, use [Server.NewClient].
//
// The fake listens on a loopback port (net/http/httptest). To wire a client by hand, point it at
//
//   - srv.PlatformURL for the Platform API (authenticate with srv.BearerToken, or with an access
//     token from srv.TokenURL obtained with a client assertion signed by a stored key),
//   - srv.TokenURL for the token endpoint,
//   - srv.URL with domain srv.LegacyDomain and user key srv.LegacyUserKey (or the cookie
//     "feedhenry=" + srv.SessionCookie) for the legacy API.
//
// For raw calls, [Server.HTTPClient] returns an http.Client for the fake. The fake serves plain
// HTTP/1.1; with [WithTLS] it serves HTTPS with HTTP/2 instead (HTTP/1.1 for clients that offer
// only that), and [Server.Client], [Server.NewClient] and [Server.HTTPClient] trust its
// certificate ([Server.Certificate]) and speak HTTP/2. [Request].Proto tells which protocol each
// request came in.
//
// # Outside a Go test
//
// The command cmd/apikeys-fake runs this fake as a server of its own, for tests in other
// languages, CI jobs and docker-compose; it is built on options any program can use:
// [WithListener] serves on a given listener, [WithPublicURL] names the URL clients reach the fake
// at, [WithTLSCertificate] serves a certificate of one's own, [Server.Shutdown] stops gracefully,
// [Server.NewManagementKey] gives a management key for a client of one's own, and
// [WithAdminAPI] serves an admin API under /_fake/ that calls this package's methods over HTTP
// (faults, request log, counts, seeding, [Server.Reset]). A fake has no admin API without that
// option.
//
// The fake is strict where the real APIs are strict: bad input is refused with the status and
// body the real service uses, and the token endpoint verifies every rule of a client assertion
// (kid, alg, signature, aud, iat, exp, jti replay). Seed state with [Server.AddAPIKey],
// [Server.AddLegacyUser] and [Server.AddLegacyKey], inspect it with [Server.APIKeys],
// [Server.LegacyKeys], [Server.LegacyUsers] and [Server.Requests] (a request log with secrets
// masked by name and the fake's own credentials by value, as [Request] details), inject faults
// per [Route] with [Server.FailNext], [Server.DropNext], [Server.DropNextAfterApply],
// [Server.FailNextBody] and [Server.SetLatency], and bring it back to its state at start with
// [Server.Reset].
//
// # Choices where the vendor documentation is silent
//
// Platform: create answers 200; an unset jwksURL or jwkSet is omitted from key JSON; in a request
// body an absent or null field is unset (create) or unchanged (PATCH), and jwksURL "" means none
// (so a PATCH with "" removes it); a jwkSet key holding a private or symmetric member (d, p, q,
// dp, dq, qi, oth, k or priv, in any letter case, the list the SDK's JWKSet.Validate refuses) is
// refused with 400; refusals carry {"message": "..."}. Legacy: every business error is HTTP 200
// with {"status":"error","message":...}, except 401 "not logged in" and 404 for an unknown domain
// or operation; every legacy reply carries a random X-FH-REQUEST-ID header.
//
// # Token endpoint rules
//
// POST TokenURL takes a form (application/x-www-form-urlencoded) with grant_type
// client_credentials, client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer,
// client_assertion and an optional scope, and answers {access_token, token_type "bearer",
// expires_in 300, scope}. The token is accepted by Platform routes for 300 s of the server clock
// ([WithClock]). Refusals are {"error", "error_description", "error_uri"}; checks run in this
// order (status, error, error_description, then the [Request].Reason logged):
//
//	content type is not a form            400 invalid_request         ""  "content-type"
//	form does not parse                   400 invalid_request         ""  "malformed form"
//	no grant_type                         400 invalid_request         ""  "missing grant_type"
//	grant_type not client_credentials     400 unsupported_grant_type  ""  "unsupported grant_type"
//	no client_assertion                   400 invalid_request "Missing client assertion"  "missing client_assertion"
//	wrong client_assertion_type           400 invalid_request         ""  "wrong client_assertion_type"
//	not a compact JWS with an RS*, PS*, ES*, EdDSA or Ed25519 alg
//	                                      400 invalid_request         ""  "malformed assertion"
//	no kid header                         400 invalid_request "JWT header kid property is required"  "missing kid"
//	claims do not parse                   400 invalid_request         ""  "malformed claims"
//	no iss / sub differs from iss         400 invalid_request         ""  "missing iss" / "iss and sub differ"
//	iss is not a stored key's ID          401 invalid_client  "Public key not found, ..."  "unknown client"
//	jwksURL fetch fails                   400 invalid_request "Public key not found, ..."  "jwks fetch failed: <error>"
//	kid in neither jwkSet nor jwksURL     400 invalid_request "Public key not found, ..."  "unknown kid"
//	alg does not fit the key's type, curve, "alg" or "use"
//	                                      400 invalid_request         ""  "alg does not fit key"
//	signature does not verify             401 invalid_client          ""  "bad signature"
//	aud is not exactly TokenURL           400 invalid_request         ""  "wrong aud"
//	no iat / iat older than 5 min / more than 10 s ahead
//	                                      400 invalid_request         ""  "missing iat" / "iat too old" / "iat in the future"
//	no exp / exp not after now / exp later than iat + 5 min 10 s
//	                                      400 invalid_request         ""  "missing exp" / "expired assertion" / "exp too far"
//	nbf more than 10 s ahead              400 invalid_request         ""  "nbf in the future"
//	no jti / jti already used             400 invalid_request         ""  "missing jti" / "replayed jti"
//
// A key's jwkSet is searched first, then its jwksURL is fetched (loopback hosts only, 1 MB, 5 s);
// JWKs are parsed one at a time, so a key of an unknown type is skipped, not fatal.
//
// Notes for fault tests: net/http's Transport silently retries a GET whose reused keep-alive
// HTTP/1.1 connection is closed without a response, so a [Server.DropNext] on a GET route can
// be absorbed by the transport. Use a fresh connection (or a non-idempotent method) when that
// matters. HTTP/2 ([WithTLS]) has no hijacking, so there [Server.DropNext] and
// [Server.DropNextAfterApply] reset the request's stream (RST_STREAM INTERNAL_ERROR, which the
// client reports as an error and does not retry) and leave the connection open for other
// requests, rather than closing the connection.
package apikeystest
