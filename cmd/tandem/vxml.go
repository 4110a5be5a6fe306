package main

import (
	"fmt"
	"os"
)

// runVXML is replaced by the VoiceXML interpreter's text-mode runner.
func runVXML(args []string) int {
	fmt.Fprintln(os.Stderr, "tandem vxml: not built yet")
	return 2
}
