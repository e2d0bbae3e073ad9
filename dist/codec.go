package dist

import (
	"encoding/json"
	"unicode/utf8"
)

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

// JSON is the default codec: encoding/json. Strings that need no escaping,
// the most common request and result, skip its reflection both ways; the
// bytes and values are the same as encoding/json's.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) Marshal(v any) ([]byte, error) {
	if s, ok := v.(string); ok && plainASCII(s) {
		b := make([]byte, len(s)+2)
		b[0], b[len(b)-1] = '"', '"'
		copy(b[1:], s)
		return b, nil
	}
	return json.Marshal(v)
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*string); ok && len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' {
		if s := data[1 : len(data)-1]; literalString(s) {
			*p = string(s)
			return nil
		}
	}
	return json.Unmarshal(data, v)
}

// plainASCII reports whether encoding/json writes s between quotes as it
// is: printable ASCII without the characters it escapes (its HTML escaping
// included).
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// literalString reports whether s, the inside of a JSON string, decodes to
// its own bytes: no quote, backslash or control character, valid UTF-8.
func literalString(s []byte) bool {
	ascii := true
	for _, c := range s {
		switch {
		case c < 0x20, c == '"', c == '\\':
			return false
		case c >= 0x80:
			ascii = false
		}
	}
	return ascii || utf8.Valid(s)
}
