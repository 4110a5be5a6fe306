package event

// CallIDLen is the length of a CallID NewCallID makes: 32 lower-case hex
// digits.
const CallIDLen = 32

// CorrelationID reads the call id a network VRU label carries at its end,
// as CVP's correlation id does: the call server dials a VRU script's leg
// at the label's value with the call's id appended (7777 + id), so the
// leg names its call in its dialed number as well as in CallIDHeader,
// and a proxy or gateway between that drops X- headers (a dial peer keeps
// the number) does not lose it. A dialed number holds one when it is
// longer than CallIDLen and ends in CallIDLen lower-case hex digits: no
// real number is that long (E.164 stops at 15 digits).
func CorrelationID(dnis string) (CallID, bool) {
	if len(dnis) <= CallIDLen {
		return "", false
	}
	tail := dnis[len(dnis)-CallIDLen:]
	for i := 0; i < len(tail); i++ {
		c := tail[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return CallID(tail), true
}
