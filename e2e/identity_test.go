package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tandem-cc/tandem/internal/event"
)

// receivedInvite returns the first INVITE a SIPp run logged as received in
// its -message_file.
func receivedInvite(t *testing.T, path string) *sip.Request {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sipp message log: %v", err)
	}
	for _, chunk := range strings.Split(string(b), "message received")[1:] {
		// "[N] bytes :" then a blank line, then the message, then the
		// next entry's dashed line.
		_, msg, ok := strings.Cut(chunk, "bytes :")
		if !ok {
			continue
		}
		msg = strings.TrimLeft(msg, "\r\n")
		if !strings.HasPrefix(msg, "INVITE ") {
			continue
		}
		if i := strings.Index(msg, "\n-----"); i >= 0 {
			msg = msg[:i+1]
		}
		m, err := sip.ParseMessage([]byte(strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")))
		if err != nil {
			t.Fatalf("the INVITE the callee logged does not parse: %v\n%s", err, msg)
		}
		return m.(*sip.Request)
	}
	t.Fatalf("the callee logged no INVITE:\n%.3000s", b)
	return nil
}

func headerValues(req *sip.Request, name string) []string {
	var vs []string
	for _, h := range req.GetHeaders(name) {
		vs = append(vs, h.Value())
	}
	return vs
}

// A digest-authenticated user (1001) that writes another user in From,
// a display name of its choosing and P-Asserted-Identity /
// P-Preferred-Identity of its own: the destination sees only the identity
// tandem vouches for (RFC 3325): P-Asserted-Identity <sip:1001@host>, From
// 1001 with no display name, no P-Preferred-Identity; the router's ANI is
// 1001 too.
func TestUntrustedIdentityIsReplaced(t *testing.T) {
	a, b := freePort(t), freePort(t)
	// 127.0.0.1 is outside every trunk: SIPp must authenticate.
	n := startTandem(t, director("192.0.2.0/24", a, b))
	msgs := filepath.Join(t.TempDir(), "uas-messages.log")
	uas := startUAS(t, a, scenario(t, "uas-bye.xml", "HOLD", "100"), "-m", "1", "-trace_msg", "-message_file", msgs)
	claims := strings.Join([]string{
		"      P-Asserted-Identity: <sip:+15551234567@[local_ip]>",
		"      p-asserted-identity: \"CEO\" <tel:+15550000000>",
		"      P-Preferred-Identity: <sip:1002@[local_ip]>",
	}, "\n")
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-identity.xml", "PASS", "secret1001",
		"FROM", `"Director" <sip:1002@[local_ip]:[local_port]>`, "IDENTITY", claims), "-s", "2000", "-m", "1",
		// SIPp's digest uri is remote_ip:remote_port unless told; tandem
		// wants the Request-URI (RFC 3261 §22.4).
		"-auth_uri", "2000@"+n.addr)
	if ok != 1 || failed != 0 {
		t.Fatalf("authenticated call: %d ok, %d failed", ok, failed)
	}
	uas.wait(10 * time.Second)
	inv := receivedInvite(t, msgs)
	if got := headerValues(inv, "P-Asserted-Identity"); len(got) != 1 || got[0] != "<sip:1001@127.0.0.1>" {
		t.Errorf("P-Asserted-Identity at the destination: %q, want only <sip:1001@127.0.0.1>", got)
	}
	if got := headerValues(inv, "P-Preferred-Identity"); len(got) != 0 {
		t.Errorf("P-Preferred-Identity reached the destination: %q", got)
	}
	if f := inv.From(); f.Address.User != "1001" || f.DisplayName != "" {
		t.Errorf("From at the destination: %q <%s>, want no display name and user 1001", f.DisplayName, f.Address.String())
	}
	for _, e := range n.events.Events() {
		if e.Kind == event.CallNew && !strings.Contains(e.Reason, "ani=1001") {
			t.Errorf("the call's ANI is not the authenticated user: %q", e.Reason)
		}
	}
}

// A trunk is the trust domain: its P-Asserted-Identity and From reach the
// destination as they came.
func TestTrunkIdentityPasses(t *testing.T) {
	a, b := freePort(t), freePort(t)
	n := startTandem(t, director("127.0.0.0/8", a, b))
	msgs := filepath.Join(t.TempDir(), "uas-messages.log")
	uas := startUAS(t, a, scenario(t, "uas-bye.xml", "HOLD", "100"), "-m", "1", "-trace_msg", "-message_file", msgs)
	ok, failed := runUAC(t, n.addr, "-sf", scenario(t, "uac-headers.xml", "FROM", `"Pat Caller" <sip:+15551234567@carrier.example>`, "MF", "70",
		"HEADERS", "      P-Asserted-Identity: \"Pat Caller\" <sip:+15551234567@carrier.example;user=phone>\n      P-Preferred-Identity: <sip:someone@carrier.example>"),
		"-s", "2000", "-m", "1")
	if ok != 1 || failed != 0 {
		t.Fatalf("trunk call: %d ok, %d failed", ok, failed)
	}
	uas.wait(10 * time.Second)
	inv := receivedInvite(t, msgs)
	if got := headerValues(inv, "P-Asserted-Identity"); len(got) != 1 || got[0] != `"Pat Caller" <sip:+15551234567@carrier.example;user=phone>` {
		t.Errorf("the trunk's P-Asserted-Identity at the destination: %q", got)
	}
	// P-Preferred-Identity is a request to a proxy, never passed on.
	if got := headerValues(inv, "P-Preferred-Identity"); len(got) != 0 {
		t.Errorf("P-Preferred-Identity reached the destination: %q", got)
	}
	if f := inv.From(); f.Address.User != "+15551234567" || f.DisplayName != "Pat Caller" {
		t.Errorf("From at the destination: %q <%s>, want the trunk's", f.DisplayName, f.Address.String())
	}
}
