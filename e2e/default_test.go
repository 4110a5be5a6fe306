package e2e

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestDefaultServeAnswersACall runs the README's run command as a user
// would: the binary with no config, on the built-in loopback default. A call
// to 5000 reaches the demo IVR through the call server and the VoiceXML
// gateway, and SIGTERM stops it cleanly.
func TestDefaultServeAnswersACall(t *testing.T) {
	need(t, "sipp")
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_1.pcap"); err != nil {
		t.Skip("SIPp's pcaps are not installed")
	}
	// The default listens on fixed ports; they must be free here.
	for _, a := range []string{"127.0.0.1:5060", "127.0.0.1:5090"} {
		pc, err := net.ListenPacket("udp", a)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is taken: %v", a, err)
			}
			t.Skipf("%s is taken: %v", a, err)
		}
		pc.Close()
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tandem")
	build := exec.Command("go", "build", "-o", bin, "../cmd/tandem")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "tandem.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
	})
	logs := func() string { b, _ := os.ReadFile(filepath.Join(dir, "tandem.log")); return string(b) }
	waitFor(t, 15*time.Second, "tandem to be healthy", func() bool {
		res, err := http.Get("http://127.0.0.1:9060/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	ok, failed := runUAC(t, "127.0.0.1:5060", "-sf", scenario(t, "uac-gateway.xml", "KEY", "1"), "-s", "5000", "-m", "1", "-mp", strconv.Itoa(freePort(t)))
	if ok != 1 || failed != 0 {
		t.Fatalf("call to the demo: %d ok, %d failed\n%s", ok, failed, logs())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("tandem exited with %v\n%s", err, logs())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("tandem did not stop on SIGTERM\n%s", logs())
	}
	if _, err := os.Stat(filepath.Join(dir, "tandem-data", "apps", "demo", "menu.vxml")); err != nil {
		t.Errorf("demo not installed under ./tandem-data: %v", err)
	}
}
