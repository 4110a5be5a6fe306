//go:build race

package router

// The race detector slows the property walk about tenfold; its default
// length is cut so `go test -race` stays within seconds.
// ROUTER_PROPERTY_STEPS=100000 runs the full walk under it.
const raceEnabled = true
