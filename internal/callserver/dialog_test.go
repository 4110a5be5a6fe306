package callserver

import (
	"strings"
	"testing"
)

func TestIsHold(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	tests := []struct {
		name string
		sdp  string
		want bool
	}{
		{"sendrecv", head + "m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", false},
		{"no direction", head + "m=audio 4000 RTP/AVP 0\r\n", false},
		{"sendonly", head + "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n", true},
		{"inactive", head + "m=audio 4000 RTP/AVP 0\r\na=inactive\r\n", true},
		{"session sendonly", head + "a=sendonly\r\nm=audio 4000 RTP/AVP 0\r\n", true},
		{"media overrides session", head + "a=sendonly\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", false},
		{"rfc2543 zero address", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", true},
		{"one of two streams held", head + "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\nm=audio 4002 RTP/AVP 0\r\n", false},
		{"garbage", "not sdp", false},
	}
	for _, tt := range tests {
		if got := isHold([]byte(tt.sdp)); got != tt.want {
			t.Errorf("%s: isHold = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestWithDirection(t *testing.T) {
	in := "v=0\r\no=- 1 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
	out, err := withDirection([]byte(in), "sendonly")
	if err != nil {
		t.Fatal(err)
	}
	if !isHold(out) {
		t.Fatalf("not a hold offer:\n%s", out)
	}
	if !strings.Contains(string(out), "o=- 1 8 IN IP4") || strings.Contains(string(out), "a=sendrecv") || !strings.Contains(string(out), "a=rtpmap:0 PCMU/8000") {
		t.Fatalf("bad re-offer:\n%s", out)
	}
	back, err := withDirection(out, "sendrecv")
	if err != nil || isHold(back) {
		t.Fatalf("retrieve offer still held: %v\n%s", err, back)
	}
	if _, err := withDirection([]byte("garbage"), "sendonly"); err == nil {
		t.Fatal("garbage accepted")
	}
}
