package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// endpoint is one SIP user agent of the sim on its own UDP socket: the
// callers' gateway, or one agent's phone. Requests go out from the socket
// it listens on, so tandem's answers, and its requests to the Contact,
// come back to the same place, as with a real phone.
type endpoint struct {
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	pc      net.PacketConn
	addr    netip.AddrPort
	contact sip.ContactHeader
	done    chan struct{} // closed when the server loop returns
}

// newEndpoint binds ip:port (0: any) and serves SIP on it; the handlers
// are registered by the caller through srv before requests arrive, which
// is before the first request goes out.
func newEndpoint(ip netip.Addr, port int, user, agentName string, log *slog.Logger, register func(*sipgo.Server)) (*endpoint, error) {
	pc, err := net.ListenPacket("udp", netip.AddrPortFrom(ip, uint16(port)).String())
	if err != nil {
		return nil, fmt.Errorf("sim: SIP socket on %s:%d: %w", ip, port, err)
	}
	e := &endpoint{pc: pc, addr: pc.LocalAddr().(*net.UDPAddr).AddrPort(), done: make(chan struct{})}
	host := ip.String()
	sipLog := log.With("lib", "sipgo")
	e.ua, err = sipgo.NewUA(sipgo.WithUserAgent(agentName), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)))
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("sim: %w", err)
	}
	fail := func(err error) (*endpoint, error) {
		e.ua.Close()
		pc.Close()
		return nil, fmt.Errorf("sim: %w", err)
	}
	if e.srv, err = sipgo.NewServer(e.ua, sipgo.WithServerLogger(sipLog)); err != nil {
		return fail(err)
	}
	// Sending from the listening socket: sipgo picks the connection of
	// this local address, which ServeUDP puts in its pool.
	if e.cli, err = sipgo.NewClient(e.ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(sipLog),
		sipgo.WithClientConnectionAddr(e.addr.String())); err != nil {
		return fail(err)
	}
	e.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host, Port: int(e.addr.Port())}}
	register(e.srv)
	go func() {
		defer close(e.done)
		_ = e.srv.ServeUDP(pc)
	}()
	// ServeUDP adds the socket to the transport's pool on its goroutine;
	// a request sent before that would try to bind the port again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := e.ua.TransportLayer().GetConnection("udp", e.addr.String()); err == nil && c != nil {
			break
		}
		if time.Now().After(deadline) {
			e.close()
			return nil, errors.New("sim: SIP socket not served after 5s")
		}
		time.Sleep(time.Millisecond)
	}
	return e, nil
}

// close stops the endpoint; transactions still open fail.
func (e *endpoint) close() {
	e.ua.Close()
	e.pc.Close()
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
	}
}

// target parses host:port into a SIP URI for user.
func targetURI(user, hostport string) (sip.Uri, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("sim: target %q: %w", hostport, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("sim: target %q: port: %w", hostport, err)
	}
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: p}, nil
}

// do sends req and waits for its final response, bounded by ctx.
func do(ctx context.Context, cli *sipgo.Client, req *sip.Request) (*sip.Response, error) {
	res, err := cli.Do(ctx, req)
	if err == nil && res == nil {
		// sipgo's Do when the transaction ends without a final response.
		return nil, errors.New("transaction ended without a final response")
	}
	return res, err
}
