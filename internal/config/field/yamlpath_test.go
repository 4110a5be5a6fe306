package field

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSplitPath(t *testing.T) {
	got := strings.Join(splitPath("scripts[a.b].nodes[q1].skill_groups[0]"), "|")
	if want := "scripts|[a.b]|nodes|[q1]|skill_groups|[0]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestNodeLine(t *testing.T) {
	const doc = `dialed_numbers:
  - number: "1"
    call_type: a
  - number: "0"
    call_type: b
scripts:
  - name: s.1
    nodes:
      - id: q1
        type: queue
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		line int
	}{
		{"dialed_numbers[0].call_type", 5},  // named "0": the name wins over the index
		{"dialed_numbers[1].call_type", 3},  // named "1"
		{"scripts[s.1].nodes[q1].type", 10}, // a dot inside brackets
		{"scripts[s.1].nodes[q1].next", 9},  // missing field: its item
		{"scripts[nope].nodes", 6},          // missing item: its section
		{"", 1},
	} {
		if got := NodeLine(&root, tc.path); got != tc.line {
			t.Errorf("NodeLine(%q) = %d, want %d", tc.path, got, tc.line)
		}
	}
	if NodeLine(nil, "a") != 0 {
		t.Error("NodeLine(nil) != 0")
	}
}
