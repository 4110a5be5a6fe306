package media

import (
	"encoding/binary"
	"errors"
	"time"
)

// A small RTCP (RFC 3550 section 6) writer and reader: sender and receiver
// reports with one report block, SDES CNAME and BYE are all a G.711 call
// needs, and writing them into a caller's buffer keeps the periodic report
// free of allocation.

const (
	rtcpSR   = 200
	rtcpRR   = 201
	rtcpSDES = 202
	rtcpBYE  = 203
)

// reportBlock is one RFC 3550 section 6.4.1 reception report.
type reportBlock struct {
	ssrc         uint32
	fractionLost uint8
	totalLost    int32 // 24 bits on the wire, clamped
	highestSeq   uint32
	jitter       uint32
	lsr          uint32 // middle 32 bits of the NTP time of the last SR received
	dlsr         uint32 // delay since that SR, in 1/65536 s
}

// ntpTime converts t to the 64-bit NTP format (seconds since 1900 and fraction).
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	s := uint64(t.Unix()) + unixToNTP
	f := uint64(t.Nanosecond()) << 32 / 1e9
	return s<<32 | f
}

func putRTCPHeader(b []byte, count, pt int, words int) {
	b[0] = 2<<6 | byte(count&0x1F)
	b[1] = byte(pt)
	binary.BigEndian.PutUint16(b[2:], uint16(words-1))
}

func putReportBlock(b []byte, rb *reportBlock) {
	binary.BigEndian.PutUint32(b[0:], rb.ssrc)
	lost := max(min(rb.totalLost, 0x7FFFFF), -0x800000)
	binary.BigEndian.PutUint32(b[4:], uint32(rb.fractionLost)<<24|uint32(lost)&0xFFFFFF)
	binary.BigEndian.PutUint32(b[8:], rb.highestSeq)
	binary.BigEndian.PutUint32(b[12:], rb.jitter)
	binary.BigEndian.PutUint32(b[16:], rb.lsr)
	binary.BigEndian.PutUint32(b[20:], rb.dlsr)
}

// appendReport writes a compound RTCP packet into buf: an SR when sent is
// true (we sent RTP since the last report), otherwise an RR; then SDES with
// cname; then BYE when bye is true. rb may be nil when nothing was received.
// It returns the bytes written, or 0 if buf is too small.
func appendReport(buf []byte, ssrc uint32, sent bool, now time.Time, rtpTS, packets, octets uint32, rb *reportBlock, cname string, bye bool) int {
	blocks := 0
	if rb != nil {
		blocks = 1
	}
	need := 8 + 24*blocks
	if sent {
		need += 20
	}
	cn := min(len(cname), 255)
	sdesWords := (4 + 2 + cn + 1 + 3) / 4 // SSRC, type+len, text, END, pad
	need += 4 + sdesWords*4
	if bye {
		need += 8
	}
	if len(buf) < need {
		return 0
	}
	b := buf
	off := 0
	if sent {
		putRTCPHeader(b, blocks, rtcpSR, (28+24*blocks)/4)
		binary.BigEndian.PutUint32(b[4:], ssrc)
		binary.BigEndian.PutUint64(b[8:], ntpTime(now))
		binary.BigEndian.PutUint32(b[16:], rtpTS)
		binary.BigEndian.PutUint32(b[20:], packets)
		binary.BigEndian.PutUint32(b[24:], octets)
		off = 28
	} else {
		putRTCPHeader(b, blocks, rtcpRR, (8+24*blocks)/4)
		binary.BigEndian.PutUint32(b[4:], ssrc)
		off = 8
	}
	if rb != nil {
		putReportBlock(b[off:], rb)
		off += 24
	}
	putRTCPHeader(b[off:], 1, rtcpSDES, 1+sdesWords)
	binary.BigEndian.PutUint32(b[off+4:], ssrc)
	b[off+8] = 1 // CNAME
	b[off+9] = byte(cn)
	copy(b[off+10:], cname[:cn])
	end := off + 4 + sdesWords*4
	for i := off + 10 + cn; i < end; i++ {
		b[i] = 0 // END item and padding
	}
	off = end
	if bye {
		putRTCPHeader(b[off:], 1, rtcpBYE, 2)
		binary.BigEndian.PutUint32(b[off+4:], ssrc)
		off += 8
	}
	return off
}

// rtcpInfo is what we take from a received compound packet.
type rtcpInfo struct {
	srSSRC uint32
	lsr    uint32 // middle bits of the SR's NTP time; 0 when no SR
	hasSR  bool
	bye    bool
	// From a report block about our stream.
	fractionLost uint8
	totalLost    int32
	jitter       uint32
	hasBlock     bool
}

var errRTCP = errors.New("media: malformed RTCP packet")

// parseRTCP reads a compound RTCP packet, skipping packet types it does not use.
func parseRTCP(b []byte, ourSSRC uint32) (rtcpInfo, error) {
	var info rtcpInfo
	if len(b) < 4 {
		return info, errRTCP
	}
	for len(b) >= 4 {
		if b[0]>>6 != 2 {
			return info, errRTCP
		}
		count := int(b[0] & 0x1F)
		pt := b[1]
		n := (int(binary.BigEndian.Uint16(b[2:])) + 1) * 4
		if n > len(b) {
			return info, errRTCP
		}
		p := b[:n]
		b = b[n:]
		var blocks []byte
		switch pt {
		case rtcpSR:
			if len(p) < 28 {
				return info, errRTCP
			}
			info.srSSRC = binary.BigEndian.Uint32(p[4:])
			info.lsr = uint32(binary.BigEndian.Uint64(p[8:]) >> 16)
			info.hasSR = true
			blocks = p[28:]
		case rtcpRR:
			if len(p) < 8 {
				return info, errRTCP
			}
			blocks = p[8:]
		case rtcpBYE:
			info.bye = true
		}
		for i := 0; i < count && len(blocks) >= 24; i++ {
			if binary.BigEndian.Uint32(blocks) == ourSSRC {
				w := binary.BigEndian.Uint32(blocks[4:])
				info.fractionLost = uint8(w >> 24)
				info.totalLost = int32(w<<8) >> 8
				info.jitter = binary.BigEndian.Uint32(blocks[12:])
				info.hasBlock = true
			}
			blocks = blocks[24:]
		}
	}
	return info, nil
}
