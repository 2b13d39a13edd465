package apikeys

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

// EnvironmentFlag says what an environment is used for. Values the SDK
// does not know are kept as they came.
type EnvironmentFlag string

// The documented environment flags.
const (
	Production  EnvironmentFlag = "Production"
	Staging     EnvironmentFlag = "Staging"
	Development EnvironmentFlag = "Development"
)

// Known reports whether f is one of the documented flags.
func (f EnvironmentFlag) Known() bool {
	return f == Production || f == Staging || f == Development
}

// Organization is the Redox organization an environment belongs to.
type Organization struct {
	// ID is the organization's numeric ID, as Environments.List takes it.
	ID int `json:"id"`
}

// Environment is a Platform environment. On an APIKey only ID and Flag are set.
type Environment struct {
	// ID is the environment's ID, a UUID.
	ID string `json:"id"`
	// Name is the environment's name; empty on an APIKey.
	Name string `json:"name,omitempty"`
	// Flag says what the environment is used for (Production, Staging,
	// Development, or a value the SDK does not know, kept as it came).
	Flag EnvironmentFlag `json:"environmentFlag"`
	// Organization is the organization the environment belongs to; nil
	// on an APIKey.
	Organization *Organization `json:"organization,omitempty"`

	obj objectRef // for Raw
}

// Raw returns the JSON object the environment was decoded from, members
// the SDK does not model included; nil for one not decoded from JSON. It
// shares memory with the reply or key it came from, as APIKey.Raw does:
// do not modify it.
func (e Environment) Raw() json.RawMessage { return e.obj.object() }

// UnmarshalJSON decodes an environment and keeps a copy of the object for
// Raw. As for any struct, the members b lacks leave their fields as they
// were.
func (e *Environment) UnmarshalJSON(b []byte) error {
	w := e.json()
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if obj := ownObject(b); obj.objs != nil { // null leaves e as it is
		*e = w.environment(obj)
	}
	return nil
}

// environmentJSON is an Environment as the API sends it (see apiKeyJSON).
type environmentJSON struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Flag         EnvironmentFlag `json:"environmentFlag"`
	Organization *Organization   `json:"organization"`
}

// json returns e's fields as an environmentJSON.
func (e *Environment) json() environmentJSON {
	return environmentJSON{ID: e.ID, Name: e.Name, Flag: e.Flag, Organization: e.Organization}
}

// environment returns the Environment of w, whose object obj is.
func (w *environmentJSON) environment(obj objectRef) Environment {
	return Environment{ID: w.ID, Name: w.Name, Flag: w.Flag, Organization: w.Organization, obj: obj}
}

// EnvironmentsService lists Platform environments. Get it from Client.Environments.
type EnvironmentsService struct {
	client *Client
}

// c returns the Client of s: nil for a nil or zero service, whose calls
// doPlatform refuses.
func (s *EnvironmentsService) c() *Client {
	if s == nil {
		return nil
	}
	return s.client
}

var opListEnvironments = operation{"Environments.List", idempotent}

// environmentsPayload is the list reply; a missing or null list is an
// error, not an empty list (see apiKeysPayload).
type environmentsPayload struct {
	Environments []*environmentJSON `json:"environments"`
	objs         *replyObjects
}

func (p *environmentsPayload) keepObjects(body []byte) { p.objs = newReplyObjects(body, platformEnvs) }

// environments returns the environments of the reply.
func (p *environmentsPayload) environments() []*Environment {
	return models(p.Environments, p.objs, func(w *environmentJSON, obj objectRef) *Environment {
		env := w.environment(obj)
		return &env
	})
}

func (p *environmentsPayload) missing() string {
	if p.Environments == nil {
		return "payload.environments"
	}
	return ""
}

// List returns the environments of an organization.
func (s *EnvironmentsService) List(ctx context.Context, organizationID int) ([]*Environment, error) {
	if organizationID <= 0 {
		return nil, invalid(opListEnvironments.name, "organizationID", "must be positive")
	}
	p, err := doPlatform[environmentsPayload](ctx, s.c(), opListEnvironments, http.MethodGet, nil,
		"v1", "organizations", strconv.Itoa(organizationID), "environments")
	if err != nil {
		return nil, err
	}
	return p.environments(), nil
}
