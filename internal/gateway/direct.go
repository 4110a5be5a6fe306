package gateway

import (
	"time"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/mediaua"
)

// A call that never went through the call server (a trunk dialing the
// gateway straight, or any caller of a stand-alone gateway) has no
// X-Tandem-Call-ID: mediaua gives it a new global id (Dialog.Direct), and
// the gateway, the only role that sees it, reports the call itself, so
// reporting counts it as any other: call.new once the INVITE is taken (the
// media session holds our answer), call.answered when the caller's ACK
// confirms it, call.ended with the dialog (outcome answered, or failed if
// it was never confirmed), beside the VRU leg's leg.ended that every
// dialog gets. A VRU leg the call server dialed reports its leg only: the
// call server reports the call.

// admit is mediaua's Admit: it reports a direct call's start.
func (g *Gateway) admit(d *mediaua.Dialog) error {
	if d.Direct {
		req := d.Invite
		ani := ""
		if f := req.From(); f != nil {
			ani = f.Address.User
		}
		g.events.Emit(event.Event{Time: time.Now(), Kind: event.CallNew, Call: d.Call, Leg: directLeg(d), Peer: req.Source(),
			Reason: "dnis=" + req.Recipient.User + " ani=" + ani + " direct to the vxml gateway"})
	}
	return nil
}

// directAnswered reports that a direct call's caller confirmed it.
func (g *Gateway) directAnswered(d *mediaua.Dialog) {
	if d.Direct {
		g.answered.Store(d.Call, true)
		g.events.Emit(event.Event{Time: time.Now(), Kind: event.CallAnswered, Call: d.Call, Leg: directLeg(d)})
	}
}

// directEnded reports a direct call's end.
func (g *Gateway) directEnded(d *mediaua.Dialog, why string) {
	if !d.Direct {
		return
	}
	outcome := event.OutcomeFailed
	if _, ok := g.answered.LoadAndDelete(d.Call); ok {
		outcome = event.OutcomeAnswered
	}
	g.events.Emit(event.Event{Time: time.Now(), Kind: event.CallEnded, Call: d.Call, Outcome: outcome, Reason: "vxml: " + why})
}

// directLeg names the inbound leg of a direct call: the one the gateway
// answers, also its VRU leg.
func directLeg(d *mediaua.Dialog) event.LegID { return event.LegID(string(d.Call) + "-vru") }
