package report

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		input, report, rejects string
		wantReport, wantReject string
	}{
		{"deals.csv", "", "", "deals.report.csv", "deals.rejects.csv"},
		{"in/deals.xlsx", "", "", "deals.report.csv", "deals.rejects.xlsx"},
		{"deals.rejects.csv", "", "", "deals.rejects.report.csv", "deals.rejects-2.csv"},
		{"deals.rejects-2.csv", "", "", "deals.rejects-2.report.csv", "deals.rejects-3.csv"},
		{"deals.rejects-9.xlsx", "", "", "deals.rejects-9.report.csv", "deals.rejects-10.xlsx"},
		{"deals.rejects.old.csv", "", "", "deals.rejects.old.report.csv", "deals.rejects.old.rejects.csv"},
		{"x.csv", "reports/run.xlsx", "", "reports/run.xlsx", "reports/x.rejects.csv"},
		{"x.csv", "r.json", "fix/me.csv", "r.json", "fix/me.csv"},
		{"-", "", "", "stdin.report.csv", "stdin.rejects.csv"},
	}
	for _, tt := range tests {
		gotReport, gotRejects := Paths(tt.input, tt.report, tt.rejects)
		if gotReport != tt.wantReport || gotRejects != tt.wantReject {
			t.Errorf("Paths(%q, %q, %q) = %q, %q; want %q, %q", tt.input, tt.report, tt.rejects,
				gotReport, gotRejects, tt.wantReport, tt.wantReject)
		}
	}
}

func TestDistinct(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "deals.csv")
	if err := os.WriteFile(in, []byte("Title\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.csv")
	if err := os.Link(in, hard); err != nil {
		t.Skipf("links: %v", err) // Windows without the privilege
	}
	soft := filepath.Join(dir, "soft.csv")
	if err := os.Symlink(in, soft); err != nil {
		t.Skipf("links: %v", err) // Windows without the privilege
	}
	loop := filepath.Join(dir, "here")
	if err := os.Symlink(".", loop); err != nil {
		t.Skipf("links: %v", err) // Windows without the privilege
	}
	dangling := filepath.Join(dir, "later.csv")
	if err := os.Symlink("j.csv", dangling); err != nil {
		t.Skipf("links: %v", err) // Windows without the privilege
	}
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, in)
	if err != nil {
		t.Fatal(err)
	}
	input := File{"the input", in}
	tests := []struct {
		name  string
		files []File
		want  string // "" = no error
	}{
		{"all apart", []File{input, {"the report (--report)", filepath.Join(dir, "r.csv")}, {"the rejects file (--rejects)", filepath.Join(dir, "j.csv")}}, ""},
		{"stdin and empties", []File{{"the input", "-"}, {"the report", ""}, {"the rejects file", filepath.Join(dir, "j.csv")}}, ""},
		{"report is the input", []File{input, {"the report (--report)", in}}, `the input and the report (--report) are the same file: give the report (--report) another name`},
		{"relative spelling", []File{input, {"the report (--report)", rel}}, "are the same file under another name"},
		{"hard link", []File{input, {"the rejects file (--rejects)", hard}}, `the input and the rejects file (--rejects) are the same file under another name`},
		{"symbolic link", []File{input, {"the report (--report)", soft}}, "the input and the report (--report) are the same file"},
		{"through a linked folder", []File{input, {"the report (--report)", filepath.Join(loop, "deals.csv")}}, "the input and the report (--report) are the same file"},
		{"two new files", []File{input, {"the report (--report)", filepath.Join(dir, "new.csv")}, {"the rejects file (--rejects)", filepath.Join(loop, "new.csv")}},
			"the report (--report) and the rejects file (--rejects) are the same file"},
		{"a link to a file not made yet", []File{input, {"the report (--report)", dangling}, {"the rejects file (--rejects)", filepath.Join(dir, "j.csv")}},
			"the report (--report) and the rejects file (--rejects) are the same file"},
		{"state is the mapping", []File{{"the mapping", filepath.Join(dir, "m.yaml")}, {"the state database (--state)", filepath.Join(dir, "m.yaml")}}, "the mapping and the state database (--state) are the same file"},
	}
	for _, tt := range tests {
		err := Distinct(tt.files...)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: got %v, want no error", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// An XLSX report at a link is written to the link's target, which keeps the link.
func TestXLSXThroughLink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "real.xlsx")
	link := filepath.Join(dir, "link.xlsx")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("links: %v", err) // Windows without the privilege
	}
	w, err := NewWriter(link)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(summary); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is gone (%v, %v)", fi, err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Size() == 0 {
		t.Errorf("the target was not written (%v)", err)
	}
}

// An XLSX output's rows wait in a spool that is unlinked at once: a run killed before
// Close leaves no file of the customer's data behind.
func TestXLSXSpoolUnlinked(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("an open file cannot be unlinked on Windows")
	}
	t.Parallel()
	dir := t.TempDir()
	w, err := NewWriter(filepath.Join(dir, "r.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRejects(filepath.Join(dir, "j.xlsx"), rejectsHeader, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(results[0])
	r.Write([]string{"1", "2", "3"}, "bad")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("while writing, the folder holds %v, want nothing", entries)
	}
	if err := w.Close(summary); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("after Close, the folder holds %v, want the two files", entries)
	}
}

func TestFits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		rows int64
		ok   bool
	}{
		{"r.xlsx", 1_048_575, true},
		{"r.xlsx", 1_048_576, false},
		{"R.XLSX", 2_000_000, false},
		{"r.csv", 2_000_000, true},
		{"r.xlsx", -1, true},
	}
	for _, tt := range tests {
		if err := Fits(tt.path, tt.rows); (err == nil) != tt.ok {
			t.Errorf("Fits(%q, %d) = %v, want ok %v", tt.path, tt.rows, err, tt.ok)
		}
	}
}
