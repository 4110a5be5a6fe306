package report

import (
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// The call family: the call as the caller saw it. It keeps the call's
// facts every family reads (start, end, call type, call data: build's
// fields), settles whether the call is over, writes the caller's TCD
// (the first record of a call, which later families complete) and the
// call-type interval row.
var famCall *family

func init() {
	famCall = registerFamily(&family{
		name: "call",
		doc:  "call.new, call.ended, route.request, call.data: the caller TCD (start, end, disposition, call data) and the call_type interval row",
		rank: 10,
		state: func() any {
			return &callAcc{}
		},
		on: map[event.Kind]func(*build, *event.Event){
			event.CallNew: func(b *build, e *event.Event) {
				b.start = e.Time
			},
			event.CallEnded: func(b *build, e *event.Event) {
				// The last call.ended is the call's end and disposition.
				c := b.call()
				c.ended, c.outcome = true, e.Outcome
				b.end = e.Time
			},
			event.RouteRequest: func(b *build, e *event.Event) {
				b.callType = e.CallType
				if e.Data != nil {
					b.data.ANI, b.data.DNIS, b.data.SIPCallID = e.Data.ANI, e.Data.DNIS, e.Data.SIPCallID
				}
			},
			event.CallData: func(b *build, e *event.Event) {
				b.call().dataSeen = true
				if b.end.IsZero() || b.callback().pending {
					b.end = e.Time // a callback given up ends here, not at the caller's release
				}
				if e.Data != nil {
					sipID := b.data.SIPCallID
					b.data = *e.Data
					if b.data.SIPCallID == "" {
						b.data.SIPCallID = sipID
					}
				}
				if b.callType == "" {
					b.callType = e.CallType
				}
			},
		},
		settle: func(b *build) {
			// The router's call.data is the last word on a call; without it,
			// call.ended is, unless the call waits for a courtesy callback.
			c := b.call()
			b.ended = c.dataSeen || (c.ended && !b.callback().pending)
			if b.end.IsZero() {
				b.end = b.last
			}
		},
		records: func(b *build) {
			caller := TCD{Call: b.id, Leg: "caller", LegKind: "caller", CallType: b.callType, Start: b.start, Data: b.data}
			if b.ended {
				caller.End = b.end
				caller.Disposition = string(b.call().outcome)
				if caller.Disposition == "" {
					caller.Disposition = "ended"
				}
			} else {
				caller.Disposition = "in_progress"
			}
			b.r.tcd = append(b.r.tcd, caller)
		},
		contribute: func(b *build, iv int64) {
			segs := b.agents().segs
			q := b.queue()
			firstAnswer := time.Time{}
			var ct Counters
			for _, s := range segs {
				if !s.answer.IsZero() && firstAnswer.IsZero() {
					firstAnswer = s.answer
				}
				addSegment(&ct, s)
			}
			waitFrom := q.firstQueue
			if waitFrom.IsZero() {
				waitFrom = b.start
			}
			abandoned := len(q.abandonedFrom) > 0 && firstAnswer.IsZero()
			outcomeCounts(&ct, b.cfg, firstAnswer, waitFrom, b.end, abandoned)
			ct.Offered = 1
			if b.callType != "" {
				b.r.contribs = append(b.r.contribs, contribution{IntervalCallType, b.callType, iv, ct})
			}
		},
	})
}

// callAcc is what the call family keeps of a call besides build's facts.
type callAcc struct {
	ended    bool // a call.ended was seen
	dataSeen bool // the router's call.data was seen
	outcome  event.Outcome
}

func (b *build) call() *callAcc { return b.state[famCall.idx].(*callAcc) }
