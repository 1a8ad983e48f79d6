package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/state"
)

// runWith runs oppimport with args on ios (its signals never fire) and returns the exit
// code and the output.
func runWith(t *testing.T, ios streams, args ...string) cmdResult {
	t.Helper()
	var out, errb syncBuffer
	ios.out, ios.err = &out, &errb
	if ios.in == nil {
		ios.in = strings.NewReader("")
	}
	ios.signals = make(chan os.Signal)
	code := run(args, ios)
	if strings.Contains(errb.String(), "goroutine ") || strings.Contains(errb.String(), "panic") {
		t.Errorf("stderr shows a panic:\n%s", errb.String())
	}
	return cmdResult{code, out.String(), errb.String()}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		res := runCmd(t, args...)
		if res.code != exitOK || !strings.HasPrefix(res.out, "oppimport ") || !strings.Contains(res.out, runtime.Version()) || res.stderr != "" {
			t.Errorf("%v: got exit %d, stdout %q, stderr %q; want 0 and the version with %s on stdout", args, res.code, res.out, res.stderr, runtime.Version())
		}
	}
}

// Help goes to stdout, exits 0, and shows the command's flags by group.
func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"oppimport import ", "Exit codes:"}},
		{[]string{"-h"}, []string{"oppimport import "}},
		{[]string{"help"}, []string{"oppimport import "}},
		{[]string{"-help"}, []string{"oppimport import "}},
		{[]string{"help", "import"}, []string{"Usage: oppimport import", "State flags:", "Connection flags:", "Rate flags:", "--rate R", "Terminal and logs flags:", "-q, --quiet", "Exit codes:"}},
		{[]string{"import", "--help"}, []string{"Usage: oppimport import", "--max-errors N"}},
		{[]string{"import", "-h"}, []string{"Usage: oppimport import"}},
		{[]string{"validate", "--help"}, []string{"Usage: oppimport validate", "Connection flags:"}},
		{[]string{"undo", "--help"}, []string{"Usage: oppimport undo", "--yes", "--dry-run", "Rate flags:"}},
		{[]string{"status", "--help"}, []string{"Usage: oppimport status", "--json"}},
		{[]string{"unlock", "--help"}, []string{"Usage: oppimport unlock", "--mapping FILE"}},
		{[]string{"help", "demo"}, []string{"Usage: oppimport demo", "--rate"}},
	}
	for _, tt := range tests {
		res := runCmd(t, tt.args...)
		if res.code != exitOK || res.stderr != "" {
			t.Errorf("%v: got exit %d and stderr %q, want 0 and nothing", tt.args, res.code, res.stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(res.out, w) {
				t.Errorf("%v: stdout lacks %q:\n%s", tt.args, w, res.out)
			}
		}
	}
	// validate posts nothing: it has no rate flags to offer.
	if res := runCmd(t, "validate", "--help"); strings.Contains(res.out, "--concurrency") {
		t.Errorf("validate --help offers --concurrency:\n%s", res.out)
	}
}

// A mistyped flag, command or value is one line on stderr that says what is wrong, the
// nearest right name, and where help is; exit 2.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"import", "--mappin", "m.yaml", "in.csv"}, "oppimport import: unknown flag --mappin; did you mean --mapping? (see 'oppimport import --help')"},
		{[]string{"imprt", "--mapping", "m.yaml"}, `oppimport: unknown command "imprt"; did you mean "import"? (see 'oppimport --help')`},
		{[]string{"statsu"}, `oppimport: unknown command "statsu"; did you mean "status"? (see 'oppimport --help')`},
		{[]string{"import", "--rate", "fast", "in.csv"}, `oppimport import: --rate "fast": want a number (see 'oppimport import --help')`},
		{[]string{"import", "--progress", "sometimes", "in.csv"}, `oppimport import: --progress "sometimes": want auto, always or never (see 'oppimport import --help')`},
		{[]string{"import", "--timeout", "soon", "in.csv"}, `oppimport import: --timeout "soon": want a duration such as 30s, 2m or 1h (see 'oppimport import --help')`},
		{[]string{"import", "--mapping"}, `oppimport import: --mapping needs a value (see 'oppimport import --help')`},
		{[]string{"import", "a.csv", "b.csv"}, `oppimport import: want exactly one INPUT file (or - for stdin), got 2 (see 'oppimport import --help')`},
		{[]string{"status", "extra"}, `oppimport status: unexpected argument "extra" (see 'oppimport status --help')`},
		{[]string{"help", "stauts"}, `oppimport: unknown command "stauts"; did you mean "status"? (see 'oppimport --help')`},
		{[]string{"completion"}, `oppimport completion: want a shell: bash, zsh, fish or powershell (see 'oppimport completion --help')`},
		{[]string{"completion", "tcsh"}, `oppimport completion: no completion for "tcsh": want bash, zsh, fish or powershell (see 'oppimport completion --help')`},
	}
	for _, tt := range tests {
		res := runCmd(t, tt.args...)
		if res.code != exitNothing {
			t.Errorf("%v: got exit %d, want 2", tt.args, res.code)
		}
		if diff := cmp.Diff(tt.want+"\n", res.stderr); diff != "" {
			t.Errorf("%v: stderr (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		res := runCmd(t, "completion", shell)
		if res.code != exitOK || !strings.Contains(res.out, "oppimport") || len(res.out) < 1000 {
			t.Errorf("completion %s: got exit %d and %d bytes on stdout, want 0 and a script", shell, res.code, len(res.out))
		}
	}
	// The script asks the binary itself; what it answers for a flag's value:
	res := runCmd(t, "__complete", "import", "--progress", "")
	for _, w := range []string{"auto", "always", "never"} {
		if !strings.Contains(res.out, w+"\n") {
			t.Errorf("completing --progress does not offer %q:\n%s", w, res.out)
		}
	}
	res = runCmd(t, "__complete", "im")
	if !strings.Contains(res.out, "import") {
		t.Errorf("completing 'im' does not offer import:\n%s", res.out)
	}
}

// importTitles imports a Title CSV of titles (keyed by title) into the emulator and returns
// the mapping's path.
func importTitles(t *testing.T, srv *emulator.Server, url, dir string, extra []string, titles ...string) (string, cmdResult) {
	t.Helper()
	mp := writeFile(t, dir, "m.yaml", keyedTitleMapping)
	in := writeFile(t, dir, "in.csv", "Title\n"+strings.Join(titles, "\n")+"\n")
	args := append([]string{"import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--report", filepath.Join(dir, "in.report.csv"), "--rejects", filepath.Join(dir, "in.rejects.csv")}, extra...)
	return mp, runCmd(t, append(args, in)...)
}

func TestStatusJSON(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	mp, res := importTitles(t, srv, url, dir, nil, "First deal", "Second deal")
	if res.code != exitOK {
		t.Fatalf("import: exit %d:\n%s", res.code, res.stderr)
	}
	st := runCmd(t, "status", "--mapping", mp, "--json")
	var got statusJSON
	if err := json.Unmarshal([]byte(st.out), &got); err != nil || st.code != exitOK {
		t.Fatalf("status --json: exit %d, %v:\n%s%s", st.code, err, st.out, st.stderr)
	}
	if len(got.Runs) != 1 || got.Runs[0].Mode != "create" || got.Runs[0].Counts["created"] != 2 || got.Runs[0].Ended == nil ||
		got.Runs[0].ElapsedSeconds == nil || got.InDoubt == nil {
		t.Errorf("status --json: got %+v, want one finished create run with 2 created and an empty in_doubt", got)
	}
	run := runCmd(t, "status", "--mapping", mp, "--run", "1", "--json")
	var rows struct {
		Run  runJSON      `json:"run"`
		Rows []runRowJSON `json:"rows"`
	}
	if err := json.Unmarshal([]byte(run.out), &rows); err != nil {
		t.Fatalf("status --run 1 --json: %v:\n%s", err, run.out)
	}
	titles := map[string]string{}
	for _, r := range rows.Rows {
		titles[r.Key] = r.Title + " " + r.Outcome
	}
	want := map[string]string{"First deal": "First deal created", "Second deal": "Second deal created"}
	if diff := cmp.Diff(want, titles); diff != "" {
		t.Errorf("status --run 1 --json rows (-want +got):\n%s", diff)
	}
	if text := runCmd(t, "status", "--mapping", mp, "--run", "1").out; !strings.Contains(text, "title") || !strings.Contains(text, "Second deal") {
		t.Errorf("status --run 1 shows no titles:\n%s", text)
	}
}

// With --log-format json every line on stderr is one JSON object, the summary and the
// report's path included.
func TestLogFormatJSON(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	_, res := importTitles(t, srv, url, dir, []string{"--log-format", "json"}, "Good", "Bad 😀", "Also good")
	if res.code != exitRows {
		t.Fatalf("got exit %d, want 1 for the row without a title:\n%s", res.code, res.stderr)
	}
	var summary map[string]any
	for _, line := range strings.Split(strings.TrimSpace(res.stderr), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Errorf("a stderr line is not JSON: %q", line)
			continue
		}
		if obj["summary"] != nil {
			summary = obj
		}
	}
	if summary == nil {
		t.Fatalf("no line carries the summary:\n%s", res.stderr)
	}
	counts, _ := summary["summary"].(map[string]any)["counts"].(map[string]any)
	if counts["created"] != 2.0 || counts["invalid"] != 1.0 || summary["report"] != filepath.Join(dir, "in.report.csv") ||
		summary["rejects"] != filepath.Join(dir, "in.rejects.csv") {
		t.Errorf("summary line: got %v, want 2 created, 1 invalid, the report and rejects paths", summary)
	}
	// A bad flag after --log-format json is one JSON object too; so is --progress always.
	bad := runCmd(t, "import", "--log-format", "json", "--rate", "fast", filepath.Join(dir, "in.csv"))
	var obj map[string]any
	if err := json.Unmarshal([]byte(bad.stderr), &obj); err != nil || bad.code != exitNothing {
		t.Errorf("a bad flag with JSON logs: got exit %d and %q, want 2 and one JSON object", bad.code, bad.stderr)
	}
	_, always := importTitles(t, srv, url, t.TempDir(), []string{"--log-format", "json", "--progress", "always"}, "Good")
	for _, line := range strings.Split(strings.TrimSpace(always.stderr), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("--progress always with JSON logs wrote a line that is not JSON: %q", line)
		}
	}
	// A failure before the run is one JSON object too.
	bad = runCmd(t, "import", "--log-format", "json", "--mapping", filepath.Join(dir, "nope.yaml"), filepath.Join(dir, "in.csv"))
	if err := json.Unmarshal([]byte(bad.stderr), &obj); err != nil || bad.code != exitNothing || obj["level"] != "ERROR" {
		t.Errorf("a missing mapping with JSON logs: got exit %d and %q, want 2 and one JSON error", bad.code, bad.stderr)
	}
}

// --quiet leaves only the summary and the files written, and errors.
func TestQuiet(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	_, res := importTitles(t, srv, url, dir, []string{"-q", "--progress", "always"}, "Good", "Bad 😀")
	if res.code != exitRows {
		t.Fatalf("got exit %d, want 1:\n%s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "1 created, 1 invalid") || !strings.Contains(lines[0], "; 1 request, ") || !strings.HasPrefix(lines[1], "report: ") ||
		!strings.HasPrefix(lines[2], "rejects: ") || !strings.Contains(lines[2], "(1 row:") {
		t.Errorf("--quiet: got stderr\n%s\nwant the summary, the report and the rejects (1 row) alone", res.stderr)
	}
}

// On a terminal, undo asks before it deletes; no deletes without a yes; --yes skips it.
func TestUndoAsksOnATerminal(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	mp, res := importTitles(t, srv, url, dir, nil, "First deal", "Second deal", "Third deal", "Fourth deal")
	if res.code != exitOK {
		t.Fatalf("import: exit %d:\n%s", res.code, res.stderr)
	}
	tty := streams{errIsTTY: true, inIsTTY: true, noColor: true}
	args := []string{"undo", "--mapping", mp, "--run", "1", "--url", url, "--token", srv.Token(), "--progress", "never",
		"--report", filepath.Join(dir, "undo.csv")}

	// The dry run asks nothing and lists every row: key, id, title, what it would do.
	dry := runWith(t, tty, append(args, "--dry-run")...)
	for _, title := range []string{"First deal", "Second deal", "Third deal", "Fourth deal"} {
		if !regexp.MustCompile(`(?m)^` + title + ` +\d+ +` + title + ` +would-delete`).MatchString(dry.out) {
			t.Errorf("undo --dry-run does not list %q as would-delete:\n%s", title, dry.out)
		}
	}
	if dry.code != exitOK || strings.Contains(dry.stderr, "[y/N]") {
		t.Errorf("undo --dry-run: got exit %d, want 0 and no question:\n%s", dry.code, dry.stderr)
	}

	tty.in = strings.NewReader("n\n")
	no := runWith(t, tty, args...)
	question := `undo of run 1 on ` + state.Portal(url) + `: delete 4 deals ("`
	if no.code != exitNothing || !strings.HasPrefix(no.stderr, question) || !strings.Contains(no.stderr, `deal", …)? [y/N] `) ||
		strings.Count(no.stderr, " deal\"") != 3 || len(srv.Opportunities()) != 4 {
		t.Errorf("answered n: got exit %d, %d deals left, stderr\n%q\nwant exit 2, 4 deals, and the question %q with 3 titles",
			no.code, len(srv.Opportunities()), no.stderr, question)
	}
	// Not on a terminal (cron), nothing is asked; --yes skips the question on one.
	tty.in = strings.NewReader("")
	yes := runWith(t, tty, append(args, "--yes")...)
	if yes.code != exitOK || strings.Contains(yes.stderr, "[y/N]") || len(srv.Opportunities()) != 0 {
		t.Errorf("--yes: got exit %d, %d deals left:\n%s", yes.code, len(srv.Opportunities()), yes.stderr)
	}
	// The undo's report names each deal by its title, with its page on the portal.
	rows := readReport(t, filepath.Join(dir, "undo.csv"))
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		if r[col["title"]] != r[col["key"]] || !strings.HasPrefix(r[col["url"]], url) || r[col["status"]] != "deleted" {
			t.Errorf("undo report row %v: want deleted, the title %q and a url on %s", r, r[col["key"]], url)
		}
	}
}

// A lock no run can take over (another host's) is released by unlock, and then a run goes.
func TestUnlock(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	mp, res := importTitles(t, srv, url, dir, nil, "First deal")
	if res.code != exitOK {
		t.Fatalf("import: exit %d:\n%s", res.code, res.stderr)
	}
	db, err := state.Open(filepath.Join(dir, "m.state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Lock(context.Background(), 4242, "another-host"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	if _, res := importTitles(t, srv, url, dir, nil, "First deal"); res.code != exitNothing || !strings.Contains(res.stderr, "oppimport unlock") {
		t.Errorf("locked by another host: got exit %d, want 2 pointing at unlock:\n%s", res.code, res.stderr)
	}
	un := runCmd(t, "unlock", "--mapping", mp)
	if un.code != exitOK || !strings.Contains(un.stderr, "pid 4242 on another-host") {
		t.Errorf("unlock: got exit %d, want 0 naming the holder:\n%s", un.code, un.stderr)
	}
	if _, res := importTitles(t, srv, url, dir, nil, "First deal"); res.code != exitOK || !strings.Contains(res.stderr, "1 skipped") {
		t.Errorf("after unlock: got exit %d, want 0 and the row skipped:\n%s", res.code, res.stderr)
	}
	if un := runCmd(t, "unlock", "--mapping", mp); un.code != exitOK || !strings.Contains(un.stderr, "was not locked") {
		t.Errorf("unlock with no lock: got exit %d:\n%s", un.code, un.stderr)
	}

	// A holder that lives on this host is not released.
	host, _ := os.Hostname()
	if _, err := db.Lock(context.Background(), os.Getpid(), host); err != nil {
		t.Fatal(err)
	}
	if un := runCmd(t, "unlock", "--mapping", mp); un.code != exitNothing || !strings.Contains(un.stderr, "still runs on this machine") {
		t.Errorf("unlock of a live holder: got exit %d, want 2:\n%s", un.code, un.stderr)
	}
}

// The README's cron script is scripts/nightly.sh, word for word: CI runs the file.
func TestREADMEHasTheCronScript(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join("scripts", "nightly.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```sh\n"+string(script)+"```\n") {
		t.Errorf("README.md does not hold scripts/nightly.sh as it is")
	}
}
