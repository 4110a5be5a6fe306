package vxml

import (
	"fmt"
	"strings"
)

// known lists the VoiceXML 2.1 elements plus the SSML ones allowed in prompts.
// An element outside this set (in the VoiceXML namespace) makes the document
// invalid, which the spec treats as a fetch failure (error.badfetch).
var known = map[string]bool{
	"vxml": true, "meta": true, "metadata": true, "property": true, "var": true, "script": true,
	"form": true, "menu": true, "catch": true, "error": true, "help": true, "noinput": true,
	"nomatch": true, "link": true, "field": true, "block": true, "initial": true, "record": true,
	"subdialog": true, "transfer": true, "object": true, "filled": true, "prompt": true,
	"grammar": true, "option": true, "choice": true, "enumerate": true, "assign": true,
	"clear": true, "if": true, "elseif": true, "else": true, "goto": true, "submit": true,
	"return": true, "throw": true, "reprompt": true, "exit": true, "disconnect": true,
	"log": true, "value": true, "audio": true, "param": true, "data": true, "foreach": true,
	"mark": true, "break": true, "emphasis": true, "p": true, "s": true, "paragraph": true,
	"sentence": true, "say-as": true, "sub": true, "phoneme": true, "prosody": true,
	"voice": true, "desc": true, "lexicon": true, "speak": true, "cancel": true,
}

const vxmlNS = "http://www.w3.org/2001/vxml"

func validate(n *Node) error {
	for _, c := range n.Children {
		if c.IsText() {
			continue
		}
		if c.Space != "" && c.Space != vxmlNS && c.Space != "http://www.w3.org/2001/10/synthesis" {
			continue // foreign namespaces are ignored
		}
		if !known[c.Name] {
			return fmt.Errorf("unknown element %s", c.Where())
		}
		if err := checkExclusive(c); err != nil {
			return err
		}
		if c.Name == "grammar" || c.Name == "metadata" {
			continue // SRGS content is checked when the grammar is compiled
		}
		if err := validate(c); err != nil {
			return err
		}
	}
	return nil
}

// exclusive lists attribute sets of which exactly one (or, with optional, at
// most one) must be present. Breaking these makes the document invalid, so the
// error.badfetch is thrown where the document was requested (spec 5.3.7/5.3.8).
var exclusive = map[string]struct {
	attrs    []string
	optional bool
}{
	"goto":      {[]string{"next", "expr", "nextitem", "expritem"}, false},
	"submit":    {[]string{"next", "expr"}, false},
	"subdialog": {[]string{"src", "srcexpr"}, false},
	"choice":    {[]string{"next", "expr", "event", "eventexpr"}, false},
	"throw":     {[]string{"event", "eventexpr"}, false},
	"script":    {[]string{"src", "srcexpr"}, true},
	"data":      {[]string{"src", "srcexpr"}, false},
	"exit":      {[]string{"expr", "namelist"}, true},
	"return":    {[]string{"event", "eventexpr", "namelist"}, true},
}

func checkExclusive(n *Node) error {
	if n.Name == "grammar" {
		// A grammar is src, srcexpr or inline content: exactly one (spec 3.1.1).
		count := 0
		if n.HasAttr("src") {
			count++
		}
		if n.HasAttr("srcexpr") {
			count++
		}
		if len(n.Elements()) > 0 || strings.TrimSpace(n.TextContent()) != "" {
			count++
		}
		if count != 1 {
			return fmt.Errorf("%s: exactly one of src, srcexpr or inline content is required", n.Where())
		}
		return nil
	}
	rule, ok := exclusive[n.Name]
	if !ok {
		return nil
	}
	count := 0
	for _, a := range rule.attrs {
		if n.HasAttr(a) {
			count++
		}
	}
	switch {
	case count > 1 && rule.optional:
		return fmt.Errorf("%s: at most one of %v may be given", n.Where(), rule.attrs)
	case count > 1 || (count == 0 && !rule.optional):
		return fmt.Errorf("%s: exactly one of %v is required", n.Where(), rule.attrs)
	}
	return nil
}
