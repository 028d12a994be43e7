package natsbus

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/bus/bustest"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// natsURL is the NATS server these tests need; like PostgreSQL it is
// required, and a missing server fails the test.
func natsURL() string {
	if u := os.Getenv("KEFU_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

func TestConformance(t *testing.T) {
	bustest.Run(t, func(t *testing.T) (kefu.Bus, kefu.Bus) {
		subject := fmt.Sprintf("kefutest.%d", time.Now().UnixNano())
		a, err := New(natsURL(), subject, nil)
		if err != nil {
			t.Fatalf("NATS required at %s: %v", natsURL(), err)
		}
		b, err := New(natsURL(), subject, nil)
		if err != nil {
			t.Fatalf("NATS required at %s: %v", natsURL(), err)
		}
		t.Cleanup(func() { a.Close(); b.Close() })
		return a, b
	})
}
