// Command tandem is an IP contact center in one binary: SIP edge, call server,
// VoiceXML gateway, router, CTI, reporting and console. Each role can also run
// apart; see docs/ARCHITECTURE.md.
package main

import (
	"fmt"
	"os"

	"github.com/tandem-cc/tandem/internal/ivr"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

func usage() {
	fmt.Fprintf(os.Stderr, `usage: tandem <command> [flags]

commands:
  serve     run the contact center (built-in default config, or -c FILE)
  vxml      run VoiceXML documents in text mode (vxml run FILE, vxml test DIR)
  sim       drive a running tandem with simulated callers and agents
  plan      what-if: a day of calls through the router on virtual time, beside Erlang C/A
  microapps print the IVR's micro-apps: run-script strings and params
  version   print the version
`)
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:])
	case "vxml":
		return runVXML(args[1:])
	case "sim":
		return runSim(args[1:])
	case "plan":
		return runPlan(args[1:])
	case "microapps":
		fmt.Print(ivr.Usage())
		return 0
	case "version", "-v", "--version":
		fmt.Println("tandem", version)
		return 0
	case "help", "-h", "--help":
		usage()
		return 0
	default:
		fmt.Fprintf(os.Stderr, "tandem: unknown command %q\n", args[0])
		usage()
		return 2
	}
}
