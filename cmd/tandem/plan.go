package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/node"
	"github.com/tandem-cc/tandem/internal/plan"
	"github.com/tandem-cc/tandem/internal/report"
	"github.com/tandem-cc/tandem/internal/router"
)

// runPlan is the what-if planner: a day of calls through the real router
// engine on virtual time, beside Erlang C and Erlang A (docs/plan.md).
func runPlan(args []string) int {
	if err := planMain(args, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "tandem plan:", err)
		return 2
	}
	return 0
}

func planMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var (
		cfgPath   = fs.String("c", "", "tandem config file: its router section is planned (default: the demo's)")
		routerDoc = fs.String("router", "", "a router document (as demo.yaml) instead of -c")
		specPath  = fs.String("spec", "", "the plan: traffic, IVR answers, patience, teams (docs/plan.md)")
		storePath = fs.String("from-store", "", "report store (SQLite file, data_dir/tandem.db) to take a recorded day from")
		day       = fs.String("day", "", "the recorded day, YYYY-MM-DD (with -from-store)")
		tz        = fs.String("tz", "Local", "time zone of -day")
		seed      = fs.Uint64("seed", 1, "random seed: the same seed gives the same output")
		csvOut    = fs.Bool("csv", false, "write the rows as CSV instead of a table")
		callsOut  = fs.String("calls", "", "also write every simulated call to this CSV file")
		size      = fs.Bool("size", false, "also find the agents needed per interval by simulation (teams of one skill group)")
		reps      = fs.Int("reps", 5, "days simulated per candidate staffing with -size")
		interval  = fs.Duration("interval", 0, "planning interval (default the plan's, 15m)")
		sl        = fs.Duration("sl", 0, "service-level threshold (default the plan's, else the store's, else 20s)")
		target    = fs.Float64("target", 0, "service-level target, 0-1 (default the plan's, else 0.8)")
	)
	fs.Usage = func() {
		fmt.Fprint(os.Stderr, `usage: tandem plan [flags]

Runs a day of calls through tandem's own routing engine (the router
section of -c, or the demo's) on virtual time, with the traffic, IVR
answers, handle and patience times and agent schedules of -spec or of a
recorded day (-from-store -day), and prints per interval and queue:
offered, handled, abandoned, service level, ASA, occupancy, beside
Erlang C and Erlang A for the same inputs and the agents each needs.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	doc, err := routerDocument(*cfgPath, *routerDoc)
	if err != nil {
		return err
	}
	var spec plan.Spec
	if *specPath != "" {
		data, err := os.ReadFile(*specPath)
		if err != nil {
			return err
		}
		if spec, err = plan.ParseSpec(data); err != nil {
			return fmt.Errorf("%s: %w", *specPath, err)
		}
	}
	if *interval != 0 {
		spec.Interval = plan.Duration(*interval)
	}
	if *sl != 0 {
		d := plan.Duration(*sl)
		spec.ServiceLevel = &d
	}
	if *target != 0 {
		spec.SLTarget = *target
	}
	if *storePath != "" {
		if err := fromStore(&spec, doc, *storePath, *day, *tz); err != nil {
			return err
		}
	} else if *day != "" {
		return fmt.Errorf("-day needs -from-store")
	}
	if *specPath == "" && *storePath == "" {
		return fmt.Errorf("nothing to plan: give -spec FILE, or -from-store FILE -day YYYY-MM-DD")
	}
	opt := plan.Options{Seed: *seed}
	var res *plan.Result
	if *size {
		res, err = plan.Size(doc, spec, opt, plan.SizeOptions{Reps: *reps})
	} else {
		res, err = plan.Run(doc, spec, opt)
	}
	if err != nil {
		return err
	}
	if *callsOut != "" {
		f, err := os.Create(*callsOut)
		if err != nil {
			return err
		}
		if err := res.WriteCalls(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if *csvOut {
		return res.WriteCSV(stdout)
	}
	return res.WriteTable(stdout)
}

// routerDocument is the router document planned: a config file's router
// section, a bare router document, or the demo's. It is checked as serve
// checks it.
func routerDocument(cfgPath, docPath string) ([]byte, error) {
	switch {
	case cfgPath != "" && docPath != "":
		return nil, fmt.Errorf("give -c or -router, not both")
	case docPath != "":
		return os.ReadFile(docPath)
	case cfgPath != "":
		cfg, err := config.Load(cfgPath, node.CheckRouter)
		if err != nil {
			return nil, err
		}
		if cfg.Router.Kind == 0 {
			return nil, fmt.Errorf("%s: no router section to plan", cfgPath)
		}
		return yaml.Marshal(&cfg.Router)
	}
	return config.DemoRouter(), nil
}

// fromStore fills spec with the recorded day: traffic, talk times,
// patience and key shares, and the staffing when the plan has no teams.
func fromStore(spec *plan.Spec, doc []byte, path, day, tz string) error {
	if day == "" {
		return fmt.Errorf("-from-store needs -day YYYY-MM-DD")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("-tz: %w", err)
	}
	from, err := time.ParseInLocation("2006-01-02", day, loc)
	if err != nil {
		return fmt.Errorf("-day %q: want YYYY-MM-DD", day)
	}
	// Open would create an empty database where there is none: say so
	// instead.
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("-from-store: %w", err)
	}
	ctx := context.Background()
	st, err := report.Open(ctx, report.StoreConfig{Driver: report.DriverSQLite, Path: path})
	if err != nil {
		return err
	}
	defer st.Close()
	iv := spec.Interval.D()
	if iv == 0 {
		iv = plan.DefaultInterval
	}
	n := int(24 * time.Hour / iv)
	rec, err := plan.FromStore(ctx, st, from, iv, n)
	if err != nil {
		return err
	}
	if rec.Calls == 0 {
		return fmt.Errorf("%s: no calls on %s", path, day)
	}
	if spec.Start.IsZero() {
		spec.Start = from
	}
	if spec.ServiceLevel == nil {
		d := plan.Duration(st.RecordConfig().ServiceLevel)
		spec.ServiceLevel = &d
	}
	if spec.ShortCall == nil {
		d := plan.Duration(st.RecordConfig().ShortCall)
		spec.ShortCall = &d
	}
	rec.Apply(spec)
	if len(spec.Teams) == 0 {
		cfg, err := router.ParseConfig(doc)
		if err != nil {
			return err
		}
		agents := map[string][]string{}
		for _, a := range cfg.Agents {
			agents[a.ID] = a.SkillGroups
		}
		if spec.Teams, err = plan.Staffing(ctx, st, agents, from, iv, n); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "tandem plan: %s on %s: %d calls (%d answered, %d abandoned), %d dialed numbers, %d teams\n",
		path, day, rec.Calls, rec.Answered, rec.Abandoned, len(rec.Traffic), len(spec.Teams))
	return nil
}
