package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// model is the part of `tiltline model export` the scenarios need: the
// practice ids of each section, in page order.
type model struct {
	sections [][]string
	all      []string
}

func exportModel(ctx context.Context, bin string) (*model, error) {
	out, err := exec.CommandContext(ctx, bin, "model", "export").Output()
	if err != nil {
		return nil, fmt.Errorf("%s model export: %w (is --bin a tiltline binary?)", bin, exitDetail(err))
	}
	var doc struct {
		Sections []struct {
			ID          string `json:"id"`
			Subsections []struct {
				Practices []struct {
					ID string `json:"id"`
				} `json:"practices"`
			} `json:"subsections"`
		} `json:"sections"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("%s model export: %w (is --bin a tiltline binary?)", bin, err)
	}
	m := &model{}
	for _, s := range doc.Sections {
		var ids []string
		for _, ss := range s.Subsections {
			for _, p := range ss.Practices {
				ids = append(ids, p.ID)
			}
		}
		m.sections = append(m.sections, ids)
		m.all = append(m.all, ids...)
	}
	if len(m.all) == 0 {
		return nil, fmt.Errorf("%s model export: no practices (is --bin a tiltline binary?)", bin)
	}
	return m, nil
}

// exitDetail adds a failed command's stderr to its error.
func exitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}

// server is the tiltline child process under test.
type server struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error
	logPath string
	base    string   // http://127.0.0.1:PORT
	links   []string // respondent links from `demo`

	campaignID int64  // the demo's open wave
	adminToken string // API token of the demo's org admin, if asked for
	readToken  string // the demo manager's API token, which may read reports
}

// serverSetup is what startServer prepares besides the demo data.
type serverSetup struct {
	links      int    // open respondent links to create
	responses  int    // completed responses in the open wave (P4 reads its report)
	adminToken bool   // create an API token for the demo's org admin
	smtpURL    string // TILTLINE_SMTP_URL of the server; "" writes .eml files
}

// demoAdmin is the demo organisation's org admin (survey.CreateDemo): the
// demo's own API token belongs to its manager, who may not import.
const demoAdmin = "admin@demo-bank.example"

// startServer creates the demo data with setup.links open links and starts
// `serve` on a free port, sharing the data directory (and so the secret) with
// the demo. It returns once /readyz answers 200.
func startServer(ctx context.Context, bin, db, dir string, setup serverSetup, logf func(string, ...any)) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	env := append(os.Environ(), "TILTLINE_DATA_DIR="+dir)

	t0 := time.Now()
	demo := exec.CommandContext(ctx, bin, "demo", "--db", db, "--data-dir", dir,
		"--responses", strconv.Itoa(setup.responses), "--links", strconv.Itoa(setup.links), "--base-url", base)
	demo.Env = env
	out, err := demo.Output()
	if err != nil {
		return nil, fmt.Errorf("%s demo: %w", bin, exitDetail(err))
	}
	links := parseLinks(out)
	if len(links) < setup.links {
		return nil, fmt.Errorf("%s demo printed %d links, want %d", bin, len(links), setup.links)
	}
	campaignID, err := strconv.ParseInt(outputValue(out, "campaign"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%s demo printed no campaign id", bin)
	}
	logf("demo data with %d links in %s", len(links), time.Since(t0).Round(time.Millisecond))

	s := &server{done: make(chan struct{}), logPath: filepath.Join(dir, "server.log"), base: base, links: links, campaignID: campaignID,
		readToken: outputValue(out, "api-token")}
	if setup.adminToken {
		ct := exec.CommandContext(ctx, bin, "admin", "create-token", "--db", db, "--data-dir", dir, "--email", demoAdmin, "--name", "bench")
		ct.Env = env
		out, err := ct.Output()
		if err != nil {
			return nil, fmt.Errorf("%s admin create-token: %w", bin, exitDetail(err))
		}
		if s.adminToken = outputValue(out, "api-token"); s.adminToken == "" {
			return nil, fmt.Errorf("%s admin create-token printed no api-token", bin)
		}
	}
	if setup.smtpURL != "" {
		env = append(env, "TILTLINE_SMTP_URL="+setup.smtpURL)
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	s.cmd = exec.Command(bin, "serve", "--db", db, "--data-dir", dir, "--addr", "127.0.0.1:"+strconv.Itoa(port), "--base-url", base)
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// parseLinks takes the `link: URL` lines of the demo's output.
func parseLinks(out []byte) []string {
	var links []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l, ok := strings.CutPrefix(sc.Text(), "link: "); ok {
			if u, err := url.Parse(strings.TrimSpace(l)); err == nil && u.Host != "" {
				links = append(links, u.String())
			}
		}
	}
	return links
}

// outputValue is the value of the first `key: value` line of a command's
// output, or "".
func outputValue(out []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (s *server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/readyz", nil)
		if res, err := c.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("server exited before it was ready (%v); its log:\n%s", s.waitErr, s.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after %s; its log:\n%s", limit, s.logTail())
		}
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop asks the server to shut down gracefully (SIGTERM), and kills it after
// ten seconds.
func (s *server) stop() error {
	if s.exited() {
		return nil // reported by the caller
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.cmd.Process.Kill()
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("server did not stop within 10s of SIGTERM; killed")
	}
	var ee *exec.ExitError
	if errors.As(s.waitErr, &ee) && !ee.Exited() {
		return nil // stopped by a signal (e.g. a Ctrl-C that reached it too)
	}
	if s.waitErr != nil {
		return fmt.Errorf("server stopped with %v; its log:\n%s", s.waitErr, s.logTail())
	}
	return nil
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// procStatus reads VmRSS and VmHWM (kB) of a process; -1 where unknown
// (other systems than Linux).
func procStatus(pid int) (rssKB, hwmKB int64) {
	rssKB, hwmKB = -1, -1
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rssKB = n
		case "VmHWM":
			hwmKB = n
		}
	}
	return
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; 100 on every
// Linux platform Go supports.
const clockTicks = 100

// procCPU is the CPU time (user + system) a process has used so far, or -1.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(ut+st) * time.Second / clockTicks
}

// machineBusy is the CPU time (all cores, everything but idle and iowait)
// the whole machine has used since boot, or -1: with the server's and the
// generator's own times it shows how much else was running.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var busy int64
	// user nice system idle iowait irq softirq steal (guest time is inside user)
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return -1
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks
}
