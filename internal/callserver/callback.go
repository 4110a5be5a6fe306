package callserver

import (
	"context"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// A courtesy callback is a call tandem originates under the id of a call
// whose caller hung up to be called back (see router's callback.go): the
// agent's phone is rung first, with a late offer (INVITE without SDP), and
// once it answers the caller's number is called with the agent's offer;
// the caller's answer goes to the agent in the ACK (RFC 3725 flow I with
// the agent in the "A" role). Agent first, so a caller who answers always
// has someone there. The caller's number is rung for at most
// callbackRing, within the 32 s an answering phone retransmits its 2xx
// waiting for our ACK (RFC 3261 §13.3.1.4).

const callbackRing = 25 * time.Second

// Callback starts the courtesy callback of call id: ins is the router's
// offer (the agent's extension, its ring time), number the caller's number
// (a dial-plan label leading to an egress gateway), from what the caller
// sees as the calling number (the dialed number of the original call).
// It returns at once; the call goes on as any answered call, with the
// callback's leg as the caller's leg.
func (s *Server) Callback(id event.CallID, ins Instruction, number, from string) error {
	if s.draining.Load() {
		return fmt.Errorf("callserver: callback %s: draining", id)
	}
	if _, ok := s.calls.Load(id); ok {
		return fmt.Errorf("callserver: callback %s: the call is still up", id)
	}
	if n := s.active.Add(1); n > int64(s.cfg.MaxCalls) {
		s.active.Add(-1)
		return fmt.Errorf("callserver: callback %s: over max_calls", id)
	}
	s.wg.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &Call{id: id, srv: s, ctx: ctx, cancel: cancel, log: s.log.With("call", string(id)), instr: make(chan Instruction, 4)}
	s.calls.Store(id, c)
	c.log.Info("courtesy callback", "number", number, "agent", ins.Agent)
	go c.callback(ins, number, from)
	return nil
}

func (c *Call) callback(ins Instruction, number, from string) {
	s := c.srv
	tracker := s.tracker
	for attempt := 0; attempt < 20 && c.ctx.Err() == nil; attempt++ {
		if ins.RejectCode != 0 || ins.Queued || len(ins.Labels) == 0 {
			// Back in queue (no agent now), or released: the router has it.
			c.discard()
			return
		}
		// The agent first, showing the caller's number.
		c.mu.Lock()
		c.dialFrom = number
		c.mu.Unlock()
		var (
			agent *leg
			res   *sip.Response
			err   error
		)
		for _, label := range ins.Labels {
			if agent, res, err = s.dialLate(c.ctx, c, label, c.ringFor(ins)); err == nil {
				break
			}
		}
		if err != nil {
			c.log.Info("callback: agent did not answer", "error", err)
			if tracker == nil {
				c.discard()
				return
			}
			next, rerr := tracker.Requery(c.ctx, c.id, failureOf(480))
			if rerr != nil {
				c.log.Info("requery refused", "error", rerr)
				c.discard()
				return
			}
			ins = next
			continue
		}
		agentSeq := agent.cseq.Load()
		// Then the caller, with the agent's offer.
		c.mu.Lock()
		c.dialFrom = from
		c.mu.Unlock()
		cust, cres, err := c.dialNumber(number, res.Body(), contentType(res))
		if err != nil {
			c.log.Info("callback: caller did not answer", "number", number, "error", err)
			held, _ := withDirection(res.Body(), "inactive")
			s.sendAck(agent, s.ackFor(agent, agentSeq, stamp(agent, held), "application/sdp"))
			go s.bye(agent, "callback not answered")
			if cb := s.tracker; cb != nil {
				cb.CallbackFailed(c.ctx, c.id, err.Error())
			}
			c.discard()
			return
		}
		s.sendAck(cust, s.ackFor(cust, cust.cseq.Load(), nil, ""))
		s.sendAck(agent, s.ackFor(agent, agentSeq, stamp(agent, cres.Body()), contentType(cres)))
		c.mu.Lock()
		c.in, c.out = cust, agent
		c.answered = true
		c.farSDP, c.nearSDP = res.Body(), cres.Body()
		c.mu.Unlock()
		s.dialogs.Store(cust.key(), cust)
		s.dialogs.Store(agent.key(), agent)
		s.emit(event.Event{Kind: event.CallAnswered, Call: c.id, Leg: agent.id, Code: 200, Reason: "courtesy callback to " + number})
		if tracker != nil {
			tracker.Answered(c.ctx, c.id)
		}
		return
	}
	c.discard()
}

// dialNumber calls number (through the dial plan) with an offer and
// returns the answered leg and its 2xx, not yet ACKed.
func (c *Call) dialNumber(number string, offer []byte, ct string) (*leg, *sip.Response, error) {
	s := c.srv
	targets, err := s.edge.Resolve(number)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", number, err)
	}
	ring := min(s.cfg.RingTimeout.D(), callbackRing)
	last := "no destination"
	for _, t := range targets {
		l, r, err := c.dial(c.ctx, t, offer, ct, false, ring)
		if c.ctx.Err() != nil {
			return nil, nil, c.ctx.Err()
		}
		if err == nil && r.IsSuccess() {
			s.edge.Report(t, true)
			return l, r, nil
		}
		if err != nil {
			last = err.Error()
			s.edge.Report(t, false)
			continue
		}
		last = fmt.Sprintf("%d %s", r.StatusCode, r.Reason)
		if r.StatusCode == 503 || r.StatusCode == 408 {
			s.edge.Report(t, false)
			continue
		}
		break // the number answered for itself (busy, no answer)
	}
	return nil, nil, fmt.Errorf("%s: %s", number, last)
}

// discard forgets a callback that never connected: no caller was talking,
// so the call is not ended for the router (it stays queued there).
func (c *Call) discard() {
	s := c.srv
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	c.mu.Unlock()
	c.cancel()
	s.calls.Delete(c.id)
	s.active.Add(-1)
	s.wg.Done()
}
