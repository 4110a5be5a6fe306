package callserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// prebuilt tells sipgo the request is complete: tandem builds every header
// itself, so sipgo must not add its own From, To or Call-ID.
func prebuilt(*sipgo.Client, *sip.Request) error { return nil }

// via makes tandem's Via for a request over transport.
func (s *Server) via(transport string) *sip.ViaHeader {
	host, port := s.edge.Local(strings.ToLower(transport))
	v := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport, Host: host, Port: port, Params: sip.NewParams()}
	v.Params.Add("branch", sip.GenerateBranchN(16))
	v.Params.Add("rport", "")
	return v
}

// contact is tandem's Contact for dialogs over transport.
func (s *Server) contact(transport string) *sip.ContactHeader {
	host, port := s.edge.Local(strings.ToLower(transport))
	u := sip.Uri{Scheme: "sip", User: "tandem", Host: host, Port: port}
	if transport != "UDP" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", strings.ToLower(transport))
	}
	return &sip.ContactHeader{Address: u}
}

// route sets where req goes: the first Route, else dest, else the
// Request-URI; and over UDP, from tandem's listening socket.
func (s *Server) route(req *sip.Request, dest string) {
	req.SetTransport(req.Via().Transport)
	switch {
	case req.Route() != nil:
		req.SetDestination(req.Route().Address.HostPort())
	case dest != "":
		req.SetDestination(dest)
	default:
		req.SetDestination(req.Recipient.HostPort())
	}
	if req.Transport() == "UDP" {
		if la := s.edge.LocalUDP(); la != nil {
			req.Laddr = sip.Addr{IP: la.IP, Port: la.Port}
		}
	}
}

// inDialog builds a request in dialog l (RFC 3261 §12.2.1.1) with the
// dialog's next CSeq.
func (s *Server) inDialog(l *leg, method sip.RequestMethod) *sip.Request {
	return s.dialogRequest(l, method, l.cseq.Add(1))
}

// ackFor builds the ACK for a 2xx to the INVITE with CSeq seq in dialog l
// (RFC 3261 §13.2.2.4: same CSeq number, a new branch, the route set).
func (s *Server) ackFor(l *leg, seq uint32, body []byte, ct string) *sip.Request {
	ack := s.dialogRequest(l, sip.ACK, seq)
	withBody(ack, body, ct)
	return ack
}

// dialogRequest builds a request of dialog l with CSeq seq.
func (s *Server) dialogRequest(l *leg, method sip.RequestMethod, seq uint32) *sip.Request {
	req := sip.NewRequest(method, *l.remoteTarget.Clone())
	req.AppendHeader(s.via(l.transport))
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, r := range l.routeSet {
		req.AppendHeader(&sip.RouteHeader{Address: *r.Clone()})
	}
	from := &sip.FromHeader{DisplayName: l.localName, Address: *l.local.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", l.localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{DisplayName: l.remoteName, Address: *l.remote.Clone(), Params: sip.NewParams()}
	if l.remoteTag != "" {
		to.Params.Add("tag", l.remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(l.sipCallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	if method == sip.INVITE || method == sip.UPDATE {
		req.AppendHeader(s.contact(l.transport))
		s.timerRequest(l, req)
	}
	s.route(req, l.dest)
	return req
}

// sendAck sends an ACK and keeps it for 2xx retransmissions.
func (s *Server) sendAck(l *leg, ack *sip.Request) {
	l.ackMu.Lock()
	l.lastAck = ack
	l.ackMu.Unlock()
	if err := s.edge.Client().WriteRequest(ack, prebuilt); err != nil {
		l.call.log.Warn("send ACK failed", "leg", l.id, "error", err)
	}
}

// errNoFinal: a transaction ended without a final response.
var errNoFinal = errors.New("no final response")

// request sends req in a new client transaction and returns its final
// response. A timeout or transport error comes back as an error.
func (s *Server) request(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	if req.Body() == nil {
		req.SetBody(nil)
	}
	// sipgo's Do waits for the final response; it returns no response
	// and no error when the transaction ends without one.
	res, err := s.edge.Client().Do(ctx, req, prebuilt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.Method, err)
	}
	if res == nil {
		return nil, fmt.Errorf("%s: %w", req.Method, errNoFinal)
	}
	// Every 2xx to an INVITE or UPDATE in a dialog is a session refresh
	// (RFC 4028 §7.4), whichever step of a call sent it.
	s.timerAgreedFor(req, res)
	return res, nil
}

// respond sends a response to req on tx, adding tandem's tag and Contact for
// dialog-forming answers.
func (s *Server) respond(l *leg, req *sip.Request, tx sip.ServerTransaction, code int, reason string, body []byte, ct string, hdrs ...sip.Header) error {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if to := res.To(); to != nil {
		if _, ok := to.Params.Get("tag"); !ok && l != nil && code > 100 {
			to.Params.Add("tag", l.localTag)
		} else if !ok && code >= 300 {
			to.Params.Add("tag", sip.GenerateTagN(10))
		}
	}
	if l != nil && req.IsInvite() && code > 100 && code < 300 {
		res.AppendHeader(s.contact(l.transport))
	}
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	withBody(res, body, ct)
	return tx.Respond(res)
}
