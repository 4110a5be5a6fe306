package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Law is a G.711 companding law.
type Law uint8

// The two G.711 laws.
const (
	ULaw Law = iota // PCMU, North America and Japan
	ALaw            // PCMA, the rest of the world
)

// Codec is a negotiated G.711 codec: its law and the RTP payload type the two
// sides agreed on (0 for PCMU and 8 for PCMA unless the offer mapped a dynamic
// type with a=rtpmap).
type Codec struct {
	Law Law
	PT  uint8
}

// The static G.711 codecs of RFC 3551.
var (
	PCMU = Codec{Law: ULaw, PT: 0}
	PCMA = Codec{Law: ALaw, PT: 8}
)

// Name returns the RTP encoding name, PCMU or PCMA.
func (c Codec) Name() string {
	if c.Law == ALaw {
		return "PCMA"
	}
	return "PCMU"
}

func (c Codec) String() string { return c.Name() + "/" + strconv.Itoa(int(c.PT)) }

// silence is the code of a zero sample.
func (l Law) silence() byte {
	if l == ALaw {
		return ALawSilence
	}
	return ULawSilence
}

// Direction is an SDP media direction attribute (RFC 3264 section 6.1).
type Direction uint8

// Media directions.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

func (d Direction) String() string {
	return [...]string{"sendrecv", "sendonly", "recvonly", "inactive"}[d&3]
}

// reverse is the direction the answerer takes for an offered one.
func (d Direction) reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// canSend says whether a party with direction d sends media.
func (d Direction) canSend() bool { return d == SendRecv || d == SendOnly }

// Remote is what negotiation learned about the peer's audio stream.
type Remote struct {
	// Addr is where the peer wants RTP. It is invalid (the zero AddrPort)
	// when the peer gave c=0.0.0.0, the RFC 2543 way of putting a call on hold.
	Addr netip.AddrPort
	// RTCPAddr is from a=rtcp (RFC 3605), otherwise Addr's port + 1.
	RTCPAddr netip.AddrPort
	// Codec is the codec we send: the first G.711 codec in the peer's list,
	// which is its order of preference. Codecs lists every G.711 codec both
	// sides accept; the peer may send any of them.
	Codec  Codec
	Codecs []Codec
	// EventPT is the payload type of telephone-event/8000, or -1 when the
	// peer does not do RFC 4733 (then in-band DTMF is detected instead).
	EventPT int
	// Direction is the peer's direction attribute.
	Direction Direction
	// Ptime is the peer's a=ptime in milliseconds, 0 if absent. We always
	// send 20 ms frames; the value is kept for logs.
	Ptime int
	// Proto is the stream's transport: RTP/AVP, RTP/AVPF, RTP/SAVP or
	// RTP/SAVPF.
	Proto string
	// Crypto is the peer's a=crypto line in use (RFC 4568): its key
	// protects what the peer sends. nil when the stream is in the clear.
	Crypto *Crypto

	// srtp are the stream's keys, ours and the peer's; nil in the clear.
	srtp *srtpKeys
}

// Secure reports whether the stream is protected with SRTP.
func (r Remote) Secure() bool { return r.srtp != nil }

// OnHold reports whether the peer has put us on hold: it does not want to
// receive (sendonly, inactive) or gave the null address.
func (r Remote) OnHold() bool {
	return !r.Addr.IsValid() || r.Direction == SendOnly || r.Direction == Inactive
}

// Local describes our side of the audio stream in the SDP we send.
type Local struct {
	Addr      netip.AddrPort // our RTP address (RTCP is on the next port)
	Username  string         // o= user name; "tandem" when empty
	SessionID uint64         // o= session id, fixed for the dialog
	Version   uint64         // o= version: must grow with each new SDP in the dialog
	// Codecs are the codecs offered, in our order of preference; answers
	// keep the offerer's order and take only these laws. Empty means PCMU,
	// PCMA.
	Codecs []Codec
	// EventPT is the telephone-event payload type we offer (96-127); 0 means 101.
	EventPT uint8
	// Direction is ours when we offer (SendOnly to put the peer on hold).
	Direction Direction
	// SRTP is the policy: when to protect the media (see SRTPPolicy).
	SRTP SRTPPolicy
	// Crypto are our a=crypto lines, each with our key. An offer lists
	// them as they are (none: new keys for the suites tandem offers); an
	// answer uses the one of the suite it picks, under the offer's tag (or
	// a new key when none has that suite).
	Crypto []Crypto
}

func (l Local) codecs() []Codec {
	if len(l.Codecs) == 0 {
		return []Codec{PCMU, PCMA}
	}
	return l.Codecs
}

func (l Local) eventPT() uint8 {
	if l.EventPT == 0 {
		return 101
	}
	return l.EventPT
}

// Answer builds the SDP answer to a remote offer (RFC 3264 section 6) and
// returns it with what it learned about the peer. The answer lists the G.711
// codecs of the first audio stream in the offerer's order, plus
// telephone-event with the offered payload type when offered; other streams
// (video, a second audio) are refused with port 0 as section 6 requires. The
// error wraps ErrNoCommonCodec when no G.711 is offered and ErrNoAudio when
// there is no RTP/AVP audio stream: the SIP side answers 488.
//
// An RTP/SAVP stream (or RTP/AVP with a=crypto, best-effort SRTP) is
// answered with the first a=crypto line of the offer that tandem can use,
// under its tag, with our own key (RFC 4568 §7.1.2); none usable wraps
// ErrNoCrypto (488 too), as does any stream in the clear under
// SRTPRequired and any RTP/SAVP stream under SRTPOff.
func Answer(offer []byte, local Local) ([]byte, Remote, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(offer); err != nil {
		return nil, Remote{}, fmt.Errorf("media: sdp offer: %w", err)
	}
	chosen := -1
	var remote Remote
	var firstErr error
	for i, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		var accept []Codec
		if len(local.Codecs) > 0 {
			accept = local.Codecs // the gateway restricts the laws it takes
		}
		r, err := parseAudio(&sd, md, accept, local.SRTP, nil)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		chosen, remote = i, r
		break
	}
	if chosen < 0 {
		if firstErr != nil {
			return nil, Remote{}, firstErr
		}
		return nil, Remote{}, fmt.Errorf("media: sdp offer: %w", ErrNoAudio)
	}
	ans := baseSDP(local)
	for i, md := range sd.MediaDescriptions {
		if i != chosen {
			// Refuse the stream: same media and formats, port 0.
			ans.MediaDescriptions = append(ans.MediaDescriptions, &sdp.MediaDescription{
				MediaName: sdp.MediaName{Media: md.MediaName.Media, Port: sdp.RangedPort{Value: 0},
					Protos: md.MediaName.Protos, Formats: md.MediaName.Formats},
			})
			continue
		}
		dir := remote.Direction.reverse()
		ev := -1
		if remote.EventPT >= 0 {
			ev = remote.EventPT
		}
		var crypto []Crypto
		if remote.Crypto != nil {
			ours, err := answerCrypto(local.Crypto, remote.Crypto)
			if err != nil {
				return nil, Remote{}, err
			}
			if remote.srtp, err = newSRTPKeys(&ours, remote.Crypto); err != nil {
				return nil, Remote{}, err
			}
			crypto = []Crypto{ours}
		}
		ans.MediaDescriptions = append(ans.MediaDescriptions, audioMedia(local, remote.Codecs, ev, dir, md.MediaName.Protos, crypto))
	}
	out, err := ans.Marshal()
	if err != nil {
		return nil, Remote{}, fmt.Errorf("media: sdp answer: %w", err)
	}
	return out, remote, nil
}

// answerCrypto is our line answering theirs: the same tag and suite, our
// key of that suite if we have one (the same peer re-offering keeps it),
// else a new one.
func answerCrypto(ours []Crypto, theirs *Crypto) (Crypto, error) {
	for _, c := range ours {
		if c.Suite == theirs.Suite {
			c.Tag = theirs.Tag
			return c, nil
		}
	}
	return newCrypto(theirs.Tag, theirs.Suite)
}

// OfferCrypto returns the a=crypto lines an offer under policy carries:
// local's, or new keys (crypto/rand) for the suites tandem offers; none
// under SRTPOff.
func OfferCrypto(policy SRTPPolicy, local []Crypto) ([]Crypto, error) {
	if policy == SRTPOff {
		return nil, nil
	}
	if len(local) > 0 {
		return local, nil
	}
	out := make([]Crypto, 0, len(offerSuites))
	for i, suite := range offerSuites {
		c, err := newCrypto(i+1, suite)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Offer builds an SDP offer, for an INVITE without SDP (late offer: we offer
// in the 200 OK) or a re-INVITE we send. Under SRTPRequired it is RTP/SAVP
// with local.Crypto; under SRTPOptional RTP/AVP with local.Crypto
// (best-effort SRTP: a peer that can encrypt answers with its own line);
// under SRTPOff plain RTP/AVP. Give the lines from OfferCrypto, and the
// same ones to ParseAnswer.
func Offer(local Local) ([]byte, error) {
	sd := baseSDP(local)
	proto := []string{"RTP", "AVP"}
	var crypto []Crypto
	if local.SRTP != SRTPOff {
		crypto = local.Crypto
		if local.SRTP == SRTPRequired {
			if len(crypto) == 0 {
				return nil, fmt.Errorf("media: sdp offer: srtp required and no a=crypto line: %w", ErrNoCrypto)
			}
			proto = []string{"RTP", "SAVP"}
		}
	}
	sd.MediaDescriptions = append(sd.MediaDescriptions,
		audioMedia(local, local.codecs(), int(local.eventPT()), local.Direction, proto, crypto))
	out, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("media: sdp offer: %w", err)
	}
	return out, nil
}

// ParseAnswer reads the answer to an Offer made with local: the codec is the
// first of the answer's that we offered; its a=crypto line must answer one
// of local.Crypto (same tag and suite).
func ParseAnswer(answer []byte, local Local) (Remote, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(answer); err != nil {
		return Remote{}, fmt.Errorf("media: sdp answer: %w", err)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		if md.MediaName.Port.Value == 0 {
			return Remote{}, fmt.Errorf("media: sdp answer: audio refused (port 0): %w", ErrNoCommonCodec)
		}
		policy := local.SRTP
		if len(local.Crypto) == 0 {
			policy = SRTPOff // we offered no key: the answer cannot have one
		}
		r, err := parseAudio(&sd, md, local.codecs(), policy, local.Crypto)
		if err != nil {
			return r, err
		}
		if r.Crypto != nil {
			for _, c := range local.Crypto {
				if c.Tag == r.Crypto.Tag && c.Suite == r.Crypto.Suite {
					if r.srtp, err = newSRTPKeys(&c, r.Crypto); err != nil {
						return Remote{}, err
					}
					return r, nil
				}
			}
			return Remote{}, fmt.Errorf("media: sdp answer: a=crypto tag %d %s was not offered: %w", r.Crypto.Tag, r.Crypto.Suite, ErrNoCrypto)
		}
		return r, nil
	}
	return Remote{}, fmt.Errorf("media: sdp answer: %w", ErrNoAudio)
}

func baseSDP(local Local) *sdp.SessionDescription {
	user := local.Username
	if user == "" {
		user = "tandem"
	}
	addrType, ip := addrTypeOf(local.Addr.Addr())
	return &sdp.SessionDescription{
		Origin: sdp.Origin{Username: user, SessionID: local.SessionID, SessionVersion: local.Version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip},
		SessionName: "tandem",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType,
			Address: &sdp.Address{Address: ip}},
		TimeDescriptions: []sdp.TimeDescription{{}},
	}
}

func addrTypeOf(a netip.Addr) (string, string) {
	if !a.IsValid() {
		return "IP4", "0.0.0.0"
	}
	if a.Is4() || a.Is4In6() {
		return "IP4", a.Unmap().String()
	}
	return "IP6", a.String()
}

func audioMedia(local Local, codecs []Codec, eventPT int, dir Direction, protos []string, crypto []Crypto) *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: int(local.Addr.Port())}, Protos: protos},
	}
	for _, c := range codecs {
		pt := strconv.Itoa(int(c.PT))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes, sdp.Attribute{Key: "rtpmap", Value: pt + " " + c.Name() + "/8000"})
	}
	if eventPT >= 0 {
		pt := strconv.Itoa(eventPT)
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			sdp.Attribute{Key: "rtpmap", Value: pt + " telephone-event/8000"},
			sdp.Attribute{Key: "fmtp", Value: pt + " 0-15"})
	}
	md.Attributes = append(md.Attributes,
		sdp.Attribute{Key: "ptime", Value: "20"},
		sdp.Attribute{Key: dir.String()})
	for _, c := range crypto {
		md.Attributes = append(md.Attributes, sdp.Attribute{Key: "crypto", Value: c.String()})
	}
	return md
}

// parseAudio reads one audio m= section. When accept is nil any G.711 codec
// is taken (we answer); otherwise only those in accept (we offered them).
// policy and offered (the lines we offered, nil when we answer) decide the
// a=crypto line taken: see pickCrypto.
func parseAudio(sd *sdp.SessionDescription, md *sdp.MediaDescription, accept []Codec, policy SRTPPolicy, offered []Crypto) (Remote, error) {
	r := Remote{EventPT: -1, Direction: SendRecv}
	proto := strings.Join(md.MediaName.Protos, "/")
	if proto != "RTP/AVP" && proto != "RTP/AVPF" && proto != "RTP/SAVP" && proto != "RTP/SAVPF" {
		return r, fmt.Errorf("media: sdp: audio transport %q not supported (RTP/AVP or RTP/SAVP): %w", proto, ErrNoAudio)
	}
	r.Proto = proto
	c, err := pickCrypto(md, strings.HasPrefix(proto, "RTP/SAVP"), policy, offered)
	if err != nil {
		return r, err
	}
	r.Crypto = c
	// rtpmap: payload type → encoding name and clock rate.
	maps := map[string]string{}
	for _, a := range md.Attributes {
		if a.Key == "rtpmap" {
			pt, enc, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
			if ok {
				maps[pt] = strings.ToLower(strings.TrimSpace(enc))
			}
		}
	}
	for _, f := range md.MediaName.Formats {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 127 {
			continue
		}
		enc, ok := maps[f]
		if !ok {
			switch n { // static payload types need no rtpmap (RFC 3551 table 4)
			case 0:
				enc = "pcmu/8000"
			case 8:
				enc = "pcma/8000"
			}
		}
		name, rate, _ := strings.Cut(enc, "/")
		if rate != "8000" && !strings.HasPrefix(rate, "8000/") {
			continue
		}
		var c Codec
		switch name {
		case "pcmu":
			c = Codec{Law: ULaw, PT: uint8(n)}
		case "pcma":
			c = Codec{Law: ALaw, PT: uint8(n)}
		case "telephone-event":
			if r.EventPT < 0 {
				r.EventPT = n
			}
			continue
		default:
			continue
		}
		if accept != nil && !containsLaw(accept, c.Law) {
			continue
		}
		r.Codecs = append(r.Codecs, c)
	}
	if len(r.Codecs) == 0 {
		return r, fmt.Errorf("media: sdp: formats %v: %w", md.MediaName.Formats, ErrNoCommonCodec)
	}
	r.Codec = r.Codecs[0]
	// Direction: media level overrides session level (RFC 3264 section 5.1).
	for _, attrs := range [][]sdp.Attribute{sd.Attributes, md.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv":
				r.Direction = SendRecv
			case "sendonly":
				r.Direction = SendOnly
			case "recvonly":
				r.Direction = RecvOnly
			case "inactive":
				r.Direction = Inactive
			}
		}
	}
	if v, ok := md.Attribute("ptime"); ok {
		r.Ptime, _ = strconv.Atoi(strings.TrimSpace(v))
	}
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return r, errors.New("media: sdp: audio stream without a c= address")
	}
	host, _, _ := strings.Cut(ci.Address.Address, "/") // drop a multicast TTL
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return r, fmt.Errorf("media: sdp: c= address %q: not an IP address (host names are not resolved)", ci.Address.Address)
	}
	port := md.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return r, fmt.Errorf("media: sdp: audio port %d out of range", port)
	}
	if !ip.IsUnspecified() {
		r.Addr = netip.AddrPortFrom(ip, uint16(port))
		r.RTCPAddr = netip.AddrPortFrom(ip, uint16(port+1))
	}
	if v, ok := md.Attribute("rtcp"); ok {
		f := strings.Fields(v)
		if len(f) > 0 {
			if p, err := strconv.Atoi(f[0]); err == nil && p > 0 && p < 65536 {
				rip := ip
				if len(f) >= 4 {
					if a, err := netip.ParseAddr(f[3]); err == nil {
						rip = a
					}
				}
				if !rip.IsUnspecified() {
					r.RTCPAddr = netip.AddrPortFrom(rip, uint16(p))
				}
			}
		}
	}
	return r, nil
}

// pickCrypto returns the a=crypto line of md to use: the first one tandem
// can use (the offerer's order is its preference, RFC 4568 §7.1.1), or,
// when md is the answer to our offer, the first answering one of ours. nil
// means in the clear, which a secure (RTP/SAVP) stream and SRTPRequired
// refuse, as SRTPOff refuses a secure stream: errors wrap ErrNoCrypto.
func pickCrypto(md *sdp.MediaDescription, secure bool, policy SRTPPolicy, offered []Crypto) (*Crypto, error) {
	if policy == SRTPOff {
		if secure {
			return nil, fmt.Errorf("media: sdp: RTP/SAVP offered and srtp is off: %w", ErrNoCrypto)
		}
		return nil, nil
	}
	var why []string
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		var c Crypto
		err := c.Unmarshal(a.Value)
		if err == nil {
			err = c.usable()
		}
		if err == nil && offered != nil {
			err = fmt.Errorf("tag %d %s: not one we offered", c.Tag, c.Suite)
			for _, o := range offered {
				if o.Tag == c.Tag && o.Suite == c.Suite {
					err = nil
				}
			}
		}
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		return &c, nil
	}
	if !secure && policy == SRTPOptional && (offered == nil || len(why) == 0) {
		// Plain RTP/AVP, or best-effort lines we cannot use in an offer;
		// but an answer with a line that answers none of ours would have
		// the peer encrypt with keys we do not share.
		return nil, nil
	}
	if len(why) == 0 {
		return nil, fmt.Errorf("media: sdp: no a=crypto line (srtp %s): %w", policy, ErrNoCrypto)
	}
	return nil, fmt.Errorf("media: sdp: no usable a=crypto line (%s): %w", strings.Join(why, "; "), ErrNoCrypto)
}

func containsLaw(cs []Codec, l Law) bool {
	for _, c := range cs {
		if c.Law == l {
			return true
		}
	}
	return false
}
