package sipedge

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Binding is one registered contact of an address-of-record.
type Binding struct {
	Contact sip.Uri
	// Source is where the REGISTER came from (host:port) and Transport how;
	// calls go there, which works behind NAT and over the phone's own TCP
	// connection.
	Source    string
	Transport string
	Expires   time.Time
	Q         float64
	callID    string
	cseq      uint32
	updated   time.Time
}

// registrar keeps bindings per extension (RFC 3261 §10.3). One mutex guards
// the table; REGISTERs are rare next to calls.
type registrar struct {
	minExp, maxExp, defExp time.Duration
	maxContacts            int
	now                    func() time.Time

	mu   sync.Mutex // guards aors
	aors map[string][]Binding
}

func newRegistrar(minExp, maxExp, defExp time.Duration, maxContacts int, now func() time.Time) *registrar {
	return &registrar{minExp: minExp, maxExp: maxExp, defExp: defExp, maxContacts: maxContacts, now: now, aors: map[string][]Binding{}}
}

// regResult is what to answer to a REGISTER.
type regResult struct {
	code       int
	reason     string
	minExpires time.Duration // for 423
	bindings   []Binding
}

// register applies a REGISTER from an authenticated user to the bindings of
// aor. It follows RFC 3261 §10.3 steps 6 to 8.
func (r *registrar) register(aor string, req *sip.Request) regResult {
	now := r.now()
	defExp := r.defExp
	if h := req.GetHeader("Expires"); h != nil {
		v, err := strconv.ParseUint(h.Value(), 10, 32)
		if err != nil {
			return regResult{code: 400, reason: "Bad Expires"}
		}
		defExp = time.Duration(v) * time.Second
	}
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	cseq := req.CSeq().SeqNo
	contacts := req.GetHeaders("Contact")

	r.mu.Lock()
	defer r.mu.Unlock()
	current := r.live(aor, now)

	// Step 6: "Contact: *" removes every binding, only with Expires: 0 and
	// as the only contact.
	for _, h := range contacts {
		if c, ok := h.(*sip.ContactHeader); ok && c.Address.Wildcard {
			if len(contacts) != 1 || defExp != 0 {
				return regResult{code: 400, reason: "Wildcard Contact Needs Expires 0"}
			}
			for _, b := range current {
				if b.callID == callID && cseq <= b.cseq {
					return regResult{code: 500, reason: "Out Of Order"}
				}
			}
			delete(r.aors, aor)
			return regResult{code: 200, reason: "OK"}
		}
	}

	next := append([]Binding(nil), current...)
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return regResult{code: 400, reason: "Bad Contact"}
		}
		exp := defExp
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return regResult{code: 400, reason: "Bad Contact Expires"}
			}
			exp = time.Duration(n) * time.Second
		}
		if exp > 0 && exp < r.minExp {
			return regResult{code: 423, reason: "Interval Too Brief", minExpires: r.minExp}
		}
		exp = min(exp, r.maxExp)
		q := 1.0
		if v, ok := c.Params.Get("q"); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		idx := -1
		for i, b := range next {
			if b.Contact.String() == c.Address.String() {
				idx = i
				break
			}
		}
		if idx >= 0 {
			b := next[idx]
			// Step 7: a retransmitted or reordered REGISTER of the same
			// Call-ID must not undo a newer one.
			if b.callID == callID && cseq <= b.cseq {
				return regResult{code: 500, reason: "Out Of Order"}
			}
			if exp == 0 {
				next = append(next[:idx], next[idx+1:]...)
				continue
			}
			next[idx] = r.binding(c, req, exp, q, callID, cseq, now)
			continue
		}
		if exp == 0 {
			continue
		}
		next = append(next, r.binding(c, req, exp, q, callID, cseq, now))
	}
	if len(next) > r.maxContacts {
		return regResult{code: 403, reason: fmt.Sprintf("Too Many Contacts (max %d)", r.maxContacts)}
	}
	if len(next) == 0 {
		delete(r.aors, aor)
	} else {
		r.aors[aor] = next
	}
	return regResult{code: 200, reason: "OK", bindings: append([]Binding(nil), next...)}
}

func (r *registrar) binding(c *sip.ContactHeader, req *sip.Request, exp time.Duration, q float64, callID string, cseq uint32, now time.Time) Binding {
	return Binding{
		Contact:   *c.Address.Clone(),
		Source:    req.Source(),
		Transport: req.Transport(),
		Expires:   now.Add(exp),
		Q:         q,
		callID:    callID,
		cseq:      cseq,
		updated:   now,
	}
}

// live returns aor's unexpired bindings, dropping the expired ones.
// Call with mu held.
func (r *registrar) live(aor string, now time.Time) []Binding {
	bs := r.aors[aor]
	n := 0
	for _, b := range bs {
		if b.Expires.After(now) {
			bs[n] = b
			n++
		}
	}
	if n == 0 {
		delete(r.aors, aor)
		return nil
	}
	r.aors[aor] = bs[:n]
	return bs[:n]
}

// lookup returns aor's live bindings, best first: highest q, then the most
// recently refreshed.
func (r *registrar) lookup(aor string) []Binding {
	r.mu.Lock()
	bs := append([]Binding(nil), r.live(aor, r.now())...)
	r.mu.Unlock()
	sort.SliceStable(bs, func(i, j int) bool {
		if bs[i].Q != bs[j].Q {
			return bs[i].Q > bs[j].Q
		}
		return bs[i].updated.After(bs[j].updated)
	})
	return bs
}

// sweepExpired drops every expired binding; run periodically so that phones
// that vanish do not hold memory.
func (r *registrar) sweepExpired() {
	now := r.now()
	r.mu.Lock()
	for aor := range r.aors {
		r.live(aor, now)
	}
	r.mu.Unlock()
}

// count returns the number of registered extensions.
func (r *registrar) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.aors)
}

// IsUser reports whether ext is one of the current users: a phone this
// edge authenticates and registers, so a device of the contact center.
func (e *Edge) IsUser(ext string) bool { return e.hasUser(ext) }
