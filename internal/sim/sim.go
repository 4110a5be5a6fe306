package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// counterInt is a live figure of the progress line.
type counterInt = atomic.Int64

// counters are the live figures of a run, for the progress line: callers
// by phase, and outcomes so far.
type counters struct {
	offered, ivr, queued, talking           counterInt
	handled, abandoned, failed, interrupted counterInt
}

func (c *counters) line(elapsed time.Duration) string {
	l := fmt.Sprintf("%5.0fs  offered %d  in IVR %d  queued %d  talking %d  handled %d  abandoned %d  failed %d",
		elapsed.Seconds(), c.offered.Load(), c.ivr.Load(), c.queued.Load(), c.talking.Load(),
		c.handled.Load(), c.abandoned.Load(), c.failed.Load())
	if n := c.interrupted.Load(); n > 0 {
		l += fmt.Sprintf("  interrupted %d", n)
	}
	return l
}

// Run runs one simulation: it brings up the agents (phone registered, CTI
// login, ready), sends cfg.Calls callers at cfg.Rate through the IVR to the
// queues, waits until each call has ended or the run is stopped (ctx, or
// cfg.Duration), then hangs up what is left, logs the agents out and
// unregisters their phones. The Summary is measured by the sim itself.
//
// An error means the run could not start (bad config, tandem unreachable,
// an agent refused); calls that fail are counted, not returned.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	cfg.fill()
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	log := cfg.Log
	live := &counters{}
	book := &mediaBook{}
	begin := time.Now()

	// Agents first: a caller arriving before them would only wait.
	agents := make([]*agent, 0, len(cfg.Agents))
	stopAgents := func() {
		var wg sync.WaitGroup
		for _, a := range agents {
			wg.Add(1)
			go func() { defer wg.Done(); a.stop() }()
		}
		wg.Wait()
	}
	for i, id := range cfg.Agents {
		port := 0
		if cfg.AgentPorts.Lo != 0 {
			port = cfg.AgentPorts.Lo + i
		}
		a, err := newAgent(&cfg, id, port, live, book)
		if err != nil {
			stopAgents()
			return Summary{}, err
		}
		agents = append(agents, a)
	}
	// Logged in together (bounded by 30 s), as a shift starts.
	sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
	errs := make([]error, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = a.start(sctx) }()
	}
	wg.Wait()
	scancel()
	if err := errors.Join(errs...); err != nil {
		stopAgents()
		return Summary{}, fmt.Errorf("sim: %w", err)
	}
	if len(agents) > 0 {
		log.Info("sim: agents ready", "agents", len(agents))
	}

	gw, err := newGateway(&cfg, live, book)
	if err != nil {
		stopAgents()
		return Summary{}, fmt.Errorf("sim: %w", err)
	}

	// The run's context: ctx, capped at Duration.
	rctx, rcancel := context.WithTimeout(ctx, cfg.Duration)
	defer rcancel()

	progressDone := make(chan struct{})
	progressStop := make(chan struct{})
	go func() {
		defer close(progressDone)
		if cfg.Progress == nil {
			return
		}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fmt.Fprintf(cfg.Progress, "\r%s ", live.line(time.Since(begin)))
			case <-progressStop:
				fmt.Fprintf(cfg.Progress, "\r%s \n", live.line(time.Since(begin)))
				return
			}
		}
	}()

	// Callers arrive on a fixed schedule (call i at i/Rate), so a slow
	// setup does not slow the arrivals.
	records := make([]CallRecord, cfg.Calls)
	var calls sync.WaitGroup
	gap := time.Duration(float64(time.Second) / cfg.Rate)
	start := time.Now()
arrivals:
	for i := range cfg.Calls {
		if wait := time.Until(start.Add(time.Duration(i) * gap)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-rctx.Done():
				// Callers not yet arrived are not offered.
				records = records[:i]
				break arrivals
			}
		}
		calls.Add(1)
		go func() {
			defer calls.Done()
			records[i] = gw.call(rctx, i+1)
		}()
	}
	calls.Wait()
	close(progressStop)
	<-progressDone
	if rctx.Err() != nil {
		log.Info("sim: stopping", "why", context.Cause(rctx))
	}

	// Let the agents' last calls end (the callers' BYEs reach them through
	// tandem) and, when every call ended by itself, their wrap-ups too, as
	// a shift ends; then stop them.
	if rctx.Err() == nil {
		deadline := time.Now().Add(cfg.WrapUp + finishGrace)
		var fw sync.WaitGroup
		for _, a := range agents {
			fw.Add(1)
			go func() { defer fw.Done(); a.finishWork(deadline) }()
		}
		fw.Wait()
	}
	stopAgents()
	gw.ep.close()

	sum := summarize(cfg, records, time.Since(begin))
	for _, a := range agents {
		sum.Agents = append(sum.Agents, a.snapshot())
	}
	return sum, nil
}

// finishGrace bounds, beyond Config.WrapUp, the wait for agents to finish
// the wrap-up of their last call at the end of a run: the router's own
// wrap-up timer (when WrapUp is 0 or longer than the router's) ends it
// within its wrap_up, and a run must end.
const finishGrace = 5 * time.Second

// Summary is the result of a run, measured by the sim.
type Summary struct {
	// Offered counts the calls placed; the four outcomes add up to it.
	Offered, Handled, Abandoned, Failed, Interrupted int
	// ShortAbandons are abandons within Config.ShortAbandon of queueing.
	ShortAbandons int
	// ASA is the average speed of answer over handled calls: from the
	// menu key (the caller cannot see when tandem queues it; the script
	// queues it on that key) to the re-INVITE that moved the caller to an
	// agent, which tandem sends once the agent's phone answered.
	ASA time.Duration
	// MaxWait is the longest of those waits.
	MaxWait time.Duration
	// AnsweredInSL counts handled calls answered within ServiceLevel;
	// ServiceLevel is AnsweredInSL over Offered minus short abandons and
	// interrupted calls (which have no outcome), in 0..1; -1 when that is
	// no call.
	AnsweredInSL     int
	ServiceLevel     float64
	SLThreshold      time.Duration
	ShortAbandonTime time.Duration
	Elapsed          time.Duration
	// Calls are the records of every call, in arrival order.
	Calls []CallRecord
	// Agents are what each simulated agent saw.
	Agents []AgentStats
}

func summarize(cfg Config, recs []CallRecord, elapsed time.Duration) Summary {
	s := Summary{Offered: len(recs), SLThreshold: cfg.ServiceLevel, ShortAbandonTime: cfg.ShortAbandon, Elapsed: elapsed, Calls: recs}
	var total time.Duration
	for _, r := range recs {
		switch r.Outcome {
		case Handled:
			s.Handled++
			w := r.Wait()
			total += w
			s.MaxWait = max(s.MaxWait, w)
			if w <= cfg.ServiceLevel {
				s.AnsweredInSL++
			}
		case Abandoned:
			s.Abandoned++
			if r.Wait() < cfg.ShortAbandon {
				s.ShortAbandons++
			}
		case Failed:
			s.Failed++
		default:
			s.Interrupted++
		}
	}
	if s.Handled > 0 {
		s.ASA = total / time.Duration(s.Handled)
	}
	s.ServiceLevel = -1
	if d := s.Offered - s.ShortAbandons - s.Interrupted; d > 0 {
		s.ServiceLevel = float64(s.AnsweredInSL) / float64(d)
	}
	return s
}

// Print writes the summary for people.
func (s Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "calls offered   %d  (in %s)\n", s.Offered, s.Elapsed.Round(100*time.Millisecond))
	fmt.Fprintf(w, "  handled       %d\n", s.Handled)
	fmt.Fprintf(w, "  abandoned     %d  (%d short, under %s)\n", s.Abandoned, s.ShortAbandons, s.ShortAbandonTime)
	fmt.Fprintf(w, "  failed        %d\n", s.Failed)
	if s.Interrupted > 0 {
		fmt.Fprintf(w, "  interrupted   %d  (the run stopped before an agent answered)\n", s.Interrupted)
	}
	fmt.Fprintf(w, "ASA             %s  (max %s; from the menu key to the re-INVITE to the agent: callers cannot see queue entry)\n",
		s.ASA.Round(10*time.Millisecond), s.MaxWait.Round(10*time.Millisecond))
	if s.ServiceLevel < 0 {
		fmt.Fprintf(w, "service level   -  (no call to count)\n")
	} else {
		fmt.Fprintf(w, "service level   %.1f%%  (%d answered within %s, over offered minus short abandons and interrupted)\n",
			100*s.ServiceLevel, s.AnsweredInSL, s.SLThreshold)
	}
	if len(s.Agents) > 0 {
		fmt.Fprintf(w, "agents          answered  hung up  RONA  wrap-ups  ended by agent\n")
		for _, a := range s.Agents {
			fmt.Fprintf(w, "  %-12s  %8d  %7d  %4d  %8d  %d\n", a.ID, len(a.PhoneAnswered), a.HungUp, a.RONA, a.WrapUps, a.WrapUpsEnded)
		}
	}
	reasons := map[string]int{}
	for _, c := range s.Calls {
		if c.Outcome == Failed {
			reasons[c.Reason]++
		}
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "failed: %d × %s\n", reasons[k], k)
	}
}
