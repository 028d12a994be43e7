package loadgen

import (
	"io"
	"strings"
	"testing"
)

func TestServersFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		visitors []string // want, in order
		agent    string
		err      string // want an error containing this
	}{
		{name: "default single server", args: nil,
			visitors: []string{"http://127.0.0.1:8080"}, agent: "http://127.0.0.1:8080"},
		{name: "--server", args: []string{"--server", "http://127.0.0.1:9000/"},
			visitors: []string{"http://127.0.0.1:9000"}, agent: "http://127.0.0.1:9000"},
		{name: "--servers, agents on the first", args: []string{"--servers", "http://127.0.0.1:1, http://127.0.0.2:2,http://[::1]:3"},
			visitors: []string{"http://127.0.0.1:1", "http://127.0.0.2:2", "http://[::1]:3"}, agent: "http://127.0.0.1:1"},
		{name: "--agent-server", args: []string{"--servers", "http://127.0.0.1:1,http://127.0.0.1:2", "--agent-server", "http://localhost:4"},
			visitors: []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}, agent: "http://localhost:4"},
		{name: "--agent-server with --server", args: []string{"--server", "http://127.0.0.1:1", "--agent-server", "http://127.0.0.1:4"},
			visitors: []string{"http://127.0.0.1:1"}, agent: "http://127.0.0.1:4"},
		{name: "both", args: []string{"--server", "http://127.0.0.1:1", "--servers", "http://127.0.0.1:2"}, err: "not both"},
		{name: "remote among servers", args: []string{"--servers", "http://127.0.0.1:1,http://10.0.0.1:2"}, err: "refusing target"},
		{name: "remote agent server", args: []string{"--servers", "http://127.0.0.1:1", "--agent-server", "http://example.com"}, err: "refusing target"},
		{name: "remote allowed", args: []string{"--servers", "http://127.0.0.1:1,http://10.0.0.1:2", "--allow-remote"},
			visitors: []string{"http://127.0.0.1:1", "http://10.0.0.1:2"}, agent: "http://127.0.0.1:1"},
		{name: "twice", args: []string{"--servers", "http://127.0.0.1:1,http://127.0.0.1:1/"}, err: "twice"},
		{name: "empty list", args: []string{"--servers", " , "}, err: "no server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KEFU_LOADGEN_SERVER", "")
			c, err := parseFlags(idleScenario, tt.args, io.Discard)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tg, err := c.targets()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range tg.visitors {
				got = append(got, u.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.visitors, " ") {
				t.Errorf("visitor servers = %v, want %v", got, tt.visitors)
			}
			if tg.agent.String() != tt.agent {
				t.Errorf("agent server = %s, want %s", tg.agent, tt.agent)
			}
		})
	}
}

// Visitors go round robin over the servers by their index in the whole
// run, so the spread is the same whatever --procs is, and each visitor's
// REST calls and WebSocket go to the same node.
func TestVisitorsRoundRobinOverServers(t *testing.T) {
	const servers, visitors = 3, 10
	for _, procs := range []int{1, 2, 3, 4} {
		c, err := parseFlags(idleScenario, []string{"--servers", "http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3",
			"--agent-server", "http://127.0.0.1:4"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		perNode := map[string]int{}
		seen := 0
		for w := range procs {
			e, err := newEnv(c, newStats(), &Fixture{}, w, procs, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if len(e.all) != servers+1 || e.agentN.base.String() != "http://127.0.0.1:4" || e.agentN.ws != "ws://127.0.0.1:4" {
				t.Fatalf("servers %d, agent server %s (%s)", len(e.all), e.agentN.base, e.agentN.ws)
			}
			if e.api != e.nodes[0].api {
				t.Errorf("the admin client is not the first server's")
			}
			first := e.offset(visitors)
			for i := range e.share(visitors) {
				n := e.visitorNode(first + i)
				if want := "http://127.0.0.1:" + string(rune('1'+(first+i)%servers)); n.base.String() != want {
					t.Errorf("procs %d: visitor %d on %s, want %s", procs, first+i, n.base, want)
				}
				if n.api.base != n.base || n.ws != "ws"+strings.TrimPrefix(n.base.String(), "http") {
					t.Errorf("visitor %d: REST %s, WebSocket %s: not the same node", first+i, n.api.base, n.ws)
				}
				perNode[n.base.String()]++
				seen++
			}
			e.close()
		}
		if seen != visitors || perNode["http://127.0.0.1:1"] != 4 || perNode["http://127.0.0.1:2"] != 3 || perNode["http://127.0.0.1:3"] != 3 {
			t.Errorf("procs %d: %d visitors spread as %v, want 4, 3, 3", procs, seen, perNode)
		}
	}
}

func TestMemorySumsServers(t *testing.T) {
	m := &Memory{Servers: []*ServerMemory{
		{Server: "a", RSSBefore: 100, RSSAfter: 300, GoBefore: 10, GoAfter: 50},
		{Server: "b", RSSBefore: 200, RSSAfter: 500, GoBefore: 20, GoAfter: 60},
	}, ConnsAtAfter: 10}
	m.sum()
	r := newResult("idle")
	r.Memory = m
	finishIdle(&Config{}, r)
	if m.RSSBefore != 300 || m.RSSAfter != 800 || m.PerConn != 50 || m.GoPerConn != 8 {
		t.Errorf("got %+v, want RSS 300 -> 800, 50 bytes per connection, Go 8 per connection", m)
	}
}
