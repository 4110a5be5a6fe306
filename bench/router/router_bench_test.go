// Package routerbench measures the router's two decisions at contact-centre
// scale: 12,000 agents, 1,000 queues (900 skill groups and 100 three-step
// precision queues), 100,000 calls waiting.
//
//	go test -run x -bench . -benchtime 20000x ./bench/router/
//
// Each benchmark prints p50/p99 of one decision and decisions per second on
// one core (GOMAXPROCS 1, one caller).
package routerbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/router"
)

const (
	numAgents      = 12_000
	numSkillGroups = 900
	numPQ          = 100
	numQueued      = 100_000
	groupsPerAgent = 5
	dryGroups      = 100 // skill groups with no calls queued at the start
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Microsecond); return c.t }

func scaleConfig() router.Config {
	rng := rand.New(rand.NewPCG(1, 2))
	var c router.Config
	c.WrapUp = router.Duration(time.Minute)
	c.Attributes = []router.Attribute{{Name: "lang", Type: router.AttrProficiency}, {Name: "tier", Type: router.AttrProficiency}}
	for i := 0; i < numSkillGroups; i++ {
		name := "sg" + strconv.Itoa(i)
		c.SkillGroups = append(c.SkillGroups, router.SkillGroup{Name: name})
		c.Scripts = append(c.Scripts, router.Script{Name: name, Nodes: []router.Node{
			{ID: "s", Type: "start", Next: "q"},
			{ID: "q", Type: "queue", SkillGroups: []string{name}, Priority: 1 + i%10, Next: "e"},
			{ID: "e", Type: "end"},
		}})
		c.CallTypes = append(c.CallTypes, router.CallType{Name: name, Script: name})
		c.DialedNumbers = append(c.DialedNumbers, router.DialedNumber{Number: name, CallType: name})
	}
	for i := 0; i < numPQ; i++ {
		name := "pq" + strconv.Itoa(i)
		// Each precision queue asks for one language value and widens on tier.
		lang := 1 + i%10
		c.PrecisionQueues = append(c.PrecisionQueues, router.PrecisionQueue{Name: name, Steps: []router.PQStep{
			{Expr: fmt.Sprintf("lang == %d && tier >= 8", lang), Wait: router.Duration(30 * time.Second)},
			{Expr: fmt.Sprintf("lang == %d && tier >= 4", lang), Wait: router.Duration(30 * time.Second)},
			{Expr: fmt.Sprintf("lang == %d", lang)},
		}})
		c.Scripts = append(c.Scripts, router.Script{Name: name, Nodes: []router.Node{
			{ID: "s", Type: "start", Next: "q"},
			{ID: "q", Type: "queue", PrecisionQueue: name, Next: "e"},
			{ID: "e", Type: "end"},
		}})
		c.CallTypes = append(c.CallTypes, router.CallType{Name: name, Script: name})
		c.DialedNumbers = append(c.DialedNumbers, router.DialedNumber{Number: name, CallType: name})
	}
	for i := 0; i < numAgents; i++ {
		a := router.Agent{ID: "a" + strconv.Itoa(i), Extension: strconv.Itoa(100000 + i), Password: "p",
			Attributes: map[string]any{"lang": 1 + rng.IntN(10), "tier": 1 + rng.IntN(10)}}
		// One agent in ten serves only the last hundred skill groups, which
		// start with no calls: ready agents waiting there make arrivals
		// that are offered at once.
		lo, n := 0, numSkillGroups-dryGroups
		if i%10 == 0 {
			lo, n = numSkillGroups-dryGroups, dryGroups
		}
		for len(a.SkillGroups) < groupsPerAgent {
			g := "sg" + strconv.Itoa(lo+rng.IntN(n))
			if !slices.Contains(a.SkillGroups, g) {
				a.SkillGroups = append(a.SkillGroups, g)
			}
		}
		c.Agents = append(c.Agents, a)
	}
	return c
}

// world is a loaded engine: every agent logged in not ready, numQueued
// calls waiting spread over all queues.
type world struct {
	e      *router.Engine
	rng    *rand.Rand
	dnis   []string
	nextID int
}

func newWorld(b *testing.B) *world {
	b.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	e, err := router.New(scaleConfig(), router.Deps{Now: clk.now})
	if err != nil {
		b.Fatal(err)
	}
	w := &world{e: e, rng: rand.New(rand.NewPCG(3, 4))}
	for i := 0; i < numSkillGroups; i++ {
		w.dnis = append(w.dnis, "sg"+strconv.Itoa(i))
	}
	for i := 0; i < numPQ; i++ {
		w.dnis = append(w.dnis, "pq"+strconv.Itoa(i))
	}
	for i := 0; i < numAgents; i++ {
		if err := e.Login(router.AgentID("a"+strconv.Itoa(i)), "p", ""); err != nil {
			b.Fatal(err)
		}
	}
	loaded := slices.Concat(w.dnis[:numSkillGroups-dryGroups], w.dnis[numSkillGroups:])
	all := w.dnis
	w.dnis = loaded
	defer func() { w.dnis = all }()
	for i := 0; i < numQueued; i++ {
		if in := w.arrive(b); in.Kind != router.Queued {
			b.Fatalf("setup call %d: %v, want queued", i, in.Kind)
		}
	}
	return w
}

func (w *world) arrive(b *testing.B) router.Instruction {
	w.nextID++
	in, err := w.e.Route(context.Background(), router.RouteRequest{
		Call: router.CallID("c" + strconv.Itoa(w.nextID)), DNIS: w.dnis[w.rng.IntN(len(w.dnis))], ANI: "5551234"})
	if err != nil {
		b.Fatal(err)
	}
	return in
}

func report(b *testing.B, name string, lat []time.Duration) {
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	p50 := lat[len(lat)/2]
	p99 := lat[len(lat)*99/100]
	perSec := float64(len(lat)) / sum.Seconds()
	b.ReportMetric(float64(p99.Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(perSec, "decisions/s")
	fmt.Printf("%s: %d agents, %d queues, %d calls waiting: p50 %v, p99 %v, %.0f decisions/s on one core\n",
		name, numAgents, numSkillGroups+numPQ, numQueued, p50, p99, perSec)
}

// BenchmarkAgentReady times the selection when an agent becomes ready: the
// best call across the agent's queues is found and reserved. Between
// decisions (untimed) the offered call ends, a new call arrives and the
// agent goes back to not ready, so the world stays the same size.
func BenchmarkAgentReady(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	w := newWorld(b)
	lat := make([]time.Duration, 0, b.N)
	offered := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := router.AgentID("a" + strconv.Itoa(w.rng.IntN(numAgents)))
		t0 := time.Now()
		err := w.e.SetState(id, router.Ready, 0)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st, _ := w.e.Agent(id)
		if st.Call != "" {
			// Answer and hang up: the agent goes to wrap-up, the queues
			// get a new call in place of the one served.
			offered++
			_ = w.e.Answered(st.Call)
			_ = w.e.End(st.Call)
			w.arrive(b)
		}
		if err := w.e.SetState(id, router.NotReady, 0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	if offered == 0 {
		b.Fatal("no agent ever took a call")
	}
	report(b, "agent ready → selection", lat)
}

// BenchmarkCallArrives times the queue decision for a new call: dialed
// number → call type → script → queue, with the check for a ready agent.
// One agent in ten waits ready in skill groups without calls, so about
// one decision in ten offers the call at once and the rest queue it.
func BenchmarkCallArrives(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	w := newWorld(b)
	// The agents of the dry skill groups wait ready.
	for i := 0; i < numAgents; i += 10 {
		if err := w.e.SetState(router.AgentID("a"+strconv.Itoa(i)), router.Ready, 0); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	offers := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		in := w.arrive(b)
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		// Keep the world steady: the new call leaves again.
		id := router.CallID("c" + strconv.Itoa(w.nextID))
		if in.Kind == router.Connect {
			offers++ // End of an offered call leaves the agent ready in place
		}
		if err := w.e.End(id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(offers)/float64(b.N), "offered/op")
	report(b, "call arrives → queue decision", lat)
}
