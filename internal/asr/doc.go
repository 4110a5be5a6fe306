// Package asr is tandem's speech recognition: what the VoiceXML gateway
// needs to hear a caller say "sales" or "one two three four" — in CVP
// terms, the ASR server an IOS gateway reaches over MRCP, here local.
//
// The package is engine-neutral. A Recognizer decodes one whole utterance
// against the grammars active for a collection (Grammar, built from the
// document's SRGS XML or ABNF grammars, or Builtin for the VoiceXML builtin
// types) and returns n-best alternatives with confidences. Deciding where
// an utterance starts and ends is not the engine's job: Endpointer, on the
// call's 8 kHz audio, detects speech (for barge-in), measures the silence
// after it (completetimeout, incompletetimeout) and keeps the utterance
// with some audio before its onset. Engines plug in behind Recognizer:
// internal/asr/sphinx is the local one (Debian's pocketsphinx); an MRCPv2
// client or a cloud service would be another.
//
// Interpret turns the words of a builtin grammar (number, currency, date,
// digits) into the values VoiceXML expects.
package asr
