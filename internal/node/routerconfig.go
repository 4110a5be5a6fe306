package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config"
	"github.com/tandem-cc/tandem/internal/router"
)

// routerKind names the router's documents in the config store.
const routerKind = "router"

// RouterConfig keeps the router's configuration in the config store and
// applies changes to the running engine (cti.RouterConfig).
type RouterConfig struct {
	Store  *config.Store
	Engine *router.Engine
	// Directory, if set, hears the new configuration after a change (CTI's
	// lists of agents and queues).
	Directory func(router.Config)
	// Log hears which configuration Seed chose and why; nil is
	// slog.Default().
	Log *slog.Logger

	mu sync.Mutex // serialises Apply: one change at a time, in version order
}

// Seed decides the configuration the router starts with, between the
// file's router section (fromFile) and the versions in the config store
// (seedDoc says how), and returns it with its version. The file's section
// must be valid, or nothing starts and nothing is stored (serve -check and
// config.Load with CheckRouter say where; Seed checks again for nodes
// built without them).
func (rc *RouterConfig) Seed(ctx context.Context, fromFile []byte) ([]byte, int, error) {
	fileCfg, probs := routerProblems(fromFile, nil)
	if len(probs) > 0 {
		return nil, 0, fmt.Errorf("router section of the configuration file is invalid; nothing stored:\n  %s", fieldLines(probs))
	}
	same := func(stored, _ []byte) bool {
		c, err := router.ParseConfig(stored)
		return err == nil && reflect.DeepEqual(c, fileCfg)
	}
	problems := func(body []byte) string {
		if _, probs := routerProblems(body, nil); len(probs) > 0 {
			return fieldLines(probs)
		}
		return ""
	}
	return seedDoc(ctx, rc.Store, routerKind, fromFile, same, problems, rc.Log)
}

// CheckRouter is the config.Check of the router section: parsed as the
// router parses it (unknown keys are errors) and validated as the router
// validates it, each problem placed at its line of the configuration file.
// serve -check and serve run it with the rest of the file's checks, so a
// bad router section is named before anything starts or is stored.
func CheckRouter(c *config.Config) []config.FieldError {
	if c.Router.Kind == 0 {
		return nil
	}
	// Written in block style, every key has a line of its own, so a
	// problem the parser names by line has one field path.
	body, err := yaml.Marshal(blockStyle(&c.Router))
	if err != nil {
		return []config.FieldError{{Path: "router", Msg: err.Error(), Line: c.Router.Line}}
	}
	_, probs := routerProblems(body, &c.Router)
	return probs
}

// blockStyle copies n without flow style ({a: 1} and [x] written as
// blocks); the copy keeps the lines of n.
func blockStyle(n *yaml.Node) *yaml.Node {
	c := *n
	c.Style &^= yaml.FlowStyle
	if len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			c.Content[i] = blockStyle(k)
		}
	}
	return &c
}

// routerProblems parses and validates a router document. Problems are
// placed at their lines: of file, the yaml node body was written from
// (its lines are the configuration file's), or of body when file is nil.
// Paths start with "router.".
func routerProblems(body []byte, file *yaml.Node) (router.Config, []config.FieldError) {
	var doc yaml.Node
	if err := yaml.Unmarshal(body, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		return router.Config{}, []config.FieldError{{Path: "router", Msg: msg, Line: lineIn(msg)}}
	}
	// A line of body → where it is in the file and the field path there.
	at := map[int]place{}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		from := file
		if from == nil {
			from = doc.Content[0]
		}
		mapLines(doc.Content[0], from, "router", at)
	}
	cfg, err := router.ParseConfig(body)
	if err != nil {
		var te *yaml.TypeError
		var msgs []string
		if errors.As(err, &te) {
			msgs = te.Errors
		} else {
			msgs = []string{strings.TrimPrefix(strings.TrimPrefix(err.Error(), "router: config: "), "yaml: ")}
		}
		out := make([]config.FieldError, 0, len(msgs))
		for _, m := range msgs {
			fe := config.FieldError{Path: "router", Msg: m}
			if p, ok := at[lineIn(m)]; ok {
				fe.Path, fe.Line = p.path, p.line
				fe.Msg = lineRef.ReplaceAllString(m, "")
			}
			out = append(out, fe)
		}
		return router.Config{}, out
	}
	errs := cfg.Validate()
	if len(errs) == 0 {
		return cfg, nil
	}
	root := file
	if root == nil {
		root = &doc
	}
	out := make([]config.FieldError, len(errs))
	for i, fe := range errs {
		out[i] = config.FieldError{Path: fe.Path, Msg: fe.Msg, Line: config.NodeLine(root, strings.TrimPrefix(fe.Path, "router."))}
	}
	return cfg, out
}

// place is where a line of a written router document came from.
type place struct {
	line int
	path string
}

// lineRef is yaml.v3's "line N: " in its messages.
var lineRef = regexp.MustCompile(`^line \d+: `)

// mapLines walks n (a document written from file) and file side by side,
// noting for each line of n the first node on it: its line in file and
// its field path.
func mapLines(n, file *yaml.Node, path string, at map[int]place) {
	// A mapping's line is its first key's: the key's path is the more
	// precise, so it goes first.
	defer func() {
		if _, ok := at[n.Line]; !ok {
			at[n.Line] = place{file.Line, path}
		}
	}()
	if n.Kind != file.Kind || len(n.Content) != len(file.Content) {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := path + "." + file.Content[i].Value
			if _, ok := at[n.Content[i].Line]; !ok {
				at[n.Content[i].Line] = place{file.Content[i].Line, p}
			}
			mapLines(n.Content[i+1], file.Content[i+1], p, at)
		}
	case yaml.SequenceNode:
		for i := range n.Content {
			mapLines(n.Content[i], file.Content[i], path+"["+config.ItemName(file.Content[i], i)+"]", at)
		}
	}
}

// fieldLines writes problems one a line, "line N: path: msg".
func fieldLines(probs []config.FieldError) string {
	out := make([]string, len(probs))
	for i, p := range probs {
		out[i] = fmt.Sprintf("line %d: %s: %s", p.Line, p.Path, p.Msg)
	}
	return strings.Join(out, "\n  ")
}

// Current implements cti.RouterConfig.
func (rc *RouterConfig) Current(ctx context.Context) (int, []byte, error) {
	d, err := rc.Store.Latest(ctx, routerKind)
	if err != nil {
		return 0, nil, err
	}
	return d.Version, d.Body, nil
}

// Apply implements cti.RouterConfig: parse, validate and apply to the
// running engine (calls in progress keep the script version they started
// on), then store. Nothing changes when any step fails before the store.
func (rc *RouterConfig) Apply(ctx context.Context, body []byte, author string) (int, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	cfg, err := router.ParseConfig(body)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", router.ErrConfig, err)
	}
	if err := rc.Engine.Reload(cfg); err != nil {
		return 0, err
	}
	v, err := rc.Store.Save(ctx, routerKind, body, author)
	if err != nil {
		return 0, fmt.Errorf("router configuration applied but not stored: %w", err)
	}
	if rc.Directory != nil {
		rc.Directory(cfg)
	}
	return v, nil
}
