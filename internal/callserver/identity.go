package callserver

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/sipedge"
)

// Caller identity on the legs tandem dials (RFC 3325).
//
// The trust domain is the trunks: an INVITE from a trunk's networks carries
// an identity its network asserted, and its P-Asserted-Identity and From go
// on as they came. An endpoint that authenticated with digest is outside
// it: whatever it wrote in From or P-Asserted-Identity is a claim, and the
// identity tandem vouches for is the user it authenticated as. The edge
// strips that endpoint's P-Asserted-Identity and P-Preferred-Identity at
// admission; the call server asserts the authenticated user instead:
//
//   - P-Asserted-Identity: <sip:USER@HOST> (HOST is sip.host), on every
//     leg of the call;
//   - the From user is the authenticated user too, and the From display
//     name is dropped: tandem has no directory name for a user, and a name
//     the endpoint picks ("Director") is exactly what a far end would show
//     and believe. The router's ANI is the authenticated user as well.
//
// Privacy (RFC 3323) is passed on as it came; tandem does not decide which
// destinations are outside the trust domain, so a caller's Privacy: id is
// for the next hop to honour.

// identityHeaders are the RFC 3325 headers only the trust domain may send.
var identityHeaders = []string{"P-Asserted-Identity", "P-Preferred-Identity"}

// callerFrom is the From user and display name of a leg dialed for the
// caller's INVITE in, which arrived from origin.
func callerFrom(in *sip.Request, origin sipedge.Origin) (user, display string) {
	if origin.User != "" {
		return origin.User, ""
	}
	return in.From().Address.User, in.From().DisplayName
}

// assertedIdentity is the P-Asserted-Identity tandem puts on a leg dialed
// for a caller who authenticated as user, at host.
func assertedIdentity(user, host string) sip.Header {
	u := sip.Uri{Scheme: "sip", User: user, Host: host}
	return sip.NewHeader("P-Asserted-Identity", "<"+u.String()+">")
}

// passIdentity says whether header name of the caller's INVITE goes on to
// the legs dialed for it: the identity headers only from a trunk.
func passIdentity(name string, origin sipedge.Origin) bool {
	for _, h := range identityHeaders {
		if strings.EqualFold(name, h) {
			return origin.Trunk != ""
		}
	}
	return true
}
