package router

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// Config is the router's section of tandem's configuration: everything the
// ICM router and the agent PG know. It is plain data; New and Reload compile
// it (expressions, script graphs, agent-to-queue membership) and refuse it
// whole when anything is wrong.
type Config struct {
	DialedNumbers   []DialedNumber   `yaml:"dialed_numbers"`
	CallTypes       []CallType       `yaml:"call_types"`
	Scripts         []Script         `yaml:"scripts"`
	SkillGroups     []SkillGroup     `yaml:"skill_groups"`
	Attributes      []Attribute      `yaml:"attributes"`
	PrecisionQueues []PrecisionQueue `yaml:"precision_queues"`
	Agents          []Agent          `yaml:"agents"`
	ReasonCodes     []ReasonCode     `yaml:"reason_codes"`
	Labels          []Label          `yaml:"labels"`
	ECCVariables    []ECCVariable    `yaml:"ecc_variables"`
	// RingNoAnswer is how long an offered call may ring at an agent before
	// the agent is made Not Ready (reason 32767) and the call requeued.
	RingNoAnswer Duration `yaml:"ring_no_answer"`
	// WrapUp is how long an agent stays in work ready after a call before
	// becoming ready by itself; 0 sends agents straight back to ready.
	WrapUp Duration `yaml:"wrap_up"`
	// TransferTreatment is what a caller transferred to a queue hears
	// when no agent is free: the call server moves it to the network VRU
	// label and the micro-app runs round after round until an agent is
	// (CVP's translation route to the VRU for queue treatment). Without it
	// such a caller waits on the transferring agent's leg, in silence.
	TransferTreatment Treatment `yaml:"transfer_treatment"`
}

// Treatment is a VRU micro-app at a network VRU label.
type Treatment struct {
	VRUScript string            `yaml:"vru_script"`
	Params    map[string]string `yaml:"params"`
	Label     string            `yaml:"label"`
}

// DialedNumber maps a DNIS to a call type (UCCE's dialed number plan).
type DialedNumber struct {
	Number   string `yaml:"number"`
	CallType string `yaml:"call_type"`
}

// CallType names a class of calls for reporting and picks its script.
type CallType struct {
	Name   string `yaml:"name"`
	Script string `yaml:"script"`
}

// SkillGroup is a named set of agents a call can be queued to.
type SkillGroup struct {
	Name string `yaml:"name"`
}

// Attribute is an agent attribute precision queues select on.
type Attribute struct {
	Name string `yaml:"name"`
	// Type is boolean or proficiency (an integer 1–10).
	Type string `yaml:"type"`
}

// Attribute types.
const (
	AttrBoolean     = "boolean"
	AttrProficiency = "proficiency"
)

// PrecisionQueue selects agents by attribute expressions in timed steps: a
// call starts at step 0 and, after each step's wait, widens to the next
// step while staying queued for the agents of the earlier ones.
type PrecisionQueue struct {
	Name  string   `yaml:"name"`
	Steps []PQStep `yaml:"steps"`
}

// PQStep is one step of a precision queue.
type PQStep struct {
	// Expr is a boolean expression over agent attributes,
	// e.g. `spanish >= 7 && sales`.
	Expr string `yaml:"expr"`
	// Wait is how long a call stays at this step before widening to the
	// next; the last step waits for ever and needs none.
	Wait Duration `yaml:"wait"`
	// ConsiderIf is an optional boolean expression over call data; when it
	// is false the step is skipped for that call.
	ConsiderIf string `yaml:"consider_if"`
}

// Agent is one agent's configuration (UCCE agent + agent desk settings).
type Agent struct {
	ID          string         `yaml:"id"`
	Name        string         `yaml:"name"`
	Extension   string         `yaml:"extension"`
	Password    string         `yaml:"password"`
	SkillGroups []string       `yaml:"skill_groups"`
	Attributes  map[string]any `yaml:"attributes"`
}

// ReasonCode is a code an agent gives going not ready, logging out or
// ending wrap-up.
type ReasonCode struct {
	Code  int    `yaml:"code"`
	Label string `yaml:"label"`
	// Kind is not_ready, logout or wrap_up.
	Kind string `yaml:"kind"`
}

// Reason code kinds.
const (
	ReasonNotReady = "not_ready"
	ReasonLogout   = "logout"
	ReasonWrapUp   = "wrap_up"
)

// Label is a named destination the call server understands.
type Label struct {
	Name string `yaml:"name"`
	// Kind is extension (a registered phone), server_group (a SIP server
	// group of the edge's dial plan) or network_vru (a VoiceXML gateway;
	// the call server appends the call's correlation id to Value).
	Kind  string `yaml:"kind"`
	Value string `yaml:"value"`
}

// Label kinds.
const (
	LabelExtension   = "extension"
	LabelServerGroup = "server_group"
	LabelNetworkVRU  = "network_vru"
)

// ECCVariable declares an expanded call context variable (UCCE's named
// call data): the name starts with "user.", values are at most MaxLength
// bytes (≤ 210) and an array has ArraySize elements.
type ECCVariable struct {
	Name      string `yaml:"name"`
	MaxLength int    `yaml:"max_length"`
	ArraySize int    `yaml:"array_size"`
}

// UCCE's limits on call data, kept so that a deployment moving between tandem
// and UCCE finds the same ceilings.
const (
	MaxECCValue  = 210  // bytes in one ECC value
	MaxECCTotal  = 2000 // bytes of all ECC variables together
	eccOverhead  = 5    // bytes UCCE counts per value on top of its length
	MaxCallVar   = 40   // bytes in one of call variables 1–10
	NumCallVars  = 10
	RONAReason   = 32767 // the not-ready reason UCCE gives after ring-no-answer
	maxPriority  = 10
	minPriority  = 1
	defaultPrio  = 5
	maxScriptRun = 1000 // nodes one script run may visit before it is a loop
)

// Duration is a YAML duration ("30s", "5m" or a bare number of seconds),
// the same type as the rest of tandem's configuration.
type Duration = field.Duration

// FieldError is one problem in the configuration, with its path
// (router.scripts[sales].nodes[q1].target).
type FieldError struct {
	Path string
	Msg  string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Msg }

// ConfigError gathers every problem found; New and Reload return it.
type ConfigError []FieldError

func (e ConfigError) Error() string {
	msgs := make([]string, len(e))
	for i, f := range e {
		msgs[i] = f.Error()
	}
	return "router: invalid configuration:\n  " + strings.Join(msgs, "\n  ")
}

// Unwrap lets errors.Is find ErrConfig.
func (e ConfigError) Unwrap() error { return ErrConfig }

// ParseConfig reads the router section from YAML; unknown keys are errors.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("router: config: %w", err)
	}
	return c, nil
}

// Validate checks the whole configuration and returns every problem found,
// each with its path. It compiles what it must to check (expressions,
// script graphs) and throws the result away; New keeps it.
func (c *Config) Validate() []FieldError {
	_, errs := compile(c)
	return errs
}

// problems collects field errors.
type problems struct{ errs []FieldError }

func (p *problems) add(path, format string, a ...any) {
	p.errs = append(p.errs, FieldError{Path: path, Msg: fmt.Sprintf(format, a...)})
}

// validateTables checks the flat parts of the config: names unique,
// references resolved, limits respected.
func (c *Config) validateTables(p *problems) {
	uniq := func(section string, names []string) map[string]bool {
		seen := make(map[string]bool, len(names))
		for i, n := range names {
			path := fmt.Sprintf("router.%s[%d].name", section, i)
			switch {
			case n == "":
				p.add(path, "a name is needed")
			case seen[n]:
				p.add(path, "duplicate name %q", n)
			}
			seen[n] = true
		}
		return seen
	}
	var names []string
	for _, s := range c.Scripts {
		names = append(names, s.Name)
	}
	scripts := uniq("scripts", names)
	names = names[:0]
	for _, ct := range c.CallTypes {
		names = append(names, ct.Name)
	}
	callTypes := uniq("call_types", names)
	names = names[:0]
	for _, sg := range c.SkillGroups {
		names = append(names, sg.Name)
	}
	skills := uniq("skill_groups", names)
	names = names[:0]
	for _, q := range c.PrecisionQueues {
		names = append(names, q.Name)
	}
	uniq("precision_queues", names)
	for _, q := range c.PrecisionQueues {
		if skills[q.Name] {
			p.add("router.precision_queues["+q.Name+"].name", "%q is also a skill group; queue names are shared", q.Name)
		}
	}
	names = names[:0]
	for _, l := range c.Labels {
		names = append(names, l.Name)
	}
	uniq("labels", names)
	names = names[:0]
	for _, a := range c.Attributes {
		names = append(names, a.Name)
	}
	uniq("attributes", names)

	seenDN := map[string]bool{}
	for i, dn := range c.DialedNumbers {
		path := fmt.Sprintf("router.dialed_numbers[%d]", i)
		if dn.Number == "" {
			p.add(path+".number", "a dialed number is needed")
		} else if seenDN[dn.Number] {
			p.add(path+".number", "duplicate dialed number %q", dn.Number)
		}
		seenDN[dn.Number] = true
		if !callTypes[dn.CallType] {
			p.add(path+".call_type", "unknown call type %q", dn.CallType)
		}
	}
	for _, ct := range c.CallTypes {
		if !scripts[ct.Script] {
			p.add("router.call_types["+ct.Name+"].script", "unknown script %q", ct.Script)
		}
	}
	for i, l := range c.Labels {
		path := fmt.Sprintf("router.labels[%s]", l.Name)
		if l.Name == "" {
			path = fmt.Sprintf("router.labels[%d]", i)
		}
		switch l.Kind {
		case LabelExtension, LabelServerGroup, LabelNetworkVRU:
		default:
			p.add(path+".kind", "unknown kind %q (want extension, server_group or network_vru)", l.Kind)
		}
		if l.Value == "" {
			p.add(path+".value", "a label needs a value")
		}
	}
	if tt := c.TransferTreatment; tt.VRUScript != "" || tt.Label != "" {
		found := false
		for _, l := range c.Labels {
			if l.Name == tt.Label {
				found = l.Kind == LabelNetworkVRU
			}
		}
		switch {
		case tt.VRUScript == "":
			p.add("router.transfer_treatment.vru_script", "required with a label")
		case !found:
			p.add("router.transfer_treatment.label", "%q is not a network_vru label", tt.Label)
		}
	}
	seenRC := map[int]bool{}
	for i, rc := range c.ReasonCodes {
		path := fmt.Sprintf("router.reason_codes[%d]", i)
		switch rc.Kind {
		case ReasonNotReady, ReasonLogout, ReasonWrapUp:
		default:
			p.add(path+".kind", "unknown kind %q (want not_ready, logout or wrap_up)", rc.Kind)
		}
		if rc.Code <= 0 || rc.Code >= RONAReason {
			p.add(path+".code", "code %d out of range (1–32766; 32767 is ring-no-answer)", rc.Code)
		}
		if seenRC[rc.Code] {
			p.add(path+".code", "duplicate code %d", rc.Code)
		}
		seenRC[rc.Code] = true
	}
	attrs := map[string]string{}
	for i, a := range c.Attributes {
		switch a.Type {
		case AttrBoolean, AttrProficiency:
		default:
			p.add(fmt.Sprintf("router.attributes[%d].type", i), "unknown type %q (want boolean or proficiency)", a.Type)
		}
		attrs[a.Name] = a.Type
	}
	seenAgent := map[string]bool{}
	seenExt := map[string]string{}
	for i, a := range c.Agents {
		path := fmt.Sprintf("router.agents[%s]", a.ID)
		if a.ID == "" {
			path = fmt.Sprintf("router.agents[%d]", i)
			p.add(path+".id", "an agent needs an id")
		} else if seenAgent[a.ID] {
			p.add(path+".id", "duplicate agent id %q", a.ID)
		}
		seenAgent[a.ID] = true
		if a.Extension != "" {
			if other, ok := seenExt[a.Extension]; ok {
				p.add(path+".extension", "extension %q is also agent %q's", a.Extension, other)
			}
			seenExt[a.Extension] = a.ID
		}
		for j, sg := range a.SkillGroups {
			if !skills[sg] {
				p.add(fmt.Sprintf("%s.skill_groups[%d]", path, j), "unknown skill group %q", sg)
			}
		}
		keys := make([]string, 0, len(a.Attributes))
		for k := range a.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := a.Attributes[k]
			ap := path + ".attributes." + k
			switch attrs[k] {
			case "":
				p.add(ap, "unknown attribute %q", k)
			case AttrBoolean:
				if _, ok := v.(bool); !ok {
					p.add(ap, "want true or false, have %v", v)
				}
			case AttrProficiency:
				n, ok := v.(int)
				if !ok || n < 1 || n > 10 {
					p.add(ap, "want a proficiency 1–10, have %v", v)
				}
			}
		}
	}
	total := 0
	seenECC := map[string]bool{}
	for i, v := range c.ECCVariables {
		path := fmt.Sprintf("router.ecc_variables[%d]", i)
		if !strings.HasPrefix(v.Name, "user.") || len(v.Name) == len("user.") {
			p.add(path+".name", "ECC variable %q must be named user.<something>", v.Name)
		}
		if seenECC[v.Name] {
			p.add(path+".name", "duplicate ECC variable %q", v.Name)
		}
		seenECC[v.Name] = true
		if v.MaxLength < 1 || v.MaxLength > MaxECCValue {
			p.add(path+".max_length", "max_length %d out of range (1–%d bytes)", v.MaxLength, MaxECCValue)
		}
		if v.ArraySize < 0 || v.ArraySize > 255 {
			p.add(path+".array_size", "array_size %d out of range (0 for a scalar, up to 255)", v.ArraySize)
		}
		n := max(v.ArraySize, 1)
		total += n * (v.MaxLength + eccOverhead)
	}
	if total > MaxECCTotal {
		p.add("router.ecc_variables", "ECC variables take %d bytes, more than UCCE's %d (each value counts its max_length plus %d)", total, MaxECCTotal, eccOverhead)
	}
	if c.RingNoAnswer < 0 {
		p.add("router.ring_no_answer", "must not be negative")
	}
	if c.WrapUp < 0 {
		p.add("router.wrap_up", "must not be negative")
	}
}

// withDefaults returns c with named defaults filled in.
func (c Config) withDefaults() Config {
	if c.RingNoAnswer == 0 {
		// UCCE's usual agent desk setting: long enough for a person to
		// reach the phone, short enough that the caller is not kept ringing.
		c.RingNoAnswer = Duration(12 * time.Second)
	}
	return c
}
