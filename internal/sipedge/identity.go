package sipedge

import "github.com/emiago/sipgo/sip"

// untrustedIdentity are the RFC 3325 headers only the trust domain may
// send: P-Asserted-Identity is what a trusted element vouches for, and
// P-Preferred-Identity a user's wish that a trusted proxy would weigh.
var untrustedIdentity = []string{"P-Asserted-Identity", "P-Preferred-Identity"}

// stripIdentity removes every P-Asserted-Identity and P-Preferred-Identity
// of a request from outside the trust domain (the trunks), as RFC 3325 §5
// asks of the first element of the trust domain, so no role downstream
// (router, call data, outbound legs) can take the endpoint's claim for an
// asserted identity. The call server asserts the authenticated user
// instead (Origin.User). It returns how many were removed.
func stripIdentity(req *sip.Request) int {
	n := 0
	for _, name := range untrustedIdentity {
		// GetHeaders finds them under any case, RemoveHeader removes the
		// first with the exact spelling the message used: one per header.
		for _, h := range req.GetHeaders(name) {
			if req.RemoveHeader(h.Name()) {
				n++
			}
		}
	}
	return n
}
