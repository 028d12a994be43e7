package loadgen

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"sync/atomic"
)

// Fixture is what a run needs on the server before it starts: an inbox for
// visitors and logged-in agents. The parent process prepares it once and
// hands it to its workers, so they never race to create the same agent.
type Fixture struct {
	Run        string       `json:"run"` // random id that tags this run's messages and visitors
	InboxToken string       `json:"inbox_token"`
	AdminToken string       `json:"admin_token,omitempty"`
	Agents     []AgentLogin `json:"agents"`
}

// AgentLogin is one agent and its session token.
type AgentLogin struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Token string `json:"token"`
}

func newRunID() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "lg" + string(b)
}

func agentEmail(prefix string, i int) string {
	return fmt.Sprintf("%s-%d@loadgen.example.com", prefix, i)
}

// setupFixture finds or creates the inbox and the first n loadgen agents,
// and logs the agents in. It is idempotent: a second run reuses them.
func setupFixture(ctx context.Context, c *Config, api *API, nAgents int, logf func(string, ...any)) (*Fixture, error) {
	fx := &Fixture{Run: newRunID(), InboxToken: c.InboxToken}
	needAdmin := fx.InboxToken == "" || nAgents > 0
	if needAdmin && (c.AdminEmail == "" || c.AdminPassword == "") {
		if fx.InboxToken == "" {
			return nil, fmt.Errorf("need --admin-email and --admin-password (or env KEFU_LOADGEN_ADMIN_EMAIL/_PASSWORD) to find or create the %q inbox, or give --inbox-token", c.InboxName)
		}
	}
	if c.AdminEmail != "" && c.AdminPassword != "" {
		lr, err := api.Login(ctx, c.AdminEmail, c.AdminPassword)
		if err != nil {
			return nil, fmt.Errorf("admin login: %w", err)
		}
		fx.AdminToken = lr.Token
	}
	if fx.InboxToken == "" {
		tok, err := ensureInbox(ctx, api, fx.AdminToken, c.InboxName)
		if err != nil {
			return nil, err
		}
		fx.InboxToken = tok
	}
	if nAgents == 0 {
		return fx, nil
	}
	logf("logging in %d agents (%s-N@loadgen.example.com)", nAgents, c.AgentPrefix)
	fx.Agents = make([]AgentLogin, nAgents)
	var created atomic.Int64
	// Logins hash passwords on the server: keep them few at a time.
	err := forEach(ctx, nAgents, 4, func(gctx context.Context, i int) error {
		email := agentEmail(c.AgentPrefix, i+1)
		if fx.AdminToken != "" {
			_, err := api.CreateAgent(gctx, fx.AdminToken, newAgent{
				Email: email, Name: fmt.Sprintf("Loadgen agent %d", i+1), Password: c.AgentPassword,
				Role: "agent", MaxConcurrent: 1000, // the most the server accepts
			})
			switch {
			case err == nil:
				created.Add(1)
			case statusOf(err) == http.StatusConflict:
				// Already there from an earlier run: reuse it.
			default:
				return fmt.Errorf("create agent %s: %w", email, err)
			}
		}
		lr, err := api.Login(api.as(gctx, maxTotalConns+i), email, c.AgentPassword)
		if err != nil {
			return fmt.Errorf("agent %s: login: %w (agents of an earlier run must share --agent-password)", email, err)
		}
		fx.Agents[i] = AgentLogin{ID: lr.Agent.ID, Email: email, Token: lr.Token}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := created.Load(); n > 0 {
		logf("created %d new agents", n)
	}
	return fx, nil
}

func ensureInbox(ctx context.Context, api *API, adminToken, name string) (string, error) {
	ins, err := api.Inboxes(ctx, adminToken)
	if err != nil {
		return "", fmt.Errorf("list inboxes: %w", err)
	}
	for _, in := range ins {
		if in.Name == name && in.PublicToken != "" {
			return in.PublicToken, nil
		}
	}
	in, err := api.CreateInbox(ctx, adminToken, name)
	if err != nil {
		return "", fmt.Errorf("create inbox %q: %w", name, err)
	}
	if in.PublicToken == "" {
		return "", fmt.Errorf("create inbox %q: answer has no public_token", name)
	}
	return in.PublicToken, nil
}
