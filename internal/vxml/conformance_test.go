package vxml

import (
	"context"
	"os"
	"strings"
	"testing"
)

const w3cDir = "../../../shared/testdata/vxml-w3c/"

func TestW3CDebug(t *testing.T) {
	id := os.Getenv("VXML_TEST")
	if id == "" {
		t.Skip("set VXML_TEST=suite/id")
	}
	suite, tid, _ := strings.Cut(id, "/")
	rs, err := RunSuite(context.Background(), w3cDir+suite, SuiteOptions{Only: map[string]bool{tid: true}, Speech: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		t.Logf("%s\n%s", r, r.Output)
	}
}
