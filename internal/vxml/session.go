package vxml

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/tandem-cc/tandem/internal/event"
)

// SessionInfo is what the gateway knows about the call when it starts a session;
// it becomes the session.* variables (spec 5.1.4).
type SessionInfo struct {
	CallID     event.CallID      // global call id, carried on every log line
	LocalURI   string            // session.connection.local.uri (the dialed URI)
	RemoteURI  string            // session.connection.remote.uri (the caller)
	Protocol   string            // session.connection.protocol.name; "sip" by default
	RequestURI string            // session.connection.protocol.sip.requesturi
	Headers    map[string]string // SIP headers, session.connection.protocol.sip.headers
	AAI        string            // application-to-application info (UUI)
	Redirect   []string          // redirecting URIs, most recent first
}

// Config is a session's configuration.
type Config struct {
	Platform Platform
	Fetcher  Fetcher // NewHTTPFetcher(nil) if nil
	Logger   *slog.Logger
	// Events, if set, receives session start/end and every thrown VoiceXML
	// event, under Session.CallID.
	Events event.Sink
	// OnStep, if set, is called after each visit of a form item that
	// collects input (see Step), from the session's goroutine.
	OnStep  func(Step)
	Session SessionInfo
	// ScriptTimeout bounds each ECMAScript evaluation (default 1 s).
	ScriptTimeout time.Duration
	// MaxTransitions bounds FIA iterations plus document transitions between
	// two waits for the caller, so a document that loops forever without
	// input ends (error.semantic) instead of spinning; a long call that keeps
	// talking to the caller never reaches it. Default 5000.
	MaxTransitions int
}

// Outcome is how a session ended.
type Outcome struct {
	// Reason is "exit" (<exit>), "end" (ran out of dialogs), "hangup" (caller
	// hung up or <disconnect>), "transfer" (blind transfer), or "error"
	// (an uncaught error event, or a platform failure).
	Reason  string
	Event   string // the uncaught event, if Reason is "error"
	Message string
	Value   any // <exit expr> value
}

func (o Outcome) String() string {
	if o.Event != "" {
		return fmt.Sprintf("%s: %s: %s", o.Reason, o.Event, o.Message)
	}
	return o.Reason
}

// document is a loaded VoiceXML document.
type document struct {
	uri    string    // absolute URI without fragment
	root   *Node     // <vxml>
	base   string    // base URI for relative references
	appURI string    // absolute URI of its application root, "" if none
	root0  *document // its application root, when fetched ahead by the transition
}

// appCtx is one application: its root document and application scope, kept
// while the caller moves between leaf documents of the same root (spec 1.5.2).
type appCtx struct {
	uri   string
	root  *document
	scope *Scope
}

// execCtx is one execution context: the caller's main one or a subdialog's.
type execCtx struct {
	app      *appCtx
	doc      *document
	docScope *Scope
	params   map[string]goja.Value // subdialog <param>s for the first form
	pending  *Result               // input matched by a document grammar, for the form it leads to
}

// Session runs one VoiceXML session. It is owned by the goroutine calling Run.
type Session struct {
	cfg      Config
	ctx      context.Context
	log      *slog.Logger
	e        *engine
	session  *Scope
	prompts  []PromptItem // the prompt queue, played at the next wait (spec 4.1.8)
	steps    int
	hungUp   bool
	lastMark string
	depth    int                // subdialog nesting
	curApp   *Scope             // application scope of the running context
	grammars map[*Node]*Grammar // compiled inline and src grammars
	// stepInput is what the item being visited got, for Config.OnStep.
	stepInput string
}

// Validate reports every problem with the configuration, each with its path.
func (c Config) Validate() error {
	var errs []error
	if c.Platform == nil {
		errs = append(errs, ErrNoPlatform)
	}
	if c.ScriptTimeout < 0 {
		errs = append(errs, fmt.Errorf("vxml.scriptTimeout: negative (%v)", c.ScriptTimeout))
	}
	if c.MaxTransitions < 0 {
		errs = append(errs, fmt.Errorf("vxml.maxTransitions: negative (%d)", c.MaxTransitions))
	}
	return errors.Join(errs...)
}

// NewSession prepares a session; Run executes it.
func NewSession(cfg Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Fetcher == nil {
		cfg.Fetcher = NewHTTPFetcher(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxTransitions <= 0 {
		cfg.MaxTransitions = 5000
	}
	s := &Session{cfg: cfg, log: cfg.Logger.With("call", string(cfg.Session.CallID)), e: newEngine(), grammars: map[*Node]*Grammar{}}
	if cfg.ScriptTimeout > 0 {
		s.e.timeout = cfg.ScriptTimeout
	}
	s.session = s.e.NewScope("session", nil)
	s.initSessionVars()
	return s, nil
}

func (s *Session) initSessionVars() {
	rt := s.e.rt
	si := s.cfg.Session
	proto := si.Protocol
	if proto == "" {
		proto = "sip"
	}
	conn := rt.NewObject()
	local := rt.NewObject()
	local.Set("uri", si.LocalURI)
	remote := rt.NewObject()
	remote.Set("uri", si.RemoteURI)
	conn.Set("local", local)
	conn.Set("remote", remote)
	p := rt.NewObject()
	p.Set("name", proto)
	sip := rt.NewObject()
	sip.Set("requesturi", si.RequestURI)
	h := rt.NewObject()
	for k, v := range si.Headers {
		h.Set(strings.ToLower(k), v)
	}
	sip.Set("headers", h)
	p.Set(proto, sip)
	conn.Set("protocol", p)
	conn.Set("aai", si.AAI)
	conn.Set("originator", remote)
	red := rt.NewArray()
	for i, r := range si.Redirect {
		o := rt.NewObject()
		o.Set("uri", r)
		red.Set(fmt.Sprint(i), o)
	}
	conn.Set("redirect", red)
	s.session.Obj.Set("connection", conn)
}

// Run fetches uri and interprets it until the session ends. A Session runs
// once. A non-nil error
// means the session could not run at all or the platform failed; document
// errors end the session with Outcome.Reason "error".
func (s *Session) Run(ctx context.Context, uri string) (out Outcome, err error) {
	if s.ctx != nil {
		return Outcome{Reason: "error"}, ErrSessionReused
	}
	s.ctx = ctx
	s.emit(KindSessionStarted, "", uri)
	defer func() { s.emit(KindSessionEnded, out.String(), uri) }()
	return s.run(uri)
}

func (s *Session) run(uri string) (Outcome, error) {
	doc, err := s.loadDocument(uri, FetchRequest{URI: uri, MaxAge: -1, MaxStale: -1})
	if err != nil {
		return s.outcomeOf(err)
	}
	ec, err := s.enterDocument(nil, doc, nil, false)
	if err != nil {
		if ec == nil {
			return s.outcomeOf(err)
		}
		if err = s.docInitFailed(ec, err); err != nil {
			ret, done, rerr := s.transition(&ec, err)
			if done {
				if ret != nil {
					rerr = ret
				}
				return s.outcomeOf(rerr)
			}
			_, err = s.runContext(ec, next2dialog(rerr))
			return s.outcomeOf(err)
		}
	}
	_, err = s.runContext(ec, fragment(uri))
	return s.outcomeOf(err)
}

func (s *Session) outcomeOf(err error) (Outcome, error) {
	var ex *ctlExit
	var ev *ctlEvent
	var un *ctlUncaught
	switch {
	case err == nil:
		return Outcome{Reason: "end"}, nil
	case errors.As(err, &un):
		return Outcome{Reason: "error", Event: un.ev.name, Message: un.ev.msg}, nil
	case errors.As(err, &ex):
		var v any
		if ex.value != nil {
			v = ex.value.Export()
		}
		return Outcome{Reason: ex.reason, Value: v}, nil
	case errors.As(err, &ev):
		if strings.HasPrefix(ev.name, "connection.disconnect") {
			return Outcome{Reason: "hangup", Event: ev.name, Message: ev.msg}, nil
		}
		return Outcome{Reason: "error", Event: ev.name, Message: ev.msg}, nil
	case errors.Is(err, ErrTooManyTransitions):
		return Outcome{Reason: "error", Event: "error.semantic", Message: err.Error()}, nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Outcome{Reason: "hangup", Message: err.Error()}, err
	}
	var r *ctlReturn
	if errors.As(err, &r) {
		return Outcome{Reason: "error", Event: "error.semantic", Message: "<return> outside a subdialog"}, nil
	}
	return Outcome{Reason: "error", Message: err.Error()}, err
}

func fragment(uri string) string {
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		return uri[i+1:]
	}
	return ""
}

func stripFragment(uri string) string {
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		return uri[:i]
	}
	return uri
}

// scriptBudgetFactor times ScriptTimeout is the script time allowed between
// two waits for the caller.
const scriptBudgetFactor = 10

// tick counts one step of interpretation and enforces MaxTransitions.
func (s *Session) tick() error {
	s.steps++
	if s.steps > s.cfg.MaxTransitions {
		return fmt.Errorf("vxml: %w (%d)", ErrTooManyTransitions, s.cfg.MaxTransitions)
	}
	// Many scripts each just under the per-script limit must not hold the
	// call either: bound the script time between two waits.
	if budget := scriptBudgetFactor * s.e.timeout; s.e.spent > budget {
		return fmt.Errorf("vxml: %w: more than %v of script time", ErrTooManyTransitions, budget)
	}
	return s.ctx.Err()
}

// loadDocument fetches and parses a VoiceXML document (and checks its shape).
// Failures are error.badfetch events (spec 5.2.6), with the HTTP status when
// there is one.
func (s *Session) loadDocument(uri string, req FetchRequest) (*document, error) {
	req.URI = stripFragment(uri)
	if req.Timeout == 0 {
		req.Timeout = 30 * time.Second
	}
	res, err := s.cfg.Fetcher.Fetch(s.ctx, req)
	if err != nil {
		return nil, fetchEvent(err)
	}
	root, err := ParseXML(res.Body)
	if err != nil {
		return nil, throw("error.badfetch", "%s: %v", req.URI, err)
	}
	if root.Name != "vxml" {
		return nil, throw("error.badfetch", "%s: root element is <%s>, not <vxml>", req.URI, root.Name)
	}
	if err := validate(root); err != nil {
		return nil, throw("error.badfetch", "%s: %v", req.URI, err)
	}
	final := res.URI
	if final == "" {
		final = req.URI
	}
	d := &document{uri: stripFragment(final), root: root, base: stripFragment(final)}
	if b := root.Attr("base"); b != "" {
		if abs, err := ResolveURI(d.uri, b); err == nil {
			d.base = abs
		}
	}
	if app := root.Attr("application"); app != "" {
		abs, err := ResolveURI(d.base, app)
		if err == nil {
			err = checkScheme(d.base, abs)
		}
		if err != nil {
			return nil, throw("error.badfetch", "%s: application: %v", req.URI, err)
		}
		d.appURI = stripFragment(abs)
	}
	return d, nil
}

func fetchEvent(err error) *ctlEvent {
	var ev *ctlEvent
	if errors.As(err, &ev) {
		return ev
	}
	var he *HTTPStatusError
	if errors.As(err, &he) {
		return throw(fmt.Sprintf("error.badfetch.http.%d", he.Code), "%v", err)
	}
	return throw("error.badfetch", "%v", err)
}

// enterDocument sets up the scopes for doc (spec 1.5.2 and 5.1.2). The
// application scope is the root document's context; the transitions of spec
// 1.5.2 decide whether it carries on:
//
//   - leaf to leaf of the same root: preserved;
//   - leaf to its own root by <goto> (or link, choice): preserved, the loaded
//     root becomes the document;
//   - leaf to its own root by <submit>: the root is fetched again and its
//     context initialised (W3C IR assertion 74);
//   - root to a leaf naming it: preserved, the root's document scope becomes
//     the application scope;
//   - root to root (itself included, assertion 75) and to a leaf of another
//     root: a new application, initialised afresh.
//
// submit says a <submit> asked for the transition.
func (s *Session) enterDocument(prev *execCtx, doc *document, params map[string]goja.Value, submit bool) (*execCtx, error) {
	var app *appCtx
	inLeaf := prev != nil && prev.app.uri != "" && prev.doc != prev.app.root
	switch {
	case inLeaf && doc.appURI == prev.app.uri:
		app = prev.app
	case inLeaf && doc.uri == prev.app.uri && !submit:
		// Leaf to its own root: the root stays loaded and becomes the document.
		app = prev.app
		ec := &execCtx{app: app, doc: app.root, docScope: app.scope, params: params}
		return ec, nil
	case prev != nil && !inLeaf && doc.appURI != "" && doc.appURI == prev.doc.uri:
		// Root to leaf: the document being left is the new document's root,
		// so its variables carry on as the application's (spec 1.5.2).
		prev.docScope.Obj.Set("application", prev.docScope.Obj)
		app = &appCtx{uri: prev.doc.uri, root: prev.doc, scope: prev.docScope}
	default:
		app = &appCtx{uri: doc.appURI, scope: s.e.NewScope("application", s.session)}
		if doc.appURI != "" {
			root := doc.root0
			if root == nil {
				var err error
				if root, err = s.loadDocument(doc.appURI, FetchRequest{MaxAge: -1, MaxStale: -1}); err != nil {
					return nil, err
				}
			}
			if root.appURI != "" {
				return nil, throw("error.badfetch", "%s: an application root may not name its own root", root.uri)
			}
			app.root = root
			rootEC := &execCtx{app: app, doc: root, docScope: app.scope}
			if err := s.initVars(rootEC); err != nil {
				return rootEC, err
			}
		}
	}
	ec := &execCtx{app: app, doc: doc, params: params}
	ec.docScope = s.e.NewScope("document", app.scope)
	if err := s.initVars(ec); err != nil {
		return ec, err
	}
	return ec, nil
}

// initVars runs the document-level <var> and <script> elements in document
// order (spec 5.3.1).
func (s *Session) initVars(ec *execCtx) error {
	fc := &formCtx{ec: ec, counts: map[string]int{}}
	for _, c := range ec.doc.root.Elements() {
		if c.Name == "var" || c.Name == "script" {
			if err := s.execOne(fc, c, ec.docScope); err != nil {
				return err
			}
		}
	}
	return nil
}

// runContext runs dialogs of one execution context until it leaves: it returns
// the <return> of a subdialog, or an exit/uncaught event as error.
func (s *Session) runContext(ec *execCtx, dialog string) (*ctlReturn, error) {
	for {
		if err := s.tick(); err != nil {
			return nil, err
		}
		d := findDialog(ec.doc.root, dialog)
		if d == nil {
			// A missing dialog is a badfetch thrown at document level.
			err := s.handleDocEvent(ec, throw("error.badfetch", "%s: no dialog %q", ec.doc.uri, dialog))
			if err == nil {
				return nil, s.endOfDocument()
			}
			next, done, rerr := s.transition(&ec, err)
			if done {
				return next, rerr
			}
			dialog = next2dialog(rerr)
			continue
		}
		var err error
		if d.Name == "menu" {
			err = s.runMenu(ec, d)
		} else {
			err = s.runForm(ec, d)
		}
		if err == nil {
			// The form ran out of items with no transition: the session ends
			// (spec 2.1.6.1, "no ... transition, the interpreter exits").
			return nil, s.endOfDocument()
		}
		ret, done, rerr := s.transition(&ec, err)
		if done {
			return ret, rerr
		}
		dialog = next2dialog(rerr)
	}
}

// next2dialog carries the chosen dialog id out of transition.
type nextDialog string

func (n nextDialog) Error() string { return "next dialog " + string(n) }

func next2dialog(err error) string {
	var n nextDialog
	errors.As(err, &n)
	return string(n)
}

// transition applies a control result from a dialog. done is true when the
// context is finished (return, exit, uncaught event).
func (s *Session) transition(ec **execCtx, err error) (*ctlReturn, bool, error) {
	var g *ctlGoto
	var r *ctlReturn
	switch {
	case errors.As(err, &g):
		if g.doc != nil {
			next, err := s.enterDocument(*ec, g.doc, nil, g.submit)
			if err != nil {
				if next == nil {
					return nil, true, err
				}
				// Errors while initialising the new document are thrown in it.
				*ec = next
				if err = s.docInitFailed(next, err); err != nil {
					return s.transition(ec, err)
				}
			}
			*ec = next
		}
		return nil, false, nextDialog(g.dialog)
	case errors.As(err, &r):
		return r, true, nil
	}
	return nil, true, err
}

func (s *Session) endOfDocument() error {
	if err := s.flush(); err != nil {
		return err
	}
	return &ctlExit{reason: "end"}
}

// flush plays queued prompts without collecting input.
func (s *Session) flush() error {
	if len(s.prompts) == 0 {
		return nil
	}
	p := s.prompts
	s.prompts = nil
	// After a hang-up the platform drops audio; prompts still go to it so a
	// text platform can show what a handler would have said.
	if err := s.cfg.Platform.Play(s.ctx, p); err != nil {
		if errors.Is(err, ErrHangup) {
			s.hungUp = true
			return throw("connection.disconnect.hangup", "caller hung up during prompts")
		}
		return err
	}
	return nil
}

func findDialog(root *Node, id string) *Node {
	for _, c := range root.Elements() {
		if c.Name != "form" && c.Name != "menu" {
			continue
		}
		if id == "" || c.Attr("id") == id {
			return c
		}
	}
	return nil
}

// docInitFailed handles an event raised while initialising a document's
// variables: the document's own handlers see it. nil means handled with no
// transition, so the document's first dialog runs.
func (s *Session) docInitFailed(ec *execCtx, err error) error {
	var ev *ctlEvent
	if !errors.As(err, &ev) {
		return err
	}
	err = s.handleDocEvent(ec, ev)
	var rp *ctlReprompt
	if errors.As(err, &rp) {
		return nil
	}
	return err
}

// handleDocEvent handles an event thrown outside any form (document and
// application scope catches, then the platform default).
func (s *Session) handleDocEvent(ec *execCtx, ev *ctlEvent) error {
	fc := &formCtx{ec: ec, counts: map[string]int{}}
	return s.handleEvent(fc, nil, ev)
}

// resolve makes ref absolute against the document base.
func (ec *execCtx) resolve(ref string) (string, error) {
	abs, err := ResolveURI(ec.doc.base, ref)
	if err != nil {
		return "", err
	}
	return abs, checkScheme(ec.doc.base, abs)
}

// isSameDocRef reports whether ref only names a fragment of the current document.
func isSameDocRef(ref string) bool {
	return strings.HasPrefix(strings.TrimSpace(ref), "#")
}

// encodeValues converts JS values for a namelist into form values.
// Recordings (ArrayBuffers) go to files, to be sent as multipart file parts.
func (s *Session) encodeValues(sc *Scope, names string) (url.Values, map[string][]byte, error) {
	vals := url.Values{}
	var files map[string][]byte
	for _, n := range strings.Fields(names) {
		v, err := s.e.Eval(sc, n)
		if err != nil {
			return nil, nil, err
		}
		if v != nil {
			if ab, ok := v.Export().(goja.ArrayBuffer); ok {
				if files == nil {
					files = map[string][]byte{}
				}
				files[n] = ab.Bytes()
				continue
			}
		}
		vals.Set(n, jsString(v))
	}
	return vals, files, nil
}

// checkScheme refuses file: URIs named by documents that came from the
// network: a remote application must not read the gateway's disk (and then
// submit what it read).
func checkScheme(base, target string) error {
	if strings.HasPrefix(target, "file:") && (strings.HasPrefix(base, "http:") || strings.HasPrefix(base, "https:")) {
		return fmt.Errorf("%w: %s named by %s", ErrFileFromRemote, target, base)
	}
	return nil
}
