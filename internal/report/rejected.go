package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// The rejected-call family: an INVITE refused before it became a call
// (event.CallRejected, from the SIP edge or the call server) has a call
// id and that one event, and gets
//
//   - the caller TCD (the call family's) of no length, disposition
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

var famRejected *family

func init() {
	famRejected = registerFamily(&family{
		name: "rejected",
		doc:  "call.rejected: an INVITE refused before it became a call: the caller TCD (rejected <code>), an invite TCD with the why, the rejected interval row by why",
		rank: 90,
		state: func() any {
			return &rejectedAcc{}
		},
		on: map[event.Kind]func(*build, *event.Event){
			event.CallRejected: func(b *build, e *event.Event) {
				a := b.rejected()
				if a.seen {
					return // one refusal per call id; a second is a replay
				}
				a.seen, a.at, a.code, a.reason = true, e.Time, e.Code, e.Reason
				if e.Data != nil {
					b.data = *e.Data
				}
			},
		},
		settle: func(b *build) {
			if a := b.rejected(); a.seen {
				// Over when refused: no call.ended ever comes.
				b.ended, b.end = true, a.at
			}
		},
		records: func(b *build) {
			a := b.rejected()
			if !a.seen {
				return
			}
			b.caller().Disposition = fmt.Sprintf("rejected %d", a.code)
			b.r.tcd = append(b.r.tcd, TCD{Call: b.id, Leg: "invite", LegKind: "sip", Start: a.at, End: a.at,
				Disposition: strings.TrimSpace(fmt.Sprintf("rejected %d %s", a.code, a.reason)), Data: b.data})
		},
		contribute: func(b *build, iv int64) {
			if a := b.rejected(); a.seen {
				b.r.contribs = append(b.r.contribs, contribution{Kind: IntervalRejected, Name: a.why(), Start: iv, C: Counters{Rejected: 1}})
			}
		},
	})
}

// rejectedAcc is what the family keeps of a refused INVITE.
type rejectedAcc struct {
	seen   bool
	at     time.Time
	code   int
	reason string // "<why>: <detail>"
}

// why is the reason's first word, the interval row's name.
func (a *rejectedAcc) why() string {
	why, _, _ := strings.Cut(a.reason, ":")
	if why = strings.TrimSpace(why); why == "" {
		return "unknown"
	}
	return why
}

func (b *build) rejected() *rejectedAcc { return b.state[famRejected.idx].(*rejectedAcc) }
