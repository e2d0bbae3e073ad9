package dist

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The JSON codec's shortcuts for strings give what encoding/json gives,
// bytes and errors alike.
func FuzzJSONCodecStrings(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted"`, `"`, `""`, `"a\"b"`, `"\u00e9"`, "é", "<&>", "a\tb", "\x7f", "\xff", `"\xff"`, `"é"`, " \"x\" ", `"a`, "null", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := JSON.Marshal(s)
		want, werr := json.Marshal(s)
		if !bytes.Equal(got, want) || (err == nil) != (werr == nil) {
			t.Fatalf("Marshal(%q) = %q, %v; encoding/json: %q, %v", s, got, err, want, werr)
		}
		// s as the encoded bytes, into a string that holds a value already.
		gv, wv := "before", "before"
		gerr, werr := JSON.Unmarshal([]byte(s), &gv), json.Unmarshal([]byte(s), &wv)
		if gv != wv || (gerr == nil) != (werr == nil) {
			t.Fatalf("Unmarshal(%q) = %q, %v; encoding/json: %q, %v", s, gv, gerr, wv, werr)
		}
	})
}

func TestJSONCodecShortcuts(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{`"plain text"`, "plain text"},
		{`"caf` + "\u00e9" + `"`, "caf\u00e9"},
		{`"a\nb"`, "a\nb"},             // escape: encoding/json decodes it
		{`"\u00e9"`, "\u00e9"},         // likewise
		{`"` + "\xff" + `"`, "\ufffd"}, // invalid UTF-8 is replaced, as encoding/json does
		{` "x"`, "x"},                  // space before: encoding/json
	} {
		var v string
		if err := JSON.Unmarshal([]byte(c.in), &v); err != nil || v != c.want {
			t.Errorf("Unmarshal(%q) = %q, %v; want %q", c.in, v, err, c.want)
		}
	}
	for in, want := range map[string]string{"plain": `"plain"`, "a<b": `"a\u003cb"`, "tab\t": `"tab\t"`, "é": `"é"`} {
		if got, err := JSON.Marshal(in); err != nil || string(got) != want {
			t.Errorf("Marshal(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func BenchmarkJSONCodecString(b *testing.B) {
	data, _ := JSON.Marshal(payload)
	b.Run("shortcut", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v string
			_ = JSON.Unmarshal(data, &v)
			_, _ = JSON.Marshal(v)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v string
			_ = json.Unmarshal(data, &v)
			_, _ = json.Marshal(v)
		}
	})
}
