package event

// IVR events of the VoiceXML gateway (the router's micro-apps report
// theirs as IVRResult).
const (
	// IVRStep: a VoiceXML form item that collects input (field, record,
	// transfer, subdialog) was visited. Script is the document URI and
	// form ("http://.../main.vxml#menu"), Node the item's name, State the
	// item's element (field, record...), Target the input VoiceXML got
	// (DTMF keys or utterance as given, a recording's length, a transfer's
	// status) and Reason the outcome: filled, noinput, nomatch, hangup,
	// transition, or the event that ended the visit (error.badfetch...).
	IVRStep Kind = "ivr.step"
)
