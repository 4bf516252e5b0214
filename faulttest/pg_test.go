package faulttest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tiltline/internal/childproc"
	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// cluster is a throwaway Postgres server of this package's own: R2 restarts
// it, which no shared server may suffer. fsync is off: the tests kill
// processes, not the machine.
type cluster struct {
	binDir string
	dir    string // holds data/, the socket and the log
	port   int
	runAs  []string // "runuser -u postgres --" when running as root
}

var (
	pgOnce sync.Once
	pg     *cluster
	pgErr  error
)

// postgres returns the package's cluster, starting it on first use; it
// skips (or fails under CI=true) when the server binaries are absent.
func postgres(t testing.TB) *cluster {
	t.Helper()
	pgOnce.Do(func() { pg, pgErr = startCluster() })
	if pgErr != nil {
		if strings.Contains(pgErr.Error(), "no initdb") {
			surveytest.Unavailable(t, "Postgres server binaries ("+pgErr.Error()+")")
		}
		t.Fatalf("start a Postgres cluster: %v", pgErr)
	}
	return pg
}

func stopCluster() {
	if pg == nil {
		return
	}
	_ = pg.ctl("-m", "immediate", "stop")
	os.RemoveAll(pg.dir)
}

// findInitdb picks the newest installed initdb.
func findInitdb() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[j]))))
		return vi < vj
	})
	if len(found) > 0 {
		return found[len(found)-1], nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no initdb in /usr/lib/postgresql/*/bin or on PATH")
}

func startCluster() (*cluster, error) {
	initdb, err := findInitdb()
	if err != nil {
		return nil, err
	}
	c := &cluster{binDir: filepath.Dir(initdb)}
	if os.Geteuid() == 0 { // Postgres refuses to run as root
		c.runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	c.reapStale()
	if c.dir, err = os.MkdirTemp("", "tiltline-faulttest-pg-"); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(c.dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	if c.runAs != nil {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if c.port, err = childproc.FreePort(); err != nil {
		return nil, err
	}
	if out, err := c.cmd(initdb, "-D", c.data(), "-U", "postgres", "-A", "trust", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(c.dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := c.ctl("start"); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	return c, nil
}

// reapStale stops and removes clusters left behind by test processes that
// died without cleaning up (a test timeout ends the process before
// TestMain's deferred stop): each cluster's directory names its owner.
func (c *cluster) reapStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "tiltline-faulttest-pg-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner"))
		if err != nil {
			continue // being set up by a running test, or not ours to judge
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err := syscall.Kill(pid, 0); pid <= 0 || err == nil || errors.Is(err, syscall.EPERM) {
			continue // its owner still runs
		}
		stale := &cluster{binDir: c.binDir, dir: d, runAs: c.runAs}
		_ = stale.ctl("-m", "immediate", "stop")
		os.RemoveAll(d)
	}
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *cluster) cmd(name string, args ...string) *exec.Cmd {
	all := append(append(append([]string{}, c.runAs...), name), args...)
	return exec.Command(all[0], all[1:]...)
}

// ctl runs pg_ctl on the cluster; start carries the server's options.
func (c *cluster) ctl(args ...string) error {
	all := []string{"-D", c.data(), "-w", "-t", "60"}
	if args[len(args)-1] == "start" || args[len(args)-1] == "restart" {
		// The server's output goes to the log file (-l): a server holding
		// our pipe would keep pg_ctl's output open for ever.
		all = append(all, "-l", filepath.Join(c.dir, "log"),
			"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.port, c.dir))
	}
	cmd := c.cmd(filepath.Join(c.binDir, "pg_ctl"), append(all, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second // never wait on a pipe a server inherited
	err := cmd.Run()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return nil
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// createDB makes a fresh database for one test and returns its URL.
func (c *cluster) createDB(t testing.TB) string {
	t.Helper()
	admin, err := survey.Open(c.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "faulttest_" + hex.EncodeToString(b)
	var lastErr error
	for range 50 { // the cluster may be coming back from a restart
		if lastErr = admin.Write.Exec("CREATE DATABASE " + name).Error; lastErr == nil {
			return c.url(name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("create database: %v", lastErr)
	return ""
}
