package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/auth"
	"github.com/kefu-chat/kefu/internal/dispatch"
	"github.com/kefu-chat/kefu/internal/hub"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// Set moves the clock (session_test.go's fakeClock) to t: the
// dispatcher's business hours and presence run on it here.
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// routingEnv is env with routing running: a dispatcher over the same
// store and chat service, on a fake clock.
func routingEnv(tb testing.TB, store kefu.Store, clk *fakeClock, mods ...func(*Options)) (*env, *dispatch.Dispatcher) {
	tb.Helper()
	var d *dispatch.Dispatcher
	mods = append([]func(*Options){func(o *Options) {
		d = dispatch.New(dispatch.Options{Store: o.Store, Chat: o.Chat, Hub: hub.New(o.Chat, hub.Options{}), Now: clk.Now, Grace: time.Minute})
		o.Routing = d
	}}, mods...)
	return newEnv(tb, store, mods...), d
}

// online declares the agent online and seen at the clock's time.
func (e *env) routingOnline(a *kefu.Agent, now time.Time) {
	e.tb.Helper()
	ctx := e.tb.Context()
	if err := e.store.SetAvailability(ctx, a.WorkspaceID, a.ID, kefu.AvailabilityOnline, now); err != nil {
		e.tb.Fatal(err)
	}
	if err := e.store.TouchAgents(ctx, a.WorkspaceID, []int64{a.ID}, now); err != nil {
		e.tb.Fatal(err)
	}
}

func TestWidgetBusinessHoursSQLite(t *testing.T)   { testWidgetBusinessHours(t, openSQLite(t)) }
func TestWidgetBusinessHoursPostgres(t *testing.T) { testWidgetBusinessHours(t, openPostgres(t)) }

// testWidgetBusinessHours: outside the inbox's hours the widget's config
// and status say closed (the widget then shows its offline form) and when
// it opens, with an agent online all along; inside, open.
func testWidgetBusinessHours(t *testing.T, store kefu.Store) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := time.Now().In(shanghai).Date()
	clk := &fakeClock{t: time.Date(y, m, d, 8, 59, 0, 0, shanghai)}
	e, _ := routingEnv(t, store, clk)
	week := map[string]any{}
	for day := range 7 {
		week[strconv.Itoa(day)] = []map[string]int{{"start": 540, "end": 1080}}
	}
	wantStatus(t, e.do("PUT", fmt.Sprintf("/api/v1/inboxes/%d/routing", e.a.Inbox.ID), e.a.AdminToken,
		map[string]any{"business_hours": map[string]any{"time_zone": "Asia/Shanghai", "weekly": week}}), 200, "")
	e.routingOnline(e.a.Agent, clk.Now())
	config := "/api/v1/widget/config?inbox=" + e.a.Inbox.PublicToken
	var cfg widgetConfig
	e.do("GET", config, "", nil).into(t, &cfg)
	opening := time.Date(y, m, d, 9, 0, 0, 0, shanghai)
	if cfg.Open == nil || *cfg.Open || cfg.NextOpening == nil || !cfg.NextOpening.Equal(opening) {
		t.Fatalf("config at 08:59 = open %v next %v; want closed, opening %v", cfg.Open, cfg.NextOpening, opening)
	}
	if !cfg.Online {
		t.Errorf("config at 08:59: online false; the agent is online (the widget shows the offline form for closed alone)")
	}
	var st dispatch.InboxStatus
	e.do("GET", "/api/v1/widget/status", e.a.VisitorToken, nil).into(t, &st)
	if st.Open || st.NextOpening == nil || !st.NextOpening.Equal(opening) || st.AgentsOnline != 1 {
		t.Fatalf("status at 08:59 = %+v; want closed, opening at 09:00, one agent online", st)
	}

	clk.Set(time.Date(y, m, d, 9, 0, 30, 0, shanghai))
	e.routingOnline(e.a.Agent, clk.Now())
	cfg = widgetConfig{}
	e.do("GET", config, "", nil).into(t, &cfg)
	if cfg.Open == nil || !*cfg.Open || cfg.NextOpening != nil || !cfg.Online {
		t.Fatalf("config at 09:00:30 = open %v next %v online %v; want open, no next opening, online", cfg.Open, cfg.NextOpening, cfg.Online)
	}
	st = dispatch.InboxStatus{}
	e.do("GET", "/api/v1/widget/status", e.a.VisitorToken, nil).into(t, &st)
	if !st.Open || st.AgentsOnline != 1 {
		t.Fatalf("status at 09:00:30 = %+v; want open, one agent online", st)
	}

	// 18:00, closed again: opening tomorrow.
	clk.Set(time.Date(y, m, d, 18, 0, 0, 0, shanghai))
	e.routingOnline(e.a.Agent, clk.Now())
	cfg = widgetConfig{}
	e.do("GET", config, "", nil).into(t, &cfg)
	if cfg.Open == nil || *cfg.Open || cfg.NextOpening == nil || !cfg.NextOpening.Equal(opening.AddDate(0, 0, 1)) {
		t.Fatalf("config at 18:00 = open %v next %v; want closed, opening tomorrow 09:00", cfg.Open, cfg.NextOpening)
	}
}

// TestWidgetReadsRateLimited: the public config and the visitor's status
// share a per-address budget, and a refusal is a 429 with Retry-After.
func TestWidgetReadsRateLimited(t *testing.T) {
	e, _ := routingEnv(t, openSQLite(t), &fakeClock{t: kefu.Now()}, func(o *Options) { o.Limits.WidgetReads = Rate{PerMinute: 60, Burst: 3} })
	config := "/api/v1/widget/config?inbox=" + e.a.Inbox.PublicToken
	wantStatus(t, e.do("GET", config, "", nil), 200, "")
	wantStatus(t, e.do("GET", "/api/v1/widget/status", e.a.VisitorToken, nil), 200, "")
	wantStatus(t, e.do("GET", config, "", nil), 200, "")
	for _, r := range []*resp{e.do("GET", config, "", nil), e.do("GET", "/api/v1/widget/status", e.a.VisitorToken, nil)} {
		wantStatus(t, r, 429, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
	// Another address has its own budget.
	r := e.do("GET", config, "", nil, "X-Forwarded-For", "198.51.100.7")
	if r.Code != 429 {
		t.Fatalf("without trusted proxy headers the forwarded address must not matter: %d", r.Code)
	}
}

func TestPatchPriorityReordersQueueSQLite(t *testing.T) {
	testPatchPriorityReordersQueue(t, openSQLite(t))
}
func TestPatchPriorityReordersQueuePostgres(t *testing.T) {
	testPatchPriorityReordersQueue(t, openPostgres(t))
}

// testPatchPriorityReordersQueue: raising a waiting conversation's
// priority with PATCH /conversations/{id} moves it ahead in the queue, and
// the next pull takes it first.
func testPatchPriorityReordersQueue(t *testing.T, store kefu.Store) {
	clk := &fakeClock{t: kefu.Now()}
	e, d := routingEnv(t, store, clk)
	ctx := t.Context()
	var convs []*kefu.Conversation
	for i := range 3 {
		now := kefu.Now()
		c := &kefu.Contact{WorkspaceID: e.a.Workspace.ID, VisitorID: auth.RandomString(12), Attributes: map[string]any{},
			FirstSeenAt: now, LastSeenAt: now, CreatedAt: now, UpdatedAt: now}
		if err := store.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		conv, err := e.chat.StartConversation(ctx, kefu.Actor{WorkspaceID: c.WorkspaceID, Type: kefu.SenderContact, ID: c.ID, InboxID: e.a.Inbox.ID})
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, conv)
		clk.Set(clk.Now().Add(time.Second)) // distinct arrival times
		_ = i
	}
	queue := func() []int64 {
		t.Helper()
		var out struct{ Data []kefu.Queued }
		e.do("GET", fmt.Sprintf("/api/v1/queue?inbox_id=%d", e.a.Inbox.ID), e.a.AgentToken, nil).into(t, &out)
		var ids []int64
		for _, q := range out.Data {
			ids = append(ids, q.ConversationID)
		}
		return ids
	}
	if got := queue(); len(got) != 3 || got[0] != convs[0].ID || got[2] != convs[2].ID {
		t.Fatalf("queue = %v, want arrival order %d %d %d", got, convs[0].ID, convs[1].ID, convs[2].ID)
	}
	last := convs[2].ID
	r := e.do("PATCH", fmt.Sprintf("/api/v1/conversations/%d", last), e.a.AgentToken, map[string]any{"priority": "high"})
	wantStatus(t, r, 200, "")
	if got := queue(); len(got) != 3 || got[0] != last {
		t.Fatalf("queue after PATCH priority high = %v, want %d first", got, last)
	}
	// Capacity 1: one pull takes exactly the head.
	wantStatus(t, e.do("PUT", fmt.Sprintf("/api/v1/inboxes/%d/routing", e.a.Inbox.ID), e.a.AdminToken, map[string]any{"default_capacity": 1}), 200, "")
	e.routingOnline(e.a.Agent, clk.Now())
	if n, err := d.Pull(ctx, e.a.Workspace.ID, e.a.Agent.ID); err != nil || n != 1 {
		t.Fatalf("pull took %d (%v), want 1", n, err)
	}
	var got kefu.Conversation
	e.do("GET", fmt.Sprintf("/api/v1/conversations/%d", last), e.a.AgentToken, nil).into(t, &got)
	if got.AssigneeID != e.a.Agent.ID {
		t.Fatalf("the raised conversation went to %d, want the pulling agent %d", got.AssigneeID, e.a.Agent.ID)
	}
	if q := queue(); len(q) != 2 || q[0] != convs[0].ID {
		t.Errorf("queue after the pull = %v, want the other two in arrival order", q)
	}
}

func TestTeamAndRuleWritesSQLite(t *testing.T)   { testTeamAndRuleWrites(t, openSQLite(t)) }
func TestTeamAndRuleWritesPostgres(t *testing.T) { testTeamAndRuleWrites(t, openPostgres(t)) }

// testTeamAndRuleWrites: PATCH and DELETE on teams and rules are for the
// workspace's admins: an agent is refused (403), another workspace's admin
// finds nothing (404), an invalid body is 400, and a delete is gone.
func testTeamAndRuleWrites(t *testing.T, store kefu.Store) {
	e, _ := routingEnv(t, store, &fakeClock{t: kefu.Now()})
	var team kefu.Team
	r := e.do("POST", "/api/v1/teams", e.a.AdminToken, map[string]any{"name": "Sales", "agent_ids": []int64{e.a.Agent.ID}})
	wantStatus(t, r, 201, "")
	r.into(t, &team)
	rule := json.RawMessage(`{"event":"conversation_created","conditions":[{"field":"page_url","op":"contains","value":"/pricing"}],"actions":[{"type":"set_team","value":"` + strconv.FormatInt(team.ID, 10) + `"}]}`)
	var rr kefu.RoutingRule
	r = e.do("POST", "/api/v1/routing/rules", e.a.AdminToken, map[string]any{"name": "pricing", "rule": rule})
	wantStatus(t, r, 201, "")
	r.into(t, &rr)
	teamPath := fmt.Sprintf("/api/v1/teams/%d", team.ID)
	rulePath := fmt.Sprintf("/api/v1/routing/rules/%d", rr.ID)
	bad := `{"event":"conversation_created","conditions":[{"field":"page_url","op":"nope","value":"x"}],"actions":[{"type":"set_team","value":"1"}]}`
	table := []scenario{
		{"team patch as agent", "agent", "PATCH", teamPath, map[string]any{"name": "X"}, 403, "forbidden"},
		{"team patch as visitor", "visitor", "PATCH", teamPath, map[string]any{"name": "X"}, 403, "forbidden"},
		{"team patch other workspace", "otherAdmin", "PATCH", teamPath, map[string]any{"name": "X"}, 404, "not_found"},
		{"team patch empty name", "admin", "PATCH", teamPath, map[string]any{"name": "  "}, 400, "invalid"},
		{"team patch unknown field", "admin", "PATCH", teamPath, map[string]any{"nope": 1}, 400, "bad_json"},
		{"team patch another workspace's agent", "admin", "PATCH", teamPath, map[string]any{"agent_ids": []any{"{bagent}"}}, 404, "not_found"},
		{"team patch", "admin", "PATCH", teamPath, map[string]any{"name": "Sales EU", "agent_ids": []any{"{admin}", "{agent}"}}, 200, ""},
		{"team delete as agent", "agent", "DELETE", teamPath, nil, 403, "forbidden"},
		{"team delete other workspace", "otherAdmin", "DELETE", teamPath, nil, 404, "not_found"},
		{"team delete unknown", "admin", "DELETE", "/api/v1/teams/999999", nil, 404, "not_found"},

		{"rule patch as agent", "agent", "PATCH", rulePath, map[string]any{"enabled": false}, 403, "forbidden"},
		{"rule patch other workspace", "otherAdmin", "PATCH", rulePath, map[string]any{"enabled": false}, 404, "not_found"},
		{"rule patch invalid rule", "admin", "PATCH", rulePath, map[string]any{"rule": json.RawMessage(bad)}, 400, "invalid"},
		{"rule patch rule not an object", "admin", "PATCH", rulePath, map[string]any{"rule": "x"}, 400, "invalid"},
		{"rule patch negative inbox", "admin", "PATCH", rulePath, map[string]any{"inbox_id": -1}, 400, "invalid"},
		{"rule patch another workspace's inbox", "admin", "PATCH", rulePath, map[string]any{"inbox_id": e.b.Inbox.ID}, 404, "not_found"},
		{"rule patch", "admin", "PATCH", rulePath, map[string]any{"name": "pricing page", "enabled": false}, 200, ""},
		{"rule delete as agent", "agent", "DELETE", rulePath, nil, 403, "forbidden"},
		{"rule delete other workspace", "otherAdmin", "DELETE", rulePath, nil, 404, "not_found"},
		{"rule delete unknown", "admin", "DELETE", "/api/v1/routing/rules/999999", nil, 404, "not_found"},
	}
	runScenarios(t, e, table)

	var got kefu.Team
	e.do("GET", teamPath, e.a.AgentToken, nil).into(t, &got)
	if got.Name != "Sales EU" || len(got.AgentIDs) != 2 {
		t.Fatalf("team after the refused and accepted writes = %+v, want Sales EU with 2 agents", got)
	}
	var rules struct{ Data []kefu.RoutingRule }
	e.do("GET", "/api/v1/routing/rules", e.a.AgentToken, nil).into(t, &rules)
	sameJSON := func(a, b json.RawMessage) bool {
		var x, y any
		return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
	}
	if len(rules.Data) != 1 || rules.Data[0].Name != "pricing page" || rules.Data[0].Enabled || !sameJSON(rules.Data[0].Rule, rr.Rule) {
		t.Fatalf("rules after the writes = %+v, want the one rule renamed, disabled, its rule unchanged", rules.Data)
	}
	var other struct{ Data []kefu.RoutingRule }
	e.do("GET", "/api/v1/routing/rules", e.b.AdminToken, nil).into(t, &other)
	if len(other.Data) != 0 {
		t.Fatalf("another workspace lists %d rules", len(other.Data))
	}

	wantStatus(t, e.do("DELETE", rulePath, e.a.AdminToken, nil), 204, "")
	wantStatus(t, e.do("DELETE", rulePath, e.a.AdminToken, nil), 404, "not_found")
	wantStatus(t, e.do("PATCH", rulePath, e.a.AdminToken, map[string]any{"enabled": true}), 404, "not_found")
	wantStatus(t, e.do("DELETE", teamPath, e.a.AdminToken, nil), 204, "")
	wantStatus(t, e.do("GET", teamPath, e.a.AgentToken, nil), 404, "not_found")
	wantStatus(t, e.do("PATCH", teamPath, e.a.AdminToken, map[string]any{"name": "Back"}), 404, "not_found")
}
