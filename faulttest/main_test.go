package faulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tiltline/internal/childproc"
	"tiltline/survey"
)

// bin is the tiltline binary under test, built by TestMain.
var bin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest: go env GOMOD:", err)
		return 1
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin = filepath.Join(root, "tmp", "tiltline")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "faulttest: go build: %v\n%s", err, out)
		return 1
	}
	defer stopCluster()
	return m.Run()
}

// secret is every test server's TILTLINE_SECRET: the tests derive draft
// keys from it to read what the server stored.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// instance is one tiltline server process that can be started, killed and
// started again on the same port, database and data directory.
type instance struct {
	t      testing.TB
	name   string
	db     string // TILTLINE_DB
	dir    string // data directory
	env    []string
	port   int
	base   string
	proc   *childproc.Process
	starts int
}

// newInstance prepares a server on db with the given extra environment
// (TILTLINE_* settings); it does not start it.
func newInstance(t testing.TB, name, db, secret string, env ...string) *instance {
	t.Helper()
	port, err := childproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &instance{t: t, name: name, db: db, dir: t.TempDir(), port: port, base: "http://127.0.0.1:" + strconv.Itoa(port)}
	s.env = append(os.Environ(), "TILTLINE_SECRET="+secret, "TILTLINE_DATA_DIR="+s.dir, "TILTLINE_DB="+db,
		"TILTLINE_BASE_URL="+s.base, "TILTLINE_ADDR=127.0.0.1:"+strconv.Itoa(port))
	s.env = append(s.env, env...)
	t.Cleanup(func() {
		if s.proc != nil && !s.proc.Exited() {
			if err := s.proc.Stop(); err != nil {
				t.Errorf("%s: %v", s.name, err)
			}
		}
		if t.Failed() {
			if keep := os.Getenv("FAULTTEST_KEEP_LOG"); keep != "" {
				_ = os.WriteFile(keep, []byte(s.log()), 0o600)
			}
			t.Logf("%s log (tail):\n%s", s.name, s.logTail(30))
		}
	})
	return s
}

// demo runs `tiltline demo` against the instance's database.
func (s *instance) demo(links int) *childproc.Demo {
	s.t.Helper()
	d, err := childproc.RunDemo(context.Background(), bin, s.env, "--responses", "0", "--links", strconv.Itoa(links))
	if err != nil {
		s.t.Fatal(err)
	}
	if len(d.Links) < links {
		s.t.Fatalf("demo printed %d links, want %d", len(d.Links), links)
	}
	return d
}

// adminToken creates an API token for the demo's org admin.
func (s *instance) adminToken(email string) string {
	s.t.Helper()
	tok, err := childproc.CreateToken(context.Background(), bin, s.env, email)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// start serves and waits for /readyz.
func (s *instance) start() {
	s.t.Helper()
	p, err := childproc.Start(bin, []string{"serve"}, s.env, filepath.Join(s.dir, "server.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	s.proc = p
	s.starts++
	if err := p.WaitReady(context.Background(), s.base, 60*time.Second); err != nil {
		p.Kill()
		s.t.Fatalf("%s: %v", s.name, err)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *instance) kill() { s.proc.Kill() }

func (s *instance) logTail(n int) string {
	if s.proc == nil {
		return "(never started)"
	}
	return s.proc.LogTail(n)
}

// log is the whole server log so far (every start appends to it).
func (s *instance) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	return string(b)
}

// openDB opens the instance's database for the test's own reads.
func openDB(t testing.TB, url string) *survey.DB {
	t.Helper()
	db, err := survey.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
