package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNotes(t *testing.T) {
	for base, want := range map[string]string{
		"A_Spawn":            "A_Spawn",
		"C_Limit10k_2":       "C_Limit10k/2",
		"G_Stream1M_ordered": "G_Stream1M/ordered",
		"README":             "README",
	} {
		if got := noteTitle(base); got != want {
			t.Errorf("noteTitle(%q) = %q, want %q", base, got, want)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "B_All10k.md"), []byte("Where the time goes.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notes := readNotes(dir)
	raw := synthetic(benchModule, map[string][]string{
		"B_All10k/raw":       runs("%v ns/op", 100, 101, 99, 100, 102, 98),
		"B_All10k/async-all": runs("%v ns/op", 100, 101, 99, 100, 102, 98),
	})
	groups, err := analyze([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	doc := renderMarkdown(report{groups: groups, count: 6, notes: notes})
	i, j := strings.Index(doc, "### B_All10k"), strings.Index(doc, "Where the time goes.")
	if i < 0 || j < i {
		t.Errorf("the note is not under its workload's table:\n%s", doc)
	}
}
