package vxml

import (
	"fmt"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// Scope is one level of the VoiceXML variable scope chain (spec 5.1.2):
// session → application → document → dialog → anonymous. Each scope is a real
// ECMAScript object; a variable declared in a scope is a property of that object,
// and expressions are evaluated inside nested `with` statements so that lookups
// walk outward from the innermost scope exactly as the spec describes.
type Scope struct {
	Name   string
	Obj    *goja.Object
	Parent *Scope
}

// chain returns the scopes from outermost to innermost.
func (s *Scope) chain() []*Scope {
	var out []*Scope
	for x := s; x != nil; x = x.Parent {
		out = append(out, x)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Script limits: a document's script must not hang or exhaust the gateway that
// runs hundreds of sessions, so every evaluation runs under a watchdog.
const (
	defaultScriptTimeout = time.Second
	defaultScriptHeap    = 64 << 20 // bytes of heap growth allowed per evaluation
)

// engine owns one goja runtime per session. goja runtimes are not goroutine
// safe; the session goroutine is the only user.
type engine struct {
	rt      *goja.Runtime
	progs   map[string]*goja.Program
	timeout time.Duration
	heap    uint64
	spent   time.Duration // script time since the session last waited for the caller
}

func newEngine() *engine {
	rt := goja.New()
	return &engine{rt: rt, progs: map[string]*goja.Program{}, timeout: defaultScriptTimeout, heap: defaultScriptHeap}
}

// NewScope creates a scope object below parent. The scope's own name is bound
// inside it (application.x, document.x, dialog.x) so qualified names work.
func (e *engine) NewScope(name string, parent *Scope) *Scope {
	o := e.rt.NewObject()
	s := &Scope{Name: name, Obj: o, Parent: parent}
	if name != "" && name != "anonymous" {
		o.Set(name, o)
	}
	return s
}

func (e *engine) compile(src string) (*goja.Program, error) {
	if p, ok := e.progs[src]; ok {
		return p, nil
	}
	p, err := goja.Compile("", src, false)
	if err != nil {
		return nil, err
	}
	if len(e.progs) > 4096 { // bound the cache; documents are finite but sessions are long
		e.progs = map[string]*goja.Program{}
	}
	e.progs[src] = p
	return p, nil
}

// withChain builds "with(__vxs0)with(__vxs1)..." and binds the scope objects.
func (e *engine) withChain(s *Scope) string {
	var b strings.Builder
	for i, sc := range s.chain() {
		name := "__vxs" + strconv.Itoa(i)
		e.rt.Set(name, sc.Obj)
		b.WriteString("with(" + name + ")")
	}
	return b.String()
}

// run executes a program under the time and memory watchdog. The watchdog is
// a timer that first fires after watchdogTick: almost every evaluation ends
// before that, so the common case costs one timer and no goroutine.
func (e *engine) run(p *goja.Program) (v goja.Value, err error) {
	var mu sync.Mutex // orders Interrupt against the end of this run
	done := false
	start, heap0 := time.Now(), heapBytes()
	var t *time.Timer
	mu.Lock() // the callback reads t under mu; hold it until t is assigned
	t = time.AfterFunc(watchdogTick, func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		if time.Since(start) > e.timeout {
			e.rt.Interrupt(fmt.Sprintf("script ran longer than %v", e.timeout))
			return
		}
		// The heap is the whole process's: other sessions allocate too. Only a
		// script that has already run for a while is suspected, which keeps
		// ordinary short scripts clear of false alarms under load.
		if h := heapBytes(); time.Since(start) > heapCheckAfter && h > heap0 && h-heap0 > e.heap {
			e.rt.Interrupt(fmt.Sprintf("script grew the heap by more than %d MiB", e.heap>>20))
			return
		}
		t.Reset(watchdogTick)
	})
	mu.Unlock()
	defer func() {
		mu.Lock()
		done = true
		mu.Unlock()
		t.Stop()
		e.spent += time.Since(start)
		// An interrupt that arrived after the program finished must not
		// leak into the next evaluation.
		e.rt.ClearInterrupt()
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic: %v", errScript, r)
		}
	}()
	v, err = e.rt.RunProgram(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errScript, err)
	}
	return v, nil
}

// heapCheckAfter is how long a script runs before its heap growth counts.
const heapCheckAfter = 50 * time.Millisecond

// watchdogTick is how often a long-running script's time and heap are checked.
const watchdogTick = 10 * time.Millisecond

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return s[0].Value.Uint64()
	}
	return 0
}

// Eval evaluates an ECMAScript expression in scope s.
func (e *engine) Eval(s *Scope, expr string) (goja.Value, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, fmt.Errorf("%w: empty expression", errScript)
	}
	src := "(function(){" + e.withChain(s) + "{return (" + expr + "\n);}})()"
	p, err := e.compile(src)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", errScript, expr, err)
	}
	return e.run(p)
}

// EvalString evaluates expr and converts the result with ECMAScript ToString.
func (e *engine) EvalString(s *Scope, expr string) (string, error) {
	v, err := e.Eval(s, expr)
	if err != nil {
		return "", err
	}
	return jsString(v), nil
}

// EvalBool evaluates a cond attribute with ECMAScript ToBoolean.
func (e *engine) EvalBool(s *Scope, expr string) (bool, error) {
	v, err := e.Eval(s, expr)
	if err != nil {
		return false, err
	}
	return v != nil && v.ToBoolean(), nil
}

func jsString(v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	return v.String()
}

// Declare creates (or re-initialises) variable name in scope s (<var>, form item
// variables): the property lives on that scope's object, shadowing outer ones.
func (e *engine) Declare(s *Scope, name string, v goja.Value) error {
	if !validIdent(name) {
		return fmt.Errorf("%w: invalid variable name %q", errScript, name)
	}
	if v == nil {
		v = goja.Undefined()
	}
	return s.Obj.Set(name, v)
}

// Assign sets an existing variable, found by walking the chain from s outward
// (<assign>); an undeclared variable is error.semantic (spec 5.3.2).
func (e *engine) Assign(s *Scope, name string, v goja.Value) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return fmt.Errorf("%w: assign without a name", errScript)
	}
	if !strings.ContainsAny(name, ".[") {
		for x := s; x != nil; x = x.Parent {
			if hasOwn(x.Obj, name) {
				return x.Obj.Set(name, v)
			}
		}
		return fmt.Errorf("%w: assign to undeclared variable %q", errScript, name)
	}
	// A scope-qualified name (application.x) must name a declared variable of
	// that scope, like an unqualified one.
	if head, rest, ok := strings.Cut(name, "."); ok {
		switch head {
		case "session", "application", "document", "dialog":
			v, err := e.Eval(s, head)
			if err != nil {
				return err
			}
			field, _, _ := strings.Cut(rest, ".")
			if o, isObj := v.(*goja.Object); isObj && !strings.ContainsAny(field, "[") && !hasOwn(o, field) {
				return fmt.Errorf("%w: assign to undeclared variable %q", errScript, name)
			}
		}
	}
	// Qualified names (application.x, obj.field) resolve their base through the
	// chain and then set the property.
	e.rt.Set("__vxval", v)
	src := "(function(){" + e.withChain(s) + "{" + name + " = __vxval;}})()"
	p, err := e.compile(src)
	if err != nil {
		return fmt.Errorf("%w: assign %q: %v", errScript, name, err)
	}
	_, err = e.run(p)
	return err
}

func hasOwn(o *goja.Object, name string) bool {
	for _, k := range o.Keys() {
		if k == name {
			return true
		}
	}
	return false
}

// Lookup returns a variable's value by walking the chain, or nil if undeclared.
func (e *engine) Lookup(s *Scope, name string) goja.Value {
	for x := s; x != nil; x = x.Parent {
		if hasOwn(x.Obj, name) {
			return x.Obj.Get(name)
		}
	}
	return nil
}

// Exec runs a <script> body in scope s. Variables and functions the script
// declares at top level must live in s (spec 5.3.12), so their names are
// pre-declared on the scope object, the script runs inside the with-chain (its
// var initialisers resolve to the scope property) and function declarations are
// copied to the scope afterwards.
func (e *engine) Exec(s *Scope, src string) error {
	prog, err := parser.ParseFile(nil, "", src, 0)
	if err != nil {
		return fmt.Errorf("%w: script: %v", errScript, err)
	}
	var funcs []string
	for _, d := range prog.DeclarationList {
		for _, b := range d.List {
			if id, ok := b.Target.(*ast.Identifier); ok {
				n := string(id.Name)
				if !hasOwn(s.Obj, n) {
					s.Obj.Set(n, goja.Undefined())
				}
			}
		}
	}
	for _, st := range prog.Body {
		if fd, ok := st.(*ast.FunctionDeclaration); ok && fd.Function.Name != nil {
			n := string(fd.Function.Name.Name)
			funcs = append(funcs, n)
			if !hasOwn(s.Obj, n) {
				s.Obj.Set(n, goja.Undefined())
			}
		}
	}
	e.rt.Set("__vxtarget", s.Obj)
	var tail strings.Builder
	for _, f := range funcs {
		tail.WriteString("\n;__vxtarget." + f + "=" + f + ";")
	}
	full := "(function(){" + e.withChain(s) + "{" + src + tail.String() + "\n}})()"
	p, err := e.compile(full)
	if err != nil {
		return fmt.Errorf("%w: script: %v", errScript, err)
	}
	_, err = e.run(p)
	return err
}

func validIdent(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}
