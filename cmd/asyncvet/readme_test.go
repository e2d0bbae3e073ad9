package main

import (
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/goasync/async/cmd/asyncvet/internal/vettest"
)

// all runs every check as one analyzer, so that one analysistest run can
// check the wants of all of them in the same files.
var all = &analysis.Analyzer{
	Name: "asyncvet",
	Doc:  "every asyncvet check",
	Run: func(pass *analysis.Pass) (any, error) {
		for _, a := range analyzers {
			p := *pass
			p.Analyzer = a
			if _, err := a.Run(&p); err != nil {
				return nil, err
			}
		}
		return nil, nil
	},
}

func init() {
	seen := map[*analysis.Analyzer]bool{}
	for _, a := range analyzers {
		for _, r := range a.Requires {
			if !seen[r] {
				seen[r] = true
				all.Requires = append(all.Requires, r)
			}
		}
	}
}

// TestReadmeExamples runs every check over the README's examples
// (testdata/src/readme): the mistakes it shows are reported, and nothing
// else is.
func TestReadmeExamples(t *testing.T) {
	analysistest.Run(t, vettest.TestData(), all, "readme")
}
