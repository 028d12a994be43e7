package ws

import (
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestParseResume(t *testing.T) {
	got, err := ParseResume("7:12,9:0")
	if err != nil || len(got) != 2 || got[7] != 12 || got[9] != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := ParseResume(""); err != nil || got != nil {
		t.Fatalf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"7", "7:", ":1", "x:1", "7:-1", "0:1", "7:1,", "7:1;8:2", "99999999999999999999:1"} {
		if _, err := ParseResume(bad); kefu.ErrorCode(err) != kefu.EInvalid {
			t.Errorf("%q: got %v, want invalid", bad, err)
		}
	}
}

func FuzzParseResume(f *testing.F) {
	f.Add("7:12,9:0")
	f.Add("1:1")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseResume(s)
		if err != nil {
			return
		}
		for id, seq := range m {
			if id <= 0 || seq < 0 {
				t.Fatalf("accepted %d:%d from %q", id, seq, s)
			}
		}
	})
}
