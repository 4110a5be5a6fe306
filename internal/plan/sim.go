package plan

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/router"
)

// tickEvery is the router's own timer cadence (router.Engine.Run ticks
// every 100 ms): the plan ticks the engine on the same grid of virtual
// time, so wrap-up, waits and ring-no-answer fire when they would live.
const tickEvery = int64(100 * time.Millisecond)

// Options are a run's settings beside the plan.
type Options struct {
	// Seed seeds every random draw: the same seed, plan and router
	// document give the same result.
	Seed uint64
	// Log receives the engine's log (discarded when nil).
	Log *slog.Logger
	// staffing, when set, replaces the teams' agents per interval
	// (sizing by simulation).
	staffing [][]int
}

// Run plays the plan's day through a router engine built from doc, the
// router document live calls are routed by (a tandem config's router
// section, or config.DemoRouter()), on virtual time.
func Run(doc []byte, spec Spec, opt Options) (*Result, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	spec = spec.withDefaults()
	cfg, err := router.ParseConfig(doc)
	if err != nil {
		return nil, err
	}
	s, err := newSim(cfg, spec, opt)
	if err != nil {
		return nil, err
	}
	wall := time.Now()
	if err := s.run(); err != nil {
		return nil, err
	}
	res := s.result()
	res.Wall = time.Since(wall)
	return res, nil
}

// sim is one run. It is single-threaded: the engine's notices and events
// arrive synchronously inside engine calls and are queued here, then acted
// on after the call returns (Deps.Notify must not call back in).
type sim struct {
	spec  Spec
	eng   *router.Engine
	rng   *rand.Rand
	now   int64 // virtual clock, unix ns
	start int64
	ivLen int64
	nIv   int
	end   int64 // last interval's end
	stop  int64 // end plus the drain

	events   simHeap
	seq      uint64
	nextTick int64
	notices  []router.Notice

	calls   map[router.CallID]*simCall
	all     []*simCall
	live    int
	streams []*stream
	teams   []*team
	agents  map[router.AgentID]*simAgent
	wrapUp  time.Duration
	queues  map[string]bool // skill groups (Erlang applies) by name
	pqs     map[string]bool // precision queues
	staffBy [][]int         // [team][interval] scheduled agents
	short   int             // logins refused: a team's pool ran out
	nextID  uint64
}

// simCall is one simulated caller.
type simCall struct {
	id       router.CallID
	st       *stream
	interval int
	talk     time.Duration
	patience time.Duration
	arrive   int64
	queued   int64 // first queue entry; 0: never queued
	queues   []queueEntry
	offerQ   string
	agent    router.AgentID
	offered  int64
	answered int64
	ended    int64
	wrap     time.Duration
	group    string // queue it was answered from
	outcome  Outcome
	gone     bool // courtesy callback: the caller hung up to be called back
	offers   int
	ivrGen   uint64 // bumped to cancel a pending VRU result
	offerGen uint64 // bumped to cancel a pending answer
}

type queueEntry struct {
	name string
	at   int64
}

// Outcome is how a simulated call ended.
type Outcome string

// Outcomes.
const (
	OutcomeHandled    Outcome = "handled"
	OutcomeAbandoned  Outcome = "abandoned"
	OutcomeReleased   Outcome = "released"   // the script released it (closed, no queue)
	OutcomeRouted     Outcome = "routed"     // sent to a label that is not an agent
	OutcomeUnfinished Outcome = "unfinished" // still waiting when the plan stopped
)

// stream is one dialed number's arrivals.
type stream struct {
	t        Traffic
	talk     Dist
	patience Dist
	i        int   // interval of the next arrival
	at       int64 // next arrival
	// arrivals and entered count per interval what happened, for the
	// Erlang inputs.
	arrivals []int
	entered  []map[string]int
}

type team struct {
	Team
	pool   []*simAgent
	active int // logged in and not leaving
	busy   []int64
	ready  []int64
}

type simAgent struct {
	id       router.AgentID
	password string
	team     *team
	loggedIn bool
	leaving  bool
	state    router.State
	since    int64
	lastCall *simCall
	wrapFrom int64
}

type evKind uint8

const (
	evArrive evKind = iota
	evStaff
	evIVR
	evAnswer
	evHangup
	evAbandon
)

type simEvent struct {
	at   int64
	seq  uint64
	kind evKind
	c    *simCall
	st   *stream
	gen  uint64
	key  string
	i    int
}

type simHeap []simEvent

func (h simHeap) Len() int { return len(h) }
func (h simHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h simHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *simHeap) Push(x any)   { *h = append(*h, x.(simEvent)) }
func (h *simHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func (s *sim) push(e simEvent) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.events, e)
}

// poolFactor sizes a team's pool of agent ids: agents leaving at the end
// of their schedule finish their call while the next shift logs in.
const poolFactor = 2

func newSim(cfg router.Config, spec Spec, opt Options) (*sim, error) {
	start := spec.Start
	if start.IsZero() {
		start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	}
	s := &sim{
		spec: spec, rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)),
		start: start.UnixNano(), ivLen: int64(spec.Interval.D()), nIv: spec.Intervals(),
		calls: map[router.CallID]*simCall{}, agents: map[router.AgentID]*simAgent{},
		queues: map[string]bool{}, pqs: map[string]bool{}, wrapUp: cfg.WrapUp.D(),
	}
	s.now = s.start
	s.nextTick = s.start
	s.end = s.start + int64(s.nIv)*s.ivLen
	s.stop = s.end + int64(spec.Drain.D())
	for _, g := range cfg.SkillGroups {
		s.queues[g.Name] = true
	}
	for _, q := range cfg.PrecisionQueues {
		s.pqs[q.Name] = true
	}
	// The teams: the plan's, with a pool of agent ids each, put in the
	// router document in place of its agents; or the document's own
	// agents, grouped by their skill groups, all logged in all day.
	if len(spec.Teams) > 0 {
		cfg.Agents = nil
		for i, t := range spec.Teams {
			for j, g := range t.SkillGroups {
				if !s.queues[g] {
					return nil, fmt.Errorf("plan.teams[%d].skill_groups[%d]: %q is not a skill group of the router document", i, j, g)
				}
			}
			tm := &team{Team: t}
			peak := 0
			for iv := 0; iv < s.nIv; iv++ {
				peak = max(peak, s.agentsAt(opt, i, t, iv))
			}
			for k := 1; k <= peak*poolFactor; k++ {
				id := fmt.Sprintf("plan-%s-%d", t.Name, k)
				cfg.Agents = append(cfg.Agents, router.Agent{ID: id, Name: id, Extension: id, Password: "plan",
					SkillGroups: t.SkillGroups, Attributes: t.Attributes})
				tm.pool = append(tm.pool, &simAgent{id: router.AgentID(id), password: "plan", team: tm})
			}
			s.teams = append(s.teams, tm)
		}
	} else {
		byGroups := map[string]*team{}
		for _, a := range cfg.Agents {
			if a.Extension == "" {
				continue // cannot log in without a phone
			}
			key := fmt.Sprint(a.SkillGroups)
			tm := byGroups[key]
			if tm == nil {
				name := "agents"
				if len(a.SkillGroups) > 0 {
					name = fmt.Sprint(a.SkillGroups)
					name = name[1 : len(name)-1]
				}
				tm = &team{Team: Team{Name: name, SkillGroups: a.SkillGroups, Agents: []int{0}}}
				byGroups[key] = tm
				s.teams = append(s.teams, tm)
			}
			tm.Agents[0]++
			tm.pool = append(tm.pool, &simAgent{id: router.AgentID(a.ID), password: a.Password, team: tm})
		}
	}
	s.staffBy = make([][]int, len(s.teams))
	for i, tm := range s.teams {
		tm.busy = make([]int64, s.nIv)
		tm.ready = make([]int64, s.nIv)
		s.staffBy[i] = make([]int, s.nIv)
		for iv := range s.staffBy[i] {
			s.staffBy[i][iv] = s.agentsAt(opt, i, tm.Team, iv)
		}
		for _, a := range tm.pool {
			s.agents[a.id] = a
		}
	}
	eng, err := router.New(cfg, router.Deps{
		Log:    opt.Log,
		Now:    func() time.Time { return time.Unix(0, s.now) },
		Notify: func(n router.Notice) { s.notices = append(s.notices, n) },
		Rand:   func(n int) int { return s.rng.IntN(n) },
		Events: sink{s},
	})
	if err != nil {
		return nil, err
	}
	s.eng = eng
	for _, t := range spec.Traffic {
		st := &stream{t: t, talk: spec.Talk, patience: spec.Patience, arrivals: make([]int, s.nIv), entered: make([]map[string]int, s.nIv)}
		if t.Talk != nil {
			st.talk = *t.Talk
		}
		if t.Patience != nil {
			st.patience = *t.Patience
		}
		s.streams = append(s.streams, st)
		st.at = s.start
		s.nextArrival(st)
	}
	for iv := 0; iv < s.nIv; iv++ {
		s.push(simEvent{at: s.start + int64(iv)*s.ivLen, kind: evStaff, i: iv})
	}
	return s, nil
}

func (s *sim) agentsAt(opt Options, i int, t Team, iv int) int {
	if opt.staffing != nil {
		return opt.staffing[i][iv]
	}
	return t.agentsAt(iv)
}

// nextArrival draws the stream's next arrival of a Poisson process whose
// rate is constant within each interval (the interval's calls over its
// length): an exponential amount of "expected calls" used up interval by
// interval.
func (s *sim) nextArrival(st *stream) {
	need := s.rng.ExpFloat64()
	t := st.at
	for st.i < len(st.t.Calls) {
		ivEnd := s.start + int64(st.i+1)*s.ivLen
		rate := st.t.Calls[st.i] / float64(s.ivLen) // calls per ns
		have := rate * float64(ivEnd-t)
		if rate > 0 && need <= have {
			st.at = t + int64(need/rate)
			if st.at >= ivEnd { // rounding
				st.at = ivEnd - 1
			}
			s.push(simEvent{at: st.at, kind: evArrive, st: st})
			return
		}
		need -= have
		t = ivEnd
		st.i++
	}
}

// run is the event loop: the engine's tick grid and the plan's events in
// time order (ticks first at the same instant, as a live engine's timers
// do not wait for a caller).
func (s *sim) run() error {
	for {
		if s.live == 0 && s.now >= s.end {
			// No arrivals after the last interval; what is left in the
			// heap concerns calls that are over.
			return nil
		}
		if s.now >= s.stop {
			return nil
		}
		if len(s.events) == 0 || s.nextTick <= s.events[0].at {
			s.now = s.nextTick
			s.nextTick += tickEvery
			s.eng.Tick()
			if err := s.drain(); err != nil {
				return err
			}
			continue
		}
		e := heap.Pop(&s.events).(simEvent)
		s.now = e.at
		if err := s.handle(e); err != nil {
			return err
		}
		if err := s.drain(); err != nil {
			return err
		}
	}
}

func (s *sim) handle(e simEvent) error {
	switch e.kind {
	case evArrive:
		return s.arrive(e.st)
	case evStaff:
		return s.staff(e.i)
	case evIVR:
		c := e.c
		if c.ivrGen != e.gen || c.ended != 0 {
			return nil
		}
		failed := e.key == KeyError
		var result map[string]string
		if !failed {
			result = map[string]string{"caller_input": e.key}
		}
		in, err := s.eng.Continue(c.id, result, failed)
		if err != nil {
			return fmt.Errorf("plan: call %s: %w", c.id, err)
		}
		return s.instruct(c, in)
	case evAnswer:
		c := e.c
		if c.offerGen != e.gen || c.ended != 0 {
			return nil
		}
		if err := s.eng.Answered(c.id); err != nil {
			if errors.Is(err, router.ErrCallState) {
				return nil // the router took the offer back (ring-no-answer)
			}
			return fmt.Errorf("plan: call %s: %w", c.id, err)
		}
		c.answered, c.group = s.now, c.offerQ
		c.ivrGen++
		s.push(simEvent{at: s.now + int64(c.talk), kind: evHangup, c: c})
	case evHangup:
		c := e.c
		if err := s.eng.End(c.id); err != nil {
			return fmt.Errorf("plan: call %s: %w", c.id, err)
		}
		if a := s.agents[c.agent]; a != nil {
			a.lastCall = c
		}
		s.finish(c, OutcomeHandled)
	case evAbandon:
		c := e.c
		if c.answered != 0 || c.ended != 0 || c.gone {
			return nil
		}
		if err := s.eng.End(c.id); err != nil {
			return fmt.Errorf("plan: call %s: %w", c.id, err)
		}
		if c.offered != 0 && c.agent != "" {
			// The caller hung up while the agent's phone rang; the
			// CANCEL is answered at once.
			s.eng.Released(c.id, c.agent)
		}
		s.finish(c, OutcomeAbandoned)
	}
	return nil
}

// arrive is a new call: a route request to the dialed number.
func (s *sim) arrive(st *stream) error {
	iv := int((s.now - s.start) / s.ivLen)
	s.nextID++
	c := &simCall{id: router.CallID("plan-" + strconv.FormatUint(s.nextID, 10)), st: st, interval: iv, arrive: s.now}
	var mean time.Duration
	if iv < len(st.t.TalkMeans) {
		mean = st.t.TalkMeans[iv].D()
	}
	c.talk = st.talk.sample(s.rng, mean)
	c.patience = st.patience.sample(s.rng, 0)
	st.arrivals[iv]++
	s.calls[c.id] = c
	s.all = append(s.all, c)
	s.live++
	s.nextArrival(st)
	in, err := s.eng.Route(context.Background(), router.RouteRequest{Call: c.id, DNIS: st.t.DNIS,
		ANI: "555" + fmt.Sprintf("%07d", s.nextID%10_000_000), SIPCallID: string(c.id)})
	if err != nil {
		return fmt.Errorf("plan: route %s: %w", c.id, err)
	}
	return s.instruct(c, in)
}

// instruct acts on the router's instruction for c as the call server and
// the VRU would.
func (s *sim) instruct(c *simCall, in router.Instruction) error {
	if c.ended != 0 {
		return nil
	}
	c.offerGen++ // a new instruction supersedes an offer still ringing
	switch in.Kind {
	case router.Connect:
		c.ivrGen++ // the caller leaves the VRU
		if in.Agent == "" {
			_ = s.eng.End(c.id) // the call left tandem's queues for a label
			s.finish(c, OutcomeRouted)
			return nil
		}
		c.agent, c.offered = in.Agent, s.now
		c.offers++
		s.push(simEvent{at: s.now + int64(s.spec.Ring), kind: evAnswer, c: c, gen: c.offerGen})
	case router.RunScript:
		c.ivrGen++
		v := s.spec.ivrOf(in.VRUScript)
		key := s.choose(v.Keys)
		s.push(simEvent{at: s.now + int64(v.Duration), kind: evIVR, c: c, gen: c.ivrGen, key: key})
	case router.Release:
		err := s.eng.End(c.id)
		switch {
		case err == nil:
			// The router kept the call: a courtesy callback, queued
			// without its caller, who no longer abandons.
			c.gone = true
			c.ivrGen++
		case errors.Is(err, router.ErrUnknownCall):
			s.finish(c, OutcomeReleased)
		default:
			return fmt.Errorf("plan: call %s: %w", c.id, err)
		}
	case router.Queued:
		// Waits with the treatment it has.
	}
	return nil
}

// choose draws a key by its share.
func (s *sim) choose(keys map[string]float64) string {
	if len(keys) == 0 {
		return ""
	}
	sum := 0.0
	for _, w := range keys {
		sum += w
	}
	x := s.rng.Float64() * sum
	var last string
	for _, k := range sortedKeys(keys) {
		last = k
		if x < keys[k] {
			return k
		}
		x -= keys[k]
	}
	return last
}

func (s *sim) finish(c *simCall, o Outcome) {
	if c.ended != 0 {
		return
	}
	c.ended, c.outcome = s.now, o
	c.ivrGen++
	c.offerGen++
	delete(s.calls, c.id)
	s.live--
}

// drain acts on the notices the engine made during the last call into it.
func (s *sim) drain() error {
	// Acting on a notice may call the engine, which appends more: the
	// index runs to the end of the growing slice, which is then reused.
	defer func() { s.notices = s.notices[:0] }()
	for i := 0; i < len(s.notices); i++ {
		n := s.notices[i]
		switch n.Kind {
		case router.NoticeCall:
			c := s.calls[n.Call]
			if c == nil {
				continue
			}
			if err := s.instruct(c, n.Instruction); err != nil {
				return err
			}
		case router.NoticeAgent:
			if err := s.agentState(n.Agent, n.State); err != nil {
				return err
			}
		}
	}
	return nil
}

// agentState books the time of the agent's previous state to its team
// (occupancy) and logs out an agent whose shift ended once its call is done.
func (s *sim) agentState(id router.AgentID, st router.State) error {
	a := s.agents[id]
	if a == nil {
		return nil
	}
	s.book(a)
	if (a.state == router.WorkReady || a.state == router.WorkNotReady) && st != router.WorkReady && st != router.WorkNotReady && a.lastCall != nil {
		a.lastCall.wrap = time.Duration(s.now - a.wrapFrom)
		a.lastCall = nil
	}
	if st == router.WorkReady || st == router.WorkNotReady {
		if a.state != router.WorkReady && a.state != router.WorkNotReady {
			a.wrapFrom = s.now
		}
	}
	a.state, a.since = st, s.now
	if st == router.LoggedOut {
		a.loggedIn, a.leaving = false, false
	}
	if a.leaving && st == router.NotReady {
		return s.eng.SetState(a.id, router.LoggedOut, 0)
	}
	return nil
}

// book adds the agent's time in its current state up to now to its team's
// busy or ready time, cut at interval boundaries.
func (s *sim) book(a *simAgent) {
	var acc []int64
	switch a.state {
	case router.Ready:
		acc = a.team.ready
	case router.Reserved, router.Talking, router.Hold, router.WorkReady, router.WorkNotReady:
		acc = a.team.busy
	default:
		return
	}
	from, to := a.since, s.now
	for from < to {
		iv := int((from - s.start) / s.ivLen)
		if iv >= s.nIv {
			break
		}
		ivEnd := s.start + int64(iv+1)*s.ivLen
		stop := min(to, ivEnd)
		acc[iv] += stop - from
		from = stop
	}
}

// staff logs agents in and out to meet interval i's schedule.
func (s *sim) staff(i int) error {
	for ti, tm := range s.teams {
		want := s.staffBy[ti][i]
		for tm.active < want {
			var a *simAgent
			for _, p := range tm.pool {
				if !p.loggedIn {
					a = p
					break
				}
			}
			if a == nil {
				s.short++
				break
			}
			if err := s.eng.Login(a.id, a.password, ""); err != nil {
				return fmt.Errorf("plan: team %s: %w", tm.Name, err)
			}
			a.loggedIn = true
			tm.active++
			if err := s.drain(); err != nil {
				return err
			}
			if err := s.eng.SetState(a.id, router.Ready, 0); err != nil {
				return fmt.Errorf("plan: team %s: %w", tm.Name, err)
			}
			if err := s.drain(); err != nil {
				return err
			}
		}
		// Leaving: idle agents first, then the busy ones finish their
		// call (UCCE's pending not ready) and log out.
		for _, idle := range []bool{true, false} {
			for _, a := range tm.pool {
				if tm.active <= want {
					break
				}
				if !a.loggedIn || a.leaving {
					continue
				}
				isIdle := a.state == router.Ready || a.state == router.NotReady
				if isIdle != idle {
					continue
				}
				a.leaving = true
				tm.active--
				var err error
				switch a.state {
				case router.Ready:
					err = s.eng.SetState(a.id, router.NotReady, 0)
				case router.NotReady:
					err = s.eng.SetState(a.id, router.LoggedOut, 0)
				case router.WorkReady:
					err = s.eng.SetState(a.id, router.WorkNotReady, 0)
				case router.WorkNotReady:
				default:
					err = s.eng.SetState(a.id, router.NotReady, 0)
				}
				if err != nil {
					return fmt.Errorf("plan: team %s: agent %s leaving: %w", tm.Name, a.id, err)
				}
				if err := s.drain(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// sink takes the engine's reporting events the plan needs: when a call
// first joins a queue (its service-level clock and patience start) and
// which queue an offer came from.
type sink struct{ s *sim }

func (k sink) Emit(e event.Event) {
	s := k.s
	c := s.calls[router.CallID(e.Call)]
	if c == nil {
		return
	}
	switch e.Kind {
	case event.QueueEnter:
		for _, q := range c.queues {
			if q.name == e.Queue {
				return
			}
		}
		c.queues = append(c.queues, queueEntry{name: e.Queue, at: s.now})
		if m := c.st.entered[c.interval]; m == nil {
			c.st.entered[c.interval] = map[string]int{e.Queue: 1}
		} else {
			m[e.Queue]++
		}
		if c.queued == 0 {
			c.queued = s.now
			if c.patience != never && !c.gone {
				s.push(simEvent{at: s.now + int64(c.patience), kind: evAbandon, c: c})
			}
		}
	case event.AgentOffer:
		c.offerQ = e.Queue
	}
}

// queueNames lists the queues of the plan's rows: skill groups, then
// precision queues, in name order.
func (s *sim) queueNames() []string {
	var out []string
	for q := range s.queues {
		out = append(out, q)
	}
	slices.Sort(out)
	var pq []string
	for q := range s.pqs {
		pq = append(pq, q)
	}
	slices.Sort(pq)
	return append(out, pq...)
}
