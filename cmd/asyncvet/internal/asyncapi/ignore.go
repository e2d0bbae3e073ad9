package asyncapi

import (
	"go/token"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Directive is the comment that silences a finding on purpose:
//
//	//asyncvet:ignore awaitloop the demo shows the slow loop on purpose
//
// It names one check (or several, comma-separated) and should give a reason.
// It covers its own line and the line below it, so it can end the flagged
// line or stand on the line above.
const Directive = "//asyncvet:ignore"

// Report reports d unless an ignore directive for check covers d.Pos.
func Report(pass *analysis.Pass, check string, d analysis.Diagnostic) {
	if !suppressed(pass, check, d.Pos) {
		pass.Report(d)
	}
}

func suppressed(pass *analysis.Pass, check string, pos token.Pos) bool {
	tf := pass.Fset.File(pos)
	if tf == nil {
		return false
	}
	line := tf.Line(pos)
	for _, f := range pass.Files {
		if pass.Fset.File(f.Pos()) != tf {
			continue
		}
		for _, g := range f.Comments {
			for _, c := range g.List {
				rest, ok := strings.CutPrefix(c.Text, Directive)
				if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
					continue
				}
				fields := strings.Fields(rest)
				if len(fields) == 0 || !slices.Contains(strings.Split(fields[0], ","), check) {
					continue
				}
				if l := tf.Line(c.Pos()); l == line || l+1 == line {
					return true
				}
			}
		}
	}
	return false
}
