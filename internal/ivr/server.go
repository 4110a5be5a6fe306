package ivr

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tandem-cc/tandem/internal/contract"
)

// NextKind says what the router wants after a micro-app
// (contract.ScriptNextKind).
type NextKind = contract.ScriptNextKind

// Next kinds.
const (
	// RunScript: run Next.Script with Next.Params on the same VXML session.
	RunScript = contract.NextScript
	// Leave: nothing more for the VRU; hold the caller (silence or hold
	// audio) until the call server moves them and the gateway's leg ends,
	// or until Expect brings a new micro-app.
	Leave = contract.NextLeave
	// Release: disconnect the caller.
	Release = contract.NextRelease
)

// Next is the router's answer to a micro-app's result
// (contract.ScriptNext), plain data so the IVR service can run apart from
// the router.
type Next = contract.ScriptNext

// Router is what the IVR service needs from the router: report a
// micro-app's result (contract.ScriptResult: caller_input, error, and
// failed when error is not "none") and learn what comes next.
type Router = contract.ScriptRouter

// Queue is what the IVR service needs to announce a queued call's place:
// its position (1 = next served) and expected wait, ok false when the call
// is not queued. A call queued in several queues gets its best figures.
type Queue interface {
	Position(call string) (pos int, wait time.Duration, ok bool)
}

// The largest figures QT speaks as numbers; beyond them it says
// Announcements.ManyAhead or LongWait. Twenty keeps the prompt set small
// (and a caller told "you are caller 57" rarely stays anyway).
const (
	MaxAnnouncedPosition = 20
	MaxAnnouncedWait     = 20 * time.Minute
)

func (a *Announcements) setDefaults() {
	for _, d := range []struct {
		dst *string
		def string
	}{
		{&a.CallerNumber, "You are caller number"},
		{&a.ManyAhead, "There are more than twenty callers ahead of you."},
		{&a.WaitAbout, "Your expected wait is about"},
		{&a.Minute, "minute"},
		{&a.Minutes, "minutes"},
		{&a.ShortWait, "Your expected wait is less than a minute."},
		{&a.LongWait, "Your expected wait is more than twenty minutes."},
	} {
		if *d.dst == "" {
			*d.dst = d.def
		}
	}
}

// AnnouncementTexts returns every text a QT announcement under cfg can
// speak (the phrases, then the numbers "1".."20"), so a prompt generator
// can render them all ahead of time for a gateway without TTS.
func AnnouncementTexts(cfg Config) []string {
	a := cfg.Announce
	a.setDefaults()
	out := []string{a.CallerNumber, a.ManyAhead, a.WaitAbout, a.Minute, a.Minutes, a.ShortWait, a.LongWait}
	for i := 1; i <= max(MaxAnnouncedPosition, int(MaxAnnouncedWait/time.Minute)); i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

// Deps are the IVR service's collaborators.
type Deps struct {
	Router Router
	// Queue gives QT its figures; nil leaves the announcements out.
	Queue  Queue
	Logger *slog.Logger
	// Now is the clock (time.Now if nil); tests move it to expire calls.
	Now func() time.Time
}

// phase is where a call stands at the VRU.
type phase uint8

const (
	// phaseApp: a micro-app is pending or running.
	phaseApp phase = iota + 1
	// phaseBusy: its result is with the router (Continue in flight).
	phaseBusy
	// phaseHold: the router said Leave; the caller is in the hold loop.
	phaseHold
	// phaseRelease: the router said Release.
	phaseRelease
)

// callState is one call at the VRU. Guarded by Server.mu.
type callState struct {
	phase  phase
	app    MicroApp
	script string // as the router gave it, for logs
	// seq numbers the call's micro-apps (and hold loops); a result or hold
	// fetch carrying another seq is stale.
	seq   uint64
	holds int // hold rounds served since Leave
	// qtRounds counts the QT micro-apps run for the call (the announce
	// period counts them); qtAt is when the last began and qtPause says
	// the current one follows a round too short to have played music.
	qtRounds int
	qtAt     time.Time
	qtPause  bool
	// touched is the last Expect or fetch: IdleTimeout counts from it.
	touched time.Time
}

// Server is the IVR service: the table of calls at the VRU and the HTTP
// handler the VoiceXML gateway fetches from.
type Server struct {
	cfg    Config
	router Router
	queue  Queue
	log    *slog.Logger
	now    func() time.Time
	r      renderer

	// mu guards calls and every callState in it. It is never held while
	// calling the Router (which takes its own lock and may call Expect).
	mu    sync.Mutex
	calls map[string]*callState
}

// New validates cfg and returns a Server.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Router == nil {
		return nil, ErrNoRouter
	}
	cfg.Fill()
	s := &Server{cfg: cfg, router: deps.Router, queue: deps.Queue, log: deps.Logger, now: deps.Now, calls: map[string]*callState{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.r = renderer{noInputText: cfg.NoInputText, noMatchText: cfg.NoMatchText, holdAudio: cfg.HoldAudio, holdPause: cfg.HoldPause.D(),
		announce: cfg.Announce}
	if cfg.MediaBase != "" {
		s.r.media, _ = url.Parse(cfg.MediaBase) // checked by Validate
	}
	return s, nil
}

// Run sweeps idle calls out of the table until ctx ends. The table stays
// correct without it (an idle call is unknown when looked up, and Expect
// sweeps when full); Run only returns the memory sooner.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.IdleTimeout.D() / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.mu.Lock()
			s.sweepLocked()
			s.mu.Unlock()
		}
	}
}

// sweepLocked drops idle calls. s.mu must be held.
func (s *Server) sweepLocked() {
	now := s.now()
	for id, c := range s.calls {
		if now.Sub(c.touched) > s.cfg.IdleTimeout.D() {
			s.log.Info("ivr: call idle, dropped", "call", id, "script", c.script)
			delete(s.calls, id)
		}
	}
}

// Expect tells the IVR service that the router asked for VRU script script
// (with params) for call. The call's next fetch of /ivr/start, or its next
// hold round, runs it; an Expect while a micro-app runs replaces it for the
// next fetch.
func (s *Server) Expect(call, script string, params map[string]string) error {
	app, err := ParseScript(script, params)
	if err != nil {
		return fmt.Errorf("ivr: expect call %s: %w", call, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[call]
	if c == nil {
		if len(s.calls) >= s.cfg.MaxCalls {
			s.sweepLocked()
		}
		if len(s.calls) >= s.cfg.MaxCalls {
			return fmt.Errorf("ivr: expect call %s: %w (%d calls)", call, ErrTableFull, len(s.calls))
		}
		c = &callState{}
		s.calls[call] = c
	}
	c.seq++
	c.phase, c.app, c.script, c.holds, c.touched = phaseApp, app, script, 0, s.now()
	s.startLocked(c)
	return nil
}

// minQTRound is the shortest QT round that can have played its music: a
// round ending sooner (the music file is missing, or the caller keyed
// ahead) is followed by one that waits HoldPause, so a broken media name
// cannot spin the treatment loop between gateway, IVR and router.
const minQTRound = 2 * time.Second

// startLocked notes the start of c's micro-app (after Expect or the
// router's RunScript). s.mu must be held.
func (s *Server) startLocked(c *callState) {
	if c.app.Kind != QueueTreatment {
		return
	}
	now := s.now()
	c.qtRounds++
	c.qtPause = !c.qtAt.IsZero() && now.Sub(c.qtAt) < minQTRound
	c.qtAt = now
}

// lookupLocked returns the call's live state, nil if unknown or idle too
// long. s.mu must be held.
func (s *Server) lookupLocked(call string) *callState {
	c := s.calls[call]
	if c == nil {
		return nil
	}
	now := s.now()
	if now.Sub(c.touched) > s.cfg.IdleTimeout.D() {
		delete(s.calls, call)
		return nil
	}
	c.touched = now
	return c
}

// Handler returns the HTTP handler of /ivr/start, /ivr/result, /ivr/hold
// and the external applications under /ivr/apps/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ivr/start", s.handleStart)
	mux.HandleFunc("POST /ivr/result", s.handleResult)
	mux.HandleFunc("GET /ivr/hold", s.handleHold)
	mux.HandleFunc("GET /ivr/apps/{path...}", s.handleApp)
	return mux
}

// writeDoc answers with a VoiceXML document. Unknown calls and stale
// requests get 200 with a document that logs and exits, not an HTTP
// error: a 4xx is error.badfetch to the interpreter, which ends the
// session as an error instead of cleanly.
func writeDoc(w http.ResponseWriter, doc []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/voicexml+xml; charset=utf-8")
	// Every answer depends on the call's state: never cached (the
	// gateway's fetcher honours no-store).
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(doc)
}

// page is a document to send: ready, or a QT round, rendered once s.mu is
// released because its figures come from the router (Deps.Queue), which
// takes its own lock.
type page struct {
	doc []byte
	qt  *qtRound
}

// qtRound is one QT micro-app to render.
type qtRound struct {
	call  string
	seq   uint64
	app   MicroApp
	round int  // 1 for the call's first QT
	pause bool // the previous round was too short: wait HoldPause
}

// pageLocked is the page for the call's current state. s.mu must be held.
func (s *Server) pageLocked(call string, c *callState) page {
	if c.phase == phaseApp && c.app.Kind == QueueTreatment {
		return page{qt: &qtRound{call: call, seq: c.seq, app: c.app, round: c.qtRounds, pause: c.qtPause}}
	}
	return page{doc: s.stateDocLocked(call, c)}
}

// writePage renders p if needed and sends it. s.mu must not be held.
func (s *Server) writePage(w http.ResponseWriter, p page) {
	if p.qt == nil {
		writeDoc(w, p.doc)
		return
	}
	q := p.qt
	var fig *figures
	if q.app.AnnounceEvery > 0 && (q.round-1)%q.app.AnnounceEvery == 0 && s.queue != nil {
		if pos, wait, ok := s.queue.Position(q.call); ok {
			fig = &figures{pos: pos, wait: wait}
		}
	}
	writeDoc(w, s.r.queueTreatment(q, fig))
}

// stateDoc is the document for the call's current state, other than a QT
// round (see pageLocked). s.mu must be held.
func (s *Server) stateDocLocked(call string, c *callState) []byte {
	switch c.phase {
	case phaseApp:
		return s.r.Render(call, c.seq, c.app)
	case phaseHold:
		return s.r.hold(call, c.seq)
	case phaseRelease:
		return end(call, "released by the router", true)
	}
	return end(call, "micro-app result still with the router", false)
}

func (s *Server) handleStart(w http.ResponseWriter, r *http.Request) {
	call := r.URL.Query().Get(CallParam)
	s.mu.Lock()
	c := s.lookupLocked(call)
	var p page
	if c != nil {
		p = s.pageLocked(call, c)
	}
	s.mu.Unlock()
	if c == nil {
		s.log.Warn("ivr: start for unknown call", "call", call, "remote", r.RemoteAddr)
		writeDoc(w, end(call, "unknown call", false))
		return
	}
	s.log.Debug("ivr: start", "call", call)
	s.writePage(w, p)
}

func (s *Server) handleHold(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	call := q.Get(CallParam)
	seq, _ := strconv.ParseUint(q.Get("seq"), 10, 64)
	s.mu.Lock()
	c := s.lookupLocked(call)
	var p page
	switch {
	case c == nil:
		p.doc = end(call, "unknown call on hold", false)
	case c.phase == phaseHold && c.seq == seq:
		c.holds++
		if c.holds >= s.cfg.HoldRounds {
			s.log.Warn("ivr: hold loop ended without the caller being moved", "call", call, "rounds", c.holds)
			delete(s.calls, call)
			p.doc = end(call, "hold loop ended", false)
		} else {
			p.doc = s.r.hold(call, c.seq)
		}
	default:
		// The router expected a new micro-app (or released the call)
		// while the caller was on hold: run it now.
		p = s.pageLocked(call, c)
	}
	s.mu.Unlock()
	s.writePage(w, p)
}

func (s *Server) handleResult(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	call := q.Get(CallParam)
	seq, _ := strconv.ParseUint(q.Get("seq"), 10, 64)
	if err := r.ParseForm(); err != nil {
		s.log.Warn("ivr: result: bad form", "call", call, "err", err)
	}
	input, code := r.PostForm.Get("caller_input"), r.PostForm.Get("error")
	if code == "" {
		code = "none"
	}
	log := s.log.With("call", call)

	s.mu.Lock()
	c := s.lookupLocked(call)
	switch {
	case c == nil:
		s.mu.Unlock()
		log.Warn("ivr: result for unknown call", "seq", seq)
		writeDoc(w, end(call, "unknown call", false))
		return
	case c.phase != phaseApp || c.seq != seq:
		// A repeated or late post must not move the router's script twice.
		p := s.pageLocked(call, c)
		cur := c.seq
		s.mu.Unlock()
		log.Warn("ivr: stale micro-app result", "seq", seq, "current", cur)
		s.writePage(w, p)
		return
	}
	c.phase = phaseBusy
	app := c.app
	s.mu.Unlock()

	result := map[string]string{"caller_input": input, "error": code}
	if app.Kind == External {
		// The application's returned values, as from_ext_vxml.<name>.
		if n, err := fromExtVXML(r.PostForm.Get("from_ext_vxml"), result); err != nil {
			log.Warn("ivr: external application result", "app", app.App, "err", err, "kept", n)
		}
	}
	// The input itself may be an account number or a PIN: only its length
	// goes to the log.
	log.Info("ivr: micro-app result", "app", string(app.Kind), "input_len", len(input), "error", code, "values", len(result))
	next, err := s.router.Continue(contract.ScriptResult{Call: contract.CallID(call), Values: result, Failed: code != "none"})
	var parsed MicroApp
	if err == nil && next.Kind == RunScript {
		parsed, err = ParseScript(next.Script, next.Params)
	} else if err == nil && next.Kind != Leave && next.Kind != Release {
		err = fmt.Errorf("unknown next kind %d", next.Kind)
	}

	s.mu.Lock()
	p := s.applyLocked(call, seq, next, parsed, err)
	s.mu.Unlock()
	s.writePage(w, p)
}

// applyLocked records the router's answer to the result of micro-app seq
// and returns the page the gateway gets. s.mu must be held.
func (s *Server) applyLocked(call string, seq uint64, next Next, parsed MicroApp, err error) page {
	c := s.calls[call]
	if c == nil {
		return page{doc: end(call, "call dropped while with the router", false)}
	}
	if err != nil {
		// The router cannot go on with this call: end the VRU leg and let
		// the call server ask the router what to do with the caller.
		s.log.Error("ivr: continue", "call", call, "err", fmt.Errorf("ivr: result call %s: %w", call, err))
		delete(s.calls, call)
		return page{doc: end(call, "router error", false)}
	}
	newer := c.seq != seq // an Expect came while Continue ran
	switch next.Kind {
	case RunScript:
		c.seq++
		c.phase, c.app, c.script, c.holds = phaseApp, parsed, next.Script, 0
		s.startLocked(c)
	case Leave:
		if !newer {
			c.seq++
			c.phase, c.holds = phaseHold, 0
		}
	case Release:
		c.phase = phaseRelease
	}
	c.touched = s.now()
	p := s.pageLocked(call, c)
	if next.Kind == Release {
		delete(s.calls, call)
	}
	return p
}

// callIDs returns the table's ids, for tests.
func (s *Server) callIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.calls))
}
