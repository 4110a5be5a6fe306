package callserver

import "testing"

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
