package inproc

import (
	"testing"

	"github.com/kefu-chat/kefu/internal/bus/bustest"
	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestConformance(t *testing.T) {
	bustest.Run(t, func(*testing.T) (kefu.Bus, kefu.Bus) { b := New(); return b, b })
}
