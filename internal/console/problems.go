package console

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tandem-cc/tandem/internal/config/field"
	"github.com/tandem-cc/tandem/internal/router"
)

// Problem is one thing wrong with a router document, at its line (1-based;
// 0 when it cannot be placed).
type Problem struct {
	Line int    `json:"line"`
	Path string `json:"path,omitempty"`
	Msg  string `json:"msg"`
}

// yamlLine finds the line yaml.v3 names in its errors ("yaml: line 12:",
// "line 12: field foo not found").
var yamlLine = regexp.MustCompile(`line (\d+)`)

// checkDocument parses and validates a router document and returns its
// problems, each placed at a line of text, with the parsed configuration
// (zero when it does not parse).
func checkDocument(text []byte) ([]Problem, router.Config) {
	cfg, err := router.ParseConfig(text)
	if err != nil {
		return syntaxProblems(err), router.Config{}
	}
	errs := cfg.Validate()
	if len(errs) == 0 {
		return nil, cfg
	}
	var root yaml.Node
	_ = yaml.Unmarshal(text, &root) // it parsed above
	out := make([]Problem, len(errs))
	for i, fe := range errs {
		out[i] = Problem{Line: field.NodeLine(&root, strings.TrimPrefix(fe.Path, "router.")), Path: fe.Path, Msg: fe.Msg}
	}
	return out, cfg
}

// syntaxProblems splits a YAML decoding error (which may list several
// lines) into problems.
func syntaxProblems(err error) []Problem {
	msg := strings.TrimPrefix(err.Error(), "router: config: ")
	var te *yaml.TypeError
	if errors.As(err, &te) {
		out := make([]Problem, 0, len(te.Errors))
		for _, e := range te.Errors {
			out = append(out, Problem{Line: lineIn(e), Msg: e})
		}
		return out
	}
	return []Problem{{Line: lineIn(msg), Msg: msg}}
}

func lineIn(s string) int {
	if m := yamlLine.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}
