package contract

// AgentCallEvent says what happened to an agent's part in a call. The
// router is its one source: every reservation, answer, hold and end it
// records is told as one of these, so an agent's desktop follows the same
// state the router selects by.
type AgentCallEvent uint8

// Agent call events.
const (
	// Offered: the agent is reserved for the call (an offer, a consult, a
	// transfer to it); the notice carries the call data for the screen pop.
	Offered AgentCallEvent = iota + 1
	// Answered: the agent's phone answered; the agent is talking.
	Answered
	// Held and Retrieved follow the caller on and off hold.
	Held
	Retrieved
	// Ended: the agent's part in the call is over (hung up, transferred,
	// the caller gone while it rang, ring-no-answer, a consult cancelled).
	Ended
)

func (k AgentCallEvent) String() string {
	switch k {
	case Offered:
		return "offered"
	case Answered:
		return "answered"
	case Held:
		return "held"
	case Retrieved:
		return "retrieved"
	case Ended:
		return "ended"
	}
	return "none"
}

// CallData is what travels with a call: call variables 1–10 and ECC
// variables (an array element is named "user.x[2]"). ECC is the
// receiver's own copy.
type CallData struct {
	ANI, DNIS, CallType string
	PV                  [NumCallVars]string
	ECC                 map[string]string
}

// NumCallVars is how many call variables (pv1..pv10) a call carries.
const NumCallVars = 10

// RunScript asks the VRU to run a micro-app for a call (CVP's
// run_script_request): Script names it ("M,menu"), Params are its
// parameters with the call's ECC variables folded in by the IVR service.
type RunScript struct {
	Call   CallID
	Script string
	Params map[string]string
	ECC    map[string]string
}

// VRU is the IVR service as the router sees it: it is told of a script
// before the call server sends the caller to it.
type VRU interface {
	Expect(req RunScript) error
}

// ScriptResult is what the caller did in a VRU script (CVP's
// run_script_result): the micro-app's values (caller_input, error,
// from_ext_vxml.<name>) and whether it took its error exit (error is not
// "none").
type ScriptResult struct {
	Call   CallID
	Values map[string]string
	Failed bool
}

// ScriptNextKind says what the router wants of the VRU after a result.
type ScriptNextKind uint8

// The router's answers to a script result.
const (
	// NextScript: run ScriptNext.Script with its Params on the same
	// VoiceXML session.
	NextScript ScriptNextKind = iota + 1
	// NextLeave: nothing more for the VRU; the caller holds (silence or
	// hold audio) until the call server moves them, or a new RunScript
	// comes.
	NextLeave
	// NextRelease: disconnect the caller.
	NextRelease
)

// ScriptNext is the router's answer to a ScriptResult.
type ScriptNext struct {
	Kind   ScriptNextKind
	Script string
	Params map[string]string
}

// ScriptRouter is the router as the IVR service sees it: a script's
// result in, what comes next out.
type ScriptRouter interface {
	Continue(res ScriptResult) (ScriptNext, error)
}
