package media

import (
	"net/netip"
	"testing"
	"time"
)

// The receive path takes whatever arrives on the port: it must never panic
// nor report more than one key per packet.
func FuzzReceivePacket(f *testing.F) {
	f.Add([]byte{0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0, 0, 0, 1, 0xff, 0xff}, false)
	f.Add([]byte{0x80, 0xe5, 0x00, 0x02, 0, 0, 1, 0, 0, 0, 0, 1, 5, 0x8a, 0x03, 0x20}, true)
	f.Add([]byte{0x90, 0x08, 0x00, 0x03, 0, 0, 1, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0, 0xd5}, false)
	f.Fuzz(func(t *testing.T, b []byte, foreign bool) {
		s, err := NewSession(SessionConfig{LocalIP: loopback, InBand: InBandOn})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		peer := netip.MustParseAddrPort("127.0.0.1:5004")
		s.UpdateRemote(Remote{Addr: peer, Codec: PCMU, Codecs: []Codec{PCMU, PCMA}, EventPT: 101}, SendRecv)
		s.rec.Store(newRecorder(RecordOptions{MaxTime: 100 * time.Millisecond, FinalSilence: 20 * time.Millisecond}))
		rv := &receiver{detector: NewToneDetector(), start: time.Now()}
		from := peer
		if foreign {
			from = netip.MustParseAddrPort("127.0.0.1:6000")
		}
		for range 3 {
			s.handleRTP(rv, b, from, time.Now())
		}
		if n := len(s.events); n > 3 {
			t.Fatalf("%d events from 3 packets", n)
		}
	})
}

func FuzzParseRTCP(f *testing.F) {
	var buf [256]byte
	n := appendReport(buf[:], 1, true, time.Unix(1e9, 0), 160, 10, 1600,
		&reportBlock{ssrc: 2, fractionLost: 3, totalLost: -4, highestSeq: 5, jitter: 6}, "x@y", true)
	f.Add(buf[:n])
	f.Add([]byte{0x81, 0xc9, 0x00, 0x01, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		parseRTCP(b, 2)
	})
}

func TestRTCPRoundTrip(t *testing.T) {
	var buf [256]byte
	now := time.Unix(1_700_000_000, 500_000_000)
	n := appendReport(buf[:], 1, true, now, 160, 10, 1600,
		&reportBlock{ssrc: 2, fractionLost: 64, totalLost: 7, highestSeq: 5, jitter: 6}, "tandem@127.0.0.1", true)
	if n == 0 || n%4 != 0 {
		t.Fatalf("length %d", n)
	}
	info, err := parseRTCP(buf[:n], 2)
	if err != nil {
		t.Fatal(err)
	}
	wantLSR := uint32(ntpTime(now) >> 16)
	if !info.hasSR || info.srSSRC != 1 || info.lsr != wantLSR || !info.bye || !info.hasBlock ||
		info.fractionLost != 64 || info.totalLost != 7 || info.jitter != 6 {
		t.Fatalf("%+v", info)
	}
	// RR without a block.
	n = appendReport(buf[:], 1, false, now, 0, 0, 0, nil, "c", false)
	if info, err := parseRTCP(buf[:n], 2); err != nil || info.hasSR || info.hasBlock || info.bye {
		t.Fatalf("rr: %+v %v", info, err)
	}
	if _, err := parseRTCP(buf[:n-1], 2); err == nil {
		t.Fatal("truncated packet accepted")
	}
}
