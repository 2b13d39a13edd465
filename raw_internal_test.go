package apikeys

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRawObjectSharesTheBody: encoding/json hands span.UnmarshalJSON a part
// of its input, so a model's Raw points into the reply body rather than
// copying it; bytes from elsewhere are copied.
func TestRawObjectSharesTheBody(t *testing.T) {
	body := []byte(`{"payload":{"apikeys":[{"id":"a"},{"id":"b"}]}}`)
	var spans struct {
		Payload struct {
			APIKeys []span `json:"apikeys"`
		} `json:"payload"`
	}
	require.NoError(t, json.Unmarshal(body, &spans))
	require.Len(t, spans.Payload.APIKeys, 2)
	raw := rawObject(spans.Payload.APIKeys[1], body)
	assert.JSONEq(t, `{"id":"b"}`, string(raw))
	assert.Same(t, &body[len(`{"payload":{"apikeys":[{"id":"a"},`)], &raw[0], "shared, not copied")
	assert.Equal(t, len(raw), cap(raw), "capped: appending to Raw cannot write into the body")

	elsewhere := []byte(`{"id":"b"}`)
	cp := rawObject(elsewhere, body)
	assert.JSONEq(t, `{"id":"b"}`, string(cp))
	assert.NotSame(t, &elsewhere[0], &cp[0], "copied")
	assert.Nil(t, rawObject(span(`null`), body))
}
