package core

import (
	"bytes"
	"encoding/base64"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewTokenShape(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		tok, err := newToken(randReader())
		require.NoError(t, err)
		require.True(t, validToken(tok), "issued token fails its own shape check: %q", tok)
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		require.NoError(t, err)
		require.Len(t, raw, 32, "256 bits")
		require.False(t, seen[tok], "duplicate token")
		seen[tok] = true
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestNewTokenRandomFailure(t *testing.T) {
	tok, err := newToken(failingReader{})
	assert.ErrorIs(t, err, ErrRandom)
	assert.Empty(t, tok, "never a weaker token")
	// A short read is a failure too, not a shorter token.
	tok, err = newToken(bytes.NewReader(make([]byte, 16)))
	assert.ErrorIs(t, err, ErrRandom)
	assert.Empty(t, tok)
}

func TestValidToken(t *testing.T) {
	good, err := newToken(randReader())
	require.NoError(t, err)
	cases := map[string]bool{
		good:                           true,
		"":                             false,
		good[:42]:                      false,
		good + "A":                     false,
		good[:42] + "+":                false,
		good[:42] + "/":                false,
		good[:42] + "=":                false,
		good[:42] + "B":                false, // stray low bits: not canonical
		good[:42] + "w":                true,  // 'w' = 48, low bits zero
		strings.Repeat("é", 21) + "A":  false,
		"../" + good[3:]:               false,
		good[:10] + "\x00" + good[11:]: false,
	}
	for tok, want := range cases {
		assert.Equal(t, want, validToken(tok), "%q", tok)
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256("abc"), the FIPS 180-2 test vector: hashToken is plain SHA-256.
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hashToken("abc"))
	tok, _ := newToken(randReader())
	id := hashToken(tok)
	assert.Len(t, id, 64)
	assert.NotContains(t, id, tok)
	assert.Equal(t, id[:16], shortID(id))
}

func TestCookieValues(t *testing.T) {
	v, n := cookieValues(`a=1; session=xyz; b=2`, "session")
	assert.Equal(t, "xyz", v)
	assert.Equal(t, 1, n)
	v, n = cookieValues(`session="quoted"`, "session")
	assert.Equal(t, "quoted", v)
	assert.Equal(t, 1, n)
	_, n = cookieValues(`session=a;session=b`, "session")
	assert.Equal(t, 2, n)
	_, n = cookieValues(`__Host-session=a; xsession=b; session2=c`, "session")
	assert.Equal(t, 0, n, "names match exactly")
	_, n = cookieValues(`garbage;;;=;session`, "session")
	assert.Equal(t, 0, n)
}

// TestCookieNameUnicodeSpaceIsAnotherCookie: a browser keeps
// "\u2000__Host-session" as an ordinary cookie that anyone who can set a
// cookie for the host may plant; only ASCII space and tab around a name
// are whitespace. Before the fix this read the planted value (TrimSpace).
func TestCookieNameUnicodeSpaceIsAnotherCookie(t *testing.T) {
	for _, name := range []string{
		"\u2000__Host-session", "\u00a0__Host-session", "\u0085__Host-session",
		"\u3000__Host-session", "\u1680__Host-session", "__Host-session\u2000",
		"\ufeff__Host-session", "\v__Host-session", "\f__Host-session",
		"\r__Host-session", "\n__Host-session", "__Host\u2010session", "__host-session",
	} {
		_, n := cookieValues(name+"=planted", "__Host-session")
		assert.Equal(t, 0, n, "%q is not the session cookie", name)
		v, n := cookieValues(name+"=planted; __Host-session=real", "__Host-session")
		assert.Equal(t, 1, n, "%q beside the real cookie is no ambiguity", name)
		assert.Equal(t, "real", v)
	}
	v, n := cookieValues(" \t__Host-session \t= real \t;x=1", "__Host-session")
	assert.Equal(t, 1, n, "ASCII space and tab are trimmed")
	assert.Equal(t, "real", v)
}

// TestTwoAuthorizationHeadersAreAmbiguous: two bearer tokens are refused
// alike, as two cookies are; before, the first one won.
func TestTwoAuthorizationHeadersAreAmbiguous(t *testing.T) {
	a, _ := newToken(randReader())
	b, _ := newToken(randReader())
	m := &Manager{cfg: Config{Transport: TransportHeader}}
	for _, auth := range [][]string{{"Bearer " + a, "Bearer " + b}, {"Bearer " + a, "Bearer " + a}} {
		tok, presented, _, err := m.tokenFrom(&Request{Authorization: auth})
		assert.ErrorIs(t, err, errAmbiguousToken, "%q", auth)
		assert.True(t, presented)
		assert.Empty(t, tok)
	}
	tok, _, _, err := m.tokenFrom(&Request{Authorization: []string{"Basic eDp5", "Bearer " + a}})
	require.NoError(t, err, "a Basic header beside one bearer token is not a second token")
	assert.Equal(t, a, tok)
}

func TestBearer(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer abc":   "abc",
		"BEARER  abc":  "abc",
		"Bearer\tabc":  "abc",
		"Bearerabc":    "",
		"Basic abc":    "",
		"Bear":         "",
		"":             "",
		"Bearer":       "",
		"bearer":       "",
		"Bearer ":      "",
		"Token Bearer": "",
	} {
		got, _ := bearer(h)
		assert.Equal(t, want, got, "%q", h)
	}
	for h, presented := range map[string]bool{"Bearer": true, "bearer": true, "Bearer x": true, "": false, "Basic x": false, "Bearerx": false} {
		_, got := bearer(h)
		assert.Equal(t, presented, got, "%q presents a token", h)
	}
}

// TestNoVariableTimeTokenComparison: the token is the one secret the core
// holds, and it is never compared with == or != (whose running time
// depends on where the first difference is), only through
// crypto/subtle. A stored session is found by the token's SHA-256, never
// by comparing tokens, so its lookup time depends on a hash the client
// cannot steer. Comparing with "" (presence, not content) is allowed.
func TestNoVariableTimeTokenComparison(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	require.NoError(t, err)
	// A variable or field holding a token: an unexported name with
	// "token" in it (exported names here are constants such as
	// TokenLength and EventInvalidToken, not secrets).
	named := func(name string) bool {
		return name != "" && !ast.IsExported(name) && strings.Contains(strings.ToLower(name), "token")
	}
	secret := func(e ast.Expr) bool {
		switch x := e.(type) {
		case *ast.Ident:
			return named(x.Name)
		case *ast.SelectorExpr:
			return named(x.Sel.Name)
		}
		return false
	}
	empty := func(e ast.Expr) bool {
		lit, ok := e.(*ast.BasicLit)
		return ok && lit.Value == `""`
	}
	var found []string
	checked := 0
	for _, pkg := range pkgs {
		for _, file := range pkg.Files {
			ast.Inspect(file, func(n ast.Node) bool {
				b, ok := n.(*ast.BinaryExpr)
				if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
					return true
				}
				if (secret(b.X) || secret(b.Y)) && !empty(b.X) && !empty(b.Y) {
					found = append(found, fset.Position(b.Pos()).String())
				}
				checked++
				return true
			})
		}
	}
	require.NotZero(t, checked, "no comparisons found: the scan is not reading the package")
	assert.Empty(t, found, "tokens compared in variable time")
}
