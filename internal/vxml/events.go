package vxml

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
)

// Control flow out of executable content is carried as Go errors so that every
// element's executor can return early with `return err`. Real failures are
// turned into ctlEvent values (error.badfetch, error.semantic) where they occur.

// ctlEvent is a thrown VoiceXML event (spec 5.2).
type ctlEvent struct {
	name, msg string
}

func (c *ctlEvent) Error() string {
	if c.msg != "" {
		return "event " + c.name + ": " + c.msg
	}
	return "event " + c.name
}

func throw(name, format string, args ...any) *ctlEvent {
	return &ctlEvent{name: name, msg: fmt.Sprintf(format, args...)}
}

// semantic wraps an ECMAScript failure as error.semantic, naming the element.
func semantic(n *Node, err error) error {
	var ev *ctlEvent
	if errors.As(err, &ev) {
		return ev
	}
	return throw("error.semantic", "%s: %v", n.Where(), err)
}

// ctlGoto leaves the current dialog for another dialog or document.
type ctlGoto struct {
	doc    *document // nil: same document
	dialog string    // dialog id; "" = first dialog
	// submit is set when <submit> asked for doc: a submit to the
	// application's own root re-initialises the root (spec 1.5.2).
	submit bool
}

func (c *ctlGoto) Error() string { return "goto " + c.dialog }

// ctlNextItem is <goto nextitem>: stay in the form, select the named item.
type ctlNextItem struct{ item string }

func (c *ctlNextItem) Error() string { return "goto item " + c.item }

// ctlReturn is <return> from a subdialog.
type ctlReturn struct {
	event, msg string
	values     map[string]goja.Value
	order      []string
}

func (c *ctlReturn) Error() string { return "return" }

// ctlExit is <exit> (or the end of the last form): the session ends.
type ctlExit struct {
	value  goja.Value
	reason string // "exit", "end", "hangup", "transfer"
}

func (c *ctlExit) Error() string { return c.reason }

// ctlReprompt is <reprompt>: leave the handler, play prompts on the next pass.
type ctlReprompt struct{}

func (c *ctlReprompt) Error() string { return "reprompt" }

// eventMatches implements spec 5.2.4 name matching: a catch's event name
// matches a thrown event when it is a dot-separated prefix of it; an empty or
// absent name (and ".") catches everything.
func eventMatches(catchNames, thrown string) bool {
	names := strings.Fields(catchNames)
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		n = strings.TrimSuffix(n, ".")
		if n == "" || n == thrown || strings.HasPrefix(thrown, n+".") {
			return true
		}
	}
	return false
}

// shorthands maps the catch shorthand elements to their event names.
var shorthands = map[string]string{
	"noinput": "noinput", "nomatch": "nomatch", "help": "help", "error": "error",
}

// catchEvents returns the event attribute a catch-like element listens for.
func catchEvents(n *Node) (string, bool) {
	switch n.Name {
	case "catch":
		return n.Attr("event"), true
	case "noinput", "nomatch", "help", "error":
		return shorthands[n.Name], true
	}
	return "", false
}
