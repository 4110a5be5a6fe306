package media

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkMixerRoom measures the whole work of one room for one 20 ms
// slot, on real loopback sockets: the mix (every party's frame in, each
// party's N-1 mix out), then each party's session slot (its mix taken
// through the hook, encoded and sent with sendto) and its receive path
// (recvfrom, RTP parse, latching check, statistics, decode, the hook into
// the jitter buffer). Each party's peer is its own socket, so what the
// room sends comes back as what the party says: both directions' system
// calls are counted and nothing outside the room is.
//
// rooms/core is 20 ms divided by the time per slot: how many rooms of that
// size one core could keep on time, before any scheduling slack.
func BenchmarkMixerRoom(b *testing.B) {
	for _, n := range []int{3, 10} {
		b.Run(strconv.Itoa(n)+"-parties", func(b *testing.B) {
			r := &room{}
			sts := make([]*sender, n)
			rvs := make([]*receiver, n)
			for i := range n {
				s, err := NewSession(SessionConfig{LocalIP: loopback})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				c := PCMU
				if i%2 == 1 {
					c = PCMA
				}
				s.UpdateRemote(Remote{Addr: s.LocalAddr(), Codec: c, Codecs: []Codec{c}, EventPT: 101, Direction: SendRecv}, SendRecv)
				p := newParty(nil, s)
				if !s.attach(&p.hook) {
					b.Fatal("attach")
				}
				r.parties = append(r.parties, p)
				sts[i] = s.newSender()
				rvs[i] = &receiver{detector: NewToneDetector(), start: time.Now()}
			}
			// Something to mix: a tone in each party's buffer to start with;
			// afterwards each hears back its own mix.
			tone := Tone("t", FrameDuration*4, 6000, 440).Samples()
			for _, p := range r.parties {
				p.in.write(0, tone)
			}
			b.ReportAllocs()
			for b.Loop() {
				now := time.Now()
				r.mixSlot()
				for i, p := range r.parties {
					p.sess.sendSlot(sts[i], now, now)
				}
				for i, p := range r.parties {
					s, rv := p.sess, rvs[i]
					k, from, err := s.conn.ReadFromUDPAddrPort(rv.buf[:])
					if err != nil {
						b.Fatal(err)
					}
					s.handleRTP(rv, rv.buf[:k], from, now)
				}
			}
			perSlot := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(float64(FrameDuration.Nanoseconds())/perSlot, "rooms/core")
			if p := r.parties[0]; p.sess.sent.Load() == 0 || p.sess.received.Load() == 0 || p.mixedIn.Load() == 0 {
				b.Fatal("nothing sent, received or mixed")
			}
		})
	}
}
