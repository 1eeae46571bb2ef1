package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machine is the report's header: what the figures were measured on.
type machine struct {
	date                 time.Time
	cores                int
	cpu, postgres, goVer string
	revision             string
	loadStart, loadEnd   string
}

func machineInfo() machine {
	m := machine{date: time.Now().UTC(), cores: runtime.NumCPU(), goVer: runtime.Version(), cpu: cpuModel(), loadStart: loadAvg(),
		postgres: "unknown"}
	m.revision = "unknown"
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		m.revision = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
			m.revision += " (with uncommitted changes)"
		}
	}
	return m
}

func (m *machine) finish() { m.loadEnd = loadAvg() }

// cpuModel is the first "model name" of /proc/cpuinfo.
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

// loadAvg is the 1, 5 and 15 minute load averages.
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
