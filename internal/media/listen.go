package media

// Listen connects sink to the audio the peer sends, decoded to 8 kHz PCM,
// on the receive goroutine, until the returned function is called: a
// recogniser's endpointer listens while prompts play (speech barge-in)
// and after. sink gets gap samples missing before pcm (loss, or a key sent
// as events); it must not block and must not keep pcm. It fails with
// ErrBusy while the session's audio is connected elsewhere (a conference).
func (s *Session) Listen(sink func(gap int, pcm []int16)) (stop func(), err error) {
	h := &audioHook{sink: sink, source: func(*[FrameSamples]int16) bool { return false }}
	if !s.attach(h) {
		return nil, ErrBusy
	}
	return func() { s.detach(h) }, nil
}
