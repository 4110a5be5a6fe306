package report

import (
	"fmt"
	"strings"

	"github.com/tandem-cc/tandem/internal/event"
)

// The rejected-call record family: an INVITE refused before it became a
// call (event.CallRejected, from the SIP edge or the call server) has a
// call id and one event, and gets
//
//   - a caller TCD (leg "caller") of no length, disposition
//     "rejected <code>", with the dialed number, the caller and the SIP
//     Call-ID the INVITE carried;
//   - a SIP TCD (leg "invite", leg_kind "sip"), disposition
//     "rejected <code> <why>: <detail>" (why is one of event's Reject*
//     words: auth, auth_limit, draining, max_calls, loop, invalid);
//   - a count in the interval it was refused in, on the row of kind
//     IntervalRejected named by its why (UCCE and CVP count such calls,
//     "calls rejected", apart from the call types they never reached).
//
// A call the router released (outcome rejected) is not one of these: it
// reached a call type and counts there.

// IntervalRejected is the interval kind of refused INVITEs; a row's name
// is the refusal's why, its Rejected the count.
const IntervalRejected = "rejected"

// rejectedColumn is the intervals column of Counters.Rejected.
const rejectedColumn = "rejected"

// buildRejected derives the records of a refused INVITE; ok is false when
// evs are not one.
func buildRejected(evs []event.Event, cfg *RecordConfig) (r callRecords, ok bool) {
	var e *event.Event
	for i := range evs {
		if evs[i].Kind == event.CallRejected {
			e = &evs[i]
			break
		}
	}
	if e == nil {
		return r, false
	}
	var data event.Data
	if e.Data != nil {
		data = *e.Data
	}
	why, _, _ := strings.Cut(e.Reason, ":")
	why = strings.TrimSpace(why)
	if why == "" {
		why = "unknown"
	}
	r.tcd = []TCD{
		{Call: e.Call, Leg: "caller", LegKind: "caller", Start: e.Time, End: e.Time,
			Disposition: fmt.Sprintf("rejected %d", e.Code), Data: data},
		{Call: e.Call, Leg: "invite", LegKind: "sip", Start: e.Time, End: e.Time,
			Disposition: strings.TrimSpace(fmt.Sprintf("rejected %d %s", e.Code, e.Reason)), Data: data},
	}
	r.ended = true
	r.endNS = e.Time.UnixNano()
	iv := e.Time.Truncate(cfg.Interval).UnixNano()
	r.contribs = []contribution{{Kind: IntervalRejected, Name: why, Start: iv, C: Counters{Rejected: 1}}}
	return r, true
}
