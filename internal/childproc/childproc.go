// Package childproc runs tiltline as a child process, for the benchmark
// harness and the fault-injection tests: start it with its output in a log
// file, wait until it is ready, stop it gracefully or kill it, and read the
// `key: value` lines its commands print.
package childproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a started child.
type Process struct {
	Cmd     *exec.Cmd
	LogPath string

	done    chan struct{} // closed when the process has exited
	waitErr error
}

// Start runs bin with args and env (the whole environment), its stdout and
// stderr appended to logPath.
func Start(bin string, args, env []string, logPath string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	p := &Process{Cmd: exec.Command(bin, args...), LogPath: logPath, done: make(chan struct{})}
	p.Cmd.Env = env
	p.Cmd.SysProcAttr = sysProcAttr()
	p.Cmd.Stdout, p.Cmd.Stderr = logFile, logFile
	if err := p.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w", bin, strings.Join(args[:min(1, len(args))], " "), err)
	}
	go func() {
		p.waitErr = p.Cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Done is closed once the child has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the child has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitErr is the child's exit status once it has exited.
func (p *Process) WaitErr() error {
	<-p.done
	return p.waitErr
}

// WaitReady polls base+"/readyz" until it answers 200, the child exits, or
// limit passes.
func (p *Process) WaitReady(ctx context.Context, base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if res, err := c.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("server exited before it was ready (%v); its log:\n%s", p.waitErr, p.LogTail(20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after %s; its log:\n%s", limit, p.LogTail(20))
		}
	}
}

// Stop asks the child to shut down gracefully (SIGTERM), and kills it after
// ten seconds. A child that ended by a signal is not an error; one that
// exited with a failure is, quoting its log.
func (p *Process) Stop() error {
	if p.Exited() {
		return nil // reported by the caller
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.Cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.Cmd.Process.Kill()
		<-p.done
		return errors.New("server did not stop within 10s of SIGTERM; killed")
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) && !ee.Exited() {
		return nil // stopped by a signal (e.g. a Ctrl-C that reached it too)
	}
	if p.waitErr != nil {
		return fmt.Errorf("server stopped with %v; its log:\n%s", p.waitErr, p.LogTail(20))
	}
	return nil
}

// Kill sends SIGKILL — no chance to clean up — and waits for the exit.
func (p *Process) Kill() {
	if !p.Exited() {
		_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// LogTail is the last n lines of the child's log, for error messages.
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreePort finds a local TCP port nobody listens on.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ParseLinks takes the `link: URL` lines of the demo's output.
func ParseLinks(out []byte) []string {
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

// OutputValue is the value of the first `key: value` line of a command's
// output, or "".
func OutputValue(out []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ExitDetail adds a failed command's stderr to its error.
func ExitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}

// Demo is what `tiltline demo` printed.
type Demo struct {
	Links      []string
	CampaignID int64
	APIToken   string // the demo manager's
	Admin      string // the org admin's email
	// The manager's sign-in, for pages behind a session.
	ManagerEmail, ManagerPassword string
}

// RunDemo runs `bin demo` with the given extra arguments and environment and
// parses its output.
func RunDemo(ctx context.Context, bin string, env []string, args ...string) (*Demo, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"demo"}, args...)...)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s demo: %w", bin, ExitDetail(err))
	}
	d, err := ParseDemo(out)
	if err != nil {
		return nil, fmt.Errorf("%s demo: %w", bin, err)
	}
	return d, nil
}

// ParseDemo reads what `tiltline demo` printed.
func ParseDemo(out []byte) (*Demo, error) {
	var err error
	d := &Demo{Links: ParseLinks(out), APIToken: OutputValue(out, "api-token")}
	if d.CampaignID, err = strconv.ParseInt(OutputValue(out, "campaign"), 10, 64); err != nil {
		return nil, fmt.Errorf("no campaign id in the output")
	}
	if admin := strings.Fields(OutputValue(out, "admin")); len(admin) > 0 {
		d.Admin = admin[0]
	}
	if manager := strings.Fields(OutputValue(out, "manager")); len(manager) == 2 {
		d.ManagerEmail, d.ManagerPassword = manager[0], manager[1]
	}
	return d, nil
}

// CreateToken runs `bin admin create-token` for email and returns the token.
func CreateToken(ctx context.Context, bin string, env []string, email string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"admin", "create-token", "--email", email}, args...)...)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s admin create-token: %w", bin, ExitDetail(err))
	}
	token := OutputValue(out, "api-token")
	if token == "" {
		return "", fmt.Errorf("%s admin create-token printed no api-token", bin)
	}
	return token, nil
}
