// Package reporttest starts throwaway PostgreSQL clusters for the tests
// and benchmarks of the reporting store.
package reporttest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// Postgres is a PostgreSQL cluster on 127.0.0.1 with trust auth, in a temp
// dir, stopped and removed in the test's Cleanup.
type Postgres struct {
	Port    int
	bin     string
	dir     string // data directory
	tb      testing.TB
	user    string // OS user the server runs as; empty: the current one
	running bool
}

// StartPostgres initdbs and starts a cluster from Debian's binaries
// (/usr/lib/postgresql/*/bin). Without them it skips, unless CI is set:
// there the test command installs postgresql, so their absence is a
// failure. fsync decides whether the server fsyncs (benchmarks want it;
// functional tests run faster without).
func StartPostgres(tb testing.TB, fsync bool) *Postgres {
	tb.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		if os.Getenv("CI") != "" {
			tb.Fatal("reporttest: no /usr/lib/postgresql/*/bin/pg_ctl under CI: install the postgresql package")
		}
		tb.Skip("reporttest: PostgreSQL binaries not installed (/usr/lib/postgresql/*/bin)")
	}
	sort.Strings(bins) // the newest major version sorts last
	p := &Postgres{bin: filepath.Dir(bins[len(bins)-1]), tb: tb}

	// initdb refuses to run as root: run the server as postgres, in a
	// directory that user owns (t.TempDir is root-only).
	root, err := os.MkdirTemp("", "tandem-pg-")
	if err != nil {
		tb.Fatalf("reporttest: temp dir: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(root) })
	p.dir = filepath.Join(root, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("reporttest: running as root and no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			tb.Fatalf("reporttest: chown %s: %v", root, err)
		}
		p.user = "postgres"
	}
	p.run("initdb", "-D", p.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	p.Port = freePort(tb)
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = ''\nfsync = %v\nmax_connections = 50\n", p.Port, onOff(fsync))
	if fsync {
		conf += "synchronous_commit = on\n"
	} else {
		conf += "synchronous_commit = off\nfull_page_writes = off\n"
	}
	// Root may append to the postgres-owned file; its owner stays.
	f, err := os.OpenFile(filepath.Join(p.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		tb.Fatalf("reporttest: postgresql.conf: %v", err)
	}
	p.Start()
	tb.Cleanup(func() {
		if p.running {
			p.Stop()
		}
	})
	return p
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// DSN returns a connection string for database db ("postgres" always exists).
func (p *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// CreateDB creates database name and returns its DSN.
func (p *Postgres) CreateDB(name string) string {
	p.tb.Helper()
	p.run(filepath.Join(p.bin, "createdb"), "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "postgres", name)
	return p.DSN(name)
}

// Start starts the server and waits until it accepts connections.
func (p *Postgres) Start() {
	p.tb.Helper()
	p.run(filepath.Join(p.bin, "pg_ctl"), "-D", p.dir, "-l", filepath.Join(filepath.Dir(p.dir), "log"), "-w", "-t", "60", "start")
	p.running = true
}

// Stop stops the server fast (open connections are cut), as an outage would.
func (p *Postgres) Stop() {
	p.tb.Helper()
	p.run(filepath.Join(p.bin, "pg_ctl"), "-D", p.dir, "-m", "fast", "-w", "stop")
	p.running = false
}

func (p *Postgres) run(name string, args ...string) {
	p.tb.Helper()
	if name == "initdb" {
		name = filepath.Join(p.bin, "initdb")
	}
	cmd := exec.Command(name, args...)
	if p.user != "" {
		cmd = exec.Command("runuser", append([]string{"-u", p.user, "--", name}, args...)...)
	}
	cmd.Dir = os.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		p.tb.Fatalf("reporttest: %s %v: %v\n%s", name, args, err, out)
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("reporttest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
