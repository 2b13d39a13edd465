package apikeys

import (
	"bytes"
	"encoding/json"
	"sync"
)

// Keeping the JSON object each model (APIKey, Environment, LegacyKey) was
// decoded from, for its Raw.
//
// A model's UnmarshalJSON could keep its object, but it would then decode
// the object a second time, on its own, and copy it: five allocations and
// a copy per key, a List of 1,000 keys twice as slow. So replies decode
// into wire types without that method (apiKeyJSON, environmentJSON,
// legacyKeyJSON), and each model keeps a reference to its reply instead
// (objectRef). Where the objects lie in the body is found by a second pass
// over it the first time one of the reply's models is asked for its Raw:
// a reply whose Raw nobody reads pays nothing for it. The body is the
// call's own and is never reused, so Raw points into it.

// objectsKind says where the objects of a reply are.
type objectsKind uint8

const (
	wholeBody         objectsKind = iota // the body is the object (a model's UnmarshalJSON)
	platformKey                          // payload.apikey
	platformKeys                         // payload.apikeys
	platformEnvs                         // payload.environments
	legacyKeyObjects                     // apiKey
	legacyListObjects                    // list
)

// replyObjects are the objects of one reply's models, found once.
type replyObjects struct {
	body []byte
	kind objectsKind

	once  sync.Once
	spans []span // in the order of the reply's elements, nulls included
}

func newReplyObjects(body []byte, kind objectsKind) *replyObjects {
	return &replyObjects{body: body, kind: kind}
}

// find decodes the body a second time for where its objects lie.
// encoding/json reads the same members as in the first pass (names in any
// letter case), so these are the objects the models were decoded from;
// of a member named twice, the last (the first pass merges both into the
// model).
func (o *replyObjects) find() {
	var (
		platform struct {
			Payload struct {
				APIKey       span   `json:"apikey"`
				APIKeys      []span `json:"apikeys"`
				Environments []span `json:"environments"`
			} `json:"payload"`
		}
		legacy struct {
			APIKey span   `json:"apiKey"`
			List   []span `json:"list"`
		}
	)
	switch o.kind {
	case wholeBody:
		o.spans = []span{o.body}
	case platformKey, platformKeys, platformEnvs:
		if json.Unmarshal(o.body, &platform) != nil {
			return
		}
		switch p := platform.Payload; o.kind {
		case platformKey:
			o.spans = []span{p.APIKey}
		case platformKeys:
			o.spans = p.APIKeys
		default:
			o.spans = p.Environments
		}
	case legacyKeyObjects, legacyListObjects:
		if json.Unmarshal(o.body, &legacy) == nil {
			o.spans = []span{legacy.APIKey}
			if o.kind == legacyListObjects {
				o.spans = legacy.List
			}
		}
	}
}

// objectRef is a model's way to its object: the i-th object of a reply,
// or, for an APIKey's environment (inKey), that object's "environment".
type objectRef struct {
	objs  *replyObjects
	i     int
	inKey bool
}

// object returns the model's object, or nil.
func (r objectRef) object() json.RawMessage {
	if r.objs == nil {
		return nil
	}
	o := r.objs
	o.once.Do(o.find)
	if r.i >= len(o.spans) {
		return nil
	}
	obj := rawObject(o.spans[r.i], o.body)
	if r.inKey && obj != nil {
		var key struct {
			Environment span `json:"environment"`
		}
		if json.Unmarshal(obj, &key) != nil {
			return nil
		}
		return rawObject(key.Environment, obj)
	}
	return obj
}

// ownObject returns the reference of a model whose UnmarshalJSON was
// given b: to a copy, for the decoder may reuse b.
func ownObject(b []byte) objectRef {
	if len(b) == 0 || b[0] != '{' {
		return objectRef{} // null
	}
	return objectRef{objs: newReplyObjects(bytes.Clone(b), wholeBody)}
}

// span is a JSON value as it lies in the body being decoded.
type span []byte

// UnmarshalJSON keeps b itself: rawObject checks that it lies in the body.
func (s *span) UnmarshalJSON(b []byte) error {
	*s = b
	return nil
}

// rawObject returns s as a model's Raw: nil unless it is an object, and a
// copy should encoding/json ever hand UnmarshalJSON bytes from outside
// body. It hands a part of its input today, input[start:end], which keeps
// the input's capacity: s then ends, capacity included, where body does.
func rawObject(s span, body []byte) json.RawMessage {
	if len(s) == 0 || s[0] != '{' {
		return nil
	}
	if cap(body) == 0 || &s[:cap(s)][cap(s)-1] != &body[:cap(body)][cap(body)-1] {
		return bytes.Clone(s)
	}
	return json.RawMessage(s[:len(s):len(s)])
}

// models returns the models of the elements ws of a list reply, made by
// model, without the null elements (which would be nil for the caller to
// trip on), each referring to its object in objs.
func models[W, M any](ws []*W, objs *replyObjects, model func(*W, objectRef) *M) []*M {
	out := make([]*M, 0, len(ws))
	for i, w := range ws {
		if w != nil {
			out = append(out, model(w, objectRef{objs: objs, i: i}))
		}
	}
	return out
}
