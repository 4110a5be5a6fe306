package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tandem-cc/tandem/internal/sim"
)

// runSim drives a running tandem (by default the demo of `tandem serve`)
// with simulated callers and agents, then prints what it measured.
func runSim(args []string) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	var (
		cfg        sim.Config
		localIP    = fs.String("local-ip", "127.0.0.1", "address to bind the sim's SIP and RTP sockets on")
		digits     = fs.String("digits", "1:50,2:50", "menu keys callers press, by weight (key:weight,...)")
		talk       = fs.String("talk", "30s-60s", "how long callers talk to an agent before hanging up (10s or 5s-15s)")
		agents     = fs.String("agents", "1001-1010", `agent ids: a list and ranges ("1001-1004,1006"), or "none"`)
		agentTalk  = fs.String("agent-talk", "5s-15s", "how long agents talk before hanging up (10s or 5s-15s)")
		agentPorts = fs.String("agent-ports", "", "SIP port range of the agents' phones, one each (20000-20099); empty: any")
		quiet      = fs.Bool("q", false, "no progress line")
		verbose    = fs.Bool("v", false, "log what the sim does (to stderr)")
		listCalls  = fs.Bool("list", false, "print every call's record at the end")
	)
	fs.StringVar(&cfg.Target, "target", sim.DefaultTarget, "tandem's SIP address (UDP host:port)")
	fs.StringVar(&cfg.CTI, "cti", sim.DefaultCTI, "tandem's CTI API base URL")
	fs.StringVar(&cfg.Number, "number", sim.DefaultNumber, "the number callers dial")
	fs.IntVar(&cfg.Calls, "callers", 20, "how many callers arrive in all")
	fs.Float64Var(&cfg.Rate, "rate", 1, "callers arriving per second")
	fs.DurationVar(&cfg.MenuDelay, "menu-delay", 1500*time.Millisecond, "how long callers listen to the menu before pressing their key")
	fs.DurationVar(&cfg.Patience, "patience", 60*time.Second, "callers waiting in queue longer than this hang up (abandon); 0 waits")
	fs.IntVar(&cfg.CallerPort, "caller-port", 0, "SIP port of the callers' gateway; 0: any")
	fs.StringVar(&cfg.AgentPassword, "agent-password", sim.DefaultPassword, `agents' CTI password; "{id}" is the agent id`)
	fs.StringVar(&cfg.SIPPassword, "sip-password", sim.DefaultPassword, `agents' SIP password; "{id}" is the agent id`)
	fs.DurationVar(&cfg.AnswerDelay, "answer-delay", 2*time.Second, "how long an agent's phone rings before the agent answers")
	fs.DurationVar(&cfg.WrapUp, "wrapup", 3*time.Second, "how long agents stay in wrap-up before ending it through CTI; 0: the router's timer")
	fs.IntVar(&cfg.WrapUpReason, "wrapup-reason", sim.DefaultWrapUpReason, "wrap-up reason code agents give (0: none)")
	fs.DurationVar(&cfg.RONAPause, "rona-pause", 5*time.Second, "how long an agent made not ready by ring-no-answer takes to go ready again")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Minute, "stop after this long at most (calls still waiting count as interrupted)")
	fs.DurationVar(&cfg.ServiceLevel, "sl", sim.DefaultServiceLevel, "service level threshold: calls answered within it count as in service level")
	fs.DurationVar(&cfg.ShortAbandon, "short-abandon", sim.DefaultShortAbandon, "abandons within this wait do not count against the service level")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, `usage: tandem sim [flags]

Drives a running tandem (by default the demo contact center of `+"`tandem serve`"+`)
with simulated callers (SIP, RTP, RFC 4733 DTMF) and agents (SIP phones
registered with digest auth, CTI desktops), then prints calls offered,
handled, abandoned and failed, the average speed of answer and the service
level, as the sim measured them. Ctrl-C stops cleanly: callers hang up,
agents log out and unregister.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "tandem sim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	bad := func(err error) int {
		fmt.Fprintf(os.Stderr, "tandem sim: %v\n", err)
		return 2
	}
	var err error
	if cfg.LocalIP, err = netip.ParseAddr(*localIP); err != nil {
		return bad(fmt.Errorf("-local-ip: %w", err))
	}
	if cfg.Digits, err = sim.ParseDigitMix(*digits); err != nil {
		return bad(fmt.Errorf("-digits: %w", err))
	}
	if cfg.CallerTalk, err = sim.ParseRange(*talk); err != nil {
		return bad(fmt.Errorf("-talk: %w", err))
	}
	if cfg.Agents, err = sim.ParseAgents(*agents); err != nil {
		return bad(fmt.Errorf("-agents: %w", err))
	}
	if cfg.AgentTalk, err = sim.ParseRange(*agentTalk); err != nil {
		return bad(fmt.Errorf("-agent-talk: %w", err))
	}
	if cfg.AgentPorts, err = sim.ParsePortRange(*agentPorts); err != nil {
		return bad(fmt.Errorf("-agent-ports: %w", err))
	}
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	var logOut io.Writer = io.Discard
	if *verbose {
		logOut = os.Stderr
	}
	cfg.Log = slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Validated here too, so that a bad flag is a usage error (exit 2)
	// rather than a failed run.
	check := cfg
	if err := check.Validate(); err != nil {
		return bad(err)
	}

	// The first ctrl-C stops the run cleanly; a second one kills, as
	// NotifyContext gives the signal back once stop is called.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-finished:
		}
	}()
	sum, err := sim.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tandem sim: %v\n", err)
		return 1
	}
	if *listCalls {
		for _, c := range sum.Calls {
			fmt.Printf("call %d key %c %s agent=%q wait=%s %s\n", c.N, c.Digit, c.Outcome, c.Agent, c.Wait().Round(time.Millisecond), c.Reason)
		}
	}
	sum.Print(os.Stdout)
	if sum.Failed > 0 {
		return 1
	}
	return 0
}
