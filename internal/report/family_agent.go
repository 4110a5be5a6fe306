package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// The agent family: each offer of the call to an agent (agent.offer) is
// one agent leg, from ring to the end of wrap-up: an agent TCD with its
// disposition, its part of the caller's TCD (ring, talk, the agent who
// answered) and the agent interval rows. A consult call about the call
// (offer Reason "consult") is a leg too; the transfer family joins it to
// the caller and the hold family counts its hold.
var famAgent *family

func init() {
	famAgent = registerFamily(&family{
		name: "agent",
		doc:  "agent.offer, agent.rona, agent.answered, agent.call_end, agent.wrapup: one agent TCD per offer, the caller's ring and talk, and the agent interval rows",
		rank: 60,
		state: func() any {
			return &agentAcc{}
		},
		on: map[event.Kind]func(*build, *event.Event){
			event.AgentOffer: func(b *build, e *event.Event) {
				a := b.agents()
				s := &segment{agent: e.Agent, queue: e.Queue, offer: e.Time, n: len(a.segs) + 1, consult: e.Reason == "consult"}
				if t, ok := b.queue().firstEnter[e.Queue]; ok {
					s.queueWait = e.Time.Sub(t)
				}
				a.segs = append(a.segs, s)
			},
			event.AgentRONA: func(b *build, e *event.Event) {
				if s := b.agents().last(e.Agent); s != nil && s.end.IsZero() {
					s.end, s.rona, s.disposition = e.Time, true, "rona"
				}
			},
			event.AgentAnswered: func(b *build, e *event.Event) {
				if s := b.agents().last(e.Agent); s != nil && s.answer.IsZero() {
					s.answer = e.Time
				}
			},
			event.AgentCallEnd: func(b *build, e *event.Event) {
				s := b.agents().last(e.Agent)
				if s == nil || !s.end.IsZero() {
					return
				}
				s.end = e.Time
				switch {
				case e.Reason == DispositionNodeRestart:
					// Closed at start (CloseOrphans): the process that had the
					// call died; it is neither an abandon nor a handled call.
					s.disposition = DispositionNodeRestart
				case e.Reason == "callback not answered":
					// The agent took the callback; the caller did not.
					s.disposition = "callback_not_answered"
				case s.consult && s.answer.IsZero():
					s.disposition = "consult_cancelled"
				case s.consult && s.joined.IsZero():
					s.disposition = "consult" // talked to the agent only
				case s.answer.IsZero():
					s.abandonedRinging, s.disposition = true, "abandoned_ringing"
					b.queue().abandonedFrom[s.queue] = true
				case e.Reason == "transferred":
					s.disposition = "transferred"
				default:
					s.disposition = "handled"
				}
			},
			event.AgentWrapUp: func(b *build, e *event.Event) {
				if s := b.agents().last(e.Agent); s != nil && !s.end.IsZero() && s.wrapEnd.IsZero() {
					s.wrapEnd, s.wrapReason = e.Time, e.ReasonCode
				}
			},
		},
		records: func(b *build) {
			segs := b.agents().segs
			caller := b.caller()
			if b.queue().firstQueue.IsZero() && len(segs) > 0 {
				caller.Delay = segs[0].offer.Sub(b.start)
			}
			// The caller talks while any agent is on the call with it (several
			// at once in a conference), less hold; a consult target counts
			// from when the caller was put through to it.
			var spans [][2]time.Time
			for _, s := range segs {
				from := s.answer
				if s.consult {
					from = s.joined
				} else {
					caller.Ring += ringOf(s)
				}
				if !from.IsZero() && !s.end.IsZero() {
					spans = append(spans, [2]time.Time{from, s.end})
					caller.Hold += s.hold
				}
				if caller.Agent == "" && !s.answer.IsZero() && !s.consult {
					caller.Agent, caller.SkillGroup = s.agent, s.queue
				}
			}
			caller.Talk = union(spans) - caller.Hold
			for _, s := range segs {
				t := TCD{Call: b.id, Leg: fmt.Sprintf("agent-%d", s.n), LegKind: "agent", Agent: s.agent, SkillGroup: s.queue, CallType: b.callType,
					Start: s.offer, End: s.end, Ring: ringOf(s), QueueTime: s.queueWait, Talk: talkOf(s), Hold: s.hold,
					Disposition: s.disposition, WrapReason: s.wrapReason, Data: b.data}
				if t.Disposition == "" {
					t.Disposition = "in_progress"
				}
				if !s.wrapEnd.IsZero() {
					t.WrapUp = s.wrapEnd.Sub(s.end)
					t.End = s.wrapEnd
				}
				b.r.tcd = append(b.r.tcd, t)
			}
		},
		contribute: func(b *build, iv int64) {
			byAgent := map[event.AgentID]*Counters{}
			var agents []event.AgentID
			for _, s := range b.agents().segs {
				c := byAgent[s.agent]
				if c == nil {
					c = &Counters{}
					byAgent[s.agent] = c
					agents = append(agents, s.agent)
				}
				c.Offered++
				addSegment(c, s)
				if !s.answer.IsZero() && (!s.consult || !s.joined.IsZero()) {
					// An agent's answer wait is its ring time.
					c.Handled++
					ring := ringOf(s)
					c.AnswerWaitNS += int64(ring)
					c.Buckets[bucketOf(b.cfg, ring)]++
				}
			}
			sort.Slice(agents, func(i, j int) bool { return agents[i] < agents[j] })
			for _, a := range agents {
				b.r.contribs = append(b.r.contribs, contribution{IntervalAgent, string(a), iv, *byAgent[a]})
			}
		},
	})
}

// agentAcc is a call's offers to agents, in order.
type agentAcc struct {
	segs []*segment
}

func (b *build) agents() *agentAcc { return b.state[famAgent.idx].(*agentAcc) }

// last returns agent a's latest leg of the call, nil if it had none.
func (a *agentAcc) last(id event.AgentID) *segment {
	for i := len(a.segs) - 1; i >= 0; i-- {
		if a.segs[i].agent == id {
			return a.segs[i]
		}
	}
	return nil
}

// segment is one offer to an agent, as the agent TCD and the agent and
// skill-group figures see it.
type segment struct {
	agent                  event.AgentID
	queue                  string
	n                      int
	offer, answer, end     time.Time
	wrapEnd                time.Time
	queueWait              time.Duration
	disposition            string
	wrapReason             int
	rona, abandonedRinging bool
	// Hold (the hold family): the hold in progress, and the hold time
	// counted.
	holdStart time.Time
	hold      time.Duration
	// consult: an agent's consult call about the call (offer Reason
	// "consult"); joined is when the caller was put through to it (a
	// consult transfer or a conference: the transfer family), zero if it
	// never was.
	consult bool
	joined  time.Time
}

// union is the length of the union of spans.
func union(spans [][2]time.Time) time.Duration {
	sort.Slice(spans, func(i, j int) bool { return spans[i][0].Before(spans[j][0]) })
	var total time.Duration
	var cur [2]time.Time
	for i, sp := range spans {
		switch {
		case i == 0:
			cur = sp
		case !sp[0].After(cur[1]):
			if sp[1].After(cur[1]) {
				cur[1] = sp[1]
			}
		default:
			total += cur[1].Sub(cur[0])
			cur = sp
		}
	}
	if len(spans) > 0 {
		total += cur[1].Sub(cur[0])
	}
	return total
}

// addSegment adds a segment's RONA and handle times.
func addSegment(c *Counters, s *segment) {
	if s.rona {
		c.RONA++
	}
	if !s.answer.IsZero() {
		c.TalkNS += int64(talkOf(s))
		c.HoldNS += int64(s.hold)
		if !s.wrapEnd.IsZero() {
			c.WrapNS += int64(s.wrapEnd.Sub(s.end))
		}
	}
}

func ringOf(s *segment) time.Duration {
	switch {
	case !s.answer.IsZero():
		return s.answer.Sub(s.offer)
	case !s.end.IsZero():
		return s.end.Sub(s.offer)
	}
	return 0
}

func talkOf(s *segment) time.Duration {
	if s.answer.IsZero() || s.end.IsZero() {
		return 0
	}
	return s.end.Sub(s.answer) - s.hold
}
