package sphinx

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// lib is libpocketsphinx (0.8 / 5prealpha, Debian's libpocketsphinx3),
// opened at run time with purego: the binary builds and runs with Go alone,
// and a machine without the library gets ErrUnavailable instead of a link
// error. Only the handful of calls the engine needs are bound.
type lib struct {
	psArgs      func() uintptr
	cmdLnParse  func(inout uintptr, defn uintptr, argc int32, argv unsafe.Pointer, strict int32) uintptr
	cmdLnFree   func(cfg uintptr) int32
	psInit      func(cfg uintptr) uintptr
	psFree      func(ps uintptr) int32
	psAddWord   func(ps uintptr, word, phones string, update int32) int32
	psSetJSGF   func(ps uintptr, name, jsgf string) int32
	psSetSearch func(ps uintptr, name string) int32
	psUnset     func(ps uintptr, name string) int32
	psStartUtt  func(ps uintptr) int32
	psProcess   func(ps uintptr, data unsafe.Pointer, n uintptr, noSearch, fullUtt int32) int32
	psEndUtt    func(ps uintptr) int32
	psGetHyp    func(ps uintptr, score *int32) string
	psGetProb   func(ps uintptr) int32
	psLogmath   func(ps uintptr) uintptr
	logmathExp  func(lm uintptr, p int32) float64
	psNbest     func(ps uintptr) uintptr
	psNbestNext func(nb uintptr) uintptr
	psNbestHyp  func(nb uintptr, score *int32) string
	psNbestFree func(nb uintptr)
	psNFrames   func(ps uintptr) int32
}

// libNames are the shared objects tried, newest soname first.
var libNames = []string{"libpocketsphinx.so.3", "libpocketsphinx.so"}

var (
	loadOnce sync.Once
	loaded   *lib
	loadErr  error
)

// load opens the library once per process.
func load() (*lib, error) {
	loadOnce.Do(func() { loaded, loadErr = open() })
	return loaded, loadErr
}

func open() (l *lib, err error) {
	var h uintptr
	var errs []error
	for _, n := range libNames {
		h, err = purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			break
		}
		errs = append(errs, err)
	}
	if h == 0 {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, errors.Join(errs...))
	}
	// RegisterLibFunc panics on a missing symbol (another version of the
	// library); that is an unavailable engine, not a crash.
	defer func() {
		if r := recover(); r != nil {
			l, err = nil, fmt.Errorf("%w: %v", ErrUnavailable, r)
		}
	}()
	l = &lib{}
	// logmath_exp and cmd_ln_* live in libsphinxbase, which
	// libpocketsphinx links: RTLD_GLOBAL makes them reachable through it.
	purego.RegisterLibFunc(&l.psArgs, h, "ps_args")
	purego.RegisterLibFunc(&l.cmdLnParse, h, "cmd_ln_parse_r")
	purego.RegisterLibFunc(&l.cmdLnFree, h, "cmd_ln_free_r")
	purego.RegisterLibFunc(&l.psInit, h, "ps_init")
	purego.RegisterLibFunc(&l.psFree, h, "ps_free")
	purego.RegisterLibFunc(&l.psAddWord, h, "ps_add_word")
	purego.RegisterLibFunc(&l.psSetJSGF, h, "ps_set_jsgf_string")
	purego.RegisterLibFunc(&l.psSetSearch, h, "ps_set_search")
	purego.RegisterLibFunc(&l.psUnset, h, "ps_unset_search")
	purego.RegisterLibFunc(&l.psStartUtt, h, "ps_start_utt")
	purego.RegisterLibFunc(&l.psProcess, h, "ps_process_raw")
	purego.RegisterLibFunc(&l.psEndUtt, h, "ps_end_utt")
	purego.RegisterLibFunc(&l.psGetHyp, h, "ps_get_hyp")
	purego.RegisterLibFunc(&l.psGetProb, h, "ps_get_prob")
	purego.RegisterLibFunc(&l.psLogmath, h, "ps_get_logmath")
	purego.RegisterLibFunc(&l.logmathExp, h, "logmath_exp")
	purego.RegisterLibFunc(&l.psNbest, h, "ps_nbest")
	purego.RegisterLibFunc(&l.psNbestNext, h, "ps_nbest_next")
	purego.RegisterLibFunc(&l.psNbestHyp, h, "ps_nbest_hyp")
	purego.RegisterLibFunc(&l.psNbestFree, h, "ps_nbest_free")
	purego.RegisterLibFunc(&l.psNFrames, h, "ps_get_n_frames")
	return l, nil
}

// config builds a cmd_ln_t from argument pairs; the caller frees it after
// ps_init (which keeps its own reference).
func (l *lib) config(args []string) (uintptr, error) {
	// argv is C memory the call only reads: NUL-terminated copies kept
	// alive (and unmoved: Go's heap does not move) for the call.
	bufs := make([][]byte, len(args))
	argv := make([]*byte, len(args)+1)
	for i, a := range args {
		bufs[i] = append([]byte(a), 0)
		argv[i] = &bufs[i][0]
	}
	cfg := l.cmdLnParse(0, l.psArgs(), int32(len(args)), unsafe.Pointer(&argv[0]), 1)
	runtime.KeepAlive(bufs)
	runtime.KeepAlive(argv)
	if cfg == 0 {
		return 0, fmt.Errorf("sphinx: the library refused its configuration %q", args)
	}
	return cfg, nil
}
