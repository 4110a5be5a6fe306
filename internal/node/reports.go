package node

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/report"
	"github.com/tandem-cc/tandem/internal/router"
)

// ctiHandler is what the CTI listener serves: the CTI API, and the
// reporting API under /v1/reports/ when there is a report store.
func (n *Node) ctiHandler() http.Handler {
	api := n.CTI.Handler()
	if n.Reports == nil {
		return api
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("/v1/reports/", report.Handler(n.Reports, report.Options{
		Live:      n.liveFigures,
		Authorize: supervisorOnly(n.CTI),
		Log:       n.log,
	}))
	return mux
}

// Supervisors says whose session a CTI bearer token is: the reporting API
// admits CTI's supervisors by it, sharing CTI's sessions without reaching
// into them (cti.Server implements it).
type Supervisors interface {
	Supervisor(token string) (id string, ok bool)
}

// supervisorOnly admits a request whose bearer token is a CTI supervisor's
// session (a session ended or expired ends its reports too).
func supervisorOnly(sups Supervisors) func(*http.Request) error {
	return func(r *http.Request) error {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			return errors.New("report: a CTI supervisor's bearer token is required (POST /v1/supervisor/login)")
		}
		if _, ok := sups.Supervisor(strings.TrimSpace(tok)); !ok {
			return errors.New("report: a CTI supervisor's bearer token is required (POST /v1/supervisor/login)")
		}
		return nil
	}
}

// liveFigures is the "now" of the realtime report: the router's queues and
// its calls in progress by call type and place.
func (n *Node) liveFigures(ctx context.Context) (report.Live, error) {
	live := report.Live{CallTypes: map[string]map[string]int{}}
	// The queues of the configuration in force (reloads change them).
	d, err := n.Store.Latest(ctx, routerKind)
	if err != nil {
		return live, err
	}
	cfg, err := router.ParseConfig(d.Body)
	if err != nil {
		return live, err
	}
	_, queues := cti.DirectoryOf(cfg)
	for _, q := range queues {
		st, err := n.Engine.Stats(q)
		if err != nil {
			continue // removed by a reload since the directory was read
		}
		lq := report.LiveQueue{Name: string(q), Waiting: st.Waiting, Oldest: st.Oldest, ExpectedWait: st.ExpectedWait, Agents: map[string]int{}}
		for s, k := range st.Agents {
			if k > 0 {
				lq.Agents[router.State(s).String()] = k
			}
		}
		live.Queues = append(live.Queues, lq)
	}
	for _, c := range n.Engine.Calls() {
		m := live.CallTypes[c.CallType]
		if m == nil {
			m = map[string]int{}
			live.CallTypes[c.CallType] = m
		}
		m[string(c.Where)]++
	}
	return live, nil
}
