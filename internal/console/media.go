package console

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/tandem-cc/tandem/internal/media"
)

// maxMedia bounds an upload: ten minutes of 8 kHz µ-law is 4.8 MB; a
// prompt longer than that is not a prompt.
const maxMedia = 16 << 20

// mediaName is what an uploaded file may be called: no path, no hidden
// files, a .wav ending (the gateway plays WAV).
var mediaName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.wav$`)

type mediaItem struct {
	Name       string `json:"name"`
	Size       int64  `json:"size"`
	DurationMS int    `json:"duration_ms"`
	Format     string `json:"format"`
	Error      string `json:"error,omitempty"`
}

func formatOf(info media.WAVInfo) string {
	tag := map[int]string{1: "PCM", 3: "float", 6: "A-law", 7: "µ-law"}[info.FormatTag]
	if tag == "" {
		tag = fmt.Sprintf("format %d", info.FormatTag)
	}
	return fmt.Sprintf("%s %d-bit %d Hz, %d channel(s)", tag, info.Bits, info.Rate, info.Channels)
}

func (c *Console) handleMediaList(w http.ResponseWriter, _ *http.Request, _ *session) {
	ents, err := os.ReadDir(c.cfg.MediaDir)
	if err != nil {
		c.fail(w, http.StatusInternalServerError, fmt.Errorf("console: media: %w", err))
		return
	}
	out := []mediaItem{}
	for _, e := range ents {
		if e.IsDir() || !mediaName.MatchString(e.Name()) {
			continue
		}
		it := mediaItem{Name: e.Name()}
		if fi, err := e.Info(); err == nil {
			it.Size = fi.Size()
		}
		if _, info, err := media.ReadWAVFile(filepath.Join(c.cfg.MediaDir, e.Name())); err != nil {
			it.Error = err.Error()
		} else {
			it.DurationMS, it.Format = info.DurationMS, formatOf(info)
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b mediaItem) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, out)
}

// handleMediaUpload takes one WAV file (multipart field "file"), checks it
// with the media package's reader — the one the gateway plays it with — and
// keeps it under its name, replacing one of the same name.
func (c *Console) handleMediaUpload(w http.ResponseWriter, r *http.Request, ss *session) {
	r.Body = http.MaxBytesReader(w, r.Body, maxMedia+64<<10)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		c.fail(w, http.StatusBadRequest, fmt.Errorf("console: media upload: want a multipart field \"file\": %w", err))
		return
	}
	defer f.Close()
	name := filepath.Base(hdr.Filename)
	if !mediaName.MatchString(name) {
		c.fail(w, http.StatusBadRequest, fmt.Errorf("console: media upload: name %q: want letters, digits, '.', '_' or '-' ending in .wav", name))
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMedia+1))
	if err != nil {
		c.fail(w, http.StatusBadRequest, fmt.Errorf("console: media upload %s: %w", name, err))
		return
	}
	if len(data) > maxMedia {
		c.fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("console: media upload %s: larger than %d bytes", name, maxMedia))
		return
	}
	_, info, err := media.DecodeWAV(data, name)
	if err != nil {
		c.fail(w, http.StatusUnprocessableEntity, fmt.Errorf("console: media upload: %w", err))
		return
	}
	if info.SourceLen == 0 {
		c.fail(w, http.StatusUnprocessableEntity, fmt.Errorf("console: media upload %s: no audio in the file", name))
		return
	}
	// Written beside and renamed, so the gateway never reads half a file.
	tmp, err := os.CreateTemp(c.cfg.MediaDir, ".upload-*")
	if err != nil {
		c.fail(w, http.StatusInternalServerError, err)
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		c.fail(w, http.StatusInternalServerError, fmt.Errorf("console: media upload %s: %w", name, err))
		return
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.cfg.MediaDir, name)); err != nil {
		os.Remove(tmp.Name())
		c.fail(w, http.StatusInternalServerError, fmt.Errorf("console: media upload %s: %w", name, err))
		return
	}
	c.log.Info("console: media uploaded", "name", name, "bytes", len(data), "format", formatOf(info), "by", ss.user)
	writeJSON(w, http.StatusCreated, mediaItem{Name: name, Size: int64(len(data)), DurationMS: info.DurationMS, Format: formatOf(info)})
}

func (c *Console) handleMediaDelete(w http.ResponseWriter, r *http.Request, ss *session) {
	name := r.PathValue("name")
	if !mediaName.MatchString(name) {
		c.fail(w, http.StatusNotFound, fmt.Errorf("console: media %q: no such file", name))
		return
	}
	if err := os.Remove(filepath.Join(c.cfg.MediaDir, name)); err != nil {
		c.fail(w, http.StatusNotFound, fmt.Errorf("console: media %s: %w", name, err))
		return
	}
	c.log.Info("console: media deleted", "name", name, "by", ss.user)
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) handleMediaGet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !mediaName.MatchString(name) {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(c.cfg.MediaDir, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	http.ServeContent(w, r, name, fi.ModTime(), f)
}
