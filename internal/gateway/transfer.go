package gateway

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
	"github.com/tandem-cc/tandem/internal/media"
	"github.com/tandem-cc/tandem/internal/vxml"
)

// A <transfer> is asked of the call server with REFER (RFC 3515) in the
// gateway's own dialog with it, the way a phone transfers: the call server
// owns the caller's leg, dials the target through routing and the dial
// plan (so the transfer is in the call's records), and moves the caller's
// media with RFC 3725, so the bridged party's media flows end to end
// rather than through the gateway. The transfer's kind and times ride in
// event.TransferHeader; the outcome comes back in the refer
// subscription's NOTIFYs: the far end's final answer as message/sipfrag
// (busy, noanswer, network_busy), and for a bridge, once it connected, the
// subscription's end: noresource when the far end hung up, timeout when
// maxtime passed. REFER rather than a new INVITE from the gateway because
// the call stays one call with one id at the call server, and because it
// is the same mechanism phones use, so one implementation serves both.

// transferErr is a failure the document sees as a named error.connection.*
// event (spec 2.3.7.3).
type transferErr struct {
	event string
	msg   string
}

func (e *transferErr) Error() string         { return e.msg }
func (e *transferErr) TransferEvent() string { return e.event }

// referTo is the Refer-To for a <transfer> dest: a sip:, sips: or tel: URI
// as given, or a bare number addressed to the call server.
func referTo(dest string, callServer sip.Uri) (string, error) {
	d := strings.TrimSpace(dest)
	low := strings.ToLower(d)
	switch {
	case strings.HasPrefix(low, "sip:"), strings.HasPrefix(low, "sips:"), strings.HasPrefix(low, "tel:"):
		var u sip.Uri
		if err := sip.ParseUri(d, &u); err != nil {
			return "", &transferErr{event: "error.connection.baddestination", msg: fmt.Sprintf("gateway: transfer dest %q: %v", dest, err)}
		}
		return "<" + d + ">", nil
	case d == "" || strings.ContainsAny(d, "<>@ \t\r\n;?"):
		return "", &transferErr{event: "error.connection.baddestination", msg: fmt.Sprintf("gateway: transfer dest %q is neither a URI nor a number", dest)}
	}
	host := callServer.Host
	if callServer.Port != 0 {
		host += ":" + strconv.Itoa(callServer.Port)
	}
	return "<sip:" + d + "@" + host + ">", nil
}

// sipfrag reads a NOTIFY's message/sipfrag status line.
func sipfrag(body []byte) (int, string, error) {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	f := strings.Fields(strings.TrimSpace(string(line)))
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0, "", fmt.Errorf("sipfrag %q: no status line", line)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, "", fmt.Errorf("sipfrag %q: bad status code", line)
	}
	return code, strings.Join(f[2:], " "), nil
}

// outcomeOf is the spec's outcome (table 46) of a transfer whose far end
// answered code, or a named error for a destination that cannot be used.
func outcomeOf(code int, reason string) (string, error) {
	switch code {
	case 486, 600, 603:
		return "busy", nil
	case 408, 480, 487:
		return "noanswer", nil
	case 500, 502, 503, 504:
		return "network_busy", nil
	case 404, 410, 484, 485, 604:
		return "", &transferErr{event: "error.connection.baddestination", msg: fmt.Sprintf("gateway: transfer: %d %s", code, reason)}
	case 401, 403, 407:
		return "", &transferErr{event: "error.connection.noauthorization", msg: fmt.Sprintf("gateway: transfer: %d %s", code, reason)}
	}
	return "unknown", nil
}

// referTransfer carries out req through the call server (see above).
func (p *platform) referTransfer(ctx context.Context, req vxml.TransferRequest) (vxml.TransferResult, error) {
	d := p.c.d
	to, err := referTo(req.Dest, d.RemoteTarget())
	if err != nil {
		return vxml.TransferResult{}, err
	}
	kind := req.Type
	if kind == "" {
		kind = "blind"
	}
	hdr := kind
	if req.ConnectTimeout > 0 {
		hdr += ";connecttimeout=" + strconv.FormatInt(req.ConnectTimeout.Milliseconds(), 10)
	}
	if req.MaxTime > 0 && kind == "bridge" {
		hdr += ";maxtime=" + strconv.FormatInt(req.MaxTime.Milliseconds(), 10)
	}
	refer := sip.NewRequest(sip.REFER, d.RemoteTarget())
	refer.AppendHeader(sip.NewHeader("Refer-To", to))
	refer.AppendHeader(sip.NewHeader(event.TransferHeader, hdr))
	if req.AAI != "" {
		refer.AppendHeader(sip.NewHeader("User-to-User", req.AAI))
	}
	rctx, cancel := context.WithTimeout(ctx, 64*sip.T1)
	res, err := d.Request(rctx, refer)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return vxml.TransferResult{Hangup: true}, nil
		}
		return vxml.TransferResult{}, fmt.Errorf("gateway: transfer to %s: %w", req.Dest, err)
	}
	if res.StatusCode/100 != 2 {
		return vxml.TransferResult{}, &transferErr{event: "error.connection", msg: fmt.Sprintf("gateway: transfer to %s refused: %d %s", req.Dest, res.StatusCode, res.Reason)}
	}
	p.c.log.Info("transfer asked of the call server", "dest", req.Dest, "kind", kind)

	// transferaudio plays while the far end is being connected.
	stopAudio := func() {}
	if req.TransferAudio != "" && kind != "blind" {
		if pr, err := p.c.g.deps.Prompts.Load(ctx, req.TransferAudio); err != nil {
			p.c.log.Info("transferaudio unavailable", "uri", req.TransferAudio, "error", err)
		} else {
			actx, acancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = p.c.sess.Play(actx, media.PlayOptions{}, pr)
			}()
			stopAudio = func() { acancel(); <-done }
		}
	}
	defer func() { stopAudio() }()

	connect := req.ConnectTimeout
	if connect <= 0 {
		connect = 30 * time.Second
	}
	// The call server answers within its ring time plus a transaction's
	// life; a subscription that says nothing by then is given up.
	wait := time.NewTimer(connect + 64*sip.T1)
	defer wait.Stop()
	var answered time.Time
	for {
		select {
		case <-ctx.Done():
			return vxml.TransferResult{Hangup: true}, nil
		case ev, ok := <-p.events:
			if !ok || ev.Kind == media.EventBye || (ev.Kind == media.EventRTPTimeout && answered.IsZero()) {
				return vxml.TransferResult{Hangup: true}, nil
			}
		case <-wait.C:
			if answered.IsZero() {
				p.c.log.Warn("transfer: no final answer from the call server in time", "dest", req.Dest)
				return vxml.TransferResult{Status: "unknown"}, nil
			}
		case n := <-d.Notifies():
			if ev := n.GetHeader("Event"); ev == nil || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ev.Value())), "refer") {
				continue
			}
			code, reason, err := sipfrag(n.Body())
			if err != nil {
				p.c.log.Info("transfer: NOTIFY without a status", "error", err)
				continue
			}
			state := ""
			if h := n.GetHeader("Subscription-State"); h != nil {
				state = strings.ToLower(h.Value())
			}
			terminated := strings.HasPrefix(state, "terminated")
			switch {
			case code < 200:
				continue
			case code >= 300:
				stopAudio()
				status, err := outcomeOf(code, reason)
				p.c.log.Info("transfer failed", "dest", req.Dest, "code", code, "status", status)
				return vxml.TransferResult{Status: status}, err
			case answered.IsZero():
				answered = time.Now()
				stopAudio()
				p.c.log.Info("transfer connected", "dest", req.Dest, "kind", kind)
				if kind != "bridge" {
					// Blind and consultation: the caller is the target's
					// now; the document hears connection.disconnect.transfer
					// and the gateway's leg ends (RFC 5589 §6).
					return vxml.TransferResult{}, nil
				}
				if !terminated {
					wait.Stop()
					continue
				}
			}
			// A bridge's end: the caller is back with the gateway.
			status := "far_end_disconnect"
			switch {
			case strings.Contains(state, "reason=timeout"):
				status = "maxtime_disconnect"
			case strings.Contains(state, "reason=noresource"):
			default:
				status = "network_disconnect"
			}
			return vxml.TransferResult{Status: status, Duration: time.Since(answered)}, nil
		}
	}
}
