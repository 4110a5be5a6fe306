package callserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// A conference joins the caller, the agent and the agent's consult target
// in a room of a conference bridge (internal/conference, a SIP endpoint of
// its own): for each party tandem opens a leg to the room's URI without
// SDP, hands the bridge's offer to the party in a re-INVITE and the
// party's answer back in the ACK (RFC 3725 flow I, three times). tandem
// still never touches RTP. Afterwards each party's in-dialog requests are
// relayed to its own bridge leg, and a party's BYE releases its bridge leg:
// an agent leaving leaves the others talking; the caller leaving, or the
// last agent, ends the call.

// ErrConference: the call is in a conference; hold, consult and moves do
// not apply.
var ErrConference = errors.New("callserver: the call is in a conference")

// conf is a call's conference: each party's leg to the bridge, and back.
type conf struct {
	room    string
	bridge  map[*leg]*leg // party → its leg to the bridge
	partyOf map[*leg]*leg // bridge leg → party
}

// Conference joins the caller, the agent and the consult target of call id
// in a room reached at label (a dial-plan label leading to the bridge,
// such as "conf-" + the call id). On failure the parties already moved
// are put back as they were: the agent with the target, the caller held.
func (s *Server) Conference(ctx context.Context, id event.CallID, label string) error {
	c, err := s.lockForControl(id, needConsult)
	if err != nil {
		return err
	}
	defer c.clearPending()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.ctx, cancel)()

	c.mu.Lock()
	parties := []*leg{c.in, c.out, c.consult}
	c.mu.Unlock()
	cf := &conf{room: label, bridge: map[*leg]*leg{}, partyOf: map[*leg]*leg{}}
	undo := func(why string) {
		for _, bl := range cf.bridge {
			go s.bye(bl, why)
		}
	}
	for _, p := range parties {
		bl, res, err := s.dialLate(ctx, c, label, s.cfg.RingTimeout.D())
		if err != nil {
			undo("conference failed")
			s.restoreConsult(c)
			return fmt.Errorf("callserver: conference %s: the bridge: %w", id, err)
		}
		inviteSeq := bl.cseq.Load()
		ans, err := s.reoffer(ctx, p, res.Body())
		if err != nil {
			s.sendAck(bl, s.ackFor(bl, inviteSeq, nil, ""))
			go s.bye(bl, "conference failed")
			undo("conference failed")
			s.restoreConsult(c)
			return fmt.Errorf("callserver: conference %s: %s: %w", id, p.id, err)
		}
		s.sendAck(bl, s.ackFor(bl, inviteSeq, stamp(bl, ans), "application/sdp"))
		cf.bridge[p], cf.partyOf[bl] = bl, p
		s.dialogs.Store(bl.key(), bl)
	}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		undo("call ended")
		return ErrNotReady
	}
	c.conf = cf
	c.mu.Unlock()
	ids := make([]string, 0, len(parties))
	for _, p := range parties {
		ids = append(ids, string(p.id))
	}
	s.emit(event.Event{Kind: event.CallConferenced, Call: c.id, Peer: label, Reason: strings.Join(ids, " ")})
	c.log.Info("conference", "room", label, "parties", len(parties))
	return nil
}

// restoreConsult puts a failed conference's parties back as the consult
// had them: the agent with the target (solicited from the target), the
// caller on hold with its last session.
func (s *Server) restoreConsult(c *Call) {
	ctx, cancel := context.WithTimeout(c.ctx, 2*64*sip.T1)
	defer cancel()
	c.mu.Lock()
	in, agent, target, far := c.in, c.out, c.consult, c.farSDP
	c.mu.Unlock()
	if _, _, err := s.connectLegs(ctx, target, agent); err != nil {
		c.log.Warn("agent not reconnected to the consult target after a failed conference", "error", err)
	}
	if held, err := withDirection(far, "sendonly"); err == nil {
		if _, err := s.reoffer(ctx, in, held); err != nil {
			c.log.Warn("caller not held again after a failed conference", "error", err)
		}
	}
}

// conferenceBye handles a BYE from a party of a conference, or from the
// bridge for one (it hung up a party that sent no audio). It reports
// whether it took the BYE.
func (s *Server) conferenceBye(c *Call, l *leg) bool {
	c.mu.Lock()
	cf := c.conf
	if cf == nil {
		c.mu.Unlock()
		return false
	}
	party, bl := l, cf.bridge[l]
	if bl == nil {
		if party = cf.partyOf[l]; party == nil {
			c.mu.Unlock()
			return false
		}
		bl = l
	}
	delete(cf.bridge, party)
	delete(cf.partyOf, bl)
	agentLeft := party == c.out
	targetLeft := party == c.consult
	agents := 0
	for p := range cf.bridge {
		if p != c.in {
			agents++
		}
	}
	switch {
	case agentLeft && c.consult != nil && cf.bridge[c.consult] != nil:
		// The target stays on as the call's agent.
		c.out, c.consult = c.consult, nil
	case targetLeft:
		c.consult = nil
	}
	callerLeft := party == c.in
	c.mu.Unlock()
	s.dialogs.Delete(l.key())
	if l == party {
		s.dialogs.Delete(bl.key())
		go s.bye(bl, "left the conference")
	} else {
		s.dialogs.Delete(party.key())
		go s.bye(party, "dropped by the conference bridge")
	}
	if tracker := s.tracker; tracker != nil && (agentLeft || targetLeft) && !callerLeft {
		// An agent's part ends: the first agent leaving hands the call
		// to the target (completed), the target leaving does not.
		tracker.ConsultEnded(c.ctx, c.id, agentLeft)
	}
	if callerLeft || agents == 0 {
		why := "caller left the conference"
		if !callerLeft {
			why = "the last agent left the conference"
		}
		c.mu.Lock()
		in := c.in
		c.mu.Unlock()
		var byeIn *leg
		if !callerLeft {
			byeIn = in
		}
		c.end(why, event.OutcomeAnswered, byeIn, nil)
	}
	return true
}
