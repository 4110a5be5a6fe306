package media

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// rfcKey is the key of RFC 4568's example lines (30 bytes: a 16-byte key
// and a 14-byte salt).
const rfcKey = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"

func TestCryptoUnmarshal(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(rfcKey)
	cases := []struct {
		name, in string
		want     Crypto
		err      string
	}{
		{name: "RFC 4568 §4 example",
			in:   "1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|2^20|1:4 FEC_ORDER=FEC_SRTP",
			want: Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Keys: []CryptoKey{{Material: key, Lifetime: "2^20", MKI: 1, MKILen: 4}}, Params: []string{"FEC_ORDER=FEC_SRTP"}}},
		{name: "plain key",
			in:   "2 AES_CM_128_HMAC_SHA1_32 inline:" + rfcKey,
			want: Crypto{Tag: 2, Suite: "AES_CM_128_HMAC_SHA1_32", Keys: []CryptoKey{{Material: key}}}},
		{name: "MKI without lifetime, tabs between fields",
			in:   "3\tAES_CM_128_HMAC_SHA1_80\tinline:" + rfcKey + "|7:1",
			want: Crypto{Tag: 3, Suite: "AES_CM_128_HMAC_SHA1_80", Keys: []CryptoKey{{Material: key, MKI: 7, MKILen: 1}}}},
		{name: "two keys",
			in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|2^31|1:1;inline:" + rfcKey + "|2^31|2:1",
			want: Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Keys: []CryptoKey{
				{Material: key, Lifetime: "2^31", MKI: 1, MKILen: 1}, {Material: key, Lifetime: "2^31", MKI: 2, MKILen: 1}}}},
		{name: "base64 without padding",
			in:   "1 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(base64.StdEncoding.EncodeToString(key[:29]), "="),
			want: Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Keys: []CryptoKey{{Material: key[:29]}}}},
		{name: "decimal lifetime",
			in:   "9 AEAD_AES_128_GCM inline:" + rfcKey + "|4294967296",
			want: Crypto{Tag: 9, Suite: "AEAD_AES_128_GCM", Keys: []CryptoKey{{Material: key, Lifetime: "4294967296"}}}},
		{name: "too few fields", in: "1 AES_CM_128_HMAC_SHA1_80", err: "want tag, suite and key params"},
		{name: "tag not a number", in: "x AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey, err: "not a number"},
		{name: "negative tag", in: "-1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey, err: "not a number"},
		{name: "tag of ten digits", in: "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey, err: "more than 9 digits"},
		{name: "other key method", in: "1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/k", err: "inline only"},
		{name: "no colon", in: "1 AES_CM_128_HMAC_SHA1_80 inline", err: "inline only"},
		{name: "bad base64", in: "1 AES_CM_128_HMAC_SHA1_80 inline:@@@@", err: "not base64"},
		{name: "empty key", in: "1 AES_CM_128_HMAC_SHA1_80 inline:|2^20", err: "not base64"},
		{name: "bad lifetime", in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|2^x", err: "bad lifetime"},
		{name: "MKI length 0", in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|1:0", err: "bad MKI"},
		{name: "MKI length 129", in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|1:129", err: "bad MKI"},
		{name: "MKI too big for its length", in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|256:1", err: "does not fit"},
		{name: "lifetime after MKI", in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|1:4|2^20", err: "out of place"},
		{name: "two MKIs", in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|1:4|2:4", err: "two MKIs"},
		{name: "too many fields", in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|2^20|1:4|x", err: "too many fields"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Crypto
			err := c.Unmarshal(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Unmarshal(%q) = %v, want an error with %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c, tc.want) {
				t.Fatalf("got %+v\nwant %+v", c, tc.want)
			}
			// What String writes reads back the same.
			var again Crypto
			if err := again.Unmarshal(c.String()); err != nil || !reflect.DeepEqual(again, c) {
				t.Fatalf("round trip of %q: %+v, %v", c.String(), again, err)
			}
		})
	}
}

func TestCryptoUsable(t *testing.T) {
	k30 := "inline:" + rfcKey
	k46 := "inline:" + base64.StdEncoding.EncodeToString(make([]byte, 46))
	k28 := "inline:" + base64.StdEncoding.EncodeToString(make([]byte, 28))
	cases := []struct {
		in, err string
	}{
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30},
		{in: "1 AES_CM_128_HMAC_SHA1_32 " + k30},
		{in: "1 AES_256_CM_HMAC_SHA1_80 " + k46},
		{in: "1 AEAD_AES_128_GCM " + k28},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30 + "|2^31"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30 + " KDR=0 WSH=128 -FUTURE=1"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30 + "|1:1;" + k30 + "|2:1"},
		{in: "1 F8_128_HMAC_SHA1_80 " + k30, err: "not supported"},
		{in: "1 AES_256_CM_HMAC_SHA1_80 " + k30, err: "key of 30 bytes, want 46"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30 + "|2^20", err: "shorter than a call"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30 + "|1048576", err: "shorter than a call"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30 + " UNENCRYPTED_SRTP", err: "UNENCRYPTED_SRTP not supported"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30 + " KDR=1", err: "KDR=1 not supported"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30 + ";" + k30, err: "without MKIs"},
		{in: "1 AES_CM_128_HMAC_SHA1_80 " + k30 + "|1:1;" + k30 + "|2:2", err: "different lengths"},
	}
	for _, tc := range cases {
		var c Crypto
		if err := c.Unmarshal(tc.in); err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		err := c.usable()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("usable(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

// FuzzCryptoUnmarshal: any attribute value parses or is refused without a
// panic; what parses formats to a value that parses to the same thing,
// and usable and the contexts never panic on it.
func FuzzCryptoUnmarshal(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|2^20|1:4 FEC_ORDER=FEC_SRTP")
	f.Add("2 AES_CM_128_HMAC_SHA1_32 inline:" + rfcKey)
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|2^31|1:1;inline:" + rfcKey + "|2^31|2:1")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|18446744073709551615:8")
	f.Add("001 AEAD_AES_256_GCM inline:AAAA|0100:2 -x")
	f.Fuzz(func(t *testing.T, in string) {
		var c Crypto
		if err := c.Unmarshal(in); err != nil {
			return
		}
		var again Crypto
		if err := again.Unmarshal(c.String()); err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", in, c.String(), err)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("%q: %+v, then %+v", in, c, again)
		}
		if c.usable() == nil {
			keys := &srtpKeys{recv: c.Keys, send: c.Keys[0]}
			keys.suite, _ = suiteByName(c.Suite)
			if _, err := keys.recvContext(); err != nil {
				t.Fatalf("%q is usable but makes no context: %v", in, err)
			}
		}
	})
}

func TestAnswerSRTP(t *testing.T) {
	head := []string{"v=0", "o=phone 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"}
	offer := func(extra ...string) []byte { return sdpLines(append(append([]string{}, head...), extra...)...) }
	c80 := "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey
	c32 := "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:" + rfcKey
	f8 := "a=crypto:3 F8_128_HMAC_SHA1_80 inline:" + rfcKey
	cases := []struct {
		name   string
		policy SRTPPolicy
		offer  []byte
		err    error
		secure bool
		want   []string // in the answer
		not    []string // not in the answer
	}{
		{name: "SAVP with crypto", offer: offer("m=audio 5004 RTP/SAVP 0", c80), secure: true,
			want: []string{"m=audio 40000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"}},
		{name: "SAVP, the offerer's first usable line", offer: offer("m=audio 5004 RTP/SAVP 0", f8, c32, c80), secure: true,
			want: []string{"a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:"}, not: []string{"a=crypto:1", "a=crypto:3"}},
		{name: "SAVPF", offer: offer("m=audio 5004 RTP/SAVPF 0", c80), secure: true, want: []string{"RTP/SAVPF 0"}},
		{name: "SAVP without crypto", offer: offer("m=audio 5004 RTP/SAVP 0"), err: ErrNoCrypto},
		{name: "SAVP with no usable line", offer: offer("m=audio 5004 RTP/SAVP 0", f8, "a=crypto:x y z"), err: ErrNoCrypto},
		{name: "SAVP with srtp off", policy: SRTPOff, offer: offer("m=audio 5004 RTP/SAVP 0", c80), err: ErrNoCrypto},
		{name: "best-effort SRTP on AVP", offer: offer("m=audio 5004 RTP/AVP 0", c80), secure: true,
			want: []string{"m=audio 40000 RTP/AVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80"}},
		{name: "AVP with an unusable line stays plain", offer: offer("m=audio 5004 RTP/AVP 0", f8),
			want: []string{"m=audio 40000 RTP/AVP 0"}, not: []string{"a=crypto"}},
		{name: "AVP with srtp off ignores crypto", policy: SRTPOff, offer: offer("m=audio 5004 RTP/AVP 0", c80),
			want: []string{"m=audio 40000 RTP/AVP 0"}, not: []string{"a=crypto"}},
		{name: "plain AVP", offer: offer("m=audio 5004 RTP/AVP 0"), want: []string{"RTP/AVP 0"}, not: []string{"a=crypto"}},
		{name: "plain AVP, srtp required", policy: SRTPRequired, offer: offer("m=audio 5004 RTP/AVP 0"), err: ErrNoCrypto},
		{name: "best-effort AVP, srtp required", policy: SRTPRequired, offer: offer("m=audio 5004 RTP/AVP 0", c80), secure: true},
		{name: "SAVP without G.711", offer: offer("m=audio 5004 RTP/SAVP 18", c80), err: ErrNoCommonCodec},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := testLocal
			l.SRTP = tc.policy
			ans, r, err := Answer(tc.offer, l)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Secure() != tc.secure {
				t.Fatalf("secure %v, want %v", r.Secure(), tc.secure)
			}
			for _, w := range tc.want {
				if !bytes.Contains(ans, []byte(w)) {
					t.Errorf("answer lacks %q:\n%s", w, ans)
				}
			}
			for _, w := range tc.not {
				if bytes.Contains(ans, []byte(w)) {
					t.Errorf("answer has %q:\n%s", w, ans)
				}
			}
			if tc.secure {
				// Our key is ours: new, and not the peer's.
				if bytes.Contains(ans, []byte(rfcKey)) {
					t.Errorf("the answer sends the peer's own key back:\n%s", ans)
				}
				if !bytes.Equal(r.srtp.recv[0].Material, r.Crypto.Keys[0].Material) || len(r.srtp.send.Material) != 30 {
					t.Errorf("keys %+v", r.srtp)
				}
			}
		})
	}
}

func TestOfferSRTP(t *testing.T) {
	for _, tc := range []struct {
		policy SRTPPolicy
		proto  string
		lines  int
	}{{SRTPOptional, "RTP/AVP", 2}, {SRTPRequired, "RTP/SAVP", 2}, {SRTPOff, "RTP/AVP", 0}} {
		lines, err := OfferCrypto(tc.policy, nil)
		if err != nil {
			t.Fatal(err)
		}
		l := testLocal
		l.SRTP, l.Crypto = tc.policy, lines
		offer, err := Offer(l)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(offer, []byte("m=audio 40000 "+tc.proto+" 0 8 101")) || bytes.Count(offer, []byte("a=crypto:")) != tc.lines {
			t.Fatalf("%s: offer\n%s", tc.policy, offer)
		}
		if tc.lines == 0 {
			continue
		}
		if !bytes.Contains(offer, []byte("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:")) || !bytes.Contains(offer, []byte("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:")) {
			t.Fatalf("offer\n%s", offer)
		}
		// The peer answers the second line with its own key.
		answer := sdpLines("v=0", "o=p 1 1 IN IP4 192.0.2.9", "s=-", "c=IN IP4 192.0.2.9", "t=0 0",
			"m=audio 7000 "+tc.proto+" 0", "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"+rfcKey)
		r, err := ParseAnswer(answer, l)
		if err != nil || !r.Secure() || r.srtp.suite.name != "AES_CM_128_HMAC_SHA1_32" || !bytes.Equal(r.srtp.send.Material, lines[1].Keys[0].Material) {
			t.Fatalf("%s: answer: %+v %v", tc.policy, r, err)
		}
		// A tag we did not offer, or our tag with another suite, is refused.
		bad := bytes.Replace(answer, []byte("crypto:2"), []byte("crypto:5"), 1)
		if _, err := ParseAnswer(bad, l); !errors.Is(err, ErrNoCrypto) {
			t.Fatalf("%s: answer with tag 5: %v", tc.policy, err)
		}
		bad = bytes.Replace(answer, []byte("crypto:2"), []byte("crypto:1"), 1)
		if _, err := ParseAnswer(bad, l); !errors.Is(err, ErrNoCrypto) {
			t.Fatalf("%s: answer with tag 1 and suite _32: %v", tc.policy, err)
		}
		// An answer in the clear is taken only when SRTP is optional.
		plain := sdpLines("v=0", "o=p 1 1 IN IP4 192.0.2.9", "s=-", "c=IN IP4 192.0.2.9", "t=0 0", "m=audio 7000 RTP/AVP 0")
		r, err = ParseAnswer(plain, l)
		if tc.policy == SRTPOptional && (err != nil || r.Secure()) || tc.policy == SRTPRequired && !errors.Is(err, ErrNoCrypto) {
			t.Fatalf("%s: plain answer: %+v %v", tc.policy, r, err)
		}
	}
}

// TestSessionSRTPRoundTrip: two sessions negotiate SRTP (one offers
// RTP/SAVP, the other answers) and a prompt played on one is recorded by
// the other; what travels between them is not the G.711 in the clear; a
// packet of the stream replayed, or forged by someone without the key, is
// dropped and counted.
func TestSessionSRTPRoundTrip(t *testing.T) {
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"} {
		t.Run(suite, func(t *testing.T) {
			a := newSession(t, SessionConfig{SRTP: SRTPRequired})
			b := newSession(t, SessionConfig{SRTP: SRTPRequired})
			offer, err := b.Offer(SendRecv)
			if err != nil {
				t.Fatal(err)
			}
			if suite == "AES_CM_128_HMAC_SHA1_32" { // the answerer takes the offerer's first line: drop the _80 one
				offer = dropLine(offer, "a=crypto:1 ")
			}
			answer, err := a.Answer(offer)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.SetAnswer(answer); err != nil {
				t.Fatal(err)
			}
			if !a.Remote().Secure() || !b.Remote().Secure() || a.Remote().Crypto.Suite != suite {
				t.Fatalf("not secure: %+v / %+v", a.Remote(), b.Remote())
			}
			// A tap: b's stream goes through a raw socket that keeps copies,
			// so the test sees the wire.
			tap := newRawPeer(t)
			bAddr := b.LocalAddr()
			r := a.Remote()
			r.Addr = tap.addr()
			a.UpdateRemote(r, SendRecv)
			// b only listens, so a never latches to b past the tap.
			b.UpdateRemote(b.Remote(), RecvOnly)
			a.Start(t.Context())
			b.Start(t.Context())

			src := speechLike(1.0, 3)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			recDone := make(chan Recording, 1)
			go func() {
				rec, err := b.Record(ctx, RecordOptions{MaxTime: 2 * time.Second, FinalSilence: 400 * time.Millisecond})
				if err != nil {
					t.Error(err)
				}
				recDone <- rec
			}()
			for deadline := time.Now().Add(2 * time.Second); b.rec.Load() == nil; {
				if time.Now().After(deadline) {
					t.Fatal("recorder not armed")
				}
				time.Sleep(time.Millisecond)
			}
			// Relay what a sends to b, keeping the packets.
			var wireMu sync.Mutex
			var wire [][]byte
			relayDone := make(chan struct{})
			go func() {
				defer close(relayDone)
				buf := make([]byte, 1600)
				for {
					tap.conn.SetReadDeadline(time.Now().Add(time.Second))
					n, _, err := tap.conn.ReadFromUDPAddrPort(buf)
					if err != nil {
						return
					}
					pkt := append([]byte(nil), buf[:n]...)
					wireMu.Lock()
					wire = append(wire, pkt)
					wireMu.Unlock()
					tap.conn.WriteToUDPAddrPort(pkt, bAddr)
				}
			}()
			if _, err := a.Play(ctx, PlayOptions{}, NewPrompt("speech", src)); err != nil {
				t.Fatal(err)
			}
			rec := <-recDone
			i, j := onset(rec.Samples, 500), onset(src, 500)
			if i < 0 || j < 0 || i < j {
				t.Fatalf("nothing heard through SRTP: %d samples; a %+v b %+v", len(rec.Samples), a.Stats(), b.Stats())
			}
			if c, _ := bestNCC(src, rec.Samples[i-j:], 200); c < 0.9 {
				t.Fatalf("decrypted audio correlates %.3f with the source", c)
			}
			wireMu.Lock()
			replay := wire[len(wire)/2]
			wireMu.Unlock()
			failedBefore := b.Stats().SRTPFailed
			// Replay one captured packet and forge one in the clear.
			tap.conn.WriteToUDPAddrPort(replay, bAddr)
			forged := append([]byte(nil), replay[:12]...)
			forged = append(forged, make([]byte, 170)...)
			forged[3]++ // another sequence number
			tap.conn.WriteToUDPAddrPort(forged, bAddr)
			waitFor(t, 2*time.Second, "the replayed and forged packets to be refused", func() bool { return b.Stats().SRTPFailed >= failedBefore+2 })
			cancel()
			a.Close()
			<-relayDone
			// On the wire: 12-byte header, 160 bytes of ciphertext, the tag.
			tag := 10
			if suite == "AES_CM_128_HMAC_SHA1_32" {
				tag = 4
			}
			plainLike := 0
			for _, p := range wire {
				if len(p) != 12+160+tag {
					t.Fatalf("a packet of %d bytes on the wire, want %d", len(p), 12+160+tag)
				}
				if bytes.Count(p[12:172], []byte{p[12]}) > 40 { // silence and G.711 repeat bytes; ciphertext does not
					plainLike++
				}
			}
			if plainLike > 0 {
				t.Fatalf("%d of %d packets look like G.711 in the clear", plainLike, len(wire))
			}
		})
	}
}

// TestSessionSRTPReofferKeepsKeys: the same peer re-offering its key
// (hold, resume) keeps ours; a new key of the peer's (another party) gets
// a new key of ours.
func TestSessionSRTPReofferKeepsKeys(t *testing.T) {
	s := newSession(t, SessionConfig{})
	head := "v=0\r\no=p 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5004 RTP/SAVP 0\r\n"
	first := []byte(head + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "\r\n")
	a1, err := s.Answer(first)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := s.Answer(append(first[:len(first):len(first)], "a=sendonly\r\n"...))
	if err != nil {
		t.Fatal(err)
	}
	if cryptoOf(t, a1) != cryptoOf(t, a2) {
		t.Fatalf("a hold changed our key: %q, %q", cryptoOf(t, a1), cryptoOf(t, a2))
	}
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 30))
	a3, err := s.Answer([]byte(head + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + other + "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cryptoOf(t, a3) == cryptoOf(t, a1) {
		t.Fatal("a new peer key kept our old key")
	}
}

func cryptoOf(t *testing.T, sdp []byte) string {
	t.Helper()
	for _, l := range strings.Split(string(sdp), "\r\n") {
		if v, ok := strings.CutPrefix(l, "a=crypto:"); ok {
			return v
		}
	}
	t.Fatalf("no a=crypto in\n%s", sdp)
	return ""
}

func dropLine(sdp []byte, prefix string) []byte {
	var out []string
	for _, l := range strings.Split(string(sdp), "\r\n") {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\r\n"))
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkSRTPProtect measures protecting one 20 ms G.711 packet, the
// send path's added work per packet; it must not allocate.
func BenchmarkSRTPProtect(b *testing.B) {
	c, _ := newCrypto(1, "AES_CM_128_HMAC_SHA1_80")
	keys := &srtpKeys{send: c.Keys[0], recv: c.Keys}
	keys.suite, _ = suiteByName(c.Suite)
	var st sender
	st.pkt.Header.Version = 2
	st.pkt.Payload = make([]byte, 160)
	ctx, ok := st.srtp.forSend(keys)
	if !ok {
		b.Fatal("no context")
	}
	b.ReportAllocs()
	for b.Loop() {
		n, _ := st.pkt.MarshalTo(st.buf[:])
		st.pkt.SequenceNumber++
		if _, err := ctx.EncryptRTP(st.cbuf[:0], st.buf[:n], &st.hdr); err != nil {
			b.Fatal(err)
		}
	}
}
