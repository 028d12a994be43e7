package secret_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/secret"
)

func TestSealOpen(t *testing.T) {
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := box.Seal([]byte("sk-abc"), []byte("ws1"))
	b, _ := box.Seal([]byte("sk-abc"), []byte("ws1"))
	if bytes.Equal(a, b) || bytes.Contains(a, []byte("sk-abc")) {
		t.Fatal("sealing is deterministic or leaks the plain text")
	}
	if p, err := box.Open(a, []byte("ws1")); err != nil || string(p) != "sk-abc" {
		t.Fatalf("open %q %v", p, err)
	}
	if _, err := box.Open(a, []byte("ws2")); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("opened for another owner: %v", err)
	}
	a[len(a)-1] ^= 1
	if _, err := box.Open(a, []byte("ws1")); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("damaged data opened: %v", err)
	}
	other, _ := secret.NewBox(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(b, []byte("ws1")); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("opened with another key: %v", err)
	}
	if _, err := box.Open([]byte{1, 2}, nil); err == nil {
		t.Fatal("short data opened")
	}
}

func TestLoadKeyGeneratesFile(t *testing.T) {
	dir := t.TempDir()
	k1, err := secret.LoadKey("", dir)
	if err != nil || len(k1) != 32 {
		t.Fatalf("%v %v", k1, err)
	}
	st, err := os.Stat(filepath.Join(dir, secret.KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", st, err)
	}
	k2, err := secret.LoadKey("", dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("the key file was not reused")
	}
}

func TestLoadKeyConfigured(t *testing.T) {
	hexKey := strings.Repeat("ab", 32)
	k, err := secret.LoadKey(hexKey, t.TempDir())
	if err != nil || k[0] != 0xab {
		t.Fatalf("%v %v", k, err)
	}
	for _, bad := range []string{"short", strings.Repeat("ab", 31)} {
		if _, err := secret.LoadKey(bad, t.TempDir()); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
