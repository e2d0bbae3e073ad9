package main

import (
	"os"
	"path/filepath"
	"strings"
)

// notesDir holds written analyses that the report places under a workload's
// table, so they survive each regeneration of BENCHMARKS.md: the file for a
// workload of the bench suite is its name with every "/" replaced by "_",
// plus ".md" (C_Limit10k_2.md for C_Limit10k/2). A note says when and how
// its figures were measured.
const notesDir = "docs/bench/notes"

// readNotes reads the notes in dir, keyed by the title they belong to.
func readNotes(dir string) map[string]string {
	notes := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		notes[noteTitle(strings.TrimSuffix(filepath.Base(f), ".md"))] = string(b)
	}
	return notes
}

// noteTitle undoes the file naming: a workload's name holds no "_" but the
// one after its letter (A_Spawn; C_Limit10k_2 → C_Limit10k/2).
func noteTitle(base string) string {
	letter, rest, ok := strings.Cut(base, "_")
	if !ok {
		return base
	}
	return letter + "_" + strings.ReplaceAll(rest, "_", "/")
}
