package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// The suite's verdicts are only as good as diff, so diff has tests of its
// own: it must see the differences stores get wrong in practice.
func TestDiff(t *testing.T) {
	now := kefu.Now()
	base := kefu.Conversation{ID: 1, Labels: []string{}, CreatedAt: now}
	for _, tc := range []struct {
		name string
		edit func(c *kefu.Conversation)
		want string // substring of the report; "" for equal
	}{
		{"equal", func(c *kefu.Conversation) {}, ""},
		{"nil versus empty", func(c *kefu.Conversation) { c.Labels = nil }, "Labels: nil, []string{}"},
		{"location", func(c *kefu.Conversation) { c.CreatedAt = c.CreatedAt.In(time.FixedZone("CST", 8*3600)) }, "CreatedAt:"},
		{"precision", func(c *kefu.Conversation) { c.CreatedAt = c.CreatedAt.Add(time.Nanosecond) }, "CreatedAt:"},
		{"pointer", func(c *kefu.Conversation) { c.SnoozedUntil = &now }, "SnoozedUntil: &"},
		{"field", func(c *kefu.Conversation) { c.LastSeq = 3 }, "LastSeq: 3, 0"},
	} {
		got := base
		got.Labels = []string{}
		tc.edit(&got)
		d := diff(&got, &base)
		switch {
		case tc.want == "" && d != "":
			t.Errorf("%s: diff = %q, want none", tc.name, d)
		case tc.want != "" && !strings.Contains(d, tc.want):
			t.Errorf("%s: diff = %q, want it to contain %q", tc.name, d, tc.want)
		}
	}
	if d := diff([]*kefu.Message{{Seq: 1}}, []*kefu.Message{{Seq: 2}}); !strings.Contains(d, "[0].Seq: 1, 2") {
		t.Errorf("slice diff = %q, want the element's field named", d)
	}
}
