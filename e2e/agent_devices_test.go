package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tandem-cc/tandem/internal/cti"
	"github.com/tandem-cc/tandem/internal/router"
)

// ctiAnswer makes a CTI request and returns its status and body, for tests
// that read the error an agent is shown.
func ctiAnswer(t *testing.T, n *node, method, path, token string, body any) (int, string) {
	t.Helper()
	js, _ := json.Marshal(body)
	req, err := http.NewRequest(method, "http://"+n.cti+path, bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

// TestAgentDeviceChecks on the demo contact center (agents 1001-1010,
// extension = id, phones registering as SIP users 1001-1010): an agent
// cannot log in at a number that would divert customers' calls or run up
// toll charges; it can log in at its own extension or at another phone of
// the contact center; it cannot go ready until that phone is registered,
// and is told so.
func TestAgentDeviceChecks(t *testing.T) {
	n := startDemo(t)
	for _, ext := range []string{"9011441234567", "5000", "conf-x", "sip:evil@203.0.113.9", "7777"} {
		code, body := ctiAnswer(t, n, "POST", "/v1/login", "", cti.LoginRequest{ID: "1001", Password: "pw1001", Extension: ext})
		if code != 403 || !strings.Contains(body, "is not a phone of this contact center") || !strings.Contains(body, "your own extension 1001") {
			t.Errorf("login 1001 at %q: %d %s, want 403 saying it is not a phone of this contact center", ext, code, body)
		}
	}
	// A wrong password with a bogus extension learns nothing but that.
	if code, body := ctiAnswer(t, n, "POST", "/v1/login", "", cti.LoginRequest{ID: "1001", Password: "guess", Extension: "9011441234567"}); code != 401 {
		t.Errorf("wrong password and bogus extension: %d %s, want 401", code, body)
	}
	if st := agentState(t, n, "1001"); st.State != router.LoggedOut {
		t.Fatalf("1001 is %s after refused logins", st.State)
	}

	// Its own extension: logged in, but not ready without a phone.
	var lr cti.LoginResponse
	if code := ctiCall(t, n, "POST", "/v1/login", "", cti.LoginRequest{ID: "1001", Password: "pw1001", Extension: "1001"}, &lr); code != 200 {
		t.Fatalf("login at its own extension: %d", code)
	}
	code, body := ctiAnswer(t, n, "POST", "/v1/agents/1001/state", lr.Token, map[string]any{"state": "ready"})
	if code != 409 || !strings.Contains(body, "extension 1001 has no registered phone") {
		t.Fatalf("ready with no phone: %d %s, want 409 saying extension 1001 has no registered phone", code, body)
	}
	phone(t, n, "1001", "pw1001", "")
	if code, body := ctiAnswer(t, n, "POST", "/v1/agents/1001/state", lr.Token, map[string]any{"state": "ready"}); code != 200 {
		t.Fatalf("ready once the phone registered: %d %s", code, body)
	}

	// Hot desking: agent 1002 at phone 1003, a SIP user of the demo.
	var lr2 cti.LoginResponse
	if code := ctiCall(t, n, "POST", "/v1/login", "", cti.LoginRequest{ID: "1002", Password: "pw1002", Extension: "1003"}, &lr2); code != 200 {
		t.Fatalf("login 1002 at phone 1003: %d", code)
	}
	if st := agentState(t, n, "1002"); st.Extension != "1003" {
		t.Fatalf("1002 at %q, want 1003", st.Extension)
	}
	code, body = ctiAnswer(t, n, "POST", "/v1/agents/1002/state", lr2.Token, map[string]any{"state": "ready"})
	if code != 409 || !strings.Contains(body, "extension 1003 has no registered phone") {
		t.Fatalf("1002 ready at unregistered 1003: %d %s", code, body)
	}
}
