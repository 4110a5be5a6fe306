package media

import "errors"

// Sentinel errors of the media package. Callers test them with errors.Is; the
// gateway's SIP side maps them to status codes (ErrNoCommonCodec → 488).
var (
	// ErrNoCommonCodec means the remote SDP offered neither PCMU nor PCMA.
	ErrNoCommonCodec = errors.New("media: no common codec (need PCMU/8000 or PCMA/8000)")
	// ErrNoAudio means the SDP has no usable audio m= line.
	ErrNoAudio = errors.New("media: no audio stream in SDP")
	// ErrNoTTS means espeak-ng is not installed, so text that is not already in
	// the disk cache cannot be spoken.
	ErrNoTTS = errors.New("media: text-to-speech unavailable: install espeak-ng to speak new text")
	// ErrClosed is returned by the methods of a closed Session.
	ErrClosed = errors.New("media: session closed")
	// ErrBusy is returned when Play or Record is called while another one runs
	// on the same Session: one call leg has one prompt queue.
	ErrBusy = errors.New("media: session busy with another play or record")
	// ErrBadDigit is returned for a DTMF key outside 0-9 * # A-D.
	ErrBadDigit = errors.New("media: not a DTMF digit")
	// ErrNoCrypto means SRTP is needed (an RTP/SAVP stream, or the policy
	// requires it) and the SDP has no a=crypto line tandem can use; or an
	// RTP/SAVP stream was offered with SRTP off. The SIP side answers 488.
	ErrNoCrypto = errors.New("media: no usable SRTP crypto (RFC 4568 a=crypto)")
	// ErrNotStarted is returned by Play, Record and SendDTMF before Start.
	ErrNotStarted = errors.New("media: session not started")
)
