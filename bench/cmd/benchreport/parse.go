package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// run is a parsed `go test -bench` output: the configuration lines
// ("key: value", as golang.org/x/perf/benchfmt reads them) and every
// result, the repeated runs of one benchmark gathered under its name.
type run struct {
	config map[string]string
	order  []string // benchmark names in order of first appearance
	byName map[string]*series
}

// series is every run of one benchmark: values by unit.
type series struct {
	name  string // without the Benchmark prefix and the -GOMAXPROCS suffix
	pkg   string
	procs int
	units map[string][]float64
}

// median of the unit's values, and whether there were any.
func (s *series) median(unit string) (float64, bool) {
	if s == nil {
		return 0, false
	}
	v := s.units[unit]
	if len(v) == 0 {
		return 0, false
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2], true
	}
	return (c[n/2-1] + c[n/2]) / 2, true
}

// spread is (max-min)/median of the unit's values: how noisy it was.
func (s *series) spread(unit string) float64 {
	v := s.units[unit]
	med, ok := s.median(unit)
	if !ok || med == 0 {
		return 0
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return (hi - lo) / med
}

func (s *series) runs() int { return len(s.units["ns/op"]) }

var (
	configLine = regexp.MustCompile(`^([a-z][a-zA-Z0-9_-]*):\s*(.*)$`)
	procSuffix = regexp.MustCompile(`-(\d+)$`)
)

func parse(r io.Reader) (*run, error) {
	out := &run{config: map[string]string{}, byName: map[string]*series{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	pkg := ""
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if m := configLine.FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "Benchmark") {
			if m[1] == "pkg" {
				pkg = m[2]
			}
			if _, seen := out.config[m[1]]; !seen {
				out.config[m[1]] = m[2]
			}
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a name printed before a failure or log output
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		procs := 1
		if m := procSuffix.FindStringSubmatch(name); m != nil {
			procs, _ = strconv.Atoi(m[1])
			name = strings.TrimSuffix(name, m[0])
		}
		key := pkg + "\x00" + name
		s := out.byName[key]
		if s == nil {
			s = &series{name: name, pkg: pkg, procs: procs, units: map[string][]float64{}}
			out.byName[key] = s
			out.order = append(out.order, key)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q: %v", lineNo, f[i], err)
			}
			s.units[f[i+1]] = append(s.units[f[i+1]], v)
		}
	}
	return out, sc.Err()
}

// benchPkg is the import path of the comparison suite; results from other
// packages (the main module's micro-benchmarks) go to an appendix.
const benchPkg = "github.com/sessionkit/sessionkit/bench"

// get returns the suite's series called name, or nil.
func (r *run) get(name string) *series { return r.byName[benchPkg+"\x00"+name] }

// others returns the results of every other package, in order.
func (r *run) others() []*series {
	var out []*series
	for _, k := range r.order {
		if s := r.byName[k]; s.pkg != benchPkg {
			out = append(out, s)
		}
	}
	return out
}
