package routing

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Events a rule can run on; the names match the webhook events.
const (
	EventConversationCreated = "conversation_created"
	EventMessageReceived     = "message_received"
)

// Condition fields.
const (
	FieldPageURL       = "page_url"
	FieldMessage       = "message"
	FieldInboxID       = "inbox_id"
	FieldContactPrefix = "contact." // followed by an attribute name
)

// Condition operators. contains, equals and starts_with ignore case,
// because that is what someone typing a keyword into the admin console
// means; regex is matched as written (use (?i) to ignore case).
const (
	OpContains   = "contains"
	OpEquals     = "equals"
	OpStartsWith = "starts_with"
	OpRegex      = "regex"
)

// Action types.
const (
	ActionSetTeam     = "set_team"     // Value: the team id
	ActionSetPriority = "set_priority" // Value: a kefu.Priority
	ActionAddLabel    = "add_label"    // Value: the label
)

// Match modes.
const (
	MatchAll = "all" // every condition must hold (the default)
	MatchAny = "any" // at least one condition must hold
)

// Limits on a rule, so a stored rule stays cheap to evaluate on every
// message. Go's regexp runs in time linear in the input, and the pattern
// length bounds the size of the compiled program.
const (
	MaxConditions    = 20
	MaxActions       = 10
	MaxValueLen      = 1024
	MaxRegexLen      = 256
	MaxAttributeName = 64
)

// Rule is a routing rule: when Event happens and the conditions hold, the
// actions apply. It is data, stored as JSON and edited in the admin
// console and the API.
type Rule struct {
	Event      string      `json:"event"`
	Match      string      `json:"match,omitempty"` // MatchAll (default) or MatchAny
	Conditions []Condition `json:"conditions"`
	Actions    []Action    `json:"actions"`
}

// Condition tests one fact.
type Condition struct {
	Field string `json:"field"` // page_url, message, inbox_id or contact.<attr>
	Op    string `json:"op"`
	Value string `json:"value"`
}

// Action is one change a matching rule makes.
type Action struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Facts is what rules are evaluated against. Contact holds the contact's
// attributes under the names "contact.<attr>" conditions use; the caller
// puts the standard fields (name, email, phone) in beside the custom ones.
type Facts struct {
	Event   string         `json:"event"`
	InboxID int64          `json:"inbox_id"`
	PageURL string         `json:"page_url"`
	Message string         `json:"message"` // the message text for message_received
	Contact map[string]any `json:"contact"`
}

// Validate reports the first problem with r as a kefu.Error with code
// EInvalid. A rule that validates evaluates without error.
func (r *Rule) Validate() error {
	if r.Event != EventConversationCreated && r.Event != EventMessageReceived {
		return kefu.Errorf(kefu.EInvalid, "unknown event %q: want %q or %q", r.Event, EventConversationCreated, EventMessageReceived)
	}
	if r.Match != "" && r.Match != MatchAll && r.Match != MatchAny {
		return kefu.Errorf(kefu.EInvalid, "unknown match %q: want %q or %q", r.Match, MatchAll, MatchAny)
	}
	if len(r.Conditions) > MaxConditions {
		return kefu.Errorf(kefu.EInvalid, "more than %d conditions", MaxConditions)
	}
	if len(r.Actions) == 0 {
		return kefu.Errorf(kefu.EInvalid, "a rule needs at least one action")
	}
	if len(r.Actions) > MaxActions {
		return kefu.Errorf(kefu.EInvalid, "more than %d actions", MaxActions)
	}
	for i, c := range r.Conditions {
		if err := c.validate(); err != nil {
			return kefu.Errorf(kefu.EInvalid, "condition %d: %s", i+1, kefu.ErrorMessage(err))
		}
	}
	for i, a := range r.Actions {
		if err := a.validate(); err != nil {
			return kefu.Errorf(kefu.EInvalid, "action %d: %s", i+1, kefu.ErrorMessage(err))
		}
	}
	return nil
}

func (c *Condition) validate() error {
	switch {
	case c.Field == FieldPageURL, c.Field == FieldMessage, c.Field == FieldInboxID:
	case strings.HasPrefix(c.Field, FieldContactPrefix):
		name := strings.TrimPrefix(c.Field, FieldContactPrefix)
		if name == "" || len(name) > MaxAttributeName {
			return kefu.Errorf(kefu.EInvalid, "contact attribute name must be 1-%d bytes", MaxAttributeName)
		}
	default:
		return kefu.Errorf(kefu.EInvalid, "unknown field %q: want page_url, message, inbox_id or contact.<attribute>", c.Field)
	}
	if !utf8.ValidString(c.Value) {
		return kefu.Errorf(kefu.EInvalid, "value is not valid UTF-8")
	}
	if len(c.Value) > MaxValueLen {
		return kefu.Errorf(kefu.EInvalid, "value is longer than %d bytes", MaxValueLen)
	}
	switch c.Op {
	case OpContains, OpStartsWith:
		if c.Value == "" {
			return kefu.Errorf(kefu.EInvalid, "%s needs a value", c.Op)
		}
	case OpEquals:
	case OpRegex:
		if len(c.Value) > MaxRegexLen {
			return kefu.Errorf(kefu.EInvalid, "regex is longer than %d bytes", MaxRegexLen)
		}
		if _, err := regexp.Compile(c.Value); err != nil {
			return kefu.Errorf(kefu.EInvalid, "invalid regex: %v", err)
		}
	default:
		return kefu.Errorf(kefu.EInvalid, "unknown op %q: want contains, equals, starts_with or regex", c.Op)
	}
	if c.Field == FieldInboxID {
		if c.Op != OpEquals {
			return kefu.Errorf(kefu.EInvalid, "inbox_id supports only equals")
		}
		if id, err := strconv.ParseInt(c.Value, 10, 64); err != nil || id <= 0 {
			return kefu.Errorf(kefu.EInvalid, "inbox_id value %q is not an id", c.Value)
		}
	}
	return nil
}

func (a *Action) validate() error {
	switch a.Type {
	case ActionSetTeam:
		if id, err := strconv.ParseInt(a.Value, 10, 64); err != nil || id <= 0 {
			return kefu.Errorf(kefu.EInvalid, "set_team value %q is not a team id", a.Value)
		}
	case ActionSetPriority:
		if !kefu.Priority(a.Value).Valid() {
			return kefu.Errorf(kefu.EInvalid, "set_priority value %q: want none, low, medium, high or urgent", a.Value)
		}
	case ActionAddLabel:
		if strings.TrimSpace(a.Value) == "" || len(a.Value) > kefu.MaxLabelLen || !utf8.ValidString(a.Value) {
			return kefu.Errorf(kefu.EInvalid, "add_label needs a label of 1-%d bytes", kefu.MaxLabelLen)
		}
	default:
		return kefu.Errorf(kefu.EInvalid, "unknown action %q: want set_team, set_priority or add_label", a.Type)
	}
	return nil
}

// Evaluate returns the actions of rule when it applies to facts, and nil
// otherwise. A rule applies when its event is facts.Event and its
// conditions hold (all of them, or any one under MatchAny); a rule
// without conditions applies to every such event. A condition on a fact
// that is absent (an attribute the contact lacks) does not hold, and
// neither does a condition that fails validation: Evaluate never errors,
// so validate rules when they are saved. It compiles regexes on every
// call; a caller evaluating on every message keeps a CompiledRule.
func Evaluate(rule Rule, facts Facts) []Action {
	return evaluate(&rule, nil, &facts)
}

// CompiledRule is a validated rule with its regexes compiled. It is
// immutable and safe for concurrent use.
type CompiledRule struct {
	rule Rule
	res  []*regexp.Regexp // by condition; nil for other ops
}

// Compile validates r and compiles it. The result keeps its own copy of
// r, so later changes to r do not reach it.
func (r *Rule) Compile() (*CompiledRule, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	c := &CompiledRule{rule: *r, res: make([]*regexp.Regexp, len(r.Conditions))}
	c.rule.Conditions = slices.Clone(r.Conditions)
	c.rule.Actions = slices.Clone(r.Actions)
	for i, cond := range r.Conditions {
		if cond.Op == OpRegex {
			c.res[i] = regexp.MustCompile(cond.Value) // Validate compiled it already
		}
	}
	return c, nil
}

// Evaluate is Evaluate(rule, facts) for the compiled rule.
func (c *CompiledRule) Evaluate(facts Facts) []Action { return evaluate(&c.rule, c.res, &facts) }

// evaluate takes res, the compiled regexes by condition, or nil to compile
// as it goes.
func evaluate(rule *Rule, res []*regexp.Regexp, f *Facts) []Action {
	if rule.Event != f.Event {
		return nil
	}
	matchAny := rule.Match == MatchAny
	held := !matchAny || len(rule.Conditions) == 0
	for i := range rule.Conditions {
		var re *regexp.Regexp
		if res != nil {
			re = res[i]
		}
		if rule.Conditions[i].holds(f, re) == matchAny {
			// The first true under any, or the first false under all,
			// settles it.
			held = matchAny
			break
		}
	}
	if !held {
		return nil
	}
	return slices.Clone(rule.Actions)
}

// holds tests the condition; re is its compiled regex, or nil to compile.
func (c *Condition) holds(f *Facts, re *regexp.Regexp) bool {
	got, ok := f.field(c.Field)
	if !ok {
		return false
	}
	switch c.Op {
	case OpContains:
		return c.Value != "" && strings.Contains(strings.ToLower(got), strings.ToLower(c.Value))
	case OpEquals:
		return strings.EqualFold(got, c.Value)
	case OpStartsWith:
		return c.Value != "" && strings.HasPrefix(strings.ToLower(got), strings.ToLower(c.Value))
	case OpRegex:
		if re == nil {
			if len(c.Value) > MaxRegexLen {
				return false
			}
			var err error
			if re, err = regexp.Compile(c.Value); err != nil {
				return false
			}
		}
		return re.MatchString(got)
	}
	return false
}

// field returns the text of a fact and whether it is present.
func (f *Facts) field(name string) (string, bool) {
	switch name {
	case FieldPageURL:
		return f.PageURL, true
	case FieldMessage:
		return f.Message, true
	case FieldInboxID:
		return strconv.FormatInt(f.InboxID, 10), f.InboxID != 0
	}
	attr, ok := strings.CutPrefix(name, FieldContactPrefix)
	if !ok {
		return "", false
	}
	v, ok := f.Contact[attr]
	if !ok || v == nil {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64: // what encoding/json gives for a number
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return fmt.Sprint(v), true
}
