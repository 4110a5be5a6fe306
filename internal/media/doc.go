// Package media is the media half of tandem's VoiceXML gateway: in CVP terms,
// what the Cisco IOS VoiceXML gateway does below the interpreter. For each
// call leg it negotiates G.711 audio in SDP, runs the RTP stream, plays
// prompts (files, http(s) URLs, text spoken by espeak-ng), detects DTMF (RFC
// 4733 telephone-events, SIP INFO bodies, in-band tones) and records the
// caller. It knows nothing of SIP: the gateway's SIP UAS hands it SDP bodies
// and digits from INFO requests, and gets SDP bodies and a Session back.
//
// # Use from a SIP UAS
//
//	sess, err := media.NewSession(media.SessionConfig{LocalIP: ip, Logger: log.With("call", id)})
//	answer, err := sess.Answer(inviteSDP) // errors.Is(err, media.ErrNoCommonCodec) → 488
//	sess.Start(callCtx)                    // after the ACK, or at once for early media
//	res, err := sess.Play(ctx, media.PlayOptions{BargeIn: true}, prompt)
//	for ev := range sess.Events() { ... }  // keys, RTP timeout, RTCP BYE
//	answer, err = sess.Answer(reinviteSDP) // hold, resume, media moved by the call server
//	sess.InjectDTMF(digit, dur)            // from ParseDTMFInfo(ct, infoBody)
//	sess.Close()                           // BYE
//
// A late-offer INVITE uses sess.Offer(media.SendRecv) in the 200 OK and
// sess.SetAnswer(ackSDP). Prompts come from one PromptCache per gateway.
//
// # Threading
//
// A Session runs up to three goroutines, each the only owner of its state:
//
//   - the send goroutine owns the RTP clock: sequence number, timestamp, marker, pacing,
//     the RFC 4733 key being sent and the position in the playing prompt;
//   - the receive goroutine owns the receive statistics, the RFC 4733 event
//     state and the in-band detector, and writes into the active recording;
//   - the RTCP goroutine reads reports and BYE.
//
// A session in a conference room (Mixer) runs the same three. The room,
// one goroutine of its own, is attached by a hook: the receive goroutine
// hands it the peer's decoded audio after the recorder, and the send
// goroutine takes the party's mix from it each slot and sends it where it
// would send silence, so prompts, keys, hold, RTCP and the inactivity timer
// are unchanged in a room.
//
// The API methods run on the caller's goroutines and talk to those through
// atomics and channels: the peer's address and codecs are an immutable
// snapshot swapped atomically (UpdateRemote, latching), a Play or Record is
// a value published with an atomic pointer, keys to send go through a
// channel. Each field's comment says who owns it. The per-packet paths do
// not allocate and take no lock (the benchmarks in session_bench_test.go
// check it).
//
// # Why an absolute clock
//
// Packets leave at start + n×20 ms, with the timer set to that instant each
// time, never "sleep 20 ms after sending": sleeping accumulates every
// wake-up delay, the stream runs slower than the peer's clock and its jitter
// buffer fills until it drops audio. On an absolute clock a late wake-up
// makes one late packet and the next is on time; after a long stall the
// missed slots are skipped (the timestamp still advances with real time)
// rather than sent in a burst.
//
// # SRTP
//
// With SessionConfig.SRTP (optional by default) the session answers an
// RTP/SAVP offer with SRTP: the offer's first usable a=crypto line (RFC
// 4568, see Crypto) gives the peer's key, the answer carries ours, from
// crypto/rand. Every packet is protected after it is built and checked
// before it is read: one that fails authentication or the replay window is
// counted (Stats.SRTPFailed) and dropped before it can latch the stream.
// The send, receive and RTCP goroutines each keep their pion/srtp context,
// built from the keys in the peer snapshot, so the hot paths stay free of
// locks and allocation. Our key is kept while the peer keeps its own (hold,
// resume) and made anew when the peer's changes (a new party moved here).
//
// # What the peer sees
//
// Symmetric RTP (RFC 4961): we send from the port we receive on, and to the
// address the peer's packets come from once the first one arrives (the
// latch), so calls through NAT work; later packets from other sources are
// dropped. While no prompt plays we send G.711 silence, so the caller is
// never in dead air; nothing is sent while the peer holds the call
// (a=sendonly, a=inactive, c=0.0.0.0).
package media
