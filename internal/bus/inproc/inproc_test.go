package inproc

import (
	"context"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestPublishReachesSubscribersUntilUnsubscribed(t *testing.T) {
	b := New()
	var a, c []int64
	unA := b.Subscribe(func(e *kefu.Event) { a = append(a, e.Seq) })
	b.Subscribe(func(e *kefu.Event) { c = append(c, e.Seq) })
	b.Publish(context.Background(), &kefu.Event{Seq: 1})
	unA()
	unA() // idempotent
	b.Publish(context.Background(), &kefu.Event{Seq: 2})
	if len(a) != 1 || a[0] != 1 {
		t.Fatalf("first subscriber got %v, want [1]", a)
	}
	if len(c) != 2 || c[1] != 2 {
		t.Fatalf("second subscriber got %v, want [1 2]", c)
	}
}
