package report

import (
	"fmt"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// The SIP family: each SIP dialog the call server opened for the call
// (the inbound leg of call.new, each outbound leg.new) is a SIP TCD, from
// its INVITE to its end, with its ring and talk time and how it ended.
var famSIP *family

func init() {
	famSIP = registerFamily(&family{
		name: "sip",
		doc:  "call.new (with a leg), leg.new, leg.answered, leg.failed, leg.ended: one sip TCD per SIP dialog",
		rank: 80,
		state: func() any {
			return &sipAcc{legs: map[event.LegID]*TCD{}, answered: map[event.LegID]time.Time{}}
		},
		on: map[event.Kind]func(*build, *event.Event){
			event.CallNew: func(b *build, e *event.Event) {
				if e.Leg != "" {
					t := b.sip().leg(b, e)
					t.Start = e.Time
					t.Disposition = "inbound"
				}
			},
			event.LegNew: func(b *build, e *event.Event) {
				b.sip().leg(b, e).Disposition = "open"
			},
			event.LegAnswered: func(b *build, e *event.Event) {
				s := b.sip()
				t := s.leg(b, e)
				t.Ring = e.Time.Sub(t.Start)
				s.answered[e.Leg] = e.Time
			},
			event.LegFailed: legEnded,
			event.LegEnded:  legEnded,
		},
		records: func(b *build) {
			s := b.sip()
			for _, l := range s.order {
				t := s.legs[l]
				t.CallType, t.Data = b.callType, b.data
				b.r.tcd = append(b.r.tcd, *t)
			}
		},
	})
}

func legEnded(b *build, e *event.Event) {
	s := b.sip()
	t := s.leg(b, e)
	if !t.End.IsZero() {
		return
	}
	t.End = e.Time
	if a, ok := s.answered[e.Leg]; ok {
		t.Talk = e.Time.Sub(a)
	}
	switch {
	case e.Kind == event.LegFailed:
		t.Disposition = fmt.Sprintf("failed %d", e.Code)
	case e.Code != 0:
		t.Disposition = fmt.Sprintf("ended %d %s", e.Code, e.Reason)
	default:
		t.Disposition = "ended " + e.Reason
	}
}

// sipAcc is a call's SIP dialogs, in the order first seen.
type sipAcc struct {
	legs     map[event.LegID]*TCD
	order    []event.LegID
	answered map[event.LegID]time.Time
}

func (b *build) sip() *sipAcc { return b.state[famSIP.idx].(*sipAcc) }

// leg returns e's leg, made at e when first seen.
func (s *sipAcc) leg(b *build, e *event.Event) *TCD {
	t := s.legs[e.Leg]
	if t == nil {
		t = &TCD{Call: b.id, Leg: string(e.Leg), LegKind: "sip", Start: e.Time}
		s.legs[e.Leg] = t
		s.order = append(s.order, e.Leg)
	}
	return t
}
