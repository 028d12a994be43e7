package auth

import (
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse 电池")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash %q is not argon2id", h)
	}
	if !CheckPassword(h, "correct horse 电池") {
		t.Fatal("right password rejected")
	}
	for _, bad := range []string{"", "correct horse", "correct horse 电池 "} {
		if CheckPassword(h, bad) {
			t.Fatalf("wrong password %q accepted", bad)
		}
	}
	h2, _ := HashPassword("correct horse 电池")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestCheckPasswordRejectsMalformedHashes(t *testing.T) {
	for _, enc := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AA"} {
		if CheckPassword(enc, "x") {
			t.Fatalf("malformed hash %q accepted", enc)
		}
	}
}

func TestTokensArePrefixedUniqueAndHashed(t *testing.T) {
	a, ha := NewToken(kefu.SessionAgent)
	b, hb := NewToken(kefu.SessionAgent)
	v, _ := NewToken(kefu.SessionVisitor)
	if a == b || ha == hb {
		t.Fatal("tokens repeat")
	}
	if !strings.HasPrefix(a, "kfa_") || !strings.HasPrefix(v, "kfv_") {
		t.Fatalf("prefixes wrong: %q %q", a, v)
	}
	if HashToken(a) != ha || strings.Contains(ha, a) {
		t.Fatal("hash mismatch or leaks token")
	}
}

func TestBearerToken(t *testing.T) {
	cases := map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer": "", "": ""}
	for in, want := range cases {
		if got := BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIdentifierHash(t *testing.T) {
	// Known answer from `printf user-42 | openssl dgst -sha256 -hmac secret`.
	const want = "e286b7b944100ab478fe553b39122922de0000aee1d04087dc3e96eefc3a8d47"
	got := IdentifierHash("secret", "user-42")
	if got != want {
		t.Fatalf("IdentifierHash = %s, want %s", got, want)
	}
	if !CheckIdentifierHash("secret", "user-42", strings.ToUpper(got)) {
		t.Fatal("own hash rejected")
	}
	if CheckIdentifierHash("secret", "user-43", got) || CheckIdentifierHash("other", "user-42", got) {
		t.Fatal("hash accepted for wrong id or secret")
	}
}
