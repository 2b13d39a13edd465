// Command legacy-keys manages legacy (FeedHenry/RHMAP style) user and app API keys with the
// apikeys SDK and shows the two rules that shape code using them:
//
//   - An app has at most one active key: creating an app key revokes the app's earlier keys
//     (they stay listed, with Revoked set).
//   - So a create whose outcome is unknown (the connection broke after the request was sent)
//     must not simply be sent again: a second create would revoke the key the first one may
//     have made. The SDK never repeats it and returns an error for which apikeys.IsAmbiguous
//     is true; the caller asks Legacy.FindCreated whether the key was made (ensureAppKey).
//
// It runs against the in-process fake server of package apikeystest, whose fault injection
// plays the broken connections, and needs no account or variable:
//
//	go run ./examples/legacy-keys
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/apikeys-go/apikeys"
	"github.com/apikeys-go/apikeys/apikeystest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "legacy-keys:", err)
		os.Exit(1)
	}
}

// startFake starts the fake server; tests wrap it to see the fake's secrets.
var startFake = func() *apikeystest.Server { return apikeystest.NewServer() }

const appID = "billing-app"

// run manages legacy keys on a fake server, writing its story to w.
func run(ctx context.Context, w io.Writer) error {
	srv := startFake()
	defer srv.Close() // also closes the client's connections
	c, err := srv.NewClient()
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "== User keys")
	for _, label := range []string{"laptop", "ci-runner"} {
		k, err := c.Legacy.Create(ctx, apikeys.UserKeys(), label)
		if err != nil {
			return fmt.Errorf("creating user key %q: %w", label, err)
		}
		fmt.Fprintf(w, "created user key: %s\n", describe(k))
	}
	users, err := c.Legacy.List(ctx, apikeys.UserKeys())
	if err != nil {
		return fmt.Errorf("listing user keys: %w", err)
	}
	fmt.Fprintf(w, "listed %d user keys\n", len(users))
	ok, err := c.Legacy.Validate(ctx, apikeys.KeyTypeUser, users[0].Key)
	if err != nil {
		return fmt.Errorf("validating: %w", err)
	}
	fmt.Fprintf(w, "validate user key %q: valid=%t\n", users[0].Label, ok)
	// Printing a key never shows its value in full, nor its secret.
	fmt.Fprintf(w, "a key prints masked: %v\n", users[0])

	fmt.Fprintln(w)
	fmt.Fprintln(w, "== App keys: one active key per app")
	first, err := c.Legacy.Create(ctx, apikeys.AppKeys(appID), "deploy-1")
	if err != nil {
		return fmt.Errorf("creating an app key: %w", err)
	}
	fmt.Fprintf(w, "created app key: %s\n", describe(first))
	second, err := c.Legacy.Create(ctx, apikeys.AppKeys(appID), "deploy-2")
	if err != nil {
		return fmt.Errorf("creating an app key: %w", err)
	}
	fmt.Fprintf(w, "created app key: %s\n", describe(second))
	if err := listApp(ctx, w, c); err != nil {
		return err
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "== Ambiguous creates: reconcile by label, never create blindly")
	// The connection breaks after the server made the key: the SDK reports an unknown outcome
	// and ensureAppKey finds the key by its label instead of creating (and revoking) again.
	srv.DropNextAfterApply(apikeystest.RouteLegacyCreate, 1)
	third, err := ensureAppKey(ctx, w, c, "deploy-3")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ensured app key: %s\n", describe(third))
	// The connection breaks before the server made the key: nothing to find, so ensureAppKey
	// creates it again.
	srv.DropNext(apikeystest.RouteLegacyCreate, 1)
	fourth, err := ensureAppKey(ctx, w, c, "deploy-4")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ensured app key: %s\n", describe(fourth))
	if err := listApp(ctx, w, c); err != nil {
		return err
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "== Update, revoke, delete")
	upd, err := c.Legacy.Update(ctx, fourth.Key, "deploy-4-prod")
	if err != nil {
		return fmt.Errorf("updating a label: %w", err)
	}
	fmt.Fprintf(w, "updated label: %q -> %q\n", fourth.Label, upd.Label)
	rev, err := c.Legacy.Revoke(ctx, fourth.Key)
	if err != nil {
		return fmt.Errorf("revoking: %w", err)
	}
	fmt.Fprintf(w, "revoked: %s\n", describe(rev))
	all, err := c.Legacy.List(ctx, apikeys.AppKeys(appID))
	if err != nil {
		return fmt.Errorf("listing app keys: %w", err)
	}
	all = append(all, users...)
	for _, k := range all {
		if _, err := c.Legacy.Delete(ctx, k.Key); err != nil {
			return fmt.Errorf("deleting %q: %w", k.Label, err)
		}
	}
	fmt.Fprintf(w, "deleted %d keys\n", len(all))

	// Errors from the legacy API are *APIError (API LegacyAPI), even when sent with HTTP 200.
	_, err = c.Legacy.Update(ctx, fourth.Key, "again")
	var aerr *apikeys.APIError
	if !errors.As(err, &aerr) {
		return fmt.Errorf("update of a deleted key: want an *APIError, got %v", err)
	}
	fmt.Fprintf(w, "update of a deleted key: *APIError from the %s API (HTTP %d) %q, not found=%t\n",
		aerr.API, aerr.StatusCode, aerr.Message, errors.Is(err, apikeys.ErrNotFound))
	return nil
}

// ensureAppKey makes sure the app has an active key labelled label, creating it at most once
// per call. A create with an unknown outcome is reconciled with FindCreated: if an active key
// with the label is there, the create happened.
func ensureAppKey(ctx context.Context, w io.Writer, c *apikeys.Client, label string) (*apikeys.LegacyKey, error) {
	k, err := c.Legacy.Create(ctx, apikeys.AppKeys(appID), label)
	switch {
	case err == nil:
		return k, nil
	case !apikeys.IsAmbiguous(err):
		return nil, fmt.Errorf("creating app key %q: %w", label, err)
	}
	fmt.Fprintf(w, "create %q: outcome unknown (%v); reconciling\n", label, err)
	k, err = c.Legacy.FindCreated(ctx, apikeys.AppKeys(appID), label)
	switch {
	case err == nil:
		fmt.Fprintf(w, "reconciled: the create happened, found %q\n", label)
		return k, nil
	case !errors.Is(err, apikeys.ErrNotFound):
		return nil, fmt.Errorf("reconciling app key %q: %w", label, err)
	}
	fmt.Fprintf(w, "reconciled: the create did not happen, creating %q again\n", label)
	k, err = c.Legacy.Create(ctx, apikeys.AppKeys(appID), label)
	if err != nil {
		return nil, fmt.Errorf("creating app key %q again: %w", label, err)
	}
	return k, nil
}

func listApp(ctx context.Context, w io.Writer, c *apikeys.Client) error {
	keys, err := c.Legacy.List(ctx, apikeys.AppKeys(appID))
	if err != nil {
		return fmt.Errorf("listing app keys: %w", err)
	}
	active := 0
	fmt.Fprintf(w, "app %s has %d keys:\n", appID, len(keys))
	for _, k := range keys {
		fmt.Fprintf(w, "  - %s\n", describe(k))
		if !k.IsRevoked() {
			active++
		}
	}
	fmt.Fprintf(w, "  (%d active)\n", active)
	return nil
}

// describe shows a key by label, type and state, never its value.
func describe(k *apikeys.LegacyKey) string {
	state := "active"
	if k.IsRevoked() {
		state = "revoked"
		if !k.Revoked.IsZero() {
			state += " at " + k.Revoked.UTC().Format(time.RFC3339)
		}
	}
	return fmt.Sprintf("%q (%s key, %s)", k.Label, k.KeyType, state)
}
