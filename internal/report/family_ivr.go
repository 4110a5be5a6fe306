package report

import "github.com/tandem-cc/tandem/internal/event"

// The IVR-step family: each VoiceXML form item the caller visited
// (ivr.step, from the gateway) and each micro-app the router ran
// (ivr.result) is an IVRStep record, numbered in the call.
func init() {
	registerFamily(&family{
		name: "ivr",
		doc:  "ivr.step, ivr.result: one IVRStep record each (source vxml or micro_app)",
		rank: 30,
		on: map[event.Kind]func(*build, *event.Event){
			event.IVRStep: func(b *build, e *event.Event) {
				b.r.ivr = append(b.r.ivr, IVRStep{Call: b.id, N: len(b.r.ivr) + 1, Time: e.Time, Source: "vxml", Script: e.Script,
					Item: e.Node, Element: e.State, Input: e.Target, Outcome: e.Reason})
			},
			event.IVRResult: func(b *build, e *event.Event) {
				b.r.ivr = append(b.r.ivr, IVRStep{Call: b.id, N: len(b.r.ivr) + 1, Time: e.Time, Source: "micro_app", Script: e.Script,
					Input: e.Target, Outcome: e.Reason})
			},
		},
		settle: func(b *build) {
			// The call type is known only once the route request is in.
			for i := range b.r.ivr {
				b.r.ivr[i].CallType = b.callType
			}
		},
	})
}
