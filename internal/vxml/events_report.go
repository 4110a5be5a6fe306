package vxml

import (
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// Event kinds the interpreter emits for reporting (CVP's VXML Server /
// gateway logs: session start and end, and the VoiceXML events — noinput,
// nomatch, errors — that explain a caller's path through the IVR).
const (
	KindSessionStarted event.Kind = "vxml.session.started" // Peer: the first document
	KindSessionEnded   event.Kind = "vxml.session.ended"   // Reason: the Outcome
	KindThrown         event.Kind = "vxml.event"           // Reason: event name and message
)

func (s *Session) emit(kind event.Kind, reason, peer string) {
	if s.cfg.Events == nil {
		return
	}
	s.cfg.Events.Emit(event.Event{Time: time.Now(), Kind: kind, Call: s.cfg.Session.CallID, Reason: reason, Peer: peer})
}
