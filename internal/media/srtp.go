package media

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/pion/srtp/v3"
)

// SRTP with SDES key exchange (RFC 4568): each side puts the key it sends
// with in an a=crypto line of its SDP, so the keys travel in the signalling
// (over SIP TLS, or they are not secret) and the media is protected with
// pion/srtp. A session encrypts with its own key and decrypts with the
// peer's; each media goroutine keeps the pion context it uses, built from
// the immutable keys of the peer snapshot (see srtpKeys), so the packet
// paths take no lock.

// SRTPPolicy says when a session protects its media with SRTP.
type SRTPPolicy uint8

// SRTP policies. The zero value is SRTPOptional, the default.
const (
	// SRTPOptional answers what the peer offers: RTP/SAVP with SRTP,
	// RTP/AVP in the clear, RTP/AVP with a usable a=crypto line with SRTP
	// (best-effort SRTP, as baresip's "srtp" and many phones do); offers it
	// makes are RTP/AVP with a=crypto lines, which a peer that can encrypt
	// takes and one that cannot ignores.
	SRTPOptional SRTPPolicy = iota
	// SRTPRequired refuses media in the clear: an offer without a usable
	// a=crypto line is refused (488), and offers are RTP/SAVP.
	SRTPRequired
	// SRTPOff never encrypts: RTP/SAVP offers are refused (488), a=crypto
	// lines on RTP/AVP are ignored, offers carry none.
	SRTPOff
)

// ParseSRTPPolicy reads a policy's config spelling: optional (or ""),
// required, off.
func ParseSRTPPolicy(s string) (SRTPPolicy, error) {
	switch s {
	case "", "optional":
		return SRTPOptional, nil
	case "required":
		return SRTPRequired, nil
	case "off":
		return SRTPOff, nil
	}
	return 0, fmt.Errorf("media: srtp policy %q: want optional, required or off", s)
}

func (p SRTPPolicy) String() string {
	return [...]string{"optional", "required", "off"}[p%3]
}

// cryptoSuite is an SDES crypto-suite tandem can use, with its pion profile.
type cryptoSuite struct {
	name    string
	profile srtp.ProtectionProfile
	keyLen  int // master key, bytes
	saltLen int // master salt, bytes
}

// cryptoSuites are the suites answered, in no order of ours (an answer
// takes the offerer's first usable line). offerSuites are the ones we
// offer, in our order of preference: the two of RFC 4568 every SDES phone
// has; 80-bit tags first, as RFC 4568 §6.2 recommends.
var (
	cryptoSuites = []cryptoSuite{
		{"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80, 16, 14}, // RFC 4568 §6.2.1
		{"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32, 16, 14}, // RFC 4568 §6.2.2
		{"AES_256_CM_HMAC_SHA1_80", srtp.ProtectionProfileAes256CmHmacSha1_80, 32, 14}, // RFC 6188 §7.1
		{"AES_256_CM_HMAC_SHA1_32", srtp.ProtectionProfileAes256CmHmacSha1_32, 32, 14}, // RFC 6188 §7.1
		{"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm, 16, 12},              // RFC 7714 §14.2
		{"AEAD_AES_256_GCM", srtp.ProtectionProfileAeadAes256Gcm, 32, 12},              // RFC 7714 §14.2
	}
	offerSuites = []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"}
)

func suiteByName(name string) (cryptoSuite, bool) {
	for _, s := range cryptoSuites {
		if s.name == name {
			return s, true
		}
	}
	return cryptoSuite{}, false
}

// CryptoKey is one key-param of an a=crypto line (RFC 4568 §9.1): the
// inline master key and salt, and the optional lifetime and MKI.
type CryptoKey struct {
	// Material is the master key followed by the master salt.
	Material []byte
	// Lifetime is the number of packets the key may protect, as written
	// ("2^31" or "2147483648"); "" when not given.
	Lifetime string
	// MKI is the master key identifier's value and MKILen its length in
	// bytes on the wire (1 to 128); MKILen 0 means no MKI.
	MKI    uint64
	MKILen int
}

// Crypto is an SDP a=crypto attribute (RFC 4568 §9.1):
// "<tag> <crypto-suite> inline:<key||salt>[|lifetime][|mki:len][;inline:...] [session-params]".
type Crypto struct {
	Tag   int
	Suite string
	Keys  []CryptoKey
	// Params are the session parameters as written (KDR=1, WSH=64,
	// UNENCRYPTED_SRTP...).
	Params []string
}

// Unmarshal parses an a=crypto attribute's value (what follows
// "a=crypto:") into c. It checks the grammar; whether tandem can use the
// line (suite, key length, parameters) is usable's question.
func (c *Crypto) Unmarshal(value string) error {
	*c = Crypto{}
	f := strings.Fields(value)
	if len(f) < 3 {
		return fmt.Errorf("media: a=crypto %q: want tag, suite and key params", value)
	}
	if len(f[0]) > 9 {
		return fmt.Errorf("media: a=crypto tag %q: more than 9 digits", f[0])
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || strings.TrimLeft(f[0], "0123456789") != "" {
		return fmt.Errorf("media: a=crypto tag %q: not a number", f[0])
	}
	c.Tag, c.Suite = tag, f[1]
	for _, kp := range strings.Split(f[2], ";") {
		k, err := parseKeyParam(kp)
		if err != nil {
			return fmt.Errorf("media: a=crypto tag %d: %w", tag, err)
		}
		c.Keys = append(c.Keys, k)
	}
	if len(f) > 3 {
		c.Params = f[3:]
	}
	return nil
}

// parseKeyParam reads "inline:<base64 key||salt>[|lifetime][|mki:len]".
func parseKeyParam(kp string) (CryptoKey, error) {
	method, info, ok := strings.Cut(kp, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return CryptoKey{}, fmt.Errorf("key method in %q not supported (inline only)", kp)
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return CryptoKey{}, fmt.Errorf("key param %q: too many fields", kp)
	}
	var k CryptoKey
	// Some phones drop the base64 padding: take the key with or without it.
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil || len(raw) == 0 {
		return CryptoKey{}, fmt.Errorf("key %q: not base64", parts[0])
	}
	k.Material = raw
	for _, p := range parts[1:] {
		if v, l, isMKI := strings.Cut(p, ":"); isMKI {
			if k.MKILen != 0 {
				return CryptoKey{}, fmt.Errorf("key param %q: two MKIs", kp)
			}
			n, err1 := strconv.Atoi(l)
			val, err2 := strconv.ParseUint(v, 10, 64)
			if err1 != nil || n < 1 || n > 128 || len(l) > 3 || err2 != nil {
				return CryptoKey{}, fmt.Errorf("key param %q: bad MKI %q", kp, p)
			}
			if n < 8 && val >= 1<<(8*n) {
				return CryptoKey{}, fmt.Errorf("key param %q: MKI %d does not fit in %d bytes", kp, val, n)
			}
			k.MKI, k.MKILen = val, n
			continue
		}
		if k.Lifetime != "" || k.MKILen != 0 {
			return CryptoKey{}, fmt.Errorf("key param %q: lifetime %q out of place", kp, p)
		}
		digits := strings.TrimPrefix(p, "2^")
		if digits == "" || strings.TrimLeft(digits, "0123456789") != "" || len(digits) > 20 {
			return CryptoKey{}, fmt.Errorf("key param %q: bad lifetime %q", kp, p)
		}
		k.Lifetime = p
	}
	return k, nil
}

// String formats c as an a=crypto value (without "crypto:").
func (c Crypto) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Tag))
	b.WriteByte(' ')
	b.WriteString(c.Suite)
	b.WriteByte(' ')
	for i, k := range c.Keys {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString("inline:")
		b.WriteString(base64.StdEncoding.EncodeToString(k.Material))
		if k.Lifetime != "" {
			b.WriteByte('|')
			b.WriteString(k.Lifetime)
		}
		if k.MKILen > 0 {
			b.WriteByte('|')
			b.WriteString(strconv.FormatUint(k.MKI, 10))
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(k.MKILen))
		}
	}
	for _, p := range c.Params {
		b.WriteByte(' ')
		b.WriteString(p)
	}
	return b.String()
}

// usable reports why tandem cannot use c, or nil: a suite it knows, keys
// of the suite's length, MKIs when there are several keys, a lifetime it
// will not outlive, and no session parameter that weakens or changes the
// protection (RFC 4568 §6.3: an unknown parameter makes the line unusable
// unless it starts with "-").
func (c *Crypto) usable() error {
	s, ok := suiteByName(c.Suite)
	if !ok {
		return fmt.Errorf("crypto suite %s not supported", c.Suite)
	}
	if len(c.Keys) == 0 {
		return errors.New("no key")
	}
	if len(c.Keys) > 1 {
		for _, k := range c.Keys {
			if k.MKILen == 0 { // RFC 4568 §6.1: several keys need MKIs
				return errors.New("several keys without MKIs")
			}
		}
	}
	for _, k := range c.Keys {
		if len(k.Material) != s.keyLen+s.saltLen {
			return fmt.Errorf("%s key of %d bytes, want %d", c.Suite, len(k.Material), s.keyLen+s.saltLen)
		}
		if k.MKILen > 0 && k.MKILen != c.Keys[0].MKILen {
			return errors.New("MKIs of different lengths")
		}
		if k.Lifetime != "" && lifetime(k.Lifetime).Cmp(minLifetime) < 0 {
			return fmt.Errorf("key lifetime %s is shorter than a call (tandem does not re-key)", k.Lifetime)
		}
	}
	for _, p := range c.Params {
		name, val, _ := strings.Cut(p, "=")
		switch {
		case name == "KDR" && val == "0":
			// A key derivation rate of 0 is pion's (and everyone's) only one.
		case name == "WSH", name == "FEC_ORDER", strings.HasPrefix(name, "-"):
			// A replay window hint and FEC order change nothing here;
			// "-" marks a parameter the receiver may ignore.
		default:
			return fmt.Errorf("session parameter %s not supported", p)
		}
	}
	return nil
}

// minLifetime is the shortest key lifetime accepted, in packets: 2^31 is
// 497 days of 20 ms packets. A shorter one would need re-keying mid-call,
// which SDES does with a re-INVITE tandem does not send.
var minLifetime = new(big.Int).Lsh(big.NewInt(1), 31)

// lifetime returns a lifetime's number of packets.
func lifetime(s string) *big.Int {
	if e, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := strconv.Atoi(e)
		if err != nil || n > 1000 {
			return new(big.Int).Lsh(big.NewInt(1), 1000)
		}
		return new(big.Int).Lsh(big.NewInt(1), uint(n))
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return new(big.Int)
	}
	return v
}

// newCrypto makes a line of ours for suite with a new key from crypto/rand.
func newCrypto(tag int, suite string) (Crypto, error) {
	s, ok := suiteByName(suite)
	if !ok {
		return Crypto{}, fmt.Errorf("media: crypto suite %s not supported", suite)
	}
	k := make([]byte, s.keyLen+s.saltLen)
	if _, err := rand.Read(k); err != nil {
		return Crypto{}, fmt.Errorf("media: srtp key: %w", err)
	}
	return Crypto{Tag: tag, Suite: suite, Keys: []CryptoKey{{Material: k}}}, nil
}

// srtpKeys are the keys of a protected stream: ours (send) and the peer's
// (recv), of one suite. Immutable once built; the media goroutines each
// build their pion context from it (and again only when a new snapshot
// carries different keys).
type srtpKeys struct {
	suite cryptoSuite
	send  CryptoKey
	recv  []CryptoKey
}

// newSRTPKeys checks that our line and the peer's agree on a suite.
func newSRTPKeys(ours, theirs *Crypto) (*srtpKeys, error) {
	if ours.Suite != theirs.Suite {
		return nil, fmt.Errorf("media: srtp: our suite %s, the peer's %s", ours.Suite, theirs.Suite)
	}
	s, ok := suiteByName(ours.Suite)
	if !ok || len(ours.Keys) != 1 {
		return nil, fmt.Errorf("media: srtp: suite %s not supported", ours.Suite)
	}
	if err := theirs.usable(); err != nil {
		return nil, fmt.Errorf("media: srtp: %w", err)
	}
	return &srtpKeys{suite: s, send: ours.Keys[0], recv: theirs.Keys}, nil
}

func (k *srtpKeys) sameSend(o *srtpKeys) bool {
	return k != nil && o != nil && k.suite == o.suite && sameKey(k.send, o.send)
}

func (k *srtpKeys) sameRecv(o *srtpKeys) bool {
	if k == nil || o == nil || k.suite != o.suite || len(k.recv) != len(o.recv) {
		return false
	}
	for i := range k.recv {
		if !sameKey(k.recv[i], o.recv[i]) {
			return false
		}
	}
	return true
}

func sameKey(a, b CryptoKey) bool {
	return bytes.Equal(a.Material, b.Material) && a.MKI == b.MKI && a.MKILen == b.MKILen
}

// mkiBytes is the MKI as it appears on the wire: MKILen bytes, big-endian.
func mkiBytes(k CryptoKey) []byte {
	if k.MKILen == 0 {
		return nil
	}
	b := make([]byte, k.MKILen)
	v := k.MKI
	for i := k.MKILen - 1; i >= 0 && v > 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// replayWindow is the SRTP and SRTCP replay window (RFC 3711 §3.3.2):
// packets older than this many behind the newest are dropped, as are
// packets seen before.
const replayWindow = 128

// sendContext builds the context that protects what we send (RTP and RTCP).
func (k *srtpKeys) sendContext() (*srtp.Context, error) {
	var opts []srtp.ContextOption
	if m := mkiBytes(k.send); m != nil {
		opts = append(opts, srtp.MasterKeyIndicator(m))
	}
	c, err := srtp.CreateContext(k.send.Material[:k.suite.keyLen], k.send.Material[k.suite.keyLen:], k.suite.profile, opts...)
	if err != nil {
		return nil, fmt.Errorf("media: srtp send context: %w", err)
	}
	return c, nil
}

// recvContext builds a context that checks and decrypts what the peer sends.
func (k *srtpKeys) recvContext() (*srtp.Context, error) {
	first := k.recv[0]
	opts := []srtp.ContextOption{srtp.SRTPReplayProtection(replayWindow), srtp.SRTCPReplayProtection(replayWindow)}
	if m := mkiBytes(first); m != nil {
		opts = append(opts, srtp.MasterKeyIndicator(m))
	}
	c, err := srtp.CreateContext(first.Material[:k.suite.keyLen], first.Material[k.suite.keyLen:], k.suite.profile, opts...)
	if err != nil {
		return nil, fmt.Errorf("media: srtp receive context: %w", err)
	}
	for _, o := range k.recv[1:] { // RFC 4568 §6.1: the peer may switch keys by MKI
		if err := c.AddCipherForMKI(mkiBytes(o), o.Material[:k.suite.keyLen], o.Material[k.suite.keyLen:]); err != nil {
			return nil, fmt.Errorf("media: srtp receive context: %w", err)
		}
	}
	return c, nil
}

// srtpState is one media goroutine's pion context and the keys it was
// built from; owned by that goroutine.
type srtpState struct {
	keys *srtpKeys
	ctx  *srtp.Context
	err  bool // the keys could not make a context: drop rather than send in the clear
}

// forSend returns the context to protect with under keys (nil: plain RTP),
// rebuilding it only when keys differ from the last ones; ok is false when
// it cannot be built, and nothing must be sent.
func (st *srtpState) forSend(keys *srtpKeys) (*srtp.Context, bool) {
	if keys == nil {
		st.keys, st.ctx, st.err = nil, nil, false
		return nil, true
	}
	if keys != st.keys {
		if !keys.sameSend(st.keys) {
			c, err := keys.sendContext()
			st.ctx, st.err = c, err != nil
		}
		st.keys = keys
	}
	return st.ctx, !st.err
}

// forRecv is forSend for the receiving goroutines.
func (st *srtpState) forRecv(keys *srtpKeys) (*srtp.Context, bool) {
	if keys == nil {
		st.keys, st.ctx, st.err = nil, nil, false
		return nil, true
	}
	if keys != st.keys {
		if !keys.sameRecv(st.keys) {
			c, err := keys.recvContext()
			st.ctx, st.err = c, err != nil
		}
		st.keys = keys
	}
	return st.ctx, !st.err
}
