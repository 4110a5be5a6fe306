package router

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkReadyOfferCycle measures one agent-ready selection plus the
// offer's bookkeeping on a mid-sized centre (2,000 agents in 5 of 200
// skill groups, 20,000 calls waiting), beside the code it measures; the
// full-scale figures are in bench/router.
func BenchmarkReadyOfferCycle(b *testing.B) {
	const agents, groups, calls = 2000, 200, 20_000
	var y strings.Builder
	y.WriteString("wrap_up: 60s\nskill_groups:\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&y, "  - {name: g%d}\n", g)
	}
	y.WriteString("dialed_numbers:\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&y, "  - {number: \"%d\", call_type: g%d}\n", g, g)
	}
	y.WriteString("call_types:\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&y, "  - {name: g%d, script: g%d}\n", g, g)
	}
	y.WriteString("scripts:\n")
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&y, "  - name: g%d\n    nodes:\n      - {id: s, type: start, next: q}\n      - {id: q, type: queue, skill_groups: [g%d], priority: %d, next: e}\n      - {id: e, type: end}\n", g, g, 1+g%10)
	}
	y.WriteString("agents:\n")
	for a := 0; a < agents; a++ {
		fmt.Fprintf(&y, "  - {id: a%d, extension: \"%d\", password: p, skill_groups: [g%d, g%d, g%d, g%d, g%d]}\n",
			a, 10000+a, a%groups, (a*7+1)%groups, (a*13+2)%groups, (a*31+3)%groups, (a*59+4)%groups)
	}
	clk := &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	e, err := New(mustConfig(b, y.String()), Deps{Now: func() time.Time { clk.add(time.Microsecond); return clk.t }})
	if err != nil {
		b.Fatal(err)
	}
	for a := 0; a < agents; a++ {
		must(b, e.Login(AgentID("a"+strconv.Itoa(a)), "p", ""))
	}
	next := 0
	arrive := func() {
		next++
		if _, err := e.Route(context.Background(), RouteRequest{Call: CallID("c" + strconv.Itoa(next)), DNIS: strconv.Itoa(next % groups)}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < calls; i++ {
		arrive()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := e.agents[AgentID("a"+strconv.Itoa(i%agents))]
		must(b, e.SetState(a.id, Ready, 0))
		b.StopTimer()
		if a.call == nil {
			b.Fatalf("agent %s found no call among %d waiting", a.id, len(e.calls))
		}
		c := a.call.id
		must(b, e.Answered(c))
		must(b, e.End(c))
		must(b, e.SetState(a.id, NotReady, 0))
		arrive()
		b.StartTimer()
	}
}
