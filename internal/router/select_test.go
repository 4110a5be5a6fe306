package router

import (
	"fmt"
	"strings"
	"testing"
)

const selectYAML = `
dialed_numbers: [{number: "5000", call_type: pick}]
call_types: [{name: pick, script: pick}]
skill_groups: [{name: home}, {name: away}]
agents:
  - {id: h1, extension: "201", password: p, skill_groups: [home]}
  - {id: w1, extension: "301", password: p, skill_groups: [away]}
labels: [{name: busy, kind: server_group, value: busy}]
scripts:
  - name: pick
    nodes:
      - {id: s, type: start, next: sel}
      - {id: sel, type: select, skill_groups: [home, away], rule: RULE, none: rel}
      - {id: rel, type: release, code: 486}
`

func TestSelectRules(t *testing.T) {
	tests := []struct {
		rule string
		// w1 became ready before h1, so she is the longest available.
		want []AgentID
	}{
		{"longest_available", []AgentID{"w1", "w1", "w1"}},
		{"homing", []AgentID{"h1", "h1", "h1"}},
		{"rotary", []AgentID{"h1", "w1", "h1"}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			h := newHarness(t, strings.Replace(selectYAML, "RULE", tt.rule, 1))
			h.ready(t, "w1", "h1")
			for i, want := range tt.want {
				in := route(t, h, fmt.Sprintf("c%d", i), "5000", "1")
				if in.Kind != Connect || in.Agent != want {
					t.Fatalf("call %d: %+v, want an offer to %s", i, in, want)
				}
				// The call goes away unanswered (the call server saw the
				// phone's final response first): the agent is ready again,
				// keeping its place.
				h.Released(CallID(fmt.Sprintf("c%d", i)), want)
				if err := h.End(CallID(fmt.Sprintf("c%d", i))); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	// No agent ready: the none exit.
	h := newHarness(t, strings.Replace(selectYAML, "RULE", "homing", 1))
	if in := route(t, h, "x", "5000", "1"); in.Kind != Release || in.RejectCode != 486 {
		t.Fatalf("nobody ready: %+v", in)
	}
	// A bad rule is refused with its path.
	c := mustConfig(t, strings.Replace(selectYAML, "RULE", "random", 1))
	errs := c.Validate()
	if len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), "scripts[pick].nodes[sel].rule") {
		t.Fatalf("bad rule: %v", errs)
	}
}
