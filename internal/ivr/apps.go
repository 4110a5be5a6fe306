package ivr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
)

// External VoiceXML applications (CVP's VXML Server applications) live in
// Config.AppsDir, one folder per application with its entry document
// main.vxml and whatever else it fetches (more documents, grammars,
// audio), all served read-only under /ivr/apps/<app>/.
//
// EXT hands the call over with a <subdialog> to apps/<app>/main.vxml
// (relative, so it resolves against the URL the gateway used for the IVR
// service): the to_ext_vxml pairs are its <param>s, which initialise the
// <var>s of the same names in the application's first form (CVP puts them
// in session variables). The application ends with
// <return namelist="..."/>; the wrapper posts what it returned, as JSON in
// from_ext_vxml, and the service hands the router from_ext_vxml.<name> =
// value for each (caller_input is the returned caller_input, if any). An
// application that cannot be fetched, or returns with event="...", ends
// the micro-app with error=error: the router takes the node's error exit
// and the caller is not left in silence.

// appEntry is an application's entry document, inside its folder.
const appEntry = "main.vxml"

// appTypes are the content types of the files an application serves,
// named here rather than registered with mime (a process-wide table).
var appTypes = map[string]string{
	".vxml":  "application/voicexml+xml; charset=utf-8",
	".xml":   "application/xml; charset=utf-8",
	".grxml": "application/srgs+xml; charset=utf-8",
	".js":    "application/javascript; charset=utf-8",
	".json":  "application/json; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".wav":   "audio/wav",
}

// appURL is the entry document's URL, relative to the IVR service's.
func appURL(app string) string { return "apps/" + app + "/" + appEntry }

// handleApp serves a file of an external application. Only regular files
// under Config.AppsDir are served: the path is checked segment by segment
// (no "..", no dot files, no empty segment) and opened through an os.Root,
// which also refuses symbolic links that lead out of the directory.
func (s *Server) handleApp(w http.ResponseWriter, r *http.Request) {
	rel := r.PathValue("path")
	if err := s.serveApp(w, r, rel); err != nil {
		code := http.StatusNotFound
		if errors.Is(err, errBadAppPath) {
			code = http.StatusBadRequest
		}
		s.log.Info("ivr: application file not served", "path", rel, "remote", r.RemoteAddr, "err", err)
		http.Error(w, http.StatusText(code), code)
	}
}

var errBadAppPath = errors.New("bad path")

func (s *Server) serveApp(w http.ResponseWriter, r *http.Request, rel string) error {
	if s.cfg.AppsDir == "" {
		return fmt.Errorf("ivr: apps: no apps directory configured")
	}
	segs := strings.Split(rel, "/")
	if len(segs) < 2 || checkAppName(segs[0]) != nil {
		return fmt.Errorf("ivr: apps: %q: %w (want <app>/<file>)", rel, errBadAppPath)
	}
	for _, seg := range segs[1:] {
		if seg == "" || strings.HasPrefix(seg, ".") || strings.ContainsAny(seg, "\\\x00") {
			return fmt.Errorf("ivr: apps: %q: %w", rel, errBadAppPath)
		}
	}
	// Opened per request: the directory may be created or filled after
	// the service starts, and an open is cheap beside a VoiceXML fetch.
	root, err := os.OpenRoot(s.cfg.AppsDir)
	if err != nil {
		return fmt.Errorf("ivr: apps: %w", err)
	}
	defer root.Close()
	f, err := root.Open(path.Join(segs...))
	if err != nil {
		return fmt.Errorf("ivr: apps: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("ivr: apps: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("ivr: apps: %q: %w", rel, fs.ErrNotExist)
	}
	if t, ok := appTypes[strings.ToLower(path.Ext(rel))]; ok {
		w.Header().Set("Content-Type", t)
	}
	// Revalidated on each use (ServeContent answers If-Modified-Since), so
	// an edited application is live on the next call.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, st.Name(), st.ModTime(), f)
	return nil
}

// fromExtVXML adds the values an external application returned (a JSON
// object, as the wrapper posts it) to result as from_ext_vxml.<name>,
// strings as they are and anything else as JSON. It keeps at most
// maxExtVars values, in name order, and returns how many it kept.
func fromExtVXML(posted string, result map[string]string) (int, error) {
	if posted == "" {
		return 0, nil
	}
	var vals map[string]json.RawMessage
	if err := json.Unmarshal([]byte(posted), &vals); err != nil {
		return 0, fmt.Errorf("ivr: from_ext_vxml: %w", err)
	}
	names := slices.Sorted(maps.Keys(vals))
	var errs []error
	n := 0
	for _, k := range names {
		if !isIdent(k) {
			errs = append(errs, fmt.Errorf("ivr: from_ext_vxml: name %q dropped", k))
			continue
		}
		if n == maxExtVars {
			errs = append(errs, fmt.Errorf("ivr: from_ext_vxml: more than %d values, the rest dropped", maxExtVars))
			break
		}
		raw := vals[k]
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			str = string(raw) // a number, a boolean, an object: as JSON
			if str == "null" {
				str = ""
			}
		}
		result["from_ext_vxml."+k] = str
		n++
	}
	return n, errors.Join(errs...)
}
