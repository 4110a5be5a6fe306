package ivr

// CallParam is the query parameter that names the call on every IVR
// service URL (/ivr/start, /ivr/result, /ivr/hold): the call's global id
// (event.CallID), the one the call server gave the call and carries to
// the VoiceXML gateway in X-Tandem-Call-ID, which the gateway fills in for
// {call} in an application URL (http://<ivr>/ivr/start?call={call}). The
// service keeps its calls by it; a call has no other name here.
const CallParam = "call"
