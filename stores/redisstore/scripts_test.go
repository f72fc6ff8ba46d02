package redisstore

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestScriptStatuses checks the scripts' reply statuses against the Go
// constants: statuses lists every status constant, each is a Lua name the
// scripts can use, no script spells a status out as a string, every
// status a script returns is a constant, every constant is returned by
// some script, and no Go file outside the constants spells one out.
func TestScriptStatuses(t *testing.T) {
	consts := statusConsts(t)
	var values []string
	for _, v := range consts {
		values = append(values, v)
	}
	slices.Sort(values)
	listed := slices.Clone(statuses)
	slices.Sort(listed)
	if !slices.Equal(values, listed) {
		t.Fatalf("statuses %v, want every status constant: %v", listed, values)
	}
	if len(slices.Compact(slices.Clone(listed))) != len(listed) {
		t.Fatalf("statuses repeat a value: %v", listed)
	}

	ident := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	keywords := strings.Fields(`and break do else elseif end false for function
		goto if in local nil not or repeat return then true until while`)
	for _, st := range statuses {
		if !ident.MatchString(st) || slices.Contains(keywords, st) {
			t.Errorf("status %q is not a Lua name", st)
		}
	}

	if len(scriptSources) == 0 {
		t.Fatal("no scripts")
	}
	// A status leads a reply table: return {NOTFOUND} or return {OK, ...};
	// check's last argument is the status of a record past its deadline.
	returned := regexp.MustCompile(`return\s*\{\s*([^,}\s]*)`)
	deadArg := regexp.MustCompile(`(?m)\bcheck\(.*,\s*([A-Za-z_]\w*)\)$`)
	quoted := regexp.MustCompile(`'([^']*)'|"([^"]*)"`)
	used := map[string]bool{}
	for i, src := range scriptSources {
		body, ok := strings.CutPrefix(src, luaStatuses)
		if !ok {
			t.Errorf("script %d does not start with luaStatuses", i)
			continue
		}
		for _, m := range quoted.FindAllStringSubmatch(body, -1) {
			if s := m[1] + m[2]; slices.Contains(statuses, s) {
				t.Errorf("script %d spells out status %q: use the Lua name %s", i, s, s)
			}
		}
		var found []string
		for _, re := range []*regexp.Regexp{returned, deadArg} {
			for _, m := range re.FindAllStringSubmatch(body, -1) {
				if m[1] != "dead" { // check's parameter, given by deadArg
					found = append(found, m[1])
				}
			}
		}
		if len(found) == 0 {
			t.Errorf("script %d returns no status", i)
		}
		for _, st := range found {
			if !slices.Contains(statuses, st) {
				t.Errorf("script %d returns %q, which is no status constant", i, st)
			}
			used[st] = true
		}
	}
	for name, v := range consts {
		if !used[v] {
			t.Errorf("%s (%q) is returned by no script", name, v)
		}
	}

	// The Go side reads statuses by their constants only.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if spec, ok := n.(*ast.ValueSpec); ok && len(spec.Names) == 1 && consts[spec.Names[0].Name] != "" {
				return false // the constant itself
			}
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if v, err := strconv.Unquote(lit.Value); err == nil && slices.Contains(statuses, v) {
				t.Errorf("%s: bare status %s: use its constant", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
	}
}

// statusConsts returns the status constants declared in scripts.go (those
// named status...), by name.
func statusConsts(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile("scripts.go")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "scripts.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			spec := s.(*ast.ValueSpec)
			for i, name := range spec.Names {
				if !strings.HasPrefix(name.Name, "status") || i >= len(spec.Values) {
					continue
				}
				lit, ok := spec.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				consts[name.Name] = v
			}
		}
	}
	if len(consts) == 0 {
		t.Fatal("no status constants in scripts.go")
	}
	return consts
}
