package routing

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// FuzzRule feeds the admin API's decoder arbitrary JSON: a rule that
// validates must survive a JSON round trip unchanged and evaluate against
// any facts without panicking.
func FuzzRule(f *testing.F) {
	f.Add([]byte(`{"event":"conversation_created","conditions":[{"field":"page_url","op":"contains","value":"/pricing"}],"actions":[{"type":"set_team","value":"2"}]}`), "https://x/pricing", "hi")
	f.Add([]byte(`{"event":"message_received","match":"any","conditions":[{"field":"message","op":"regex","value":"(?i)退款|refund"},{"field":"contact.plan","op":"equals","value":"vip"}],"actions":[{"type":"add_label","value":"vip"}]}`), "", "I want a REFUND")
	f.Add([]byte(`{"event":"message_received","conditions":[{"field":"inbox_id","op":"equals","value":"3"}],"actions":[{"type":"set_priority","value":"urgent"}]}`), "", "")
	f.Fuzz(func(t *testing.T, data []byte, page, message string) {
		var r Rule
		if json.Unmarshal(data, &r) != nil || r.Validate() != nil {
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Rule
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Validate() != nil || !reflect.DeepEqual(normRule(back), normRule(r)) {
			t.Fatalf("round trip changed the rule: %s", b)
		}
		for _, ev := range []string{EventConversationCreated, EventMessageReceived} {
			Evaluate(r, Facts{Event: ev, InboxID: 3, PageURL: page, Message: message, Contact: map[string]any{"plan": message, "n": 1.5}})
		}
	})
}

// normRule treats a nil and an empty slice alike, as JSON does.
func normRule(r Rule) Rule {
	if len(r.Conditions) == 0 {
		r.Conditions = nil
	}
	if len(r.Actions) == 0 {
		r.Actions = nil
	}
	return r
}

// FuzzSchedule checks the promises of business hours on arbitrary
// schedules and instants: NextOpening is open, is not before the instant
// asked about, is that instant when already open, and nothing opens in
// between.
func FuzzSchedule(f *testing.F) {
	f.Add([]byte(`{"time_zone":"America/New_York","weekly":{"0":[{"start":150,"end":300}],"5":[{"start":1320,"end":120}]},"holidays":["2026-03-13"]}`), int64(1772946000))
	f.Add([]byte(`{"time_zone":"Asia/Shanghai","weekly":{"1":[{"start":540,"end":1080}]}}`), int64(1790000000))
	f.Add([]byte(`{"time_zone":"America/Havana","weekly":{"0":[{"start":0,"end":120}]}}`), int64(1772942400))
	f.Add([]byte(`{"time_zone":"UTC"}`), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, unix int64) {
		var s Schedule
		if json.Unmarshal(data, &s) != nil {
			return
		}
		h, err := s.Compile()
		if err != nil {
			return
		}
		// Keep the instant within a few centuries of now, where zone data
		// means something.
		at := time.Unix(1e9+unix%(4e9), 0).UTC()
		got, ok := h.NextOpening(at)
		if h.Open(at) {
			if !ok || !got.Equal(at) {
				t.Fatalf("open at %s but NextOpening = %s, %v", at, got, ok)
			}
			return
		}
		if !ok {
			return
		}
		if !got.After(at) || !h.Open(got) {
			t.Fatalf("NextOpening(%s) = %s: not after, or not open", at, got)
		}
		if probe := got.Add(-time.Second); probe.After(at) && h.Open(probe) {
			t.Fatalf("NextOpening(%s) = %s, but already open at %s", at, got, probe)
		}
	})
}
