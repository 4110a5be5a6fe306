package plan

import (
	"os"
	"testing"

	"github.com/tandem-cc/tandem/internal/config"
)

// FuzzParseSpec: any input is either refused with an error or is a plan
// that runs through the demo router without error, whose rows never count
// more handled and abandoned calls than were offered.
func FuzzParseSpec(f *testing.F) {
	seed, err := os.ReadFile("testdata/demo-plan.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("traffic: [{dnis: \"1000\", calls: [3]}]\ntalk: {dist: fixed, mean: 10s}\n"))
	f.Add([]byte("traffic: [{dnis: \"9\", calls: [1, -1]}]\n"))
	f.Add([]byte("interval: 7m\nteams: [{name: a b, agents: []}]\n"))
	f.Add([]byte("talk: {dist: lognormal, mean: 1m, cv: 2}\npatience: {dist: none}\ntraffic: [{dnis: \"1000\", calls: [5, 5]}]\nteams: [{name: s, skill_groups: [sales], agents: [1]}]\n"))
	doc := config.DemoRouter()
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseSpec(data)
		if err != nil || spec.Validate() != nil {
			return
		}
		// Keep a run small: a fuzzer's plan of a million calls proves
		// nothing more than one of a few.
		total, agents := 0.0, 0
		for _, tr := range spec.Traffic {
			for _, c := range tr.Calls {
				total += c
			}
		}
		for _, tm := range spec.Teams {
			for _, n := range tm.Agents {
				agents = max(agents, n)
			}
		}
		if total > 200 || spec.Intervals() > 8 || agents > 50 || spec.Drain.D() > DefaultDrain {
			return
		}
		res, err := Run(doc, spec, Options{Seed: 1})
		if err != nil {
			// A valid plan may still not fit the router document (a team's
			// unknown skill group): that must be said, not crash.
			return
		}
		for _, r := range res.Rows {
			if r.Handled+r.Abandoned+r.ShortAbandoned > r.Offered {
				t.Fatalf("row %+v counts more outcomes than calls", r)
			}
		}
	})
}
