package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"
)

// udpRecord is one UDP datagram from a capture.
type udpRecord struct {
	at      time.Time
	src     netip.AddrPort
	payload []byte
}

// readPcap is a tiny reader for classic pcap files with Ethernet or Linux
// cooked link layers, IPv4 and UDP: 24-byte global header, then a 16-byte
// header before each frame.
func readPcap(path string) ([]udpRecord, error) {
	d, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(d) < 24 {
		return nil, errors.New("short pcap")
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(d) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("not a pcap file (magic %x)", d[:4])
	}
	link := bo.Uint32(d[20:])
	var out []udpRecord
	for off := 24; off+16 <= len(d); {
		sec, usec, incl := bo.Uint32(d[off:]), bo.Uint32(d[off+4:]), int(bo.Uint32(d[off+8:]))
		off += 16
		if off+incl > len(d) {
			return nil, errors.New("truncated record")
		}
		frame := d[off : off+incl]
		off += incl
		var ip []byte
		switch link {
		case 1: // Ethernet
			if len(frame) < 14 {
				continue
			}
			et, l2 := binary.BigEndian.Uint16(frame[12:]), 14
			if et == 0x8100 && len(frame) >= 18 { // VLAN tag
				et, l2 = binary.BigEndian.Uint16(frame[16:]), 18
			}
			if et != 0x0800 {
				continue
			}
			ip = frame[l2:]
		case 113: // Linux cooked
			if len(frame) < 16 {
				continue
			}
			ip = frame[16:]
		default:
			return nil, fmt.Errorf("link type %d not supported", link)
		}
		if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 17 {
			continue
		}
		ihl := int(ip[0]&15) * 4
		if len(ip) < ihl+8 {
			continue
		}
		udp := ip[ihl:]
		ulen := int(binary.BigEndian.Uint16(udp[4:]))
		if ulen < 8 || ulen > len(udp) {
			ulen = len(udp)
		}
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), binary.BigEndian.Uint16(udp[0:]))
		out = append(out, udpRecord{at: time.Unix(int64(sec), int64(usec)*1000), src: src, payload: udp[8:ulen]})
	}
	return out, nil
}

const sippPcaps = "/usr/share/sip-tester/"

func needPcap(t *testing.T, name string) []udpRecord {
	t.Helper()
	path := sippPcaps + name
	if _, err := os.Stat(path); err != nil {
		needTool(t, "sipp") // skips, or fails under CI
		t.Fatalf("sipp is installed but %s is missing", path)
	}
	recs, err := readPcap(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// feed passes captured packets to a session's receive path, as the receive
// goroutine would, with the capture's timing.
func feed(s *Session, recs []udpRecord) {
	rv := &receiver{detector: NewToneDetector(), start: recs[0].at}
	for _, r := range recs {
		s.handleRTP(rv, r.payload, r.src, r.at)
	}
}

// SIPp's DTMF captures: one key each, sent as RFC 4733 with payload type 101,
// the end packet three times (here even with the same sequence number).
func TestSIPpDTMFPcaps(t *testing.T) {
	files := map[string]byte{"star": '*', "pound": '#'}
	for d := byte('0'); d <= '9'; d++ {
		files[string(d)] = d
	}
	for name, want := range files {
		recs := needPcap(t, "dtmf_2833_"+name+".pcap")
		s := newSession(t, SessionConfig{LocalIP: loopback})
		s.UpdateRemote(Remote{Addr: recs[0].src, Codec: PCMU, Codecs: []Codec{PCMU, PCMA}, EventPT: 101}, SendRecv)
		feed(s, recs)
		var got []Event
	drain:
		for {
			select {
			case ev := <-s.Events():
				got = append(got, ev)
			default:
				break drain
			}
		}
		if len(got) != 1 || got[0].Digit != want || got[0].Source != SourceRFC4733 {
			t.Errorf("%s: events %+v, want one %q", name, got, want)
			continue
		}
		if got[0].Duration != 280*time.Millisecond && name == "1" {
			t.Errorf("%s: duration %v", name, got[0].Duration)
		}
	}
}

// SIPp's g711a.pcap: PCMA audio; the receive path decodes every packet into
// the recording, which must equal the A-law decoding of the payloads.
func TestSIPpG711APcap(t *testing.T) {
	recs := needPcap(t, "g711a.pcap")
	s := newSession(t, SessionConfig{LocalIP: loopback})
	s.UpdateRemote(Remote{Addr: recs[0].src, Codec: PCMA, Codecs: []Codec{PCMA}, EventPT: -1}, SendRecv)
	r := newRecorder(RecordOptions{MaxTime: time.Minute})
	s.rec.Store(r)
	feed(s, recs)
	var want []int16
	for _, rec := range recs {
		var h receiver
		if err := h.pkt.Unmarshal(rec.payload); err != nil {
			t.Fatal(err)
		}
		for _, b := range h.pkt.Payload {
			want = append(want, ALawDecode(b))
		}
	}
	st := s.Stats()
	if st.PacketsReceived != uint64(len(recs)) || st.WrongPT != 0 || st.Garbage != 0 || st.Lost != 0 {
		t.Fatalf("stats %+v for %d packets", st, len(recs))
	}
	got := r.samples
	if len(got) != len(want) || len(got) < 200*160 {
		t.Fatalf("decoded %d samples, want %d", len(got), len(want))
	}
	if c, _ := bestNCC(want, got, 0); c < 0.999 {
		t.Fatalf("decoded audio differs: correlation %.4f", c)
	}
	if rms(got) < 300 {
		t.Fatalf("decoded audio is silent (rms %.0f)", rms(got))
	}
	// No key is found in this speech by the in-band detector.
	select {
	case ev := <-s.Events():
		t.Fatalf("event in speech: %+v", ev)
	default:
	}
}
