package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
)

// profileFiles are the profiles of one unmeasured round.
type profileFiles struct {
	scenario, target        string
	cpu, allocsBase, allocs string
}

// profileRound runs fn (one round) under the CPU profiler and writes the
// allocation profile before and after it: allocations are cumulative, so
// the round's own are `go tool pprof -base <allocsBase> <allocs>`. The load
// generator runs in this process too; its goroutines are labelled
// bench=driver (-tagignore=bench=driver leaves them out).
func profileRound(dir, key, target string, fn func()) (profileFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return profileFiles{}, err
	}
	base := filepath.Join(dir, key+"-"+target)
	pf := profileFiles{scenario: key, target: target, cpu: base + ".cpu.pprof", allocsBase: base + ".allocs-base.pprof", allocs: base + ".allocs.pprof"}
	if err := writeProfile("allocs", pf.allocsBase); err != nil {
		return pf, err
	}
	f, err := os.Create(pf.cpu)
	if err != nil {
		return pf, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return pf, err
	}
	fn()
	pprof.StopCPUProfile()
	return pf, writeProfile("allocs", pf.allocs)
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup(name).WriteTo(f, 0)
}

// top is `go tool pprof -top` of a profile without the load generator, n
// lines, or the reason it could not be read.
func top(n int, args ...string) string {
	cmd := exec.Command("go", append([]string{"tool", "pprof", "-top", "-tagignore=bench=driver", fmt.Sprintf("-nodecount=%d", n)}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return "(go tool pprof failed: " + err.Error() + ")"
	}
	// Drop the file, build and time headers: they name this machine's temp paths.
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}
