package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// Entity kinds extracted by pattern.
const (
	EntityOrderNumber = "order_number"
	EntityPhone       = "phone"
	EntityEmail       = "email"
	EntityDate        = "date"
)

var entityPatterns = []struct {
	kind string
	re   *regexp.Regexp
}{
	{EntityEmail, regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)},
	{EntityDate, regexp.MustCompile(`\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}月\d{1,2}[日号]`)},
	// Mainland mobile numbers (11 digits from 13x–19x) or an international
	// number written with a leading +.
	{EntityPhone, regexp.MustCompile(`(?:^|[^\d])(1[3-9]\d{9}|\+\d[\d -]{7,16}\d)(?:[^\d]|$)`)},
	// Order numbers: 12 to 24 digits, or letters and digits after a
	// hint word ("order", "订单", "#").
	{EntityOrderNumber, regexp.MustCompile(`(?i)(?:^|[^\d])(\d{12,24})(?:[^\d]|$)|(?:order|订单号?|单号|#)\s*[:：#]?\s*([A-Z0-9-]{6,32})`)},
}

// ExtractEntities finds entities in text; the first match of each kind.
func ExtractEntities(text string) map[string]string {
	out := map[string]string{}
	rest := text
	for _, p := range entityPatterns {
		m := p.re.FindStringSubmatchIndex(rest)
		if m == nil {
			continue
		}
		val := rest[m[0]:m[1]]
		// Take the innermost matched group (the value without context).
		for g := 1; g < len(m)/2; g++ {
			if m[2*g] >= 0 {
				val = rest[m[2*g]:m[2*g+1]]
				break
			}
		}
		out[p.kind] = strings.TrimSpace(val)
		// Blank the match so a date is not read again as an order number.
		rest = rest[:m[0]] + strings.Repeat(" ", m[1]-m[0]) + rest[m[1]:]
	}
	return out
}

// compiledIntent is an intent with its rules compiled.
type compiledIntent struct {
	kefu.Intent
	patterns []*regexp.Regexp
	examples []string // normalised
}

// Intents recognises intents from data. It is built per workspace from
// the stored intents and is read-only afterwards.
type Intents struct {
	list   []compiledIntent
	client *http.Client
	now    func() time.Time
}

// CompileIntents checks and compiles intents; a bad pattern is an error
// that names the intent.
func CompileIntents(in []*kefu.Intent, client *http.Client, now func() time.Time) (*Intents, error) {
	x := &Intents{client: client, now: now}
	for _, it := range in {
		if !it.Enabled {
			continue
		}
		c := compiledIntent{Intent: *it}
		for _, p := range it.Patterns {
			re, err := regexp.Compile("(?i)" + p)
			if err != nil {
				return nil, kefu.Errorf(kefu.EInvalid, "intent %q: bad pattern %q", it.Name, p)
			}
			c.patterns = append(c.patterns, re)
		}
		for _, e := range it.Examples {
			c.examples = append(c.examples, normalizeLoose(e))
		}
		x.list = append(x.list, c)
	}
	return x, nil
}

// ValidateIntent checks an intent before it is stored.
func ValidateIntent(it *kefu.Intent) error {
	it.Name = strings.TrimSpace(it.Name)
	if it.Name == "" || len(it.Name) > 100 || !validText(it.Name) {
		return kefu.Errorf(kefu.EInvalid, "name is required (at most 100 bytes)")
	}
	if len(it.Examples)+len(it.Keywords)+len(it.Patterns) == 0 {
		return kefu.Errorf(kefu.EInvalid, "an intent needs examples, keywords or patterns")
	}
	for _, p := range it.Patterns {
		if _, err := regexp.Compile(p); err != nil || len(p) > 500 {
			return kefu.Errorf(kefu.EInvalid, "pattern %q is not a valid regular expression", p)
		}
	}
	for _, e := range it.Entities {
		switch e {
		case EntityOrderNumber, EntityPhone, EntityEmail, EntityDate:
		default:
			return kefu.Errorf(kefu.EInvalid, "unknown entity %q (order_number, phone, email, date)", e)
		}
	}
	if a := it.Action; a != nil {
		if err := checkEndpoint(a.URL); err != nil {
			return err
		}
		if strings.TrimSpace(a.Template) == "" {
			return kefu.Errorf(kefu.EInvalid, "action.template is required")
		}
		if a.TimeoutMS < 0 || a.TimeoutMS > 30_000 {
			return kefu.Errorf(kefu.EInvalid, "action.timeout_ms must be 0..30000")
		}
	}
	if it.Action == nil && !it.Handoff && strings.TrimSpace(it.Reply) == "" {
		return kefu.Errorf(kefu.EInvalid, "an intent needs a reply, an action or handoff")
	}
	return nil
}

func checkEndpoint(u string) error {
	if !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) || len(u) > 2000 {
		return kefu.Errorf(kefu.EInvalid, "url must be an http or https URL")
	}
	return nil
}

// normalizeLoose lowercases and drops spaces and punctuation for the
// example-phrase comparison.
func normalizeLoose(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r == ' ' || strings.ContainsRune("?？!！。.,，、~", r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Match returns the first intent whose rule matches text: a regex
// pattern, a keyword contained in the text, or an example phrase equal to
// or contained in it.
func (x *Intents) Match(text string) (*kefu.Intent, bool) {
	lower := strings.ToLower(text)
	loose := normalizeLoose(text)
	for i := range x.list {
		c := &x.list[i]
		for _, re := range c.patterns {
			if re.MatchString(text) {
				return &c.Intent, true
			}
		}
		for _, k := range c.Keywords {
			if k = strings.ToLower(strings.TrimSpace(k)); k != "" && strings.Contains(lower, k) {
				return &c.Intent, true
			}
		}
		for _, e := range c.examples {
			if e != "" && strings.Contains(loose, e) {
				return &c.Intent, true
			}
		}
	}
	return nil, false
}

// IntentSource answers from intents; it outranks the knowledge base.
type IntentSource struct {
	Intents *Intents
	Prio    int
}

func (s *IntentSource) Name() string  { return "intent" }
func (s *IntentSource) Priority() int { return s.Prio }

func (s *IntentSource) Answer(ctx context.Context, q Question) (*Reply, error) {
	it, ok := s.Intents.Match(q.Text)
	if !ok {
		return nil, nil
	}
	ents := ExtractEntities(q.Text)
	r := &Reply{Intent: it.Name, Confidence: 1, Handoff: it.Handoff,
		Meta: map[string]any{"intent": it.Name, "entities": ents}}
	for _, need := range it.Entities {
		if ents[need] == "" {
			r.Handoff = false
			r.Text = orDefault(actionText(it, func(a *kefu.IntentAction) string { return a.MissingText }), "Could you tell me your "+strings.ReplaceAll(need, "_", " ")+"?")
			return r, nil
		}
	}
	if it.Action == nil {
		r.Text = it.Reply
		return r, nil
	}
	r.Text = s.Intents.call(ctx, it, q, ents)
	return r, nil
}

func actionText(it *kefu.Intent, f func(*kefu.IntentAction) string) string {
	if it.Action == nil {
		return ""
	}
	return f(it.Action)
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// Sign returns the signature headers for body: X-Kefu-Timestamp (unix
// seconds) and X-Kefu-Signature "sha256=" + hex HMAC-SHA256 of
// "<timestamp>.<body>" under secret. Receivers recompute it and reject
// timestamps more than five minutes old.
func Sign(secret string, body []byte, now time.Time) (ts, sig string) {
	ts = strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return ts, "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// postJSON sends a signed JSON request and decodes a JSON reply (at most
// 1 MiB).
func postJSON(ctx context.Context, client *http.Client, url, secret string, now time.Time, in any, out any) (int, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kefu-Bot/1")
	if secret != "" {
		ts, sig := Sign(secret, body, now)
		req.Header.Set("X-Kefu-Timestamp", ts)
		req.Header.Set("X-Kefu-Signature", sig)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if resp.StatusCode/100 != 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return resp.StatusCode, fmt.Errorf("endpoint answered %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("endpoint reply is not JSON: %w", err)
	}
	return resp.StatusCode, nil
}

// call runs an intent's action and fills its template; any failure gives
// the action's failure text (or a polite default), never an error.
func (x *Intents) call(ctx context.Context, it *kefu.Intent, q Question, ents map[string]string) string {
	a := it.Action
	failure := orDefault(a.FailureText, "Sorry, I cannot look that up right now. A colleague will help you.")
	timeout := time.Duration(a.TimeoutMS) * time.Millisecond
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var reply map[string]any
	in := map[string]any{"intent": it.Name, "entities": ents, "question": q.Text,
		"workspace_id": q.WorkspaceID, "conversation_id": q.ConversationID, "contact_id": q.ContactID}
	status, err := postJSON(ctx, x.client, a.URL, a.Secret, x.now(), in, &reply)
	if err != nil || status == http.StatusNoContent {
		return failure
	}
	data := map[string]any{"entities": toAny(ents)}
	for k, v := range reply {
		data[k] = v
	}
	text, ok := FillTemplate(a.Template, data)
	if !ok {
		return failure
	}
	return text
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

var rePlaceholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.]+)\s*\}\}`)

// FillTemplate replaces {{a.b.c}} with values from data (a decoded JSON
// reply). ok is false when a placeholder has no value, so the caller can
// answer with its failure text rather than a half-filled sentence.
// Values are inserted as text; messages are rendered as text everywhere.
func FillTemplate(tmpl string, data map[string]any) (string, bool) {
	ok := true
	out := rePlaceholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		path := rePlaceholder.FindStringSubmatch(m)[1]
		var cur any = data
		for _, part := range strings.Split(path, ".") {
			obj, isObj := cur.(map[string]any)
			if !isObj {
				ok = false
				return ""
			}
			if cur, isObj = obj[part]; !isObj {
				ok = false
				return ""
			}
		}
		switch v := cur.(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			return strconv.FormatBool(v)
		case nil:
			ok = false
			return ""
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
	})
	return out, ok
}

// PluginSource asks a business's HTTP endpoint. The request is
// {"question","workspace_id","conversation_id","contact":{"id","name","email"}},
// signed like actions; the reply is {"answer": "...", "confidence": 0.9}
// or 204 / an empty answer for "nothing to say".
type PluginSource struct {
	Plugin *kefu.BotPlugin
	Client *http.Client
	Now    func() time.Time
}

func (s *PluginSource) Name() string  { return "plugin:" + s.Plugin.Name }
func (s *PluginSource) Priority() int { return s.Plugin.Priority }

func (s *PluginSource) Answer(ctx context.Context, q Question) (*Reply, error) {
	if s.Plugin.TimeoutMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(s.Plugin.TimeoutMS)*time.Millisecond)
		defer cancel()
	}
	in := map[string]any{"question": q.Text, "workspace_id": q.WorkspaceID, "conversation_id": q.ConversationID,
		"contact": map[string]any{"id": q.ContactID, "name": q.ContactName, "email": q.ContactEmail}}
	var out struct {
		Answer     string  `json:"answer"`
		Confidence float64 `json:"confidence"`
	}
	status, err := postJSON(ctx, s.Client, s.Plugin.URL, s.Plugin.Secret, s.Now(), in, &out)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent || strings.TrimSpace(out.Answer) == "" {
		return nil, nil
	}
	if len(out.Answer) > kefu.MaxBodyLen {
		return nil, fmt.Errorf("plugin answer longer than %d bytes", kefu.MaxBodyLen)
	}
	return &Reply{Text: out.Answer, Confidence: out.Confidence}, nil
}
