package router

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRunScript times a call through a script that passes every
// non-yielding node kind before it queues (start, set, if, percent, time,
// then queue and end): the interpreter's per-node cost, Route to End.
func BenchmarkRunScript(b *testing.B) {
	const y = `
dialed_numbers: [{number: "1000", call_type: ct}]
call_types: [{name: ct, script: s}]
skill_groups: [{name: sales}, {name: vip}]
scripts:
  - name: s
    nodes:
      - {id: start, type: start, next: tag}
      - {id: tag, type: set, variable: pv1, value: "'gold'", next: isvip}
      - {id: isvip, type: if, expr: "ani startsWith '9'", "true": qv, "false": split}
      - {id: split, type: percent, branches: [{percent: 50, next: hours}, {percent: 50, next: hours}]}
      - {id: hours, type: time, time_zone: UTC, windows: [{days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00", next: q}], next: q}
      - {id: q, type: queue, skill_groups: [sales], next: e}
      - {id: qv, type: queue, skill_groups: [vip], next: e}
      - {id: e, type: end}
`
	clk := &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	e, err := New(mustConfig(b, y), Deps{Now: clk.now})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := CallID("c" + strconv.Itoa(i))
		in, err := e.Route(ctx, RouteRequest{Call: id, DNIS: "1000", ANI: "5551234"})
		if err != nil || in.Kind != Queued {
			b.Fatalf("route: %v %+v", err, in)
		}
		must(b, e.End(id))
	}
}
