package sqlite

import (
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kefu.Store { return open(t) })
}

func BenchmarkStoreAppend(b *testing.B) { storetest.BenchAppend(b, open(b)) }
func BenchmarkStoreResume(b *testing.B) { storetest.BenchResume(b, open(b)) }
