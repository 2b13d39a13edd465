package apikeys

import (
	"context"
	"log/slog"
	"time"
)

// Token is an OAuth access token for Platform calls.
type Token struct {
	AccessToken string
	TokenType   string
	Scope       string
	// Expiry is when the token stops working; zero means unknown.
	Expiry time.Time
}

// String describes the token without its value.
func (t *Token) String() string {
	if t == nil {
		return "Token(nil)"
	}
	return "Token{AccessToken: ****, TokenType: " + t.TokenType + ", Scope: " + t.Scope + ", Expiry: " + t.Expiry.Format(time.RFC3339) + "}"
}

// GoString is like String, so %#v does not print the token either.
func (t *Token) GoString() string { return "apikeys." + t.String() }

// LogValue logs the token's type, scope and expiry, never its value.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("access_token", "****"), slog.String("token_type", t.TokenType),
		slog.String("scope", t.Scope), slog.Time("expiry", t.Expiry))
}

// TokenSource supplies access tokens for Platform calls. The Client asks
// for a token before every attempt, so a source may rotate tokens freely.
// If the source also has a method Invalidate(*Token), the Client calls it
// when the server answers 401 to that token, then retries the call once
// with a new token.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// tokenInvalidator is the optional TokenSource method used after a 401.
type tokenInvalidator interface {
	Invalidate(*Token)
}

// staticTokenSource always returns the same token (WithToken).
type staticTokenSource struct {
	token *Token
}

func (s *staticTokenSource) Token(context.Context) (*Token, error) { return s.token, nil }

// String hides the token, so %v of a Client never shows it.
func (s *staticTokenSource) String() string { return "staticTokenSource{****}" }

// GoString hides the token from %#v too.
func (s *staticTokenSource) GoString() string { return s.String() }
