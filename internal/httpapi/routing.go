package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
	"github.com/kefu-chat/kefu/internal/routing"
)

// Routing: presence, teams, per-inbox routing settings, rules, the queue
// and transfers. The decisions and the claims live in internal/dispatch
// and the store; these handlers validate and call them.

func (s *Server) routingEnabled() error {
	if s.routing == nil {
		return kefu.Errorf(kefu.EUnavailable, "routing is not running on this server")
	}
	return nil
}

type availabilityRequest struct {
	Availability kefu.Availability `json:"availability"`
}

func (s *Server) setAvailability(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req availabilityRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := s.chat.SetPresence(r.Context(), a, string(req.Availability)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

// agentState is an agent's routing state as the workbench shows it.
type agentState struct {
	kefu.AgentState
	Online bool `json:"online"` // declared online and connected (within the grace period)
}

func (s *Server) listAgentStates(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	if err := s.routingEnabled(); err != nil {
		return err
	}
	states, err := s.store.ListAgentStates(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]agentState, len(states))
	for i, st := range states {
		out[i] = agentState{AgentState: st, Online: routing.Connected(st, now, s.routing.Grace())}
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
	return nil
}

// Teams.

type teamRequest struct {
	Name     *string  `json:"name"`
	AgentIDs *[]int64 `json:"agent_ids"`
}

func (req *teamRequest) apply(t *kefu.Team) error {
	if req.Name != nil {
		if err := checkName("name", *req.Name); err != nil {
			return err
		}
		t.Name = strings.TrimSpace(*req.Name)
	}
	if req.AgentIDs != nil {
		if len(*req.AgentIDs) > 1000 {
			return kefu.Errorf(kefu.EInvalid, "at most 1000 agents in a team")
		}
		t.AgentIDs = *req.AgentIDs
	}
	if t.Name == "" {
		return kefu.Errorf(kefu.EInvalid, "name is required")
	}
	return nil
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	teams, err := s.store.ListTeams(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(teams, ""))
	return nil
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req teamRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	t := &kefu.Team{WorkspaceID: a.WorkspaceID, AgentIDs: []int64{}}
	if err := req.apply(t); err != nil {
		return err
	}
	if err := s.store.CreateTeam(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.store.GetTeam(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) updateTeam(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req teamRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	t, err := s.store.GetTeam(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	if err := req.apply(t); err != nil {
		return err
	}
	if err := s.store.UpdateTeam(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) deleteTeam(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	return deleted(w, r, func(ctx context.Context, id int64) error { return s.store.DeleteTeam(ctx, a.WorkspaceID, id) })
}

// Inbox routing settings.

func (s *Server) getRoutingSettings(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.store.GetRoutingSettings(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

type routingSettingsRequest struct {
	Policy           *string          `json:"policy"`
	DefaultCapacity  *int             `json:"default_capacity"`
	Sticky           *bool            `json:"sticky"`
	TeamIDs          *[]int64         `json:"team_ids"`
	BusinessHours    *json.RawMessage `json:"business_hours"`
	AutoResolveAfter *kefu.Duration   `json:"auto_resolve_after"`
	RemindAfter      *kefu.Duration   `json:"remind_after"`
}

func (req *routingSettingsRequest) apply(st *kefu.RoutingSettings) error {
	if req.Policy != nil {
		if !routing.Policy(*req.Policy).Valid() {
			return kefu.Errorf(kefu.EInvalid, "policy must be least_loaded, round_robin or manual")
		}
		st.Policy = *req.Policy
	}
	if req.DefaultCapacity != nil {
		if *req.DefaultCapacity < 1 || *req.DefaultCapacity > maxConcurrentLimit {
			return kefu.Errorf(kefu.EInvalid, "default_capacity must be from 1 to %d", maxConcurrentLimit)
		}
		st.DefaultCapacity = *req.DefaultCapacity
	}
	if req.Sticky != nil {
		st.Sticky = *req.Sticky
	}
	if req.TeamIDs != nil {
		if len(*req.TeamIDs) > 100 {
			return kefu.Errorf(kefu.EInvalid, "at most 100 teams")
		}
		st.TeamIDs = *req.TeamIDs
	}
	if req.BusinessHours != nil {
		raw := *req.BusinessHours
		if string(raw) != "null" {
			var sched routing.Schedule
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&sched); err != nil {
				return kefu.Errorf(kefu.EInvalid, "business_hours: %s", jsonError(err))
			}
			if err := sched.Validate(); err != nil {
				return kefu.Errorf(kefu.EInvalid, "business_hours: %s", kefu.ErrorMessage(err))
			}
			raw, _ = json.Marshal(sched)
		}
		st.BusinessHours = raw
	}
	const maxAfter = kefu.Duration(90 * 24 * time.Hour)
	for _, d := range []struct {
		v   *kefu.Duration
		dst *kefu.Duration
		n   string
	}{{req.AutoResolveAfter, &st.AutoResolveAfter, "auto_resolve_after"}, {req.RemindAfter, &st.RemindAfter, "remind_after"}} {
		if d.v == nil {
			continue
		}
		if *d.v != 0 && (*d.v < kefu.Duration(time.Minute) || *d.v > maxAfter) {
			return kefu.Errorf(kefu.EInvalid, "%s must be 0 (off) or from 60 seconds to 90 days", d.n)
		}
		*d.dst = *d.v
	}
	return nil
}

func (s *Server) putRoutingSettings(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req routingSettingsRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	st, err := s.store.GetRoutingSettings(r.Context(), a.WorkspaceID, id)
	if err != nil {
		return err
	}
	if err := req.apply(st); err != nil {
		return err
	}
	if err := s.store.PutRoutingSettings(r.Context(), st); err != nil {
		return err
	}
	if s.routing != nil {
		s.routing.Forget(a.WorkspaceID, id)
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// Rules.

type ruleRequest struct {
	Name     *string          `json:"name"`
	InboxID  *int64           `json:"inbox_id"`
	Position *int             `json:"position"`
	Enabled  *bool            `json:"enabled"`
	Rule     *json.RawMessage `json:"rule"`
}

func (req *ruleRequest) apply(rr *kefu.RoutingRule) error {
	if req.Name != nil {
		if err := checkText("name", *req.Name, 200, false); err != nil {
			return err
		}
		rr.Name = strings.TrimSpace(*req.Name)
	}
	if req.InboxID != nil {
		if *req.InboxID < 0 {
			return kefu.Errorf(kefu.EInvalid, "inbox_id must be an inbox id, or 0 for every inbox")
		}
		rr.InboxID = *req.InboxID
	}
	if req.Position != nil {
		rr.Position = *req.Position
	}
	if req.Enabled != nil {
		rr.Enabled = *req.Enabled
	}
	if req.Rule != nil {
		var rule routing.Rule
		dec := json.NewDecoder(strings.NewReader(string(*req.Rule)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rule); err != nil {
			return kefu.Errorf(kefu.EInvalid, "rule: %s", jsonError(err))
		}
		if err := rule.Validate(); err != nil {
			return kefu.Errorf(kefu.EInvalid, "rule: %s", kefu.ErrorMessage(err))
		}
		rr.Rule, _ = json.Marshal(rule)
	}
	if len(rr.Rule) == 0 {
		return kefu.Errorf(kefu.EInvalid, "rule is required")
	}
	return nil
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	rules, err := s.store.ListRoutingRules(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(rules, ""))
	return nil
}

func (s *Server) createRule(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	var req ruleRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	rr := &kefu.RoutingRule{WorkspaceID: a.WorkspaceID, Enabled: true}
	if err := req.apply(rr); err != nil {
		return err
	}
	if err := s.store.CreateRoutingRule(r.Context(), rr); err != nil {
		return err
	}
	s.forgetRules(a.WorkspaceID)
	writeJSON(w, http.StatusCreated, rr)
	return nil
}

func (s *Server) updateRule(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req ruleRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	rules, err := s.store.ListRoutingRules(r.Context(), a.WorkspaceID)
	if err != nil {
		return err
	}
	var rr *kefu.RoutingRule
	for _, x := range rules {
		if x.ID == id {
			rr = x
		}
	}
	if rr == nil {
		return kefu.Errorf(kefu.ENotFound, "routing rule not found")
	}
	if err := req.apply(rr); err != nil {
		return err
	}
	if err := s.store.UpdateRoutingRule(r.Context(), rr); err != nil {
		return err
	}
	s.forgetRules(a.WorkspaceID)
	writeJSON(w, http.StatusOK, rr)
	return nil
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	return deleted(w, r, func(ctx context.Context, id int64) error {
		if err := s.store.DeleteRoutingRule(ctx, a.WorkspaceID, id); err != nil {
			return err
		}
		s.forgetRules(a.WorkspaceID)
		return nil
	})
}

func (s *Server) forgetRules(workspaceID int64) {
	if s.routing != nil {
		s.routing.Forget(workspaceID, 0)
	}
}

// The queue and transfers.

func (s *Server) listQueue(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	inbox, err := queryInt(r, "inbox_id", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	q, err := s.store.ListQueue(r.Context(), a.WorkspaceID, inbox, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(q, ""))
	return nil
}

type transferRequest struct {
	AgentID int64  `json:"agent_id"`
	TeamID  int64  `json:"team_id"`
	Note    string `json:"note"`
}

func (s *Server) transfer(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	if err := s.routingEnabled(); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req transferRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.AgentID < 0 || req.TeamID < 0 {
		return kefu.Errorf(kefu.EInvalid, "agent_id and team_id are ids")
	}
	if err := checkText("note", req.Note, 2000, true); err != nil {
		return err
	}
	c, err := s.routing.Transfer(r.Context(), a, id, req.AgentID, req.TeamID, req.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// widgetStatus tells the visitor's widget whether the inbox is open and
// an agent is online (else it shows the offline form).
func (s *Server) widgetStatus(w http.ResponseWriter, r *http.Request, a kefu.Actor) error {
	if ok, after := s.widgetReads.allow(ipKey(clientIP(r))); !ok {
		return rateLimited(after)
	}
	if err := s.routingEnabled(); err != nil {
		return err
	}
	st, err := s.routing.Status(r.Context(), a.WorkspaceID, a.InboxID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
