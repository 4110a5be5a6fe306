package ivr

import "strings"

// Capture (CAP) returns at once; the router records the call's data as it
// stands (CVP's capture micro-app, for reporting).
const Capture Kind = "CAP"

func init() {
	register(&microApp{
		kind:  Capture,
		usage: "CAP[,<tag>]                              returns at once with error=none; the router records the snapshot",
		render: func(_ *renderer, b *strings.Builder, call string, seq uint64, _ MicroApp) {
			b.WriteString("<block>" + submit(call, seq) + "</block>\n")
		},
	})
}
