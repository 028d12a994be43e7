package routing

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func TestEvaluate(t *testing.T) {
	setTeam := []Action{{ActionSetTeam, "3"}}
	pricing := Rule{Event: EventConversationCreated,
		Conditions: []Condition{{FieldPageURL, OpContains, "/pricing"}}, Actions: setTeam}
	facts := Facts{Event: EventConversationCreated, InboxID: 7, PageURL: "https://shop.example/Pricing?plan=pro",
		Message: "Hi, I need a REFUND for order #123",
		Contact: map[string]any{"plan": "vip", "seats": float64(25), "verified": true, "n": 3, "big": int64(9), "none": nil, "other": []string{"x"}}}
	msg := facts
	msg.Event = EventMessageReceived
	cond := func(field, op, value string) Rule {
		return Rule{Event: EventConversationCreated, Conditions: []Condition{{field, op, value}}, Actions: setTeam}
	}

	tests := []struct {
		name  string
		rule  Rule
		facts Facts
		want  bool
	}{
		{"page url contains, ignoring case", pricing, facts, true},
		{"other event", pricing, msg, false},
		{"no conditions: every event of its kind", Rule{Event: EventMessageReceived, Actions: setTeam}, msg, true},
		{"no conditions, other event", Rule{Event: EventMessageReceived, Actions: setTeam}, facts, false},
		{"contains misses", cond(FieldPageURL, OpContains, "/billing"), facts, false},
		{"message keyword", Rule{Event: EventMessageReceived, Conditions: []Condition{{FieldMessage, OpContains, "refund"}}, Actions: setTeam}, msg, true},
		{"equals ignores case", cond("contact.plan", OpEquals, "VIP"), facts, true},
		{"equals is whole value", cond("contact.plan", OpEquals, "vi"), facts, false},
		{"starts_with", cond(FieldPageURL, OpStartsWith, "HTTPS://shop."), facts, true},
		{"starts_with misses", cond(FieldPageURL, OpStartsWith, "http://"), facts, false},
		{"regex", cond(FieldMessage, OpRegex, `order #\d+`), facts, true},
		{"regex is case sensitive", cond(FieldMessage, OpRegex, `refund`), facts, false},
		{"regex (?i)", cond(FieldMessage, OpRegex, `(?i)refund`), facts, true},
		{"invalid regex never holds", cond(FieldMessage, OpRegex, `(`), facts, false},
		{"unknown op never holds", cond(FieldMessage, "like", "refund"), facts, false},
		{"inbox id", cond(FieldInboxID, OpEquals, "7"), facts, true},
		{"other inbox id", cond(FieldInboxID, OpEquals, "8"), facts, false},
		{"number attribute", cond("contact.seats", OpEquals, "25"), facts, true},
		{"bool attribute", cond("contact.verified", OpEquals, "true"), facts, true},
		{"int attribute", cond("contact.n", OpEquals, "3"), facts, true},
		{"int64 attribute", cond("contact.big", OpEquals, "9"), facts, true},
		{"other attribute type", cond("contact.other", OpContains, "x"), facts, true},
		{"missing attribute does not hold", cond("contact.tier", OpEquals, ""), facts, false},
		{"null attribute does not hold", cond("contact.none", OpEquals, ""), facts, false},
		{"nil contact map", cond("contact.plan", OpEquals, "vip"), Facts{Event: EventConversationCreated}, false},
		{"empty page url equals empty", cond(FieldPageURL, OpEquals, ""), Facts{Event: EventConversationCreated}, true},
		{"all: every condition", Rule{Event: EventConversationCreated, Actions: setTeam, Conditions: []Condition{
			{FieldPageURL, OpContains, "pricing"}, {"contact.plan", OpEquals, "vip"}}}, facts, true},
		{"all: one fails", Rule{Event: EventConversationCreated, Actions: setTeam, Conditions: []Condition{
			{FieldPageURL, OpContains, "pricing"}, {"contact.plan", OpEquals, "free"}}}, facts, false},
		{"any: one holds", Rule{Event: EventConversationCreated, Match: MatchAny, Actions: setTeam, Conditions: []Condition{
			{FieldPageURL, OpContains, "/billing"}, {FieldMessage, OpContains, "refund"}}}, facts, true},
		{"any: none holds", Rule{Event: EventConversationCreated, Match: MatchAny, Actions: setTeam, Conditions: []Condition{
			{FieldPageURL, OpContains, "/billing"}, {FieldMessage, OpContains, "invoice"}}}, facts, false},
		{"any without conditions", Rule{Event: EventConversationCreated, Match: MatchAny, Actions: setTeam}, facts, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.rule, tt.facts)
			if tt.want && !reflect.DeepEqual(got, tt.rule.Actions) {
				t.Fatalf("Evaluate = %v, want %v", got, tt.rule.Actions)
			}
			if !tt.want && got != nil {
				t.Fatalf("Evaluate = %v, want nil", got)
			}
			// A compiled rule answers the same.
			if c, err := tt.rule.Compile(); err == nil {
				if cgot := c.Evaluate(tt.facts); !reflect.DeepEqual(cgot, got) {
					t.Fatalf("compiled Evaluate = %v, want %v", cgot, got)
				}
			}
		})
	}
}

func TestEvaluateReturnsACopy(t *testing.T) {
	r := Rule{Event: EventConversationCreated, Actions: []Action{{ActionAddLabel, "sales"}}}
	got := Evaluate(r, Facts{Event: EventConversationCreated})
	got[0].Value = "changed"
	if r.Actions[0].Value != "sales" {
		t.Fatal("Evaluate shares the rule's actions")
	}
}

func TestRuleValidate(t *testing.T) {
	ok := []Action{{ActionAddLabel, "sales"}}
	rule := func(c ...Condition) Rule { return Rule{Event: EventConversationCreated, Conditions: c, Actions: ok} }
	tests := []struct {
		name    string
		rule    Rule
		wantErr string
	}{
		{"valid", Rule{Event: EventMessageReceived, Match: MatchAny,
			Conditions: []Condition{{FieldMessage, OpRegex, `(?i)refund|退款`}, {"contact.plan", OpEquals, "vip"}, {FieldInboxID, OpEquals, "3"}, {FieldPageURL, OpStartsWith, "https://"}},
			Actions:    []Action{{ActionSetTeam, "2"}, {ActionSetPriority, "urgent"}, {ActionAddLabel, "refund"}}}, ""},
		{"equals empty value", rule(Condition{"contact.plan", OpEquals, ""}), ""},
		{"unknown event", Rule{Event: "message_created", Actions: ok}, `unknown event "message_created"`},
		{"unknown match", Rule{Event: EventConversationCreated, Match: "some", Actions: ok}, `unknown match "some"`},
		{"no actions", Rule{Event: EventConversationCreated}, "at least one action"},
		{"too many conditions", rule(make([]Condition, MaxConditions+1)...), "more than 20 conditions"},
		{"too many actions", Rule{Event: EventConversationCreated, Actions: make([]Action, MaxActions+1)}, "more than 10 actions"},
		{"unknown field", rule(Condition{"referrer", OpContains, "x"}), `condition 1: unknown field "referrer"`},
		{"empty attribute", rule(Condition{"contact.", OpContains, "x"}), "contact attribute name"},
		{"long attribute", rule(Condition{"contact." + strings.Repeat("a", MaxAttributeName+1), OpContains, "x"}), "contact attribute name"},
		{"unknown op", rule(Condition{FieldMessage, "like", "x"}), `unknown op "like"`},
		{"contains empty", rule(Condition{FieldMessage, OpContains, ""}), "contains needs a value"},
		{"starts_with empty", rule(Condition{FieldMessage, OpStartsWith, ""}), "starts_with needs a value"},
		{"bad regex", rule(Condition{FieldMessage, OpRegex, "(unclosed"}), "invalid regex"},
		{"long regex", rule(Condition{FieldMessage, OpRegex, strings.Repeat("a", MaxRegexLen+1)}), "regex is longer than 256 bytes"},
		{"long value", rule(Condition{FieldMessage, OpContains, strings.Repeat("a", MaxValueLen+1)}), "value is longer"},
		{"invalid utf-8", rule(Condition{FieldMessage, OpContains, "\xff"}), "UTF-8"},
		{"inbox_id op", rule(Condition{FieldInboxID, OpContains, "3"}), "inbox_id supports only equals"},
		{"inbox_id value", rule(Condition{FieldInboxID, OpEquals, "three"}), "not an id"},
		{"second condition numbered", rule(Condition{FieldMessage, OpContains, "a"}, Condition{FieldMessage, "x", "a"}), "condition 2:"},
		{"unknown action", Rule{Event: EventConversationCreated, Actions: []Action{{"assign", "1"}}}, `action 1: unknown action "assign"`},
		{"set_team not an id", Rule{Event: EventConversationCreated, Actions: []Action{{ActionSetTeam, "sales"}}}, "not a team id"},
		{"set_team zero", Rule{Event: EventConversationCreated, Actions: []Action{{ActionSetTeam, "0"}}}, "not a team id"},
		{"set_priority bad", Rule{Event: EventConversationCreated, Actions: []Action{{ActionSetPriority, "critical"}}}, `set_priority value "critical"`},
		{"add_label blank", Rule{Event: EventConversationCreated, Actions: []Action{{ActionAddLabel, "  "}}}, "add_label needs a label"},
		{"add_label long", Rule{Event: EventConversationCreated, Actions: []Action{{ActionAddLabel, strings.Repeat("x", kefu.MaxLabelLen+1)}}}, "add_label needs a label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || kefu.ErrorCode(err) != kefu.EInvalid || !strings.Contains(kefu.ErrorMessage(err), tt.wantErr) {
				t.Fatalf("Validate = %v, want invalid: %q", err, tt.wantErr)
			}
		})
	}
}

func TestRuleJSON(t *testing.T) {
	const stored = `{"event":"conversation_created","match":"any","conditions":[{"field":"page_url","op":"contains","value":"/pricing"},{"field":"contact.plan","op":"equals","value":"vip"}],"actions":[{"type":"set_team","value":"2"},{"type":"set_priority","value":"high"},{"type":"add_label","value":"sales"}]}`
	var r Rule
	if err := json.Unmarshal([]byte(stored), &r); err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != stored {
		t.Fatalf("JSON = %s\nwant   %s", b, stored)
	}
	// Facts decoded from JSON carry numbers as float64; they still match.
	var f Facts
	if err := json.Unmarshal([]byte(`{"event":"conversation_created","page_url":"/","contact":{"plan":"vip"}}`), &f); err != nil {
		t.Fatal(err)
	}
	if got := Evaluate(r, f); len(got) != 3 {
		t.Fatalf("Evaluate = %v, want the three actions", got)
	}
}

func TestCompileRule(t *testing.T) {
	r := Rule{Event: EventMessageReceived, Conditions: []Condition{{FieldMessage, OpRegex, `(?i)refund`}}, Actions: []Action{{ActionAddLabel, "refund"}}}
	c, err := r.Compile()
	if err != nil {
		t.Fatal(err)
	}
	// The compiled rule keeps its own copy.
	r.Conditions[0].Value = "never"
	r.Actions[0].Value = "changed"
	got := c.Evaluate(Facts{Event: EventMessageReceived, Message: "REFUND please"})
	if len(got) != 1 || got[0].Value != "refund" {
		t.Fatalf("Evaluate = %v after the source rule changed", got)
	}
	if _, err := (&Rule{Event: "x"}).Compile(); kefu.ErrorCode(err) != kefu.EInvalid {
		t.Fatalf("Compile of an invalid rule = %v", err)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	r := Rule{Event: EventMessageReceived, Match: MatchAny, Conditions: []Condition{
		{FieldPageURL, OpContains, "/pricing"}, {"contact.plan", OpEquals, "enterprise"},
		{FieldMessage, OpRegex, `(?i)\b(refund|chargeback|cancel(l)?ation)\b`}}, Actions: []Action{{ActionSetTeam, "2"}}}
	f := Facts{Event: EventMessageReceived, PageURL: "https://shop.example/docs", Message: strings.Repeat("hello there ", 20) + "cancellation",
		Contact: map[string]any{"plan": "free"}}
	b.Run("Evaluate", func(b *testing.B) {
		for b.Loop() {
			if Evaluate(r, f) == nil {
				b.Fatal("no match")
			}
		}
	})
	c, err := r.Compile()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Compiled", func(b *testing.B) {
		for b.Loop() {
			if c.Evaluate(f) == nil {
				b.Fatal("no match")
			}
		}
	})
}
