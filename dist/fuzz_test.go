package dist

import (
	"testing"
)

// Workers and clients read headers and records that other processes wrote;
// malformed ones must give errors, never panics.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("v\"x\""), "1700000000000000000", "3", "0,1000")
	f.Add(errorRecord(&wireError{Kind: kindDead, Last: kindPanic, Message: "m", Stack: "s"}), "", "", "")
	f.Add([]byte("e{"), "x", "-1", ",")
	f.Fuzz(func(t *testing.T, rec []byte, deadline, attempts, retry string) {
		if v, fail, err := decodeRecord(rec); err == nil && fail != nil {
			_ = fail.toError("name", "id").Error()
		} else if err == nil && v == nil && len(rec) > 1 {
			t.Fatal("value record without payload")
		}
		h := map[string][]string{hdrID: {"id"}, hdrDeadline: {deadline}, hdrAttempts: {attempts}, hdrRetry: {retry}}
		m, err := parseMeta(h, "name")
		if err == nil {
			if m.maxAttempts < 1 {
				t.Fatalf("maxAttempts %d accepted", m.maxAttempts)
			}
			for i := 1; i < 4; i++ {
				if m.delay(i) < 0 {
					t.Fatal("negative delay")
				}
			}
		}
	})
}
