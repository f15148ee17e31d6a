package generator

import (
	"strings"
	"testing"
)

// A file with CRLF line endings gets CRLF lines inserted, so add does not mix line endings.
func TestInsertKeepsCRLF(t *testing.T) {
	src := "# Demo\r\n\r\n<!-- daemongen:features -->\r\nend\r\n"
	got, err := Insert([]byte(src), "daemongen:features", "| lock | guard |\n\n| batch | queue |")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(got), "\n") != strings.Count(string(got), "\r\n") {
		t.Fatalf("mixed line endings:\n%q", got)
	}
	if !strings.Contains(string(got), "| lock | guard |\r\n\r\n| batch | queue |\r\n<!-- daemongen:features -->\r\n") {
		t.Fatalf("fragment not above the marker:\n%q", got)
	}
	again, err := Insert(got, "daemongen:features", "| lock | guard |\n\n| batch | queue |")
	if err != nil || string(again) != string(got) {
		t.Fatalf("inserting again changed the CRLF file (err %v):\n%q", err, again)
	}
}
