package callserver

import (
	"testing"

	"github.com/pion/sdp/v3"
)

// FuzzIsHold feeds isHold and withDirection arbitrary bodies: neither may
// panic, and a body withDirection could re-offer as sendonly is a hold
// (the phone-hold detection and the desktop hold agree), as sendrecv is
// not.
func FuzzIsHold(f *testing.F) {
	const head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	for _, s := range []string{
		head + "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n",
		head + "m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n",
		head + "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n",
		head + "m=audio 4000 RTP/AVP 0\r\nc=IN IP6 ::\r\na=sendrecv\r\n",
		head + "a=inactive\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n",
		"v=0\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = isHold(body)
		held, err := withDirection(append([]byte(nil), body...), "sendonly")
		if err != nil {
			return
		}
		if isHold(held) != hasMedia(held) {
			t.Fatalf("sendonly re-offer not seen as a hold:\n%s", held)
		}
		back, err := withDirection(held, "sendrecv")
		if err == nil && isHold(back) && !zeroAddress(back) {
			t.Fatalf("sendrecv re-offer seen as a hold:\n%s", back)
		}
	})
}

func TestIsHoldMediaLevel(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	for _, tt := range []struct {
		name string
		sdp  string
		want bool
	}{
		// recvonly: the offerer only listens, it does not hold the other side.
		{"recvonly", head + "m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n", false},
		{"media zero address", head + "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n", true},
		{"media ipv6 unspecified", head + "m=audio 4000 RTP/AVP 0\r\nc=IN IP6 ::\r\n", true},
		{"session inactive", head + "a=inactive\r\nm=audio 4000 RTP/AVP 0\r\n", true},
		{"no media", head, false},
	} {
		if got := isHold([]byte(tt.sdp)); got != tt.want {
			t.Errorf("%s: isHold = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func hasMedia(body []byte) bool {
	var d sdp.SessionDescription
	return d.Unmarshal(body) == nil && len(d.MediaDescriptions) > 0
}

// zeroAddress reports an RFC 2543 hold address anywhere in body, which a
// direction attribute does not undo.
func zeroAddress(body []byte) bool {
	var d sdp.SessionDescription
	if d.Unmarshal(body) != nil {
		return false
	}
	zero := func(c *sdp.ConnectionInformation) bool {
		return c != nil && c.Address != nil && (c.Address.Address == "0.0.0.0" || c.Address.Address == "::")
	}
	if zero(d.ConnectionInformation) {
		return true
	}
	for _, m := range d.MediaDescriptions {
		if zero(m.ConnectionInformation) {
			return true
		}
	}
	return false
}
