package main

import (
	"fmt"
	"os"
)

func runServe(args []string) int {
	fmt.Fprintln(os.Stderr, "tandem serve: not built yet")
	return 2
}
