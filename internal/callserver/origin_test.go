package callserver

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

func sdpFrom(user string, id, version uint64, port string) []byte {
	return []byte("v=0\r\no=" + user + " " + strconv.FormatUint(id, 10) + " " + strconv.FormatUint(version, 10) + " IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio " + port + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

// TestStamp: the first description a leg gets passes untouched; later
// ones, from other hosts, carry the first's origin with a rising version
// (RFC 3264 §8); a body that is not SDP passes as it is.
func TestStamp(t *testing.T) {
	l := &leg{}
	first := sdpFrom("vru", 11, 1, "4000")
	if got := stamp(l, first); string(got) != string(first) {
		t.Fatalf("first description changed:\n%s", got)
	}
	for i, body := range [][]byte{sdpFrom("agent", 99, 7, "5000"), sdpFrom("other", 5, 500, "6000")} {
		var d sdp.SessionDescription
		if err := d.Unmarshal(stamp(l, body)); err != nil {
			t.Fatal(err)
		}
		if d.Origin.Username != "vru" || d.Origin.SessionID != 11 || d.Origin.SessionVersion != uint64(2+i) {
			t.Fatalf("description %d: origin %+v, want vru 11 version %d", i+2, d.Origin, 2+i)
		}
		if port := d.MediaDescriptions[0].MediaName.Port.Value; port != 5000+1000*i {
			t.Fatalf("description %d: media port %d changed", i+2, port)
		}
	}
	if got := stamp(l, []byte("not sdp")); string(got) != "not sdp" {
		t.Fatalf("a body that is not SDP became %q", got)
	}
	if got := stamp(l, nil); len(got) != 0 {
		t.Fatalf("an empty body became %q", got)
	}
	// A leg whose first body was not SDP takes its origin from the next.
	l2 := &leg{}
	stamp(l2, []byte("garbage"))
	second := sdpFrom("b", 3, 9, "7000")
	if got := stamp(l2, second); !strings.Contains(string(got), "o=b 3 9 ") {
		t.Fatalf("after a non-SDP first body: %s", got)
	}
}
