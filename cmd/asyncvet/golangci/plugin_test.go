package golangci

import (
	"testing"

	"github.com/golangci/plugin-module-register/register"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPluginRegistersTheSixChecks(t *testing.T) {
	newPlugin, err := register.GetPlugin("asyncvet")
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPlugin(nil)
	if err != nil {
		t.Fatal(err)
	}
	as, err := p.BuildAnalyzers()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range as {
		names = append(names, a.Name)
	}
	want := []string{"unawaited", "awaitloop", "lockawait", "blocking", "ctxforward", "scopewait"}
	if len(names) != len(want) {
		t.Fatalf("analyzers = %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("analyzers = %v, want %v", names, want)
		}
	}
	if m := p.GetLoadMode(); m != register.LoadModeTypesInfo {
		t.Errorf("load mode = %q, want %q", m, register.LoadModeTypesInfo)
	}
}
