package sphinx

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Dictionary maps words to pronunciations in the CMU phone set
// (cmudict-en-us.dict: "word PH O NE S", alternates as "word(2) ...").
// It is read once and then only read, so it is safe for concurrent use.
type Dictionary struct {
	prons map[string][]string
}

// LoadDictionary reads a CMU-format dictionary file.
func LoadDictionary(path string) (*Dictionary, error) {
	d := &Dictionary{prons: make(map[string][]string, 140000)}
	return d, d.ReadFile(path)
}

// ReadFile adds the entries of a CMU-format file.
func (d *Dictionary) ReadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := d.Read(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Read adds the entries of r; a line that is not "word phones..." is an
// error naming its line number.
func (d *Dictionary) Read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	ln := 0
	for sc.Scan() {
		ln++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, ";;;") || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return fmt.Errorf("line %d: a word without phones", ln)
		}
		w := strings.ToLower(f[0])
		if i := strings.IndexByte(w, '('); i > 0 && strings.HasSuffix(w, ")") {
			w = w[:i] // an alternate pronunciation
		}
		for _, p := range f[1:] {
			if !validPhone(p) {
				return fmt.Errorf("line %d: %q is not a phone of the model", ln, p)
			}
		}
		d.prons[w] = append(d.prons[w], strings.Join(f[1:], " "))
	}
	return sc.Err()
}

// Has reports whether w has a pronunciation.
func (d *Dictionary) Has(w string) bool { return len(d.prons[w]) > 0 }

// Prons returns w's pronunciations, the usual one first.
func (d *Dictionary) Prons(w string) []string { return d.prons[w] }

// phones is the en-us model's phone set (its mdef), without fillers.
var phones = map[string]bool{}

func init() {
	for _, p := range phoneList {
		phones[p] = true
	}
}

func validPhone(p string) bool { return phones[p] }
