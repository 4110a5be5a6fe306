package cti

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tandem-cc/tandem/internal/authlimit"
	"github.com/tandem-cc/tandem/internal/router"
	"github.com/tandem-cc/tandem/internal/token"
)

// Engine is what CTI needs of the router; *router.Engine implements it.
type Engine interface {
	Login(id router.AgentID, password, extension string) error
	CheckPassword(id router.AgentID, password string) error
	SetState(id router.AgentID, to router.State, reason int) error
	Agent(id router.AgentID) (router.AgentStatus, error)
	Transfer(id router.CallID, q router.QueueName, priority int) (router.Instruction, error)
	SetCallData(id router.CallID, name, value string) error
	Stats(name router.QueueName) (router.QueueStats, error)
	Positions(id router.CallID) ([]router.Position, error)
}

var _ Engine = (*router.Engine)(nil)

// CallControl is what CTI asks of the call server for an agent's call. The
// call server carries the request out on the SIP side and then reports to
// the router (Hold, Retrieve, End) and to CTI (Publish) what happened, so
// the router's state follows the phones, not the requests.
type CallControl interface {
	Hold(ctx context.Context, call router.CallID) error
	Retrieve(ctx context.Context, call router.CallID) error
	Release(ctx context.Context, call router.CallID) error
	// BlindTransfer sends the caller to a dialed number (or an agent's
	// extension) and drops the agent's leg.
	BlindTransfer(ctx context.Context, call router.CallID, dest string) error
	// Follow hands the call server the router's instruction for a call
	// CTI transferred to a queue (Engine.Transfer answers the caller of
	// Transfer, not Notify): an offer to an agent, or Queued.
	Follow(ctx context.Context, call router.CallID, in router.Instruction) error
	// Consult holds the caller and connects the agent to a consult target
	// (an agent, a queue's longest-available agent, or a dialed number);
	// it returns the target agent ("" for a number) once it answered.
	Consult(ctx context.Context, call router.CallID, to ConsultTarget) (router.AgentID, error)
	// CompleteConsult connects the caller to the consult target and drops
	// the agent (consult transfer); CancelConsult drops the target and
	// gives the agent the caller back.
	CompleteConsult(ctx context.Context, call router.CallID) error
	CancelConsult(ctx context.Context, call router.CallID) error
	// Conference joins the caller, the agent and the consult target.
	Conference(ctx context.Context, call router.CallID) error
	// Clear ends a call on every leg for a supervisor or administrator
	// (by names who): the router's state is released and the call is
	// reported as cleared. An unknown call wraps ErrNotFound.
	Clear(ctx context.Context, call router.CallID, by string) error
}

// ConsultTarget is who a consult call goes to: exactly one of an agent id,
// a queue (skill group or precision queue) or a dialed number.
type ConsultTarget struct {
	Agent  router.AgentID
	Queue  string
	Number string
}

// Deps are what the CTI server needs from outside.
type Deps struct {
	Engine Engine
	Calls  CallControl
	// Devices answers where agents may log in and whether their phones
	// can ring (required: an agent ready on no phone loses every call).
	Devices Devices
	Log     *slog.Logger
	// Now is the clock for token expiry; default time.Now.
	Now func() time.Time
	// RouterConfig, when set, lets supervisors read and replace the
	// router's configuration at run time (GET/PUT /v1/config/router).
	RouterConfig RouterConfig
	// Agents and Queues are what a supervisor's lists walk: the router
	// answers for one id or name at a time. DirectoryOf fills both from the
	// router's configuration.
	Agents []router.AgentID
	Queues []router.QueueName
}

// RouterConfig is the store behind /v1/config/router: Apply validates a
// YAML document, applies it to the running router without dropping a call
// and keeps it; an invalid one changes nothing and its error wraps
// ErrBadRequest... or router.ErrConfig.
type RouterConfig interface {
	Current(ctx context.Context) (version int, body []byte, err error)
	Apply(ctx context.Context, body []byte, author string) (version int, err error)
}

// Server is the CTI server: the agent and supervisor HTTP API and the
// event WebSocket.
type Server struct {
	rcfg RouterConfig // may be nil
	cfg  Config
	// agents and queues are Deps.Agents and Deps.Queues, read only.
	agents []router.AgentID
	queues []router.QueueName
	eng    Engine
	calls  CallControl
	// devices: where agents may log in, whether their phones ring.
	devices Devices
	log     *slog.Logger
	now     func() time.Time
	auth    *token.Store[principal]
	hub     *hub
	mux     *http.ServeMux
	// failed slows down logins that keep failing (see loginAllowed).
	failed *authlimit.Limiter

	// base ends every WebSocket when the server shuts down.
	base   context.Context
	cancel context.CancelFunc
	// mu guards closed and the Add side of conns, so no connection starts
	// after Shutdown began waiting.
	mu     sync.Mutex
	closed bool
	conns  sync.WaitGroup
}

// New validates cfg and returns a server with no session.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Engine == nil {
		return nil, fmt.Errorf("%w: cti: deps.Engine is nil", ErrConfig)
	}
	if deps.Calls == nil {
		return nil, fmt.Errorf("%w: cti: deps.Calls is nil", ErrConfig)
	}
	if deps.Devices == nil {
		return nil, fmt.Errorf("%w: cti: deps.Devices is nil", ErrConfig)
	}
	cfg.Fill()
	s := &Server{cfg: cfg, agents: deps.Agents, queues: deps.Queues, eng: deps.Engine, calls: deps.Calls, log: deps.Log, now: deps.Now, hub: newHub(), rcfg: deps.RouterConfig, devices: deps.Devices}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.auth = token.New[principal](cfg.TokenTTL.D(), s.now)
	s.failed = authlimit.New(loginWindow, s.now)
	s.base, s.cancel = context.WithCancel(context.Background())
	s.routes()
	return s, nil
}

// Handler returns the HTTP API; the process mounts it on its listener.
func (s *Server) Handler() http.Handler { return s.mux }

// Run forgets expired tokens every minute until ctx ends, then shuts the
// WebSockets down (waiting at most 5 s for them).
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.auth.Sweep()
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return s.Shutdown(sctx)
		}
	}
}

// Shutdown closes every WebSocket (status 1001, going away), refuses new
// ones and waits for their goroutines until ctx ends. HTTP requests are
// the owning http.Server's to drain.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cti: shutdown: websockets still open: %w", ctx.Err())
	}
}

func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns.Add(1)
	return true
}

// handleEvents is GET /v1/events: the event WebSocket of one agent or
// supervisor. The server only writes; what the client sends is read and
// dropped (that read is what notices the peer going away).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	who, ok := s.auth.Lookup(bearer(r, true))
	if !ok {
		s.fail(w, fmt.Errorf("cti: events: %w", ErrUnauthorized))
		return
	}
	if !s.track() {
		s.fail(w, ErrShutdown)
		return
	}
	defer s.conns.Done()
	hw := &hijackWriter{ResponseWriter: w}
	c, err := websocket.Accept(hw, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		return // Accept has written the response
	}
	defer c.CloseNow()
	wc := &wsConn{Conn: c, raw: hw.conn}
	log := s.log.With("agent", string(who.Agent), "supervisor", who.Supervisor, "remote", r.RemoteAddr)
	// CloseRead's context must not be s.base: when its context ends it
	// drops the connection without a close frame, and a desktop should be
	// told "going away" to reconnect elsewhere.
	ctx, cancel := context.WithCancelCause(c.CloseRead(context.Background()))
	defer cancel(nil)
	stop := context.AfterFunc(s.base, func() { cancel(ErrShutdown) })
	defer stop()
	sub := &subscriber{who: who, send: make(chan Event, s.cfg.SendQueue), ctx: ctx, cancel: cancel}
	s.hub.add(sub)
	defer s.hub.remove(sub)
	log.Debug("cti: events connected")
	// An agent's desktop first hears where it stands (as Finesse sends the
	// user's state on connect); subscribed first, so no change is lost
	// between this snapshot and the events that follow it.
	if who.Agent != "" {
		if st, err := s.eng.Agent(who.Agent); err == nil {
			sub.send <- Event{Type: EventAgentState, Agent: who.Agent, State: st.State.String(), Reason: st.Reason, Time: s.now()}
		}
	}
	// ended says goodbye as the reason for ending asks: a close frame the
	// desktop can act on, not a dropped connection.
	ended := func() {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, ErrSlowConsumer):
			log.Warn("cti: events: client too slow; disconnected", "queue", s.cfg.SendQueue)
			wc.closeSoon(websocket.StatusPolicyViolation, "slow consumer")
		case errors.Is(cause, ErrShutdown):
			wc.closeSoon(websocket.StatusGoingAway, "server shutting down")
		}
	}
	for {
		select {
		case <-ctx.Done():
			ended()
			return
		case ev := <-sub.send:
			if ctx.Err() != nil {
				// Both cases were ready and select picked this one: the
				// end comes first.
				ended()
				return
			}
			wctx, wcancel := context.WithTimeout(ctx, s.cfg.WriteTimeout.D())
			err := wsjson.Write(wctx, c, ev)
			wcancel()
			if err != nil {
				if ctx.Err() != nil {
					// The write lost a race with the end (select picks
					// at random between two ready cases).
					ended()
					return
				}
				log.Info("cti: events: write failed; disconnected", "err", err)
				return
			}
		}
	}
}

// closeWait bounds the close handshake: a client that does not answer the
// close frame must not hold Shutdown.
const closeWait = time.Second

// hijackWriter keeps the connection websocket.Accept hijacks, so that a
// close handshake the peer never answers can be cut short.
type hijackWriter struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("cti: events: response writer cannot hijack")
	}
	c, rw, err := hj.Hijack()
	h.conn = c
	return c, rw, err
}

type wsConn struct {
	*websocket.Conn
	raw net.Conn
}

// closeSoon sends a close frame with a reason and waits closeWait at most
// for the peer's answer before dropping the connection.
func (c *wsConn) closeSoon(code websocket.StatusCode, reason string) {
	done := make(chan struct{})
	go func() { _ = c.Close(code, reason); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		if c.raw != nil {
			_ = c.raw.Close()
		}
		<-done
	}
}
