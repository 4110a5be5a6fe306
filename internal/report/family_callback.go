package report

import (
	"strings"

	"github.com/tandem-cc/tandem/internal/event"
)

// The courtesy-callback family: the caller's SIP call ends (call.ended)
// while the call keeps its place in queue; the call goes on until the
// callback's own end, or the router gives it up. A callback given up is
// the caller's disposition callback_failed and not an abandon.
var famCallback *family

func init() {
	famCallback = registerFamily(&family{
		name: "callback",
		doc:  "callback.requested, call.answered (courtesy callback), call.ended (node restart): the call held open while it waits to be called back; disposition callback_failed, not counted abandoned",
		rank: 20,
		state: func() any {
			return &callbackAcc{}
		},
		on: map[event.Kind]func(*build, *event.Event){
			event.CallbackRequested: func(b *build, e *event.Event) {
				cb := b.callback()
				cb.requested, cb.pending = true, true
			},
			event.CallAnswered: func(b *build, e *event.Event) {
				if strings.HasPrefix(e.Reason, "courtesy callback") {
					b.callback().pending = false
				}
			},
			event.CallEnded: func(b *build, e *event.Event) {
				if e.Outcome == OutcomeNodeRestart {
					// Closed at start (CloseOrphans): a callback kept queued
					// died with the process that kept it.
					b.callback().pending = false
				}
			},
		},
		settle: func(b *build) {
			// The caller asked to be called back and was not reached: that
			// is not an abandon, in the call type or in any skill group.
			if b.ended && b.callback().pending {
				clear(b.queue().abandonedFrom)
			}
		},
		records: func(b *build) {
			if cb := b.callback(); b.ended && cb.requested && cb.pending {
				b.caller().Disposition = "callback_failed"
			}
		},
	})
}

// callbackAcc is a call's courtesy callback: asked for, and still waiting
// (the caller not yet called back).
type callbackAcc struct {
	requested, pending bool
}

func (b *build) callback() *callbackAcc { return b.state[famCallback.idx].(*callbackAcc) }
