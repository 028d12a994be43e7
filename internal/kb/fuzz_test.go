package kb

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTokens checks that any visitor text tokenizes without panicking,
// into non-empty valid tokens, and that Normalize (the cache key) is
// idempotent.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"", "退款多久到账？", "Ｈｅｌｌｏ　ＷＯＲＬＤ", "can't return order 2026112200017", "a'b''c", "\xff\xfe", "ｉＰｈｏｎｅ１５ 支持7天无理由", "İstanbul ǅ ß"} {
		f.Add(s)
	}
	tok := NewTokenizer(Bigrams{})
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range tok.Tokens(s) {
			if w == "" || strings.TrimSpace(w) != w || !utf8.ValidString(w) && utf8.ValidString(s) {
				t.Fatalf("Tokens(%q) has bad token %q", s, w)
			}
		}
		n := Normalize(s)
		if m := Normalize(n); m != n {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", s, n, m)
		}
	})
}
