package router

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// FuzzParseConfig: any document parses or is refused with an error; one
// that parses validates or gives its problems, never a panic; New accepts
// exactly what Validate accepts, and the engine then routes a call to each
// dialed number without panicking or looping.
func FuzzParseConfig(f *testing.F) {
	// The demo's document, read from its file: package config imports
	// roles that import this one.
	demo, err := os.ReadFile("../config/demo.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(demo)
	f.Add([]byte(`
dialed_numbers: [{number: "4000", call_type: load}]
call_types: [{name: load, script: load}]
labels: [{name: uas, kind: server_group, value: "9000"}]
scripts:
  - name: load
    nodes:
      - {id: s, type: start, next: l}
      - {id: l, type: label, labels: [uas]}
`))
	f.Add([]byte("ring_no_answer: 5s\nwrap_up: -1\nagents: [{id: a, skill_groups: [x]}]\n"))
	f.Add([]byte("scripts: [{name: s, nodes: [{id: a, type: set, variable: pv1, value: \"'x' + ani\", next: a}]}]\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		errs := cfg.Validate()
		e, err := New(cfg, Deps{Now: func() time.Time { return time.Unix(1e9, 0) }, Rand: func(int) int { return 0 }})
		switch {
		case len(errs) == 0 && err != nil:
			t.Fatalf("Validate accepts what New refuses: %v", err)
		case len(errs) > 0 && err == nil:
			t.Fatalf("New accepts what Validate refuses: %v", errs)
		case err != nil:
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("New's error is not ErrConfig: %v", err)
			}
			return
		}
		for i, dn := range cfg.DialedNumbers {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, _ = e.Route(ctx, RouteRequest{Call: CallID(fmt.Sprint("c", i)), DNIS: dn.Number, ANI: "5551234"})
			cancel()
		}
	})
}
