package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-cc/tandem/internal/plan"
)

func TestPlanCommand(t *testing.T) {
	spec := "../../internal/plan/testdata/demo-plan.yaml"
	out := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := planMain(args, &b)
		return b.String(), err
	}
	table, err := out("-spec", spec, "-seed", "3")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(all)", "sales", "support", "C.need", "A.need", "\nday: "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	csv1, err := out("-spec", spec, "-seed", "3", "-csv")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(csv1, strings.Join(plan.Header, ",")+"\n") || strings.Count(csv1, "\n") < 10 {
		t.Errorf("csv:\n%s", csv1)
	}
	csv2, _ := out("-spec", spec, "-seed", "3", "-csv")
	if csv1 != csv2 {
		t.Error("the same seed gave different output")
	}
	for _, bad := range [][]string{
		{},                     // nothing to plan
		{"-day", "2026-12-03"}, // -day without a store
		{"-from-store", filepath.Join(t.TempDir(), "none.db"), "-day", "2026-12-03"},
		{"-spec", spec, "-c", "x.yaml", "-router", "y.yaml"},
		{"-spec", spec, "-target", "1.5"},
		{"-spec", "missing.yaml"},
	} {
		if _, err := out(bad...); err == nil {
			t.Errorf("tandem plan %v: no error", bad)
		}
	}
	if got := run([]string{"plan", "-spec", spec, "-interval", "7m"}); got != 2 {
		t.Errorf("a 7m interval: exit %d, want 2", got)
	}
}
