package router

import (
	"fmt"
	"sort"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// compiled is one immutable, checked version of the configuration. The
// engine swaps the whole of it on reload; calls keep the script versions
// they started with.
type compiled struct {
	cfg       Config
	numbers   map[string]*compiledCallType
	scripts   map[string]*compiledScript
	queues    map[QueueName]*queueDef
	agents    map[AgentID]*agentDef
	labels    map[string]Label
	reasons   map[int]ReasonCode
	ecc       map[string]ECCVariable
	queueList []QueueName // sorted, for stable iteration
}

type compiledCallType struct {
	name   string
	script *compiledScript
}

// queueDef is a skill group (one step, no wait) or a precision queue.
type queueDef struct {
	name  QueueName
	pq    bool
	steps []stepDef
}

// stepDef is one selection target: a skill group, or one step of a
// precision queue. Its key names the engine's target.
type stepDef struct {
	key        string
	wait       time.Duration
	considerIf *vm.Program
}

type agentDef struct {
	cfg     Agent
	targets []string // keys of the targets the agent qualifies for
}

func stepKey(q string, i int, pq bool) string {
	if !pq {
		return q
	}
	return fmt.Sprintf("%s#%d", q, i+1)
}

// compile checks c and builds its runtime form. It returns every problem;
// the result is only usable when there are none.
func compile(c *Config) (*compiled, []FieldError) {
	p := &problems{}
	c.validateTables(p)
	cc := c.withDefaults()
	out := &compiled{
		cfg:     cc,
		numbers: map[string]*compiledCallType{},
		scripts: map[string]*compiledScript{},
		queues:  map[QueueName]*queueDef{},
		agents:  map[AgentID]*agentDef{},
		labels:  map[string]Label{},
		reasons: map[int]ReasonCode{},
		ecc:     map[string]ECCVariable{},
	}
	for _, l := range c.Labels {
		out.labels[l.Name] = l
	}
	for _, rc := range c.ReasonCodes {
		out.reasons[rc.Code] = rc
	}
	for _, v := range c.ECCVariables {
		out.ecc[v.Name] = v
	}
	for _, sg := range c.SkillGroups {
		out.queues[QueueName(sg.Name)] = &queueDef{name: QueueName(sg.Name), steps: []stepDef{{key: sg.Name}}}
	}
	// Agent attributes: the environment precision-queue expressions see.
	attrEnv := map[string]any{}
	for _, a := range c.Attributes {
		if a.Type == AttrBoolean {
			attrEnv[a.Name] = false
		} else {
			attrEnv[a.Name] = 0
		}
	}
	type pqExpr struct {
		key  string
		prog *vm.Program
	}
	var pqExprs []pqExpr
	callEnv := callDataEnv()
	for _, q := range c.PrecisionQueues {
		base := "router.precision_queues[" + q.Name + "]"
		d := &queueDef{name: QueueName(q.Name), pq: true}
		if len(q.Steps) == 0 {
			p.add(base+".steps", "a precision queue needs at least one step")
		}
		for i, s := range q.Steps {
			sp := fmt.Sprintf("%s.steps[%d]", base, i)
			sd := stepDef{key: stepKey(q.Name, i, true), wait: s.Wait.D()}
			prog, err := expr.Compile(s.Expr, expr.Env(attrEnv), expr.AsBool())
			if s.Expr == "" {
				p.add(sp+".expr", "a step needs an expression over agent attributes")
			} else if err != nil {
				p.add(sp+".expr", "%v", firstLine(err.Error()))
			} else {
				pqExprs = append(pqExprs, pqExpr{sd.key, prog})
			}
			if s.ConsiderIf != "" {
				sd.considerIf, err = expr.Compile(s.ConsiderIf, expr.Env(callEnv), expr.AsBool())
				if err != nil {
					p.add(sp+".consider_if", "%v", firstLine(err.Error()))
				}
			}
			if i < len(q.Steps)-1 && s.Wait <= 0 {
				p.add(sp+".wait", "every step but the last needs a positive wait")
			}
			d.steps = append(d.steps, sd)
		}
		out.queues[d.name] = d
	}
	for name := range out.queues {
		out.queueList = append(out.queueList, name)
	}
	sort.Slice(out.queueList, func(i, j int) bool { return out.queueList[i] < out.queueList[j] })
	for _, a := range c.Agents {
		d := &agentDef{cfg: a}
		for _, sg := range a.SkillGroups {
			if _, ok := out.queues[QueueName(sg)]; ok {
				d.targets = append(d.targets, sg)
			}
		}
		// Membership in precision-queue steps is decided here, once per
		// load, so selection never evaluates an expression.
		env := make(map[string]any, len(attrEnv))
		for k, v := range attrEnv {
			env[k] = v
		}
		for k, v := range a.Attributes {
			env[k] = v
		}
		for _, pe := range pqExprs {
			ok, err := expr.Run(pe.prog, env)
			if err != nil {
				p.add("router.agents["+a.ID+"].attributes", "precision queue step %s: %v", pe.key, err)
				continue
			}
			if ok == true {
				d.targets = append(d.targets, pe.key)
			}
		}
		out.agents[AgentID(a.ID)] = d
	}
	queueExists := func(name string) (bool, bool) {
		d, ok := out.queues[QueueName(name)]
		return ok && d.pq, ok
	}
	for _, s := range c.Scripts {
		out.scripts[s.Name] = compileScript(s, queueExists, out.labels, out.ecc, p)
	}
	cts := map[string]*compiledCallType{}
	for _, ct := range c.CallTypes {
		cts[ct.Name] = &compiledCallType{name: ct.Name, script: out.scripts[ct.Script]}
	}
	for _, dn := range c.DialedNumbers {
		if ct, ok := cts[dn.CallType]; ok && ct.script != nil {
			out.numbers[dn.Number] = ct
		}
	}
	return out, p.errs
}
