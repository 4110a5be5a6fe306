package router

// treat is what a call transferred to a queue does while it waits: the
// router's transfer_treatment at its network VRU label, round after round
// (Continue answers each result with the next round), until an offer
// moves it to an agent. Without a treatment configured the call just
// waits (Queued) where it is.
func (e *Engine) treat(c *call) Instruction {
	tt := e.cfg.cfg.TransferTreatment
	if tt.VRUScript == "" {
		return Instruction{Kind: Queued, Data: c.snapshot()}
	}
	c.treating = true
	return Instruction{Kind: RunScript, VRUScript: tt.VRUScript, Params: tt.Params,
		Labels: []string{e.cfg.labels[tt.Label].Value}, CorrelationID: string(c.id), Data: c.snapshot()}
}
