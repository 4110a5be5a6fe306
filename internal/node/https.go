package node

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/tandem-cc/tandem/internal/certs"
)

// setupHTTPS puts TLS on the CTI and console listeners that https.mode
// wants it on (see config.HTTPS), with the configured certificate or the
// self-signed one of data_dir/tls, whose fingerprint it logs in one line.
// The listeners are wrapped in place, so the HTTP servers see r.TLS and
// the console's cookie is Secure.
func (n *Node) setupHTTPS() error {
	h := n.cfg.HTTPS
	type lnRef struct {
		name string
		ln   *net.Listener
		on   *bool
	}
	var secure []lnRef
	for _, l := range []lnRef{{"cti", &n.ctiLn, &n.https.cti}, {"console", &n.consoleLn, &n.https.console}} {
		if *l.ln == nil {
			continue
		}
		switch {
		case h.Mode == "on", h.Mode == "auto" && (h.Cert != "" || !onLoopback(*l.ln)):
			secure = append(secure, l)
		case h.Mode == "off" && !onLoopback(*l.ln):
			n.log.Warn(l.name+" serves plain HTTP beyond loopback (https.mode off): sign-ins and tokens cross the network in the clear unless a TLS proxy fronts it",
				"addr", (*l.ln).Addr().String())
		}
	}
	if len(secure) == 0 {
		return nil
	}
	var hosts, names []string
	for _, l := range secure {
		host, _, _ := net.SplitHostPort((*l.ln).Addr().String())
		hosts = append(hosts, host)
		names = append(names, l.name)
	}
	c, err := certs.Load(certs.Source{CertFile: h.Cert, KeyFile: h.Key, Dir: filepath.Join(n.cfg.DataDir, "tls"), Hosts: hosts})
	if err != nil {
		return fmt.Errorf("https: %w", err)
	}
	source := "configured"
	switch {
	case c.Made:
		source = "self-signed, made now"
	case c.SelfSigned:
		source = "self-signed"
	}
	n.log.Info("https certificate", "sha256", c.Fingerprint, "source", source, "file", c.Path,
		"expires", c.NotAfter.Format("2006-01-02"), "listeners", strings.Join(names, ","))
	conf := certs.ServerConfig(c)
	for _, l := range secure {
		*l.ln = tls.NewListener(*l.ln, conf)
		*l.on = true
	}
	n.https.cert = c
	return nil
}

// httpsState is what setupHTTPS did: the certificate, and which
// listeners serve HTTPS. Set by New, read-only after.
type httpsState struct {
	cert         *certs.Cert
	cti, console bool
}

// onLoopback reports whether ln accepts only from this machine.
func onLoopback(ln net.Listener) bool {
	ap, err := netip.ParseAddrPort(ln.Addr().String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

func scheme(secure bool) string {
	if secure {
		return "https"
	}
	return "http"
}

// CTIURL is the CTI API's base URL (http:// or https://), or "".
func (n *Node) CTIURL() string {
	if n.ctiLn == nil {
		return ""
	}
	return scheme(n.https.cti) + "://" + n.ctiLn.Addr().String()
}

// ConsoleURL is the console's base URL (http:// or https://), or "".
func (n *Node) ConsoleURL() string {
	if n.consoleLn == nil {
		return ""
	}
	return scheme(n.https.console) + "://" + n.consoleLn.Addr().String()
}

// HTTPSCert is the certificate the CTI and console listeners serve, nil
// when both are plain HTTP.
func (n *Node) HTTPSCert() *certs.Cert { return n.https.cert }
