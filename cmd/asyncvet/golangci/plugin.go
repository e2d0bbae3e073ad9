// Package golangci registers asyncvet's checks as a golangci-lint module
// plugin named "asyncvet". Build a golangci-lint that includes it with
// `golangci-lint custom` and a .custom-gcl.yml such as
//
//	version: v2.15.0
//	plugins:
//	  - module: github.com/goasync/async/cmd/asyncvet
//	    import: github.com/goasync/async/cmd/asyncvet/golangci
//	    version: v0.1.0          # or path: ./cmd/asyncvet for a local copy
//
// then enable it in .golangci.yml:
//
//	linters:
//	  enable: [asyncvet]
//	  settings:
//	    custom:
//	      asyncvet:
//	        type: module
//	        description: async/await mistakes (goasync)
//
// Every check runs; silence one finding with //asyncvet:ignore CHECK reason
// (or golangci-lint's //nolint:asyncvet). golangci-lint shows one issue per
// line by default; set issues.uniq-by-line: false to see every check's
// finding on a line. Tried with golangci-lint v2.15.0 (x/tools v0.52.0, as
// here).
package golangci

import (
	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"

	"github.com/goasync/async/cmd/asyncvet/passes"
)

// Registration at import is how golangci-lint's module plugins work: the
// custom build imports this package for its side effect.
func init() { register.Plugin("asyncvet", New) }

type plugin struct{}

// New returns the plugin; asyncvet has no settings.
func New(any) (register.LinterPlugin, error) { return plugin{}, nil }

// BuildAnalyzers returns the six checks.
func (plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	return passes.All(), nil
}

// GetLoadMode asks for type information: every check needs it.
func (plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
