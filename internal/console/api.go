package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/router"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// Health is what the health page shows: each role, the SIP peers and
// the process. The process (node) fills it; JSON keys follow the Go names
// of the sipedge types it embeds.
type Health struct {
	Roles           []RoleHealth           `json:"roles"`
	ServerGroups    []sipedge.GroupHealth  `json:"server_groups"`
	Registrations   []sipedge.Registration `json:"registrations"`
	Trunks          []Trunk                `json:"trunks"`
	ActiveCalls     int                    `json:"active_calls"`
	GatewaySessions int                    `json:"gateway_sessions"`
	Started         time.Time              `json:"started"`
	// Version, GoVersion and Revision are filled by the console from the
	// binary's build information.
	Version       string `json:"version"`
	GoVersion     string `json:"go_version"`
	Revision      string `json:"revision,omitempty"`
	ConfigVersion int    `json:"config_version,omitempty"`
}

// RoleHealth is one role of the process.
type RoleHealth struct {
	Name   string `json:"name"`
	Up     bool   `json:"up"`
	Addr   string `json:"addr,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Trunk is a configured SIP trunk (trusted by source address).
type Trunk struct {
	Name     string   `json:"name"`
	Networks []string `json:"networks"`
}

func (c *Console) handleHealth(w http.ResponseWriter, r *http.Request, _ *session) {
	var h Health
	if c.deps.Health != nil {
		h = c.deps.Health()
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		h.Version, h.GoVersion = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				h.Revision = s.Value
			}
		}
	}
	if c.deps.RouterConfig != nil {
		if v, _, err := c.deps.RouterConfig.Current(r.Context()); err == nil {
			h.ConfigVersion = v
		}
	}
	writeJSON(w, http.StatusOK, h)
}

// current returns the router's stored document, parsed.
func (c *Console) current(ctx context.Context) (int, []byte, router.Config, error) {
	if c.deps.RouterConfig == nil {
		return 0, nil, router.Config{}, errNoRouter
	}
	v, body, err := c.deps.RouterConfig.Current(ctx)
	if err != nil {
		return 0, nil, router.Config{}, err
	}
	cfg, err := router.ParseConfig(body)
	return v, body, cfg, err
}

var errNoRouter = errors.New("console: the router is not running (no router section)")

func (c *Console) failCurrent(w http.ResponseWriter, err error) {
	if errors.Is(err, errNoRouter) {
		c.fail(w, http.StatusNotFound, err)
		return
	}
	c.fail(w, http.StatusInternalServerError, err)
}

type reasonCode struct {
	Code  int    `json:"code"`
	Label string `json:"label"`
	Kind  string `json:"kind"`
}

// handleReasonCodes lists the reason codes, which the desktop's not ready,
// logout and wrap-up choices need; agents may read them but not the rest
// of the configuration.
func (c *Console) handleReasonCodes(w http.ResponseWriter, r *http.Request, _ *session) {
	_, _, cfg, err := c.current(r.Context())
	if err != nil {
		c.failCurrent(w, err)
		return
	}
	out := make([]reasonCode, 0, len(cfg.ReasonCodes))
	for _, rc := range cfg.ReasonCodes {
		out = append(out, reasonCode{Code: rc.Code, Label: rc.Label, Kind: rc.Kind})
	}
	writeJSON(w, http.StatusOK, out)
}

// ---- the router document ----

type routerDoc struct {
	Version int    `json:"version"`
	YAML    string `json:"yaml"`
}

type checkResponse struct {
	OK       bool         `json:"ok"`
	Problems []Problem    `json:"problems"`
	Scripts  []scriptView `json:"scripts"`
	Version  int          `json:"version,omitempty"`
}

func (c *Console) handleRouterGet(w http.ResponseWriter, r *http.Request, _ *session) {
	v, body, _, err := c.current(r.Context())
	if err != nil && !errors.Is(err, router.ErrConfig) {
		c.failCurrent(w, err)
		return
	}
	writeJSON(w, http.StatusOK, routerDoc{Version: v, YAML: string(body)})
}

// handleRouterCheck validates a document without applying it: problems at
// their lines and the scripts' graphs for the flow diagram.
func (c *Console) handleRouterCheck(w http.ResponseWriter, r *http.Request, _ *session) {
	var req routerDoc
	if err := decode(r, &req); err != nil {
		c.fail(w, http.StatusBadRequest, err)
		return
	}
	probs, cfg := checkDocument([]byte(req.YAML))
	writeJSON(w, http.StatusOK, checkResponse{OK: len(probs) == 0, Problems: nonNil(probs), Scripts: scriptViews(cfg)})
}

// handleRouterPut replaces the router's document. Version is the one the
// editor loaded: a document changed by someone else since is refused (409)
// rather than silently overwritten.
func (c *Console) handleRouterPut(w http.ResponseWriter, r *http.Request, ss *session) {
	var req routerDoc
	if err := decode(r, &req); err != nil {
		c.fail(w, http.StatusBadRequest, err)
		return
	}
	c.apply(w, r, ss, req.Version, []byte(req.YAML))
}

func (c *Console) apply(w http.ResponseWriter, r *http.Request, ss *session, base int, body []byte) {
	if c.deps.RouterConfig == nil {
		c.fail(w, http.StatusNotFound, errNoRouter)
		return
	}
	if probs, _ := checkDocument(body); len(probs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: fmt.Sprintf("console: router configuration: %d problems", len(probs)), Problems: probs})
		return
	}
	cur, _, err := c.deps.RouterConfig.Current(r.Context())
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	if base != 0 && base != cur {
		c.fail(w, http.StatusConflict, fmt.Errorf("console: router configuration changed since version %d (now %d): reload and edit again", base, cur))
		return
	}
	// Apply reloads the engine in place: calls in progress keep the
	// script version they started on, queued calls keep their places.
	v, err := c.deps.RouterConfig.Apply(r.Context(), body, "console:"+ss.user)
	if err != nil {
		if errors.Is(err, router.ErrConfig) {
			c.fail(w, http.StatusUnprocessableEntity, err)
			return
		}
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	c.log.Info("console: router configuration replaced", "version", v, "by", ss.user)
	writeJSON(w, http.StatusOK, checkResponse{OK: true, Problems: []Problem{}, Version: v})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ---- sections edited as forms ----

// The items of the sections the console edits as forms. They mirror the
// router's types with omitempty, so a saved document stays as terse as one
// written by hand.
type (
	agentItem struct {
		ID          string         `json:"id" yaml:"id"`
		Name        string         `json:"name,omitempty" yaml:"name,omitempty"`
		Extension   string         `json:"extension,omitempty" yaml:"extension,omitempty"`
		Password    string         `json:"password,omitempty" yaml:"password,omitempty"`
		SkillGroups []string       `json:"skill_groups,omitempty" yaml:"skill_groups,omitempty"`
		Attributes  map[string]any `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	}
	skillGroupItem struct {
		Name string `json:"name" yaml:"name"`
	}
	pqStepItem struct {
		Expr       string `json:"expr" yaml:"expr"`
		Wait       string `json:"wait,omitempty" yaml:"wait,omitempty"`
		ConsiderIf string `json:"consider_if,omitempty" yaml:"consider_if,omitempty"`
	}
	precisionQueueItem struct {
		Name  string       `json:"name" yaml:"name"`
		Steps []pqStepItem `json:"steps" yaml:"steps"`
	}
	dialedNumberItem struct {
		Number   string `json:"number" yaml:"number"`
		CallType string `json:"call_type" yaml:"call_type"`
	}
	callTypeItem struct {
		Name   string `json:"name" yaml:"name"`
		Script string `json:"script" yaml:"script"`
	}
)

// sections are the router document's keys editable as forms.
var sections = map[string]func() any{
	"agents":           func() any { return &[]agentItem{} },
	"skill_groups":     func() any { return &[]skillGroupItem{} },
	"precision_queues": func() any { return &[]precisionQueueItem{} },
	"dialed_numbers":   func() any { return &[]dialedNumberItem{} },
	"call_types":       func() any { return &[]callTypeItem{} },
}

// docRoot parses a router document into its top mapping node.
func docRoot(body []byte) (*yaml.Node, *yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("console: router document: %w", err)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, errors.New("console: router document is not a mapping")
	}
	return &doc, doc.Content[0], nil
}

func sectionNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

type sectionDoc struct {
	Version int `json:"version"`
	Items   any `json:"items"`
}

func (c *Console) handleSectionGet(w http.ResponseWriter, r *http.Request, _ *session) {
	name := r.PathValue("section")
	mk, ok := sections[name]
	if !ok {
		c.fail(w, http.StatusNotFound, fmt.Errorf("console: no section %q (want agents, skill_groups, precision_queues, dialed_numbers or call_types)", name))
		return
	}
	if c.deps.RouterConfig == nil {
		c.fail(w, http.StatusNotFound, errNoRouter)
		return
	}
	v, body, err := c.deps.RouterConfig.Current(r.Context())
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	_, m, err := docRoot(body)
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	items := mk()
	if n := sectionNode(m, name); n != nil {
		if err := n.Decode(items); err != nil {
			c.fail(w, http.StatusInternalServerError, fmt.Errorf("console: section %s: %w", name, err))
			return
		}
	}
	if ag, ok := items.(*[]agentItem); ok {
		// Passwords are not sent back: the form leaves the field empty
		// to keep the stored one.
		for i := range *ag {
			(*ag)[i].Password = ""
		}
	}
	writeJSON(w, http.StatusOK, sectionDoc{Version: v, Items: items})
}

// handleSectionPut replaces one section of the router document and applies
// the whole, leaving the rest of the document (and its comments) as it was.
func (c *Console) handleSectionPut(w http.ResponseWriter, r *http.Request, ss *session) {
	name := r.PathValue("section")
	mk, ok := sections[name]
	if !ok {
		c.fail(w, http.StatusNotFound, fmt.Errorf("console: no section %q", name))
		return
	}
	if c.deps.RouterConfig == nil {
		c.fail(w, http.StatusNotFound, errNoRouter)
		return
	}
	req := sectionDoc{Items: mk()}
	if err := decode(r, &req); err != nil {
		c.fail(w, http.StatusBadRequest, err)
		return
	}
	_, body, err := c.deps.RouterConfig.Current(r.Context())
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	doc, m, err := docRoot(body)
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	if ag, ok := req.Items.(*[]agentItem); ok {
		keepPasswords(*ag, sectionNode(m, name))
	}
	var n yaml.Node
	if err := n.Encode(req.Items); err != nil {
		c.fail(w, http.StatusBadRequest, fmt.Errorf("console: section %s: %w", name, err))
		return
	}
	if old := sectionNode(m, name); old != nil {
		*old = n
	} else {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}, &n)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	c.apply(w, r, ss, req.Version, buf.Bytes())
}

// keepPasswords gives agents sent without a password the one stored for
// the same id.
func keepPasswords(items []agentItem, old *yaml.Node) {
	if old == nil {
		return
	}
	var prev []agentItem
	if old.Decode(&prev) != nil {
		return
	}
	for i := range items {
		if items[i].Password != "" {
			continue
		}
		for _, p := range prev {
			if p.ID == items[i].ID {
				items[i].Password = p.Password
			}
		}
	}
}

// ---- scripts as graphs ----

type scriptView struct {
	Name  string     `json:"name"`
	Nodes []nodeView `json:"nodes"`
}

type nodeView struct {
	ID    string     `json:"id"`
	Type  string     `json:"type"`
	Label string     `json:"label"`
	Exits []exitView `json:"exits"`
}

type exitView struct {
	Name string `json:"name"`
	To   string `json:"to"`
}

// scriptViews turns scripts into node lists with named exits, for the flow
// diagram drawn in the browser.
func scriptViews(cfg router.Config) []scriptView {
	out := make([]scriptView, 0, len(cfg.Scripts))
	for _, s := range cfg.Scripts {
		sv := scriptView{Name: s.Name, Nodes: make([]nodeView, 0, len(s.Nodes))}
		for _, n := range s.Nodes {
			nv := nodeView{ID: n.ID, Type: n.Type, Label: nodeLabel(n), Exits: []exitView{}}
			add := func(name, to string) {
				if to != "" {
					nv.Exits = append(nv.Exits, exitView{Name: name, To: to})
				}
			}
			add("next", n.Next)
			add("true", n.True)
			add("false", n.False)
			for _, b := range n.Branches {
				add(fmt.Sprintf("%d%%", b.Percent), b.Next)
			}
			for _, win := range n.Windows {
				add(strings.TrimSpace(strings.Join(win.Days, ",")+" "+win.From+"-"+win.To), win.Next)
			}
			add("holiday", n.Holiday)
			add("error", n.Error)
			add("no answer", n.NoAnswer)
			add("busy", n.Busy)
			add("none", n.None)
			sv.Nodes = append(sv.Nodes, nv)
		}
		out = append(out, sv)
	}
	return out
}

func nodeLabel(n router.Node) string {
	switch n.Type {
	case "set":
		return n.Variable + " = " + n.Value
	case "if":
		return n.Expr
	case "run_vru_script":
		return n.VRUScript
	case "queue", "select":
		if n.PrecisionQueue != "" {
			return n.PrecisionQueue
		}
		return strings.Join(n.SkillGroups, ", ")
	case "wait":
		return n.Wait.D().String()
	case "label":
		return strings.Join(n.Labels, ", ")
	case "release":
		return fmt.Sprint(n.Code)
	}
	return ""
}

func (c *Console) handleScripts(w http.ResponseWriter, r *http.Request, _ *session) {
	_, _, cfg, err := c.current(r.Context())
	if err != nil {
		c.failCurrent(w, err)
		return
	}
	writeJSON(w, http.StatusOK, scriptViews(cfg))
}

// ---- clear call ----

type clearResponse struct {
	Call      router.CallID `json:"call"`
	ClearedBy string        `json:"cleared_by"`
}

// handleClear is the live view's Clear button: the call ends on every leg
// and is reported as cleared by this session's user (admins have no CTI
// identity, so the console names them itself).
func (c *Console) handleClear(w http.ResponseWriter, r *http.Request, ss *session) {
	if c.deps.Calls == nil {
		c.fail(w, http.StatusNotFound, errors.New("console: the call server is not reachable from the console"))
		return
	}
	id := router.CallID(r.PathValue("id"))
	by := string(ss.role) + " " + ss.user
	if err := c.deps.Calls.Clear(r.Context(), id, by); err != nil {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, cti.ErrNotFound):
			code = http.StatusNotFound
		case errors.Is(err, cti.ErrConflict):
			code = http.StatusConflict
		}
		c.fail(w, code, err)
		return
	}
	c.log.Warn("console: call cleared", "call", string(id), "by", by)
	writeJSON(w, http.StatusOK, clearResponse{Call: id, ClearedBy: by})
}

// ---- live view ----

type liveCall struct {
	ID       router.CallID      `json:"id"`
	ANI      string             `json:"ani"`
	DNIS     string             `json:"dnis"`
	CallType string             `json:"call_type"`
	Script   string             `json:"script"`
	Node     string             `json:"node"`
	Where    router.Where       `json:"where"`
	Queues   []router.QueueName `json:"queues,omitempty"`
	Agent    router.AgentID     `json:"agent,omitempty"`
	Started  time.Time          `json:"started"`
	Queued   time.Time          `json:"queued,omitzero"`
}

type liveQueue struct {
	Name    router.QueueName `json:"name"`
	Waiting int              `json:"waiting"`
	Oldest  time.Time        `json:"oldest,omitzero"`
	// ExpectedWait is in seconds, for a call joining now.
	ExpectedWait float64        `json:"expected_wait"`
	Agents       map[string]int `json:"agents"`
}

type liveAgent struct {
	ID        router.AgentID `json:"id"`
	Name      string         `json:"name,omitempty"`
	Extension string         `json:"extension,omitempty"`
	State     string         `json:"state"`
	Reason    int            `json:"reason,omitempty"`
	Since     time.Time      `json:"since,omitzero"`
	Call      router.CallID  `json:"call,omitempty"`
}

type liveResponse struct {
	Time   time.Time   `json:"time"`
	Calls  []liveCall  `json:"calls"`
	Queues []liveQueue `json:"queues"`
	Agents []liveAgent `json:"agents"`
	// Nodes counts calls per script and node, for the diagram.
	Nodes map[string]map[string]int `json:"nodes"`
}

// handleLive is one poll of the live view and wallboard.
func (c *Console) handleLive(w http.ResponseWriter, r *http.Request, _ *session) {
	if c.deps.Live == nil {
		c.fail(w, http.StatusNotFound, errNoRouter)
		return
	}
	out := liveResponse{Time: time.Now().UTC(), Calls: []liveCall{}, Queues: []liveQueue{}, Agents: []liveAgent{}, Nodes: map[string]map[string]int{}}
	for _, s := range c.deps.Live.Calls() {
		out.Calls = append(out.Calls, liveCall{ID: s.ID, ANI: s.ANI, DNIS: s.DNIS, CallType: s.CallType, Script: s.Script, Node: s.Node,
			Where: s.Where, Queues: s.Queues, Agent: s.Agent, Started: s.Started.UTC(), Queued: s.Queued.UTC()})
		if s.Node != "" {
			if out.Nodes[s.Script] == nil {
				out.Nodes[s.Script] = map[string]int{}
			}
			out.Nodes[s.Script][s.Node]++
		}
	}
	if _, _, cfg, err := c.current(r.Context()); err == nil {
		var names []router.QueueName
		for _, g := range cfg.SkillGroups {
			names = append(names, router.QueueName(g.Name))
		}
		for _, q := range cfg.PrecisionQueues {
			names = append(names, router.QueueName(q.Name))
		}
		slices.Sort(names)
		for _, n := range names {
			st, err := c.deps.Live.Stats(n)
			if err != nil {
				continue // not yet loaded, or removed since
			}
			q := liveQueue{Name: n, Waiting: st.Waiting, ExpectedWait: st.ExpectedWait.Seconds(), Agents: map[string]int{}}
			if !st.Oldest.IsZero() {
				q.Oldest = st.Oldest.UTC()
			}
			for i, k := range st.Agents {
				if s := router.State(i); s != router.LoggedOut && k > 0 {
					q.Agents[s.String()] = k
				}
			}
			out.Queues = append(out.Queues, q)
		}
	}
	for _, a := range c.deps.Live.LoggedIn() {
		la := liveAgent{ID: a.ID, Name: a.Name, Extension: a.Extension, State: a.State.String(), Reason: a.Reason, Call: a.Call}
		if a.Since != 0 {
			la.Since = time.Unix(0, a.Since).UTC()
		}
		out.Agents = append(out.Agents, la)
	}
	writeJSON(w, http.StatusOK, out)
}
