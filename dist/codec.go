package dist

import "encoding/json"

// A Codec turns requests and responses into bytes and back. Clients and
// workers of one function must use the same codec; a task carries its
// codec's name, and a worker with another codec fails the task with a
// [RemoteError] instead of misreading it.
type Codec interface {
	// Name identifies the encoding, such as "json".
	Name() string
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into the value v points to.
	Unmarshal(data []byte, v any) error
}

// JSON is the default codec: encoding/json.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Name() string                       { return "json" }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
