package report

import (
	"time"

	"github.com/tandem-cc/tandem/internal/event"
)

// The queue family: the time a call waited in queue (in any of its queues
// at once), split between the routing decisions it followed (each RCD's
// queue time), the caller's delay and queue time, the queues a call was
// abandoned from, and the skill-group interval rows. It ranks before the
// route family: a decision closes the queue time of the decision before
// it, then the route family writes the new one.
var famQueue *family

func init() {
	famQueue = registerFamily(&family{
		name: "queue",
		doc:  "queue.enter, queue.leave, route.decision: queue time (caller TCD, each RCD), the caller's delay, and the skill_group interval rows",
		rank: 40,
		state: func() any {
			return &queueAcc{queuesIn: map[string]time.Time{}, firstEnter: map[string]time.Time{}, abandonedFrom: map[string]bool{}}
		},
		on: map[event.Kind]func(*build, *event.Event){
			event.QueueEnter: func(b *build, e *event.Event) {
				q := b.queue()
				if _, ok := q.queuesIn[e.Queue]; !ok {
					q.queuesIn[e.Queue] = e.Time
					if q.inQueue == 0 {
						q.episode = e.Time
					}
					q.inQueue++
				}
				if _, ok := q.firstEnter[e.Queue]; !ok {
					q.firstEnter[e.Queue] = e.Time
					q.order = append(q.order, e.Queue)
				}
				if q.firstQueue.IsZero() {
					q.firstQueue = e.Time
				}
			},
			event.QueueLeave: func(b *build, e *event.Event) {
				q := b.queue()
				if _, ok := q.queuesIn[e.Queue]; ok {
					delete(q.queuesIn, e.Queue)
					q.inQueue--
					q.stop(b, e.Time)
				}
				if e.Reason == "abandoned" {
					q.abandonedFrom[e.Queue] = true
				}
			},
			event.RouteDecision: func(b *build, e *event.Event) {
				// A decision taken while the call waits (hold music played
				// again, a wait node ending) splits its queue time: what came
				// before counts for the call and the decision before, what
				// comes after is the new decision's.
				q := b.queue()
				if q.inQueue > 0 {
					q.count(b, e.Time)
					q.episode = e.Time
				}
			},
		},
		settle: func(b *build) {
			if b.ended {
				q := b.queue()
				q.inQueue = 0
				q.stop(b, b.end)
			}
		},
		records: func(b *build) {
			q := b.queue()
			c := b.caller()
			c.QueueTime = q.total
			if !q.firstQueue.IsZero() {
				c.Delay = q.firstQueue.Sub(b.start)
			}
		},
		contribute: func(b *build, iv int64) {
			q := b.queue()
			segs := b.agents().segs
			for _, name := range q.order {
				var c Counters
				c.Offered = 1
				answered := time.Time{}
				for _, s := range segs {
					if s.queue == name {
						addSegment(&c, s)
						if !s.answer.IsZero() && answered.IsZero() {
							answered = s.answer
						}
					}
				}
				outcomeCounts(&c, b.cfg, answered, q.firstEnter[name], b.end, q.abandonedFrom[name] && answered.IsZero())
				b.r.contribs = append(b.r.contribs, contribution{IntervalSkillGroup, name, iv, c})
			}
		},
	})
}

// queueAcc is a call's time in queue.
type queueAcc struct {
	queuesIn      map[string]time.Time // queue → entered, while in it
	firstEnter    map[string]time.Time // queue → first entered
	order         []string             // queues in the order first entered
	abandonedFrom map[string]bool      // queues the caller abandoned (in queue or ringing an agent of)
	inQueue       int                  // queues the call is in now
	episode       time.Time            // start of the queue time not yet counted
	firstQueue    time.Time
	total         time.Duration
}

// stop counts the queue time up to t once the call is in no queue.
func (q *queueAcc) stop(b *build, t time.Time) {
	if q.inQueue == 0 {
		q.count(b, t)
	}
}

// count adds the queue time from the episode's start to t to the call and
// to the last decision, and ends the episode.
func (q *queueAcc) count(b *build, t time.Time) {
	if q.episode.IsZero() {
		return
	}
	q.total += t.Sub(q.episode)
	if n := len(b.r.rcd); n > 0 {
		b.r.rcd[n-1].Queue += t.Sub(q.episode)
	}
	q.episode = time.Time{}
}

func (b *build) queue() *queueAcc { return b.state[famQueue.idx].(*queueAcc) }
