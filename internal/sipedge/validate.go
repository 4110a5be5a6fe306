package sipedge

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// supportedExtensions are the option tags tandem accepts in Require
// (RFC 3261 §8.2.2.3); anything else gets 420. "timer": the call server
// does session timers (RFC 4028).
var supportedExtensions = map[string]bool{"timer": true}

// singletons may appear once only (RFC 3261 §7.3.1, RFC 4475 §3.3.9).
var singletons = []string{"Call-ID", "From", "To", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// rejection is an answer Validate decided on instead of processing.
type rejection struct {
	code    int
	reason  string
	headers []sip.Header
}

// validate applies the checks of RFC 3261 §8.2 (and §16.3 for Max-Forwards)
// to a request sipgo parsed. nil means go on.
func validate(req *sip.Request) *rejection {
	if req.SipVersion != "SIP/2.0" {
		return &rejection{code: 505, reason: "Version Not Supported"}
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		return &rejection{code: 400, reason: "Missing Mandatory Header"}
	}
	for _, name := range singletons {
		if len(req.GetHeaders(name)) > 1 {
			return &rejection{code: 400, reason: "Duplicate " + name}
		}
	}
	// Methods are case-sensitive (RFC 3261 §7.1), but sipgo normalises the
	// case of the request line and CSeq differently; compare without case.
	if !strings.EqualFold(string(req.CSeq().MethodName), string(req.Method)) && !req.IsAck() && !req.IsCancel() {
		return &rejection{code: 400, reason: "CSeq Method Mismatch"}
	}
	if req.IsAck() || req.IsCancel() {
		// ACK and CANCEL take the method of what they refer to in CSeq only
		// in their own way; the transaction layer matched them already.
		if m := req.CSeq().MethodName; (req.IsAck() && m != sip.ACK) || (req.IsCancel() && m != sip.CANCEL) {
			return &rejection{code: 400, reason: "CSeq Method Mismatch"}
		}
	}
	if len(req.Recipient.Headers) > 0 && !req.IsAck() {
		// A Request-URI may not carry headers (RFC 3261 §19.1.5).
		return &rejection{code: 400, reason: "Headers In Request-URI"}
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return &rejection{code: 416, reason: "Unsupported URI Scheme"}
	}
	if req.IsAck() {
		return nil
	}
	var unsupported []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			tag = strings.TrimSpace(tag)
			if tag != "" && !supportedExtensions[strings.ToLower(tag)] {
				unsupported = append(unsupported, tag)
			}
		}
	}
	if len(unsupported) > 0 && !req.IsCancel() {
		return &rejection{code: 420, reason: "Bad Extension", headers: []sip.Header{sip.NewHeader("Unsupported", strings.Join(unsupported, ", "))}}
	}
	if req.IsInvite() {
		if ct := req.ContentType(); ct != nil && len(req.Body()) > 0 && !isSDP(ct.Value()) {
			return &rejection{code: 415, reason: "Unsupported Media Type", headers: []sip.Header{sip.NewHeader("Accept", "application/sdp")}}
		}
		if acc := req.GetHeaders("Accept"); len(acc) > 0 && !acceptsSDP(acc) {
			return &rejection{code: 406, reason: "Not Acceptable", headers: []sip.Header{sip.NewHeader("Accept", "application/sdp")}}
		}
		if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
			return &rejection{code: 483, reason: "Too Many Hops"}
		}
	}
	return nil
}

func isSDP(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/sdp")
}

func acceptsSDP(hs []sip.Header) bool {
	for _, h := range hs {
		for _, v := range strings.Split(h.Value(), ",") {
			mt, _, _ := strings.Cut(v, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if mt == "application/sdp" || mt == "application/*" || mt == "*/*" || mt == "" {
				return true
			}
		}
	}
	return false
}

// statelessReject builds the answer to a datagram that sipgo could not
// parse. It returns nil when no answer should be sent: a response (never
// answered), or a request without the headers a response is built from.
// The response copies Via, From, To, Call-ID and CSeq as they were, which is
// all RFC 3261 §8.2.6.2 asks of it.
func statelessReject(data []byte, cause error) []byte {
	code, reason := 400, "Bad Request"
	start, _, _ := bytes.Cut(data, []byte("\n"))
	if _, rest, ok := strings.Cut(string(start), " "); ok {
		if uri, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " "); uri != "" {
			if scheme, _, ok := strings.Cut(uri, ":"); ok && isScheme(scheme) {
				switch strings.ToLower(scheme) {
				case "sip", "sips", "tel":
				default:
					code, reason = 416, "Unsupported URI Scheme"
				}
			}
		}
	}
	return statelessResponse(data, code, reason, cause)
}

// statelessResponse builds the response code to the request in data,
// which sipgo could not parse, as statelessReject describes.
func statelessResponse(data []byte, code int, reason string, cause error) []byte {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := unfold(string(head))
	if len(lines) == 0 {
		return nil
	}
	start := lines[0]
	if strings.HasPrefix(start, "SIP/") {
		return nil // a response: drop it (RFC 4475 §3.1.2.13, §3.1.2.17)
	}
	method, _, ok := strings.Cut(start, " ")
	if !ok || method == "" || method == "ACK" {
		return nil // ACK is never answered
	}
	want := map[string]string{"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
		"call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	have := map[string]bool{}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		canon, ok := want[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			continue
		}
		have[canon] = true
		fmt.Fprintf(&b, "%s: %s\r\n", canon, strings.TrimSpace(value))
	}
	if !have["Via"] || !have["Call-ID"] || !have["CSeq"] {
		return nil
	}
	// Say what was wrong, for whoever reads the trace (RFC 3261 §20.49).
	w := strings.NewReplacer("\r", " ", "\n", " ", "\"", "'").Replace(cause.Error())
	if len(w) > 120 {
		w = w[:120]
	}
	fmt.Fprintf(&b, "Warning: 399 tandem \"%s\"\r\nContent-Length: 0\r\n\r\n", w)
	return []byte(b.String())
}

func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// unfold splits a header block into lines, joining continuation lines
// (RFC 3261 §7.3.1 line folding).
func unfold(head string) []string {
	raw := strings.Split(strings.ReplaceAll(head, "\r\n", "\n"), "\n")
	var out []string
	for _, l := range raw {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(out) > 0 {
			out[len(out)-1] += " " + strings.TrimSpace(l)
			continue
		}
		out = append(out, l)
	}
	return out
}
