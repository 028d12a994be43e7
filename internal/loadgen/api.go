package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// API is a small client for the parts of Kefu's REST API the load
// generator uses, with one keep-alive connection pool for the whole run.
type API struct {
	base    *url.URL
	http    *http.Client
	single  *http.Client // one connection per request, for requests with their own source address
	clients *clientAddrs // nil: no per-visitor source addresses
}

func newAPI(base *url.URL, d *Dialer, maxConns int, clients *clientAddrs) *API {
	client := func(tr *http.Transport) *http.Client {
		return &http.Client{
			Transport: tr,
			Timeout:   30 * time.Second,
			// Never follow a redirect: it could point outside the loopback
			// range, and the API does not redirect.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &API{base: base, clients: clients,
		http: client(&http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConns:        maxConns,
			MaxIdleConnsPerHost: maxConns,
			MaxConnsPerHost:     maxConns,
			IdleConnTimeout:     30 * time.Second,
		}),
		single: client(&http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}),
	}
}

// Close drops idle connections.
func (a *API) Close() { a.http.CloseIdleConnections() }

// as makes the requests made with the returned context come from the
// i-th client address, when --client-addrs is on.
func (a *API) as(ctx context.Context, i int) context.Context {
	if a.clients == nil {
		return ctx
	}
	return withSource(ctx, a.clients.pick(i))
}

// APIError is a non-2xx answer.
type APIError struct {
	Status  int
	Code    string
	Message string
	Path    string
}

func (e *APIError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s: HTTP %d %s: %s", e.Path, e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("%s: HTTP %d", e.Path, e.Status)
}

func statusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// do sends a JSON request with an optional bearer token and decodes a JSON
// answer into out (if not nil).
func (a *API) do(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base.String()+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kefu-loadgen")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := a.http
	if _, own := ctx.Value(srcKey{}).(netip.Addr); own {
		hc = a.single
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode, Path: method + " " + strings.SplitN(path, "?", 2)[0]}
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &env) == nil {
			e.Code, e.Message = env.Error.Code, env.Error.Message
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decoding answer: %w", method, path, err)
		}
	}
	return nil
}

// LoginResult is the answer of POST /api/v1/auth/login.
type LoginResult struct {
	Token     string     `json:"token"`
	ExpiresAt time.Time  `json:"expires_at"`
	Agent     kefu.Agent `json:"agent"`
}

func (a *API) Login(ctx context.Context, email, password string) (*LoginResult, error) {
	var r LoginResult
	err := a.do(ctx, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}, &r)
	if err != nil {
		return nil, err
	}
	if r.Token == "" {
		return nil, fmt.Errorf("login %s: answer has no token", email)
	}
	return &r, nil
}

type newAgent struct {
	Email         string `json:"email"`
	Name          string `json:"name"`
	Password      string `json:"password"`
	Role          string `json:"role"`
	MaxConcurrent int    `json:"max_concurrent"`
}

func (a *API) CreateAgent(ctx context.Context, adminToken string, in newAgent) (*kefu.Agent, error) {
	var ag kefu.Agent
	return &ag, a.do(ctx, http.MethodPost, "/api/v1/agents", adminToken, in, &ag)
}

func (a *API) Inboxes(ctx context.Context, token string) ([]kefu.Inbox, error) {
	var r struct {
		Data []kefu.Inbox `json:"data"`
	}
	return r.Data, a.do(ctx, http.MethodGet, "/api/v1/inboxes", token, nil, &r)
}

func (a *API) CreateInbox(ctx context.Context, token, name string) (*kefu.Inbox, error) {
	var in kefu.Inbox
	return &in, a.do(ctx, http.MethodPost, "/api/v1/inboxes", token, map[string]string{"name": name}, &in)
}

// VisitorSession is the answer of POST /api/v1/widget/sessions.
type VisitorSession struct {
	Token     string       `json:"token"`
	VisitorID string       `json:"visitor_id"`
	Contact   kefu.Contact `json:"contact"`
}

func (a *API) VisitorSession(ctx context.Context, inboxToken, name string) (*VisitorSession, error) {
	var s VisitorSession
	err := a.do(ctx, http.MethodPost, "/api/v1/widget/sessions", "", map[string]string{"inbox_token": inboxToken, "name": name}, &s)
	if err == nil && s.Token == "" {
		err = errors.New("widget session: answer has no token")
	}
	return &s, err
}

func (a *API) StartConversation(ctx context.Context, visitorToken string) (*kefu.Conversation, error) {
	var c kefu.Conversation
	err := a.do(ctx, http.MethodPost, "/api/v1/widget/conversations", visitorToken, struct{}{}, &c)
	if err == nil && c.ID == 0 {
		err = errors.New("widget conversation: answer has no id")
	}
	return &c, err
}

func (a *API) UpdateConversation(ctx context.Context, token string, id int64, change map[string]any) (*kefu.Conversation, error) {
	var c kefu.Conversation
	return &c, a.do(ctx, http.MethodPatch, "/api/v1/conversations/"+strconv.FormatInt(id, 10), token, change, &c)
}

// ConversationPage is one page of GET /api/v1/conversations.
type ConversationPage struct {
	Data       []kefu.Conversation `json:"data"`
	NextCursor string              `json:"next_cursor"`
}

func (a *API) Conversations(ctx context.Context, token string, q url.Values) (*ConversationPage, error) {
	var p ConversationPage
	return &p, a.do(ctx, http.MethodGet, "/api/v1/conversations?"+q.Encode(), token, nil, &p)
}

// Metrics reads unlabelled samples from the server's /metrics; names
// not found are absent from the map.
func (a *API) Metrics(ctx context.Context, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base.String()+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &APIError{Status: resp.StatusCode, Path: "GET /metrics"}
	}
	return parseMetrics(resp.Body, names...)
}

// parseMetrics finds "name value" (or "name{} value") lines in Prometheus
// text.
func parseMetrics(r io.Reader, names ...string) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, name := range names {
			rest, ok := strings.CutPrefix(line, name)
			if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
				continue
			}
			if rest[0] == '{' {
				i := strings.IndexByte(rest, '}')
				if i < 0 {
					continue
				}
				rest = rest[i+1:]
			}
			if fields := strings.Fields(rest); len(fields) > 0 {
				if v, err := strconv.ParseFloat(fields[0], 64); err == nil {
					out[name] = v
				}
			}
		}
	}
	return out, sc.Err()
}

// Ready waits until /readyz answers 200 or ctx ends.
func (a *API) Ready(ctx context.Context) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base.String()+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := a.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /readyz: HTTP %d", resp.StatusCode)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server not ready: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
