//go:build race

package plan

// The race detector slows the simulation about tenfold: the tests that
// compare it with the formulas simulate less under it (see hoursFor).
const raceEnabled = true
