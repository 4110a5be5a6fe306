package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/vxml"
)

const vxmlUsage = `usage:
  tandem vxml run FILE_OR_URL [--dtmf KEYS]... [--say TEXT]... [--hangup] [--silence]
                   [--transfer STATUS] [--no-auto] [-v]
      Interpret a document in text mode. Inputs are given to the caller in
      order; when they run out the automatic caller answers "Press 'X'." and
      "Say 'Y'." prompts (W3C judging rules), else stays silent. --transfer
      sets the outcome of bridged transfers (busy, noanswer, ...). Once its
      inputs are used up the caller hangs up after 3 silences in a row.
  tandem vxml test DIR [--speech] [--sim-transfer] [-v]
      Run every test of DIR/manifest.json; print PASS/FAIL/SKIP (with why) per
      test, COMPANION for the entries that are documents a test loads (roots,
      subdialogs, goto targets: not counted), and a summary. --speech also
      runs tests written for a recogniser, matching the automatic caller's
      words as text; --sim-transfer runs the transfer tests against the text
      platform's far end (answers after 1 s, hangs up after 10 s).
`

// runVXML is the text-mode front end of the VoiceXML interpreter.
func runVXML(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, vxmlUsage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch args[0] {
	case "run":
		return vxmlRun(ctx, args[1:], os.Stdout, os.Stderr)
	case "test":
		return vxmlTest(ctx, args[1:], os.Stdout, os.Stderr)
	case "-h", "--help", "help":
		fmt.Fprint(os.Stdout, vxmlUsage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "tandem vxml: unknown subcommand %q\n%s", args[0], vxmlUsage)
	return 2
}

func vxmlLogger(verbose bool, w io.Writer) *slog.Logger {
	lvl := slog.LevelWarn
	if verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

func vxmlRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var target string
	var inputs []vxml.ScriptedInput
	auto, verbose := true, false
	transfer := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, bool) {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
				return v, true
			}
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "tandem vxml run: %s needs a value\n", a)
				return "", false
			}
			i++
			return args[i], true
		}
		switch name, _, _ := strings.Cut(a, "="); name {
		case "--dtmf":
			v, ok := val()
			if !ok {
				return 2
			}
			inputs = append(inputs, vxml.ScriptedInput{Kind: vxml.InputDTMF, Value: v})
		case "--say":
			v, ok := val()
			if !ok {
				return 2
			}
			inputs = append(inputs, vxml.ScriptedInput{Kind: vxml.InputVoice, Value: v})
		case "--silence":
			inputs = append(inputs, vxml.ScriptedInput{Kind: vxml.InputNoInput})
		case "--hangup":
			inputs = append(inputs, vxml.ScriptedInput{Kind: vxml.InputHangup})
		case "--transfer":
			v, ok := val()
			if !ok {
				return 2
			}
			transfer = v
		case "--no-auto":
			auto = false
		case "-v", "--verbose":
			verbose = true
		default:
			if strings.HasPrefix(a, "-") || target != "" {
				fmt.Fprintf(stderr, "tandem vxml run: unexpected argument %q\n%s", a, vxmlUsage)
				return 2
			}
			target = a
		}
	}
	if target == "" {
		fmt.Fprint(stderr, vxmlUsage)
		return 2
	}
	uri := target
	if !strings.Contains(target, "://") {
		abs, err := filepath.Abs(target)
		if err != nil {
			fmt.Fprintf(stderr, "tandem vxml run: %v\n", err)
			return 1
		}
		uri = vxml.FileURI(abs)
	}
	tp := &vxml.TextPlatform{Out: stdout, Inputs: inputs, Auto: auto, Limit: vxmlCLILimit, TransferStatus: transfer,
		MaxSilences: 3}
	s, err := vxml.NewSession(vxml.Config{Platform: tp, Logger: vxmlLogger(verbose, stderr),
		Session: vxml.SessionInfo{CallID: event.NewCallID(time.Now()), LocalURI: "sip:ivr@127.0.0.1", RemoteURI: "sip:caller@127.0.0.1"}})
	if err != nil {
		fmt.Fprintf(stderr, "tandem vxml run: %v\n", err)
		return 1
	}
	out, err := s.Run(ctx, uri)
	fmt.Fprintf(stdout, "session ended: %s\n", out)
	if err != nil {
		fmt.Fprintf(stderr, "tandem vxml run: %v\n", err)
		return 1
	}
	if out.Reason == "error" {
		return 1
	}
	return 0
}

// vxmlCLILimit ends a CLI session whose caller stays silent for this long in
// virtual time, so a document that reprompts forever still terminates.
const vxmlCLILimit = 5 * time.Minute

func vxmlTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var dir string
	opt := vxml.SuiteOptions{}
	verbose := false
	for _, a := range args {
		switch a {
		case "--speech":
			opt.Speech = true
		case "--sim-transfer":
			opt.SimTransfer = true
		case "-v", "--verbose":
			verbose = true
		default:
			if strings.HasPrefix(a, "-") || dir != "" {
				fmt.Fprintf(stderr, "tandem vxml test: unexpected argument %q\n%s", a, vxmlUsage)
				return 2
			}
			dir = a
		}
	}
	if dir == "" {
		fmt.Fprint(stderr, vxmlUsage)
		return 2
	}
	opt.Logger = vxmlLogger(verbose, stderr)
	rs, err := vxml.RunSuite(ctx, dir, opt)
	if err != nil {
		fmt.Fprintf(stderr, "tandem vxml test: %v\n", err)
		return 1
	}
	if verbose {
		for _, r := range rs {
			if r.Status == "FAIL" {
				fmt.Fprintf(stderr, "--- %s\n%s", r.ID, r.Output)
			}
		}
	}
	if sum := vxml.WriteResults(stdout, rs); sum.Failed > 0 {
		return 1
	}
	return 0
}
