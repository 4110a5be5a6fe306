package router

// The two indexed heaps the selection runs on. Each element knows its index
// so that removing a call (abandon, offer) or an agent (leaves ready) from
// the middle of a queue is O(log n), and a call queued to several targets
// leaves all of them at once. Written out rather than with container/heap to
// keep interface calls and allocation off the decision path.

// qentry is one call's place in one target's waiting heap.
type qentry struct {
	c   *call
	t   *target
	idx int
}

// callBefore is the service order: priority (1 first), then the time the
// call was first queued, then arrival order to break ties. A call requeued
// after ring-no-answer keeps its first queue time, so it returns ahead of
// every call of its priority that came after it.
func callBefore(a, b *call) bool {
	if a.priority != b.priority {
		return a.priority < b.priority
	}
	if a.queuedAt != b.queuedAt {
		return a.queuedAt < b.queuedAt
	}
	return a.seq < b.seq
}

type callHeap []*qentry

func (h callHeap) less(i, j int) bool { return callBefore(h[i].c, h[j].c) }

func (h callHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}

func (h *callHeap) push(e *qentry) {
	e.idx = len(*h)
	*h = append(*h, e)
	h.up(e.idx)
}

func (h *callHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	if i != n {
		old.swap(i, n)
	}
	old[n].idx = -1
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h callHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h callHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// aentry is one ready agent's place in one target's ready heap.
type aentry struct {
	a   *agent
	t   *target
	idx int
}

// agentBefore is longest available first: the earliest ready time, then
// the lower login order so that ties are stable.
func agentBefore(a, b *agent) bool {
	if a.readySince != b.readySince {
		return a.readySince < b.readySince
	}
	return a.seq < b.seq
}

type agentHeap []*aentry

func (h agentHeap) less(i, j int) bool { return agentBefore(h[i].a, h[j].a) }

func (h agentHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}

func (h *agentHeap) push(e *aentry) {
	e.idx = len(*h)
	*h = append(*h, e)
	h.up(e.idx)
}

func (h *agentHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	if i != n {
		old.swap(i, n)
	}
	old[n].idx = -1
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h agentHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h agentHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// timer is a deadline the engine acts on in Tick: a precision-queue step
// widening, a ring-no-answer, a wrap-up ending, a script wait ending. Timers
// are never removed early; gen must still match the owner's when it fires,
// so a timer whose reason has passed (the call was answered) is ignored.
type timer struct {
	at   int64
	kind timerKind
	c    *call
	a    *agent
	gen  uint64
}

type timerKind uint8

const (
	timerStep timerKind = iota
	timerRONA
	timerWrapUp
	timerWait
	timerCallback // a courtesy callback's next try (callback.go)
	timerPhone    // the bound on a phone held busy after an offer (phone.go)
)

type timerHeap []timer

func (h *timerHeap) push(t timer) {
	*h = append(*h, t)
	s := *h
	j := len(s) - 1
	for j > 0 {
		i := (j - 1) / 2
		if s[i].at <= s[j].at {
			break
		}
		s[i], s[j] = s[j], s[i]
		j = i
	}
}

func (h *timerHeap) pop() timer {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = timer{}
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && s[r].at < s[l].at {
			j = r
		}
		if s[i].at <= s[j].at {
			break
		}
		s[i], s[j] = s[j], s[i]
		i = j
	}
	*h = s
	return top
}
