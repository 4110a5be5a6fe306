package main

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"
)

// trimMemory hands memory back to the system after a burst of calls.
//
// Why: sipgo keeps every transaction for its RFC 3261 timers (32 s over
// UDP), so a burst of 30,000 calls holds several hundred MB of live heap for
// half a minute. Once those timers fire the heap is garbage, but an idle
// server allocates nothing, so no GC cycle runs to collect it, and the
// runtime returns freed pages to the system only slowly. RSS then stays at
// its peak for minutes. Every interval, if the runtime holds much more than
// the live heap needs, force a collection and release the pages.
func trimMemory(ctx context.Context, log *slog.Logger, interval time.Duration) {
	const slack = 64 << 20 // bytes held beyond need before trimming is worth a GC
	t := time.NewTicker(interval)
	defer t.Stop()
	var ms runtime.MemStats
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		runtime.ReadMemStats(&ms)
		held := ms.HeapSys - ms.HeapReleased
		// HeapAlloc counts garbage not yet collected as well, so compare
		// with what the last GC found live.
		live := ms.NextGC / 2 // NextGC = live * (1 + GOGC/100) with GOGC=100
		if held < live+slack {
			continue
		}
		before := held
		debug.FreeOSMemory()
		runtime.ReadMemStats(&ms)
		log.Debug("memory trimmed", "held_mb", before>>20, "now_mb", (ms.HeapSys-ms.HeapReleased)>>20)
	}
}
