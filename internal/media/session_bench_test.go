package media

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// The per-packet paths must not allocate: 2,000 calls are 100,000 packets a
// second each way, and garbage at that rate is what makes pacing late.

func BenchmarkSendTick(b *testing.B) {
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() { // drain so the socket buffer never fills
		buf := make([]byte, 1500)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	s, err := NewSession(SessionConfig{LocalIP: loopback})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.UpdateRemote(Remote{Addr: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU, Codecs: []Codec{PCMU}, EventPT: 101}, SendRecv)
	st := &sender{}
	st.pkt.Header = rtp.Header{Version: 2, SSRC: 1}
	long := Tone("t", time.Hour, 1000, 440)
	s.play.Store(&playback{prompts: []*Prompt{long}, done: make(chan struct{}), barge: make(chan byte, 1)})
	b.ReportAllocs()
	for b.Loop() {
		s.tick(st)
	}
	if s.sent.Load() == 0 {
		b.Fatal("nothing sent")
	}
}

func BenchmarkMarshalRTP(b *testing.B) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}, Payload: make([]byte, 160)}
	var buf [1500]byte
	b.ReportAllocs()
	for b.Loop() {
		pkt.SequenceNumber++
		pkt.Timestamp += 160
		if _, err := pkt.MarshalTo(buf[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReceivePacket(b *testing.B) {
	for _, inband := range []bool{false, true} {
		name := "rfc4733"
		if inband {
			name = "inband-goertzel"
		}
		b.Run(name, func(b *testing.B) {
			s, err := NewSession(SessionConfig{LocalIP: loopback})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			from := netip.MustParseAddrPort("127.0.0.1:5004")
			ev := 101
			if inband {
				ev = -1
			}
			s.UpdateRemote(Remote{Addr: from, Codec: PCMU, Codecs: []Codec{PCMU}, EventPT: ev}, SendRecv)
			s.rec.Store(newRecorder(RecordOptions{MaxTime: time.Second})) // fills, then stops appending
			speech := NewPrompt("s", speechLike(1, 9))
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 5}}
			wire := make([]byte, 1500)
			rv := &receiver{detector: NewToneDetector(), start: time.Now()}
			now := time.Now()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				pkt.SequenceNumber++
				pkt.Timestamp += 160
				pkt.Payload = speech.Frame(ULaw, i%speech.Frames())
				n, _ := pkt.MarshalTo(wire)
				now = now.Add(FrameDuration)
				s.handleRTP(rv, wire[:n], from, now)
				i++
			}
		})
	}
}
