package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/console"
	"github.com/tandem-cc/tandem/internal/sipedge"
)

// sipKind names the SIP document in the config store.
const sipKind = "sip"

// sipSections are the top-level keys of the SIP document: the sections of
// the configuration file the SIP edge can reload.
var sipSections = []string{"trunks", "users", "server_groups", "dial_plan"}

// SIPConfig keeps the SIP edge's reloadable sections (trunks, users,
// server_groups, dial_plan) as a versioned YAML document in the config
// store and applies changes to the running edge (sipedge.Edge.Reload).
// Everything else (sip.listen and the rest of the sip section, registrar)
// stays as the configuration file has it and changes only at a restart.
type SIPConfig struct {
	Store *config.Store
	Edge  *sipedge.Edge
	// File is the configuration the process started with; a document is
	// checked as the file with its four sections replaced.
	File *config.Config
	Log  *slog.Logger

	mu sync.Mutex // serialises Apply: one change at a time, in version order
}

// sipDocument is the SIP document's shape.
type sipDocument struct {
	Trunks       []config.Trunk       `yaml:"trunks"`
	Users        []config.User        `yaml:"users"`
	ServerGroups []config.ServerGroup `yaml:"server_groups"`
	DialPlan     []config.DialRule    `yaml:"dial_plan"`
}

// Seed makes the edge run the SIP document seedDoc chooses between the
// file's four sections and the versions in the config store (the rules
// the router's document follows): a changed file wins, else the newest
// stored version, unless it does not validate with this configuration
// file (a static route to a label no rule dials any more), when the file
// runs. A store never stops the start.
func (sc *SIPConfig) Seed(ctx context.Context) (int, error) {
	fromFile, err := marshalSIP(sc.File)
	if err != nil {
		return 0, err
	}
	problems := func(body []byte) string {
		if _, probs := sc.parse(body); len(probs) > 0 {
			return problemLines(probs)
		}
		return ""
	}
	body, v, err := seedDoc(ctx, sc.Store, sipKind, fromFile, sameSIP, problems, sc.Log)
	if err != nil {
		return 0, err
	}
	cfg, probs := sc.parse(body)
	if len(probs) > 0 {
		// Only the file's own sections can get here (a stored version
		// that does not parse is skipped): a file config.Load took but
		// the SIP document's rules refuse.
		return 0, fmt.Errorf("sip configuration version %d is invalid:\n  %s", v, problemLines(probs))
	}
	if err := sc.Edge.Reload(&cfg.Config); err != nil {
		return 0, fmt.Errorf("sip configuration version %d: %w", v, err)
	}
	return v, nil
}

// sameSIP says whether two SIP documents hold the same configuration
// (comments, order of keys and layout aside).
func sameSIP(a, b []byte) bool {
	var da, db sipDocument
	if yaml.Unmarshal(a, &da) != nil || yaml.Unmarshal(b, &db) != nil {
		return false
	}
	return reflect.DeepEqual(da, db)
}

// Current returns the newest stored SIP document.
func (sc *SIPConfig) Current(ctx context.Context) (int, []byte, error) {
	d, err := sc.Store.Latest(ctx, sipKind)
	if err != nil {
		return 0, nil, err
	}
	return d.Version, d.Body, nil
}

// Check parses and validates a SIP document without applying it.
func (sc *SIPConfig) Check(body []byte) []console.Problem {
	_, probs := sc.parse(body)
	return probs
}

// Apply parses and validates body, reloads the edge with it (calls in
// progress keep their legs) and stores it as the next version. Nothing
// changes when it returns problems or an error before the store.
func (sc *SIPConfig) Apply(ctx context.Context, body []byte, author string) (int, []console.Problem, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	cfg, probs := sc.parse(body)
	if len(probs) > 0 {
		return 0, probs, fmt.Errorf("sip configuration: %d problems", len(probs))
	}
	if err := sc.Edge.Reload(&cfg.Config); err != nil {
		return 0, nil, err
	}
	v, err := sc.Store.Save(ctx, sipKind, body, author)
	if err != nil {
		return 0, nil, fmt.Errorf("sip configuration applied but not stored: %w", err)
	}
	return v, nil, nil
}

// parse reads body with the file's strict rules (unknown keys are errors)
// and validates the whole configuration it makes with the file: each
// problem has its field path and, when the document holds it, its line.
func (sc *SIPConfig) parse(body []byte) (*config.Config, []console.Problem) {
	var root yaml.Node
	if err := yaml.Unmarshal(body, &root); err != nil {
		return nil, yamlProblems(err)
	}
	var probs []console.Problem
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		m := root.Content[0]
		if m.Kind != yaml.MappingNode {
			return nil, []console.Problem{{Line: m.Line, Msg: "the SIP document is a mapping of " + strings.Join(sipSections, ", ")}}
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			switch {
			case slices.Contains(sipSections, k.Value):
			case k.Value == "sip" || k.Value == "registrar":
				probs = append(probs, console.Problem{Line: k.Line, Path: k.Value,
					Msg: "not reloadable: sip (listeners, host, realm) and registrar are set in the configuration file and change at a restart"})
			default:
				probs = append(probs, console.Problem{Line: k.Line, Path: k.Value,
					Msg: "not part of the SIP document (want " + strings.Join(sipSections, ", ") + ")"})
			}
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	var doc sipDocument
	dec := yaml.NewDecoder(bytes.NewReader(body))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlProblems(err)
	}
	c := *sc.File
	// fill writes the listeners' transports and Validate the trunks'
	// prefixes: give the copy its own slices, so the running
	// configuration is not written.
	c.SIP.Listen = slices.Clone(c.SIP.Listen)
	c.Trunks, c.Users, c.ServerGroups, c.DialPlan = doc.Trunks, doc.Users, doc.ServerGroups, doc.DialPlan
	c.Fill()
	errs := c.Validate()
	if len(errs) == 0 {
		return &c, nil
	}
	lines := config.LineIndex(body)
	for _, fe := range errs {
		probs = append(probs, console.Problem{Line: config.LineAt(lines, fe.Path), Path: fe.Path, Msg: fe.Msg})
	}
	return nil, probs
}

// yamlProblems splits a YAML error (a TypeError lists one line per
// problem) into problems at their lines.
func yamlProblems(err error) []console.Problem {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make([]console.Problem, 0, len(te.Errors))
		for _, e := range te.Errors {
			out = append(out, console.Problem{Line: lineIn(e), Msg: e})
		}
		return out
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return []console.Problem{{Line: lineIn(msg), Msg: msg}}
}

// lineIn reads the line yaml.v3 names in a message ("line 12: ...").
func lineIn(s string) int {
	i := strings.Index(s, "line ")
	if i < 0 {
		return 0
	}
	n := 0
	for _, ch := range s[i+5:] {
		if ch < '0' || ch > '9' {
			break
		}
		n = n*10 + int(ch-'0')
	}
	return n
}

func problemLines(probs []console.Problem) string {
	out := make([]string, len(probs))
	for i, p := range probs {
		out[i] = fmt.Sprintf("line %d: %s: %s", p.Line, p.Path, p.Msg)
	}
	return strings.Join(out, "\n  ")
}

// marshalSIP writes cfg's four SIP sections as a document, without the
// nulls of fields left unset (heartbeat.enabled).
func marshalSIP(cfg *config.Config) ([]byte, error) {
	var n yaml.Node
	doc := sipDocument{Trunks: cfg.Trunks, Users: cfg.Users, ServerGroups: cfg.ServerGroups, DialPlan: cfg.DialPlan}
	if err := n.Encode(doc); err != nil {
		return nil, fmt.Errorf("sip configuration: %w", err)
	}
	dropNulls(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("sip configuration: %w", err)
	}
	return buf.Bytes(), nil
}

func dropNulls(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := n.Content[i+1]; v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue
			}
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
		n.Content = kept
	}
	for _, c := range n.Content {
		dropNulls(c)
	}
}
