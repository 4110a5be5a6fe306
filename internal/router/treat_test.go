package router

import (
	"errors"
	"strings"
	"testing"
)

func TestTransferTreatment(t *testing.T) {
	h := newHarness(t, baseYAML+"transfer_treatment: {vru_script: \"QT,music\", label: vru}\n")
	h.ready(t, "a1")
	route(t, h, "c1", "1000", "555")
	if err := h.Answered("c1"); err != nil {
		t.Fatal(err)
	}
	// Nobody in support is ready: the caller goes to the VRU for treatment.
	in, err := h.Transfer("c1", "support", 0)
	if err != nil {
		t.Fatal(err)
	}
	if in.Kind != RunScript || in.VRUScript != "QT,music" || len(in.Labels) != 1 || in.Labels[0] != "7777" || in.CorrelationID != "c1" {
		t.Fatalf("transfer with nobody ready: %+v, want treatment at the VRU", in)
	}
	// Each round's result asks for the next one.
	for i := 0; i < 3; i++ {
		in, err := h.Continue("c1", map[string]string{"caller_input": ""}, false)
		if err != nil || in.Kind != RunScript || in.VRUScript != "QT,music" {
			t.Fatalf("round %d: %+v %v, want another round", i, in, err)
		}
	}
	h.notices = nil
	h.ready(t, "a3") // support
	if n := lastCall(h); n.Call != "c1" || n.Instruction.Agent != "a3" {
		t.Fatalf("offer %+v, want c1 to a3", n)
	}
}

func TestTransferTreatmentConfig(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"transfer_treatment: {vru_script: \"QT\", label: nope}\n", "router.transfer_treatment.label"},
		{"transfer_treatment: {vru_script: \"QT\", label: overflow}\n", "router.transfer_treatment.label"},
		{"transfer_treatment: {label: vru}\n", "router.transfer_treatment.vru_script"},
	} {
		cfg, err := ParseConfig([]byte(baseYAML + tc.yaml))
		if err == nil {
			_, err = New(cfg, Deps{})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error at %s", tc.yaml, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v is not ErrConfig", tc.yaml, err)
		}
	}
}
