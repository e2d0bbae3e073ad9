package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machine records where and when the benchmarks ran.
type machine struct {
	Date       time.Time
	NProc      string // `nproc`
	CPU        string // model name from /proc/cpuinfo
	GOMAXPROCS int
	GoVersion  string
	Node       string
	Python     string
	Kernel     string
	LoadStart  string // /proc/loadavg when the run began
	LoadEnd    string
	Duration   time.Duration
}

func readMachine(root string) machine {
	m := machine{
		Date:       time.Now().UTC(),
		NProc:      command(root, "nproc"),
		CPU:        cpuModel(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  command(root, "go", "env", "GOVERSION"),
		Node:       command(root, "node", "--version"),
		Python:     command(root, pythonBinary(), "--version"),
		Kernel:     command(root, "uname", "-sr"),
		LoadStart:  loadAvg(),
	}
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		m.GoVersion += " (GOMAXPROCS=" + v + " set in the environment)"
	}
	return m
}

func command(dir, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAvg is the 1, 5 and 15 minute load averages: on a shared machine they
// say how much else was running.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
