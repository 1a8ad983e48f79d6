package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/oppimport/oppimport/emulator"
)

// secToken is the portal token of these tests: distinctive, so that any piece of it found
// in an output is a leak.
const secToken = "SECtok-7f3a9c2e41b86d05e9f1c3a7b2d48e60f5a1c9d3"

const secInput = "Title,Amount,Notes\n" +
	"Echoed by a 500,100,a\n" +
	"Dropped,200,b\n" +
	"Created,300,c\n" +
	"Refused with 401,400,d\n" +
	"Never sent,500,e\n"

const secMapping = `version: 1
fields:
  title:           { column: "Title" }
  description:     { column: "Notes" }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
  bidValue:        { column: "Amount" }
`

// secProxy stands between oppimport and the emulator as a hostile network and a careless
// server: it echoes the request's credentials in error bodies, drops a connection, and
// expires the token mid-run. It records the tokens the portal issues at log-in.
type secProxy struct {
	srv *emulator.Server
	// echoLogin answers the log-in with a 500 that quotes the request body (the password).
	echoLogin bool

	mu     sync.Mutex
	posts  int
	issued []string
}

func (p *secProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	echo := fmt.Sprintf("%s internal error; request was: Authorization: %s; Cookie: %s; body: %s",
		strings.Repeat("e", 60), r.Header.Get("Authorization"), r.Header.Get("Cookie"), body)
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/authentication") {
		if p.echoLogin {
			http.Error(w, echo, http.StatusInternalServerError)
			return
		}
		rec := httptest.NewRecorder()
		p.srv.Handler().ServeHTTP(rec, r)
		var auth struct {
			Response struct{ Token string } `json:"response"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &auth) == nil && auth.Response.Token != "" {
			p.mu.Lock()
			p.issued = append(p.issued, auth.Response.Token)
			p.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/crm/opportunity") {
		p.mu.Lock()
		p.posts++
		n := p.posts
		p.mu.Unlock()
		switch n {
		case 1: // a 500 whose body quotes the credentials, long enough to be cut short
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, echo)
			return
		case 2: // the connection drops before any answer
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		case 4: // the token expires mid-run
			p.srv.ExpireToken()
		}
	}
	p.srv.Handler().ServeHTTP(w, r)
}

func (p *secProxy) secrets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string{secToken}, p.issued...)
}

// TestSecretsNeverLeak runs imports through secProxy with a token and with a user and a
// password, at the debug level (which logs every record any other level logs) in each of
// the three ways stderr is written: slog's text, JSON, and the sentences of a terminal under
// a live bar; and looks for any piece of a secret in stdout, stderr, and every file the run
// wrote (report in each format, rejects, state).
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	user := emulator.New(emulator.Options{}).Users()[0]
	formats := []string{".csv", ".json", ".xlsx"}
	type auth struct {
		name      string
		password  string // "" = the token
		echoLogin bool
		wantCode  int
		wantErr   string
	}
	auths := []auth{
		{name: "token", wantCode: exitStopped, wantErr: "HTTP 401"},
		{name: "login", password: user.Password, wantCode: exitStopped, wantErr: "HTTP 401"},
		{name: "login echoed", password: user.Password, echoLogin: true, wantCode: exitStopped, wantErr: "authentication refused"},
		{name: "wrong password", password: "wrong-Pa55word-9c1e", wantCode: exitStopped, wantErr: "authentication refused"},
	}
	// The runs go at once in this test's goroutines, not as parallel subtests: those wait
	// for a free test slot behind every other test of the package, and these, each waiting
	// out the settling (2 x --timeout) of its failed and its dropped create, then ended it.
	type secRun struct {
		name, ext, dir string
		a              auth
		proxy          *secProxy
		args           []string
		ios            streams
		secrets        []string
		res            cmdResult
	}
	var runs []*secRun
	i := 0
	for _, a := range auths {
		for _, format := range []string{"text", "json", "terminal"} {
			ext := formats[i%len(formats)]
			i++
			srv := emulator.New(emulator.Options{Token: secToken})
			t.Cleanup(func() { srv.Close() })
			proxy := &secProxy{srv: srv, echoLogin: a.echoLogin}
			ts := httptest.NewServer(proxy)
			t.Cleanup(ts.Close)
			dir := t.TempDir()
			input := filepath.Join(dir, "deals.csv")
			mappingPath := filepath.Join(dir, "m.yaml")
			secWrite(t, input, secInput)
			secWrite(t, mappingPath, secMapping)
			args := []string{"import", "--mapping", mappingPath, "--url", ts.URL, "--concurrency", "1", "--retries", "1",
				"--timeout", "500ms", "--log-level", "debug", "--progress", "always",
				"--report", filepath.Join(dir, "run.report"+ext), "--rejects", filepath.Join(dir, "run.rejects.csv")}
			secrets := []string{}
			if a.password == "" {
				args = append(args, "--token", secToken)
			} else {
				pw := filepath.Join(dir, "password")
				secWrite(t, pw, a.password+"\n")
				args = append(args, "--user", user.Email, "--password-file", pw)
				secrets = append(secrets, a.password)
			}
			if format == "json" {
				args = append(args, "--log-format", "json")
			}
			runs = append(runs, &secRun{name: fmt.Sprintf("%s/%s/%s", a.name, format, ext[1:]), ext: ext, dir: dir, a: a, proxy: proxy,
				args: append(args, input), ios: streams{errIsTTY: format == "terminal"}, secrets: secrets})
		}
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.res = runWith(t, r.ios, r.args...)
		}()
	}
	wg.Wait()
	for _, r := range runs {
		a, ext := r.a, r.ext
		code, stdout, stderr := r.res.code, r.res.out, r.res.stderr
		if code != a.wantCode || !strings.Contains(stderr, a.wantErr) {
			t.Errorf("%s: exit code %d, want %d with %q; stderr:\n%s", r.name, code, a.wantCode, a.wantErr, stderr)
		}
		if a.password != "" && !a.echoLogin && a.name == "login" && len(r.proxy.secrets()) < 2 {
			t.Errorf("%s: no log-in was seen; stderr:\n%s", r.name, stderr)
		}
		secrets := append(r.secrets, r.proxy.secrets()...)
		outputs := map[string]string{"stdout": stdout, "stderr": stderr}
		for name, text := range secFiles(t, r.dir) {
			outputs[name] = text
		}
		if _, ok := outputs["run.report"+ext]; !ok && a.wantErr == "HTTP 401" {
			t.Errorf("%s: no report written: %v", r.name, outputs)
		}
		for name, text := range outputs {
			for _, s := range secrets {
				if piece := secPiece(text, s); piece != "" {
					t.Errorf("%s: %s holds %q, a piece of the secret %q:\n%s", r.name, name, piece, s, badShort(text))
				}
			}
		}
	}
}

// secFiles returns the text of every file the run wrote in dir (the inputs too, which hold
// no secret but the password file, skipped): XLSX workbooks cell by cell, others as bytes.
func secFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "password" {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
		if strings.HasSuffix(e.Name(), ".xlsx") {
			out[e.Name()] = secCells(t, path)
		}
	}
	return out
}

// secCells is every cell of every sheet of a workbook, tab-separated.
func secCells(t *testing.T, path string) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("reading back %s: %v", path, err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			b.WriteString(strings.Join(row, "\t"))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// secPiece returns the first piece of secret (10 characters, or all of a shorter secret)
// that text holds, "" when none.
func secPiece(text, secret string) string {
	n := min(10, len(secret))
	for i := 0; i+n <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+n]) {
			return secret[i : i+n]
		}
	}
	return ""
}

func secWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPlainHTTPRefused: a plain http:// portal that is not on loopback gets the token only
// with --allow-http; refused, not even a connection is made.
func TestPlainHTTPRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := filepath.Join(dir, "deals.csv")
	mappingPath := filepath.Join(dir, "m.yaml")
	secWrite(t, input, "Title,Amount,Notes\nA deal,100,n\n")
	secWrite(t, mappingPath, secMapping)
	base := []string{"import", "--mapping", mappingPath, "--token", secToken, "--progress", "never",
		"--report", filepath.Join(dir, "r.csv"), "--timeout", "2s", "--retries", "0"}

	// 192.0.2.1 (TEST-NET-1) is never reached: the refusal comes first.
	started := time.Now()
	code, _, stderr := badRun(t, append(base, "--url", "http://192.0.2.1", input)...)
	if code != exitNothing || !strings.Contains(stderr, `portal URL "http://192.0.2.1" is plain http: the token would travel in clear`) {
		t.Errorf("http://192.0.2.1: exit code %d, stderr:\n%s\nwant 2 and the plain http refusal", code, stderr)
	}
	if d := time.Since(started); d > time.Second {
		t.Errorf("the refusal took %v: was a connection tried?", d)
	}

	// A portal on this machine's own non-loopback address: refused, then allowed.
	ip := secLocalIP(t)
	srv := emulator.New(emulator.Options{Token: secToken})
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	var accepted int
	var mu sync.Mutex
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Listener.Close()
	ts.Listener = ln
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			accepted++
			mu.Unlock()
		}
	}
	ts.Start()
	defer ts.Close()

	code, _, stderr = badRun(t, append(base, "--url", ts.URL, input)...)
	mu.Lock()
	n := accepted
	mu.Unlock()
	if code != exitNothing || !strings.Contains(stderr, "is plain http: the token would travel in clear") || n != 0 {
		t.Errorf("%s without --allow-http: exit code %d, %d connections, stderr:\n%s\nwant 2, none, and the refusal", ts.URL, code, n, stderr)
	}
	code, _, stderr = badRun(t, append(base, "--url", ts.URL, "--allow-http", input)...)
	if code != exitOK || len(srv.Opportunities()) != 1 {
		t.Errorf("%s with --allow-http: exit code %d, %d created, stderr:\n%s\nwant 0 and 1", ts.URL, code, len(srv.Opportunities()), stderr)
	}
}

// secLocalIP returns a non-loopback address of this machine, or skips the test.
func secLocalIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address")
	return ""
}

// TestTLSVerified: a portal whose certificate does not verify is refused unless
// --insecure-skip-verify, which warns.
func TestTLSVerified(t *testing.T) {
	t.Parallel()
	srv := emulator.New(emulator.Options{Token: secToken})
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	ts.StartTLS()
	defer ts.Close()
	dir := t.TempDir()
	input := filepath.Join(dir, "deals.csv")
	mappingPath := filepath.Join(dir, "m.yaml")
	secWrite(t, input, "Title,Amount,Notes\nA deal,100,n\nAnother,200,m\n")
	secWrite(t, mappingPath, secMapping)
	base := []string{"import", "--mapping", mappingPath, "--url", ts.URL, "--token", secToken, "--progress", "never",
		"--report", filepath.Join(dir, "r.csv"), "--retries", "1", "--timeout", "5s"}

	code, _, stderr := badRun(t, append(base, input)...)
	if code == exitOK || !strings.Contains(stderr, "certificate") || len(srv.Opportunities()) != 0 {
		t.Errorf("without --insecure-skip-verify: exit code %d, %d created, stderr:\n%s\nwant a failure naming the certificate, none created",
			code, len(srv.Opportunities()), stderr)
	}
	if strings.Contains(stderr, secToken) {
		t.Errorf("stderr holds the token:\n%s", stderr)
	}

	code, _, stderr = badRun(t, append(base, "--insecure-skip-verify", input)...)
	if code != exitOK || len(srv.Opportunities()) != 2 {
		t.Errorf("with --insecure-skip-verify: exit code %d, %d created, stderr:\n%s\nwant 0 and 2", code, len(srv.Opportunities()), stderr)
	}
	if !strings.Contains(stderr, "TLS certificates are not checked (--insecure-skip-verify)") {
		t.Errorf("with --insecure-skip-verify: no warning in stderr:\n%s", stderr)
	}
}
