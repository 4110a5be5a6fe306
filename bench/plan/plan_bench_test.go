// Package planbench measures the what-if planner: how many hours of a
// 200-agent, three-skill-group contact centre it simulates per second of
// wall time, through the real router engine.
//
//	go test -run x -bench . -benchtime 3x ./bench/plan/
//
// The day: 08:00-20:00 in quarter hours, calls rising to about 540 a
// quarter hour at midday; a menu (sales 50 %, support 30 %, billing 20 %),
// queue treatment rounds of 30 s while queued; talk lognormal with mean
// 240 s, wrap-up 30 s; patience exponential, mean 120 s; teams of 80, 70
// and 50 agents from 08:00 to 20:00.
package planbench

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tandem-cc/tandem/internal/plan"
)

const doc = `
ring_no_answer: 15s
wrap_up: 30s
dialed_numbers: [{number: "1000", call_type: main}]
call_types: [{name: main, script: main}]
skill_groups: [{name: sales}, {name: support}, {name: billing}]
labels: [{name: vru, kind: network_vru, value: "7777"}]
scripts:
  - name: main
    nodes:
      - {id: start, type: start, next: menu}
      - {id: menu, type: run_vru_script, vru_script: "M,-,123", label: vru, next: which, error: support}
      - {id: which, type: if, expr: 'result.caller_input == "1"', true: sales, false: which2}
      - {id: which2, type: if, expr: 'result.caller_input == "3"', true: billing, false: support}
      - {id: sales, type: queue, skill_groups: [sales], next: treat}
      - {id: support, type: queue, skill_groups: [support], next: treat}
      - {id: billing, type: queue, skill_groups: [billing], next: treat}
      - {id: treat, type: run_vru_script, vru_script: "QT,music", label: vru, next: treat, error: treat}
`

func day() plan.Spec {
	calls := make([]float64, 48)
	for i := range calls {
		// A hump over the day: 30 % of the peak at the ends.
		calls[i] = 540 * (0.3 + 0.7*math.Sin(math.Pi*(float64(i)+0.5)/48))
	}
	return plan.Spec{
		Start:    time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC),
		Talk:     plan.Dist{Kind: plan.DistLognormal, Mean: plan.Duration(240 * time.Second), CV: 1},
		Patience: plan.Dist{Kind: plan.DistExponential, Mean: plan.Duration(120 * time.Second)},
		Traffic:  []plan.Traffic{{DNIS: "1000", Calls: calls}},
		IVR: []plan.IVRScript{
			{VRUScript: "M,-,123", Duration: plan.Duration(10 * time.Second), Keys: map[string]float64{"1": 0.5, "2": 0.3, "3": 0.2}},
			{VRUScript: "QT,music", Duration: plan.Duration(30 * time.Second)},
		},
		Teams: []plan.Team{
			{Name: "sales", SkillGroups: []string{"sales"}, Agents: []int{80}},
			{Name: "support", SkillGroups: []string{"support"}, Agents: []int{70}},
			{Name: "billing", SkillGroups: []string{"billing"}, Agents: []int{50}},
		},
	}
}

func BenchmarkDay200Agents(b *testing.B) {
	b.ReportAllocs()
	var simulated, wall time.Duration
	calls := 0
	for i := 0; i < b.N; i++ {
		res, err := plan.Run([]byte(doc), day(), plan.Options{Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		simulated += res.Simulated
		wall += res.Wall
		calls += len(res.Calls)
		if i == 0 {
			var handled, abandoned int64
			for _, r := range res.Rows {
				if r.Queue == "" {
					handled += r.Handled
					abandoned += r.Abandoned + r.ShortAbandoned
				}
			}
			fmt.Printf("day: %d calls, %d handled, %d abandoned, %v simulated\n", len(res.Calls), handled, abandoned, res.Simulated.Round(time.Minute))
		}
	}
	rate := simulated.Hours() / wall.Seconds()
	b.ReportMetric(rate, "sim-h/s")
	b.ReportMetric(float64(calls)/wall.Seconds(), "calls/s")
	fmt.Printf("%.1f simulated hours per wall second (%.0f calls/s), %d days\n", rate, float64(calls)/wall.Seconds(), b.N)
}
