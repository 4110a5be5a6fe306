package cti

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/router"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /v1/login", s.handleLogin)
	m.HandleFunc("POST /v1/supervisor/login", s.handleSupervisorLogin)
	m.HandleFunc("DELETE /v1/session", s.authed(s.handleLogoutSession))
	m.HandleFunc("GET /v1/agents", s.authed(s.handleAgents))
	m.HandleFunc("GET /v1/agents/{id}", s.authed(s.handleAgent))
	m.HandleFunc("POST /v1/agents/{id}/state", s.authed(s.handleState))
	m.HandleFunc("POST /v1/agents/{id}/calls/{call}/{action}", s.authed(s.handleCall))
	m.HandleFunc("GET /v1/queues", s.authed(s.handleQueues))
	m.HandleFunc("GET /v1/queues/{name}", s.authed(s.handleQueue))
	m.HandleFunc("GET /v1/calls/{call}/positions", s.authed(s.handlePositions))
	m.HandleFunc("POST /v1/calls/{call}/clear", s.authed(s.handleClear))
	m.HandleFunc("GET /v1/events", s.handleEvents)
	m.HandleFunc("GET /v1/config/router", s.authed(s.handleRouterConfigGet))
	m.HandleFunc("PUT /v1/config/router", s.authed(s.handleRouterConfigPut))
	s.mux = m
}

// maxBody bounds a request body: the largest legal one is a call-data
// update within UCCE's 2,000 bytes of ECC plus ten 40-byte variables.
const maxBody = 64 << 10

type handler func(w http.ResponseWriter, r *http.Request, who principal)

// authed requires a valid bearer token.
func (s *Server) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, ok := s.auth.Lookup(bearer(r, false))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tandem-cti"`)
			s.fail(w, fmt.Errorf("cti: %s %s: %w", r.Method, r.URL.Path, ErrUnauthorized))
			return
		}
		h(w, r, who)
	}
}

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error string `json:"error"`
	// Field names the request field at fault, for a 400.
	Field string `json:"field,omitempty"`
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	code := statusOf(err)
	body := ErrorBody{Error: err.Error()}
	var fe *fieldError
	if errors.As(err, &fe) {
		body.Field = fe.Field
	}
	if code == http.StatusInternalServerError {
		s.log.Error("cti: request failed", "err", err)
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body strictly: an unknown field is named in the 400.
func decode(r *http.Request, v any) error {
	d := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return badField(te.Field, "want %s, got %s", te.Type, te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badField(f, "unknown field")
		}
		return badField("body", "%v", err)
	}
	return nil
}

// ---- sessions ----

// LoginRequest is POST /v1/login.
type LoginRequest struct {
	ID       router.AgentID `json:"id"`
	Password string         `json:"password"`
	// Extension is where the agent's calls ring; empty takes the
	// configured one.
	Extension string `json:"extension"`
}

// LoginResponse answers a login.
type LoginResponse struct {
	Token      string     `json:"token"`
	Expires    time.Time  `json:"expires"`
	Agent      *AgentView `json:"agent,omitempty"`
	Supervisor string     `json:"supervisor,omitempty"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if err := decode(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	if req.ID == "" {
		s.fail(w, badField("id", "required"))
		return
	}
	res, ok := s.loginAllowed(w, loginKeys(r, "agent", string(req.ID)))
	if !ok {
		return
	}
	resp, checked, err := s.login(req)
	res.Done(checked)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// SupervisorLoginRequest is POST /v1/supervisor/login.
type SupervisorLoginRequest struct {
	ID       string `json:"id"`
	Password string `json:"password"`
}

func (s *Server) handleSupervisorLogin(w http.ResponseWriter, r *http.Request) {
	var req SupervisorLoginRequest
	if err := decode(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	if req.ID == "" {
		s.fail(w, badField("id", "required"))
		return
	}
	res, ok := s.loginAllowed(w, loginKeys(r, "supervisor", req.ID))
	if !ok {
		return
	}
	resp, err := s.SupervisorLogin(r.Context(), req)
	// Only a wrong password counts as a failure.
	res.Done(err == nil || !errors.Is(err, ErrUnauthorized))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleLogoutSession revokes the caller's token; the agent's router state
// is left alone (logging out of the ACD is a state request).
func (s *Server) handleLogoutSession(w http.ResponseWriter, r *http.Request, _ principal) {
	s.Logout(bearer(r, false))
	w.WriteHeader(http.StatusNoContent)
}

// ---- agents ----

// AgentView is an agent's JSON snapshot.
type AgentView struct {
	ID         router.AgentID     `json:"id"`
	Name       string             `json:"name,omitempty"`
	Extension  string             `json:"extension,omitempty"`
	State      string             `json:"state"`
	Reason     int                `json:"reason,omitempty"`
	Since      time.Time          `json:"since,omitzero"`
	ReadySince time.Time          `json:"ready_since,omitzero"`
	Call       router.CallID      `json:"call,omitempty"`
	Queues     []router.QueueName `json:"queues,omitempty"`
	// Consult is the agent this agent's call is consulting; ConsultOf the
	// agent whose consult this agent is on (a consult to a number shows
	// in neither).
	Consult   router.AgentID `json:"consult,omitempty"`
	ConsultOf router.AgentID `json:"consult_of,omitempty"`
}

func unixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func agentView(st router.AgentStatus) *AgentView {
	v := &AgentView{ID: st.ID, Name: st.Name, Extension: st.Extension, State: st.State.String(), Reason: st.Reason,
		Since: unixNano(st.Since), Call: st.Call, Queues: st.Queues, Consult: st.Consult, ConsultOf: st.ConsultOf}
	if st.State == router.Ready {
		v.ReadySince = unixNano(st.ReadySince)
	}
	return v
}

func (s *Server) handleAgents(w http.ResponseWriter, r *http.Request, who principal) {
	if !who.isSupervisor() {
		s.fail(w, fmt.Errorf("cti: list agents: %w (supervisors only)", ErrForbidden))
		return
	}
	out := make([]*AgentView, 0, len(s.agents))
	for _, id := range s.agents {
		st, err := s.eng.Agent(id)
		if errors.Is(err, router.ErrUnknownAgent) {
			continue // removed from the router's config since
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		out = append(out, agentView(st))
	}
	writeJSON(w, http.StatusOK, out)
}

// agentParam returns the path's agent id after checking who may see it:
// the agent itself or a supervisor.
func agentParam(r *http.Request, who principal) (router.AgentID, error) {
	id := router.AgentID(r.PathValue("id"))
	if !who.isSupervisor() && !who.may(id) {
		return id, fmt.Errorf("cti: agent %s: %w (token is agent %s's)", id, ErrForbidden, who.Agent)
	}
	return id, nil
}

func (s *Server) handleAgent(w http.ResponseWriter, r *http.Request, who principal) {
	id, err := agentParam(r, who)
	if err != nil {
		s.fail(w, err)
		return
	}
	st, err := s.eng.Agent(id)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, agentView(st))
}

// StateRequest is POST /v1/agents/{id}/state. State is one of ready,
// not_ready, logged_out (or logout), work_ready, work_not_ready; Reason is
// a configured reason code of the matching kind (not ready, logout, or
// wrap-up when ending wrap-up), or 0.
type StateRequest struct {
	State  string `json:"state"`
	Reason int    `json:"reason"`
}

// agentStates are the states an agent may ask for; the rest (reserved,
// talking, hold) follow calls. Supervisors may force only supervisorStates,
// as in UCCE: making someone else ready would route calls to an empty seat.
var (
	agentStates      = []router.State{router.LoggedOut, router.NotReady, router.Ready, router.WorkReady, router.WorkNotReady}
	supervisorStates = []router.State{router.LoggedOut, router.NotReady}
)

func parseRequestedState(name string, allowed []router.State) (router.State, error) {
	if name == "" {
		return 0, badField("state", "required")
	}
	if name == "logout" {
		name = router.LoggedOut.String()
	}
	st, err := router.ParseState(name)
	if err != nil || !slices.Contains(allowed, st) {
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = a.String()
		}
		return 0, badField("state", "%q cannot be requested; want one of %s", name, strings.Join(names, ", "))
	}
	return st, nil
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request, who principal) {
	id, err := agentParam(r, who)
	if err != nil {
		s.fail(w, err)
		return
	}
	var req StateRequest
	if err := decode(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	allowed := agentStates
	if who.isSupervisor() {
		allowed = supervisorStates
	}
	to, err := parseRequestedState(req.State, allowed)
	if err != nil {
		s.fail(w, err)
		return
	}
	if req.Reason < 0 {
		s.fail(w, badField("reason", "%d is negative", req.Reason))
		return
	}
	if to == router.Ready {
		if err := s.checkReachable(id); err != nil {
			s.log.Info("cti: ready refused", "agent", string(id), "err", err)
			s.fail(w, err)
			return
		}
	}
	if err := s.setState(id, to, req.Reason, who); err != nil {
		s.fail(w, err)
		return
	}
	st, err := s.eng.Agent(id)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, agentView(st))
}

func (s *Server) setState(id router.AgentID, to router.State, reason int, who principal) error {
	log := s.log.With("agent", string(id), "to", to.String(), "reason", reason)
	if who.isSupervisor() {
		log = log.With("supervisor", who.Supervisor)
		// UCCE lets a supervisor log out a ready agent; the router's table
		// wants not ready first (an agent's own logout does too), so the
		// force is two steps. Between them the agent is not ready and
		// takes no call, which is what the supervisor wants anyway.
		if to == router.LoggedOut {
			if st, err := s.eng.Agent(id); err == nil && st.State == router.Ready {
				if err := s.eng.SetState(id, router.NotReady, 0); err != nil {
					return err
				}
			}
		}
	}
	if err := s.eng.SetState(id, to, reason); err != nil {
		log.Info("cti: state request refused", "err", err)
		return err
	}
	log.Info("cti: state request")
	return nil
}

// ---- calls ----

// TransferRequest is POST /v1/agents/{id}/calls/{call}/transfer. To says
// what Dest is: "number" (a dialed number, sent by the call server), "queue"
// (a skill group or precision queue, through the router, which may queue
// the call) or "agent" (an agent id, rung at its extension).
type TransferRequest struct {
	To       string `json:"to"`
	Dest     string `json:"dest"`
	Priority int    `json:"priority"`
}

// ConsultRequest is POST /v1/agents/{id}/calls/{call}/consult: To is
// "agent", "queue" or "number" as for a transfer. The caller is held while
// the agent talks to the target; then complete (the caller goes to the
// target) or cancel (the agent has the caller back).
type ConsultRequest struct {
	To   string `json:"to"`
	Dest string `json:"dest"`
}

// ConsultResponse says which agent the consult reached ("" for a number).
type ConsultResponse struct {
	Agent router.AgentID `json:"agent,omitempty"`
}

// CallDataRequest is POST /v1/agents/{id}/calls/{call}/data: call
// variables (pv1..pv10) and ECC variables (user.x, user.x[i]) to set.
type CallDataRequest struct {
	Variables map[string]string `json:"variables"`
}

// TransferResponse answers a transfer to a queue: what the router decided.
type TransferResponse struct {
	// Instruction is connect (offered to Agent) or queued.
	Instruction string         `json:"instruction"`
	Agent       router.AgentID `json:"agent,omitempty"`
}

// handleCall is call control on one of the agent's own calls: hold,
// retrieve, release, transfer, data. Only the agent holding the call may
// act on it; a supervisor may not (barge-in and the like are not here).
func (s *Server) handleCall(w http.ResponseWriter, r *http.Request, who principal) {
	id := router.AgentID(r.PathValue("id"))
	call := router.CallID(r.PathValue("call"))
	action := r.PathValue("action")
	if !slices.Contains([]string{"hold", "retrieve", "release", "transfer", "consult", "complete", "cancel", "conference", "data"}, action) {
		s.fail(w, fmt.Errorf("cti: call action %q: %w (want hold, retrieve, release, transfer, consult, complete, cancel, conference or data)", action, ErrNotFound))
		return
	}
	if !who.may(id) {
		s.fail(w, fmt.Errorf("cti: agent %s call %s: %w (only the agent may control its calls)", id, call, ErrForbidden))
		return
	}
	st, err := s.ownCall(id, call)
	if err != nil {
		s.fail(w, err)
		return
	}
	log := s.log.With("call", string(call), "agent", string(id), "action", action)
	ctx := r.Context()
	// Each action's precondition on the agent's state is checked here so
	// the desktop gets a 409 at once instead of a call server error later.
	need := func(states ...router.State) error {
		if slices.Contains(states, st.State) {
			return nil
		}
		return fmt.Errorf("cti: %s call %s: agent %s is %s: %w", action, call, id, st.State, ErrConflict)
	}
	switch action {
	case "hold":
		err = need(router.Talking)
		if err == nil {
			err = s.calls.Hold(ctx, call)
		}
	case "retrieve":
		err = need(router.Hold)
		if err == nil {
			err = s.calls.Retrieve(ctx, call)
		}
	case "release":
		err = need(router.Talking, router.Hold)
		if err == nil {
			err = s.calls.Release(ctx, call)
		}
	case "transfer":
		var req TransferRequest
		if err = decode(r, &req); err == nil {
			if err = need(router.Talking, router.Hold); err == nil {
				var resp *TransferResponse
				resp, err = s.transfer(r, id, call, req)
				if err == nil && resp != nil {
					log.Info("cti: transferred to queue", "queue", req.Dest, "instruction", resp.Instruction)
					writeJSON(w, http.StatusOK, resp)
					return
				}
			}
		}
	case "consult":
		var req ConsultRequest
		if err = decode(r, &req); err == nil {
			if err = need(router.Talking, router.Hold); err == nil {
				var to ConsultTarget
				if to, err = consultTarget(id, req); err == nil {
					var agent router.AgentID
					if agent, err = s.calls.Consult(ctx, call, to); err == nil {
						log.Info("cti: consult", "to", req.To, "dest", req.Dest, "agent", agent)
						writeJSON(w, http.StatusOK, ConsultResponse{Agent: agent})
						return
					}
				}
			}
		}
	case "complete":
		err = s.calls.CompleteConsult(ctx, call)
	case "cancel":
		err = s.calls.CancelConsult(ctx, call)
	case "conference":
		err = s.calls.Conference(ctx, call)
	case "data":
		var req CallDataRequest
		if err = decode(r, &req); err == nil {
			err = s.setData(call, req)
		}
	}
	if err != nil {
		log.Info("cti: call request refused", "err", err)
		s.fail(w, err)
		return
	}
	log.Info("cti: call request passed on")
	w.WriteHeader(http.StatusAccepted)
}

// ownCall checks that call is the agent's: 404 when the call does not
// exist, 403 when another agent (or none) holds it.
func (s *Server) ownCall(id router.AgentID, call router.CallID) (router.AgentStatus, error) {
	st, err := s.eng.Agent(id)
	if err != nil {
		return st, err
	}
	if st.Call == call && call != "" {
		return st, nil
	}
	if _, err := s.eng.Positions(call); errors.Is(err, router.ErrUnknownCall) {
		return st, err
	}
	return st, fmt.Errorf("cti: call %s is not agent %s's: %w", call, id, ErrForbidden)
}

func (s *Server) transfer(r *http.Request, id router.AgentID, call router.CallID, req TransferRequest) (*TransferResponse, error) {
	if req.Dest == "" {
		return nil, badField("dest", "required")
	}
	ctx := r.Context()
	switch req.To {
	case "number":
		if req.Priority != 0 {
			return nil, badField("priority", "only for a transfer to a queue")
		}
		return nil, s.calls.BlindTransfer(ctx, call, req.Dest)
	case "agent":
		if req.Priority != 0 {
			return nil, badField("priority", "only for a transfer to a queue")
		}
		to := router.AgentID(req.Dest)
		if to == id {
			return nil, badField("dest", "an agent cannot transfer a call to itself")
		}
		st, err := s.eng.Agent(to)
		if err != nil {
			return nil, err
		}
		if st.State == router.LoggedOut {
			return nil, fmt.Errorf("cti: transfer call %s to agent %s: logged out: %w", call, to, ErrConflict)
		}
		return nil, s.calls.BlindTransfer(ctx, call, st.Extension)
	case "queue":
		if req.Priority < 0 || req.Priority > 10 {
			return nil, badField("priority", "%d is outside 1–10 (0 takes the default)", req.Priority)
		}
		in, err := s.eng.Transfer(call, router.QueueName(req.Dest), req.Priority)
		if err != nil {
			return nil, err
		}
		if err := s.calls.Follow(ctx, call, in); err != nil {
			return nil, fmt.Errorf("cti: transfer call %s to %s: call server: %w", call, req.Dest, err)
		}
		return &TransferResponse{Instruction: in.Kind.String(), Agent: in.Agent}, nil
	case "":
		return nil, badField("to", "required (number, queue or agent)")
	}
	return nil, badField("to", "%q: want number, queue or agent", req.To)
}

// consultTarget checks a consult request's target.
func consultTarget(self router.AgentID, req ConsultRequest) (ConsultTarget, error) {
	if req.Dest == "" {
		return ConsultTarget{}, badField("dest", "required")
	}
	switch req.To {
	case "agent":
		if router.AgentID(req.Dest) == self {
			return ConsultTarget{}, badField("dest", "an agent cannot consult itself")
		}
		return ConsultTarget{Agent: router.AgentID(req.Dest)}, nil
	case "queue":
		return ConsultTarget{Queue: req.Dest}, nil
	case "number":
		return ConsultTarget{Number: req.Dest}, nil
	case "":
		return ConsultTarget{}, badField("to", "required (number, queue or agent)")
	}
	return ConsultTarget{}, badField("to", "%q: want number, queue or agent", req.To)
}

// setData sets call data in name order, stopping at the first refusal;
// earlier names stay set (the router takes one variable at a time).
func (s *Server) setData(call router.CallID, req CallDataRequest) error {
	if len(req.Variables) == 0 {
		return badField("variables", "required: at least one name")
	}
	names := make([]string, 0, len(req.Variables))
	for n := range req.Variables {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := s.eng.SetCallData(call, n, req.Variables[n]); err != nil {
			if errors.Is(err, router.ErrCallData) {
				return &fieldError{Field: "variables." + n, Msg: err.Error()}
			}
			return err
		}
	}
	return nil
}

// ---- queues ----

// QueueView is a queue's live figures.
type QueueView struct {
	Name    router.QueueName `json:"name"`
	Waiting int              `json:"waiting"`
	Oldest  time.Time        `json:"oldest,omitzero"`
	// ExpectedWait is for a call joining at the back, in seconds.
	ExpectedWait float64 `json:"expected_wait"`
	// Agents counts the queue's logged-in agents by state name.
	Agents map[string]int `json:"agents"`
}

func queueView(st router.QueueStats) QueueView {
	v := QueueView{Name: st.Name, Waiting: st.Waiting, ExpectedWait: st.ExpectedWait.Seconds(), Agents: map[string]int{}}
	if !st.Oldest.IsZero() {
		v.Oldest = st.Oldest.UTC()
	}
	for i, n := range st.Agents {
		if s := router.State(i); s != router.LoggedOut {
			v.Agents[s.String()] = n
		}
	}
	return v
}

// Queue figures are open to agents as well as supervisors: a desktop shows
// the calls waiting in its agent's queues, as Finesse's queue gadget does.
func (s *Server) handleQueues(w http.ResponseWriter, r *http.Request, _ principal) {
	out := make([]QueueView, 0, len(s.queues))
	for _, q := range s.queues {
		st, err := s.eng.Stats(q)
		if errors.Is(err, router.ErrUnknownQueue) {
			continue
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		out = append(out, queueView(st))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request, _ principal) {
	st, err := s.eng.Stats(router.QueueName(r.PathValue("name")))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, queueView(st))
}

// PositionView is where a call stands in one of its queues.
type PositionView struct {
	Queue        router.QueueName `json:"queue"`
	Position     int              `json:"position"`
	ExpectedWait float64          `json:"expected_wait"`
}

func (s *Server) handlePositions(w http.ResponseWriter, r *http.Request, who principal) {
	if !who.isSupervisor() {
		s.fail(w, fmt.Errorf("cti: positions: %w (supervisors only)", ErrForbidden))
		return
	}
	ps, err := s.eng.Positions(router.CallID(r.PathValue("call")))
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]PositionView, len(ps))
	for i, p := range ps {
		out[i] = PositionView{Queue: p.Queue, Position: p.Position, ExpectedWait: p.ExpectedWait.Seconds()}
	}
	writeJSON(w, http.StatusOK, out)
}

// ClearResponse answers POST /v1/calls/{call}/clear.
type ClearResponse struct {
	Call      router.CallID `json:"call"`
	ClearedBy string        `json:"cleared_by"`
}

// handleClear is a supervisor's clear call: the call ends on every leg
// whatever state it is in (UCCE's "clear call" for a stuck call), the
// router releases its queue entry, reservation or agent, and the call is
// reported as cleared by this supervisor. Agents may not: they release
// their own calls.
func (s *Server) handleClear(w http.ResponseWriter, r *http.Request, who principal) {
	call := router.CallID(r.PathValue("call"))
	if !who.isSupervisor() {
		s.fail(w, fmt.Errorf("cti: clear call %s: %w (supervisors only)", call, ErrForbidden))
		return
	}
	by := "supervisor " + who.Supervisor
	if err := s.calls.Clear(r.Context(), call, by); err != nil {
		s.log.Info("cti: clear call refused", "call", string(call), "supervisor", who.Supervisor, "err", err)
		s.fail(w, err)
		return
	}
	s.log.Warn("cti: call cleared", "call", string(call), "supervisor", who.Supervisor)
	writeJSON(w, http.StatusOK, ClearResponse{Call: call, ClearedBy: by})
}

// ---- router configuration (supervisors) ----

// ConfigVersion answers a PUT of the router's configuration.
type ConfigVersion struct {
	Version int `json:"version"`
}

func (s *Server) handleRouterConfigGet(w http.ResponseWriter, r *http.Request, who principal) {
	if !who.isSupervisor() {
		s.fail(w, fmt.Errorf("cti: router config: %w (supervisors only)", ErrForbidden))
		return
	}
	if s.rcfg == nil {
		s.fail(w, fmt.Errorf("cti: router config: %w (not configured)", ErrNotFound))
		return
	}
	v, body, err := s.rcfg.Current(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("X-Config-Version", fmt.Sprint(v))
	_, _ = w.Write(body)
}

func (s *Server) handleRouterConfigPut(w http.ResponseWriter, r *http.Request, who principal) {
	if !who.isSupervisor() {
		s.fail(w, fmt.Errorf("cti: router config: %w (supervisors only)", ErrForbidden))
		return
	}
	if s.rcfg == nil {
		s.fail(w, fmt.Errorf("cti: router config: %w (not configured)", ErrNotFound))
		return
	}
	// A router configuration is far larger than a request body of the
	// agent API; bound it generously.
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		s.fail(w, badField("body", "%v", err))
		return
	}
	v, err := s.rcfg.Apply(r.Context(), body, who.Supervisor)
	if err != nil {
		if errors.Is(err, router.ErrConfig) {
			err = badField("body", "%v", err)
		}
		s.fail(w, err)
		return
	}
	s.log.Info("cti: router configuration replaced", "version", v, "by", who.Supervisor)
	writeJSON(w, http.StatusOK, ConfigVersion{Version: v})
}
