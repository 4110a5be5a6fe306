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
}

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
		r, err := parseAudio(&sd, md, accept)
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
		ans.MediaDescriptions = append(ans.MediaDescriptions, audioMedia(local, remote.Codecs, ev, dir, md.MediaName.Protos))
	}
	out, err := ans.Marshal()
	if err != nil {
		return nil, Remote{}, fmt.Errorf("media: sdp answer: %w", err)
	}
	return out, remote, nil
}

// Offer builds an SDP offer, for an INVITE without SDP (late offer: we offer
// in the 200 OK) or a re-INVITE we send.
func Offer(local Local) ([]byte, error) {
	sd := baseSDP(local)
	sd.MediaDescriptions = append(sd.MediaDescriptions,
		audioMedia(local, local.codecs(), int(local.eventPT()), local.Direction, []string{"RTP", "AVP"}))
	out, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("media: sdp offer: %w", err)
	}
	return out, nil
}

// ParseAnswer reads the answer to an Offer made with local: the codec is the
// first of the answer's that we offered.
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
		return parseAudio(&sd, md, local.codecs())
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

func audioMedia(local Local, codecs []Codec, eventPT int, dir Direction, protos []string) *sdp.MediaDescription {
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
	return md
}

// parseAudio reads one audio m= section. When accept is nil any G.711 codec
// is taken (we answer); otherwise only those in accept (we offered them).
func parseAudio(sd *sdp.SessionDescription, md *sdp.MediaDescription, accept []Codec) (Remote, error) {
	r := Remote{EventPT: -1, Direction: SendRecv}
	proto := strings.Join(md.MediaName.Protos, "/")
	if proto != "RTP/AVP" && proto != "RTP/AVPF" {
		return r, fmt.Errorf("media: sdp: audio transport %q not supported (RTP/AVP only, no SRTP): %w", proto, ErrNoAudio)
	}
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

func containsLaw(cs []Codec, l Law) bool {
	for _, c := range cs {
		if c.Law == l {
			return true
		}
	}
	return false
}
