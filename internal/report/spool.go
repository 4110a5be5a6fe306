package report

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"

	"github.com/tandem-cc/tandem/internal/event"
)

// spool is the persistent overflow of the Writer: an append-only file of
// records, each a 4-byte big-endian payload length, a 4-byte CRC-32C of
// the payload and the payload (one event as JSON). A batch is appended
// and fsynced as one, so what append acknowledges survives a kill -9 or a
// power cut; a torn tail (a record cut short or failing its checksum) is
// cut off when the spool is opened.
//
// Owned by the Writer's goroutine: no locking.
type spool struct {
	f    *os.File
	path string
	max  int64 // bytes the file may grow to
	size int64 // bytes of valid records
	read int64 // offset of the first record not yet replayed
	log  *slog.Logger
	buf  []byte // reused encode buffer
}

const spoolHeader = 8

// maxSpoolRecord bounds one record, so a corrupt length cannot make the
// reader allocate gigabytes.
const maxSpoolRecord = 1 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errSpoolFull: the batch would take the spool past its bound.
var errSpoolFull = errors.New("report: spool full")

// openSpool opens (creating if needed) the spool at path and checks every
// record, truncating after the last good one.
func openSpool(path string, max int64, log *slog.Logger) (*spool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("report: spool %s: %w", path, err)
	}
	s := &spool{f: f, path: path, max: max, log: log}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("report: spool %s: %w", path, err)
	}
	var off int64
	for off < fi.Size() {
		_, next, err := s.recordAt(off)
		if err != nil {
			log.Warn("report: spool has a torn or corrupt tail; cutting it off",
				"spool", path, "offset", off, "size", fi.Size(), "err", err)
			break
		}
		off = next
	}
	if off != fi.Size() {
		if err := f.Truncate(off); err != nil {
			f.Close()
			return nil, fmt.Errorf("report: spool %s: truncate torn tail: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("report: spool %s: sync: %w", path, err)
		}
	}
	s.size = off
	return s, nil
}

// pending reports whether records wait to be replayed.
func (s *spool) pending() bool { return s.read < s.size }

// append writes events as one fsynced append, or returns errSpoolFull
// and writes nothing when they would not fit.
func (s *spool) append(events []event.Event) error {
	b := s.buf[:0]
	for i := range events {
		start := len(b)
		b = append(b, make([]byte, spoolHeader)...)
		var err error
		b, err = appendJSON(b, &events[i])
		if err != nil {
			return fmt.Errorf("report: spool %s: encode event %s: %w", s.path, events[i].ID, err)
		}
		payload := b[start+spoolHeader:]
		binary.BigEndian.PutUint32(b[start:], uint32(len(payload)))
		binary.BigEndian.PutUint32(b[start+4:], crc32.Checksum(payload, crcTable))
	}
	s.buf = b
	if s.size+int64(len(b)) > s.max {
		return errSpoolFull
	}
	if _, err := s.f.WriteAt(b, s.size); err != nil {
		// A partial write is a torn tail: cut it so the next append lines up.
		_ = s.f.Truncate(s.size)
		return fmt.Errorf("report: spool %s: write: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("report: spool %s: sync: %w", s.path, err)
	}
	s.size += int64(len(b))
	return nil
}

func appendJSON(b []byte, e *event.Event) ([]byte, error) {
	j, err := json.Marshal(e)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

// recordAt reads the record at off, returning it and the next offset.
func (s *spool) recordAt(off int64) (event.Event, int64, error) {
	var h [spoolHeader]byte
	if _, err := s.f.ReadAt(h[:], off); err != nil {
		return event.Event{}, 0, fmt.Errorf("header at %d: %w", off, err)
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n > maxSpoolRecord {
		return event.Event{}, 0, fmt.Errorf("record at %d: length %d beyond %d", off, n, maxSpoolRecord)
	}
	p := make([]byte, n)
	if _, err := s.f.ReadAt(p, off+spoolHeader); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return event.Event{}, 0, fmt.Errorf("record at %d: %w", off, err)
	}
	if crc32.Checksum(p, crcTable) != binary.BigEndian.Uint32(h[4:]) {
		return event.Event{}, 0, fmt.Errorf("record at %d: checksum mismatch", off)
	}
	var e event.Event
	if err := json.Unmarshal(p, &e); err != nil {
		return event.Event{}, 0, fmt.Errorf("record at %d: %w", off, err)
	}
	return e, off + spoolHeader + int64(n), nil
}

// next returns up to n records from the replay offset and the offset after
// them; the caller calls advance once they are stored.
func (s *spool) next(n int) ([]event.Event, int64, error) {
	var out []event.Event
	off := s.read
	for len(out) < n && off < s.size {
		e, nx, err := s.recordAt(off)
		if err != nil {
			return nil, 0, fmt.Errorf("report: spool %s: %w", s.path, err)
		}
		out = append(out, e)
		off = nx
	}
	return out, off, nil
}

// advance marks records before off as stored; once all are, the file is
// emptied so it never grows past what the store is behind by.
func (s *spool) advance(off int64) error {
	s.read = off
	if s.read < s.size {
		return nil
	}
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("report: spool %s: truncate: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("report: spool %s: sync: %w", s.path, err)
	}
	s.read, s.size = 0, 0
	return nil
}

func (s *spool) close() error {
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("report: spool %s: close: %w", s.path, err)
	}
	return nil
}
