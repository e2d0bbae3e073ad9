package dist

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// ackPosition reads what the nats client's own metadata parser reads from a
// delivery's reply subject.
func TestAckPosition(t *testing.T) {
	for _, reply := range []string{
		"$JS.ACK.ASYNC_TASKS.echo.1.42.40.1700000000000000000.0",
		"$JS.ACK.ASYNC_TASKS.echo.3.9223372036854775807.40.1700000000000000000.7",
		"$JS.ACK._.ACCHASH.KV_ASYNC_RESULTS.ord.2.99.1.1700000000000000000.0.rnd",
		"$JS.ACK.hub.ACCHASH.S.C.5.6.7.8.9",
	} {
		d, seq, ok := ackPosition(reply)
		md, err := (&nats.Msg{Reply: reply, Sub: &nats.Subscription{}}).Metadata()
		if err != nil {
			t.Fatalf("%s: the client's parser failed: %v", reply, err)
		}
		if !ok || d != md.NumDelivered || seq != md.Sequence.Stream {
			t.Errorf("ackPosition(%q) = %d, %d, %v; want %d, %d, true", reply, d, seq, ok, md.NumDelivered, md.Sequence.Stream)
		}
	}
	for _, reply := range []string{"", "_INBOX.x", "$JS.ACK.S.C.1.2", "$JS.ACK.S.C.x.2.3.4.5", "$JS.ACK.S.C.1.-2.3.4.5", "$JS.ACK.a.b.S.C.1.2.3.4"} {
		if d, seq, ok := ackPosition(reply); ok {
			t.Errorf("ackPosition(%q) = %d, %d, true; want not ok", reply, d, seq)
		}
	}
}

// Whatever the reply subject, ackPosition never panics and agrees with the
// client's parser whenever it accepts one.
func FuzzAckPosition(f *testing.F) {
	f.Add("$JS.ACK.ASYNC_TASKS.echo.1.42.40.1700000000000000000.0")
	f.Add("$JS.ACK._.H.KV_R.ord.2.99.1.17.0.rnd")
	f.Add("$JS.ACK....")
	f.Fuzz(func(t *testing.T, reply string) {
		d, seq, ok := ackPosition(reply)
		if !ok {
			return
		}
		md, err := (&nats.Msg{Reply: reply, Sub: &nats.Subscription{}}).Metadata()
		if err != nil {
			t.Fatalf("ackPosition accepted %q, which the client's parser rejects: %v", reply, err)
		}
		if d != md.NumDelivered || seq != md.Sequence.Stream {
			t.Fatalf("ackPosition(%q) = %d, %d; the client's parser reads %d, %d", reply, d, seq, md.NumDelivered, md.Sequence.Stream)
		}
	})
}
