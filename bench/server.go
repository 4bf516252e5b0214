package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"tiltline/internal/childproc"
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
		return nil, fmt.Errorf("%s model export: %w (is --bin a tiltline binary?)", bin, childproc.ExitDetail(err))
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

// server is the tiltline child process under test.
type server struct {
	*childproc.Process
	base  string   // http://127.0.0.1:PORT
	links []string // respondent links from `demo`

	pprofAddr  string // the first instance's profiler, with --profile
	campaignID int64  // the demo's open wave
	adminToken string // API token of the demo's org admin, if asked for
	readToken  string // the demo manager's API token, which may read reports
	// the demo manager's sign-in, for the dashboard
	managerEmail, managerPassword string

	// others are the further instances of --instances, serving the same
	// database and data directory (so the same secret: every link works on
	// each); the first instance is the embedded Process.
	others []*instance
}

type instance struct {
	*childproc.Process
	base string
}

// instances lists every server instance, the first one first.
func (s *server) instances() []*instance {
	return append([]*instance{{s.Process, s.base}}, s.others...)
}

// serverSetup is what startServer prepares besides the demo data.
type serverSetup struct {
	links      int    // open respondent links to create
	responses  int    // completed responses in the open wave (P4 reads its report)
	adminToken bool   // create an API token for the demo's org admin
	smtpURL    string // TILTLINE_SMTP_URL of the server; "" writes .eml files
	instances  int    // servers to start on the database (at least 1)
	demoOutput string // reuse the demo whose output this file holds, in the database as it is
	pprof      bool   // serve Go's profiler on a free loopback port (TILTLINE_PPROF_ADDR)
}

// demoAdmin is the demo organisation's org admin (survey.CreateDemo): the
// demo's own API token belongs to its manager, who may not import.
const demoAdmin = "admin@demo-bank.example"

// startServer creates the demo data with setup.links open links and starts
// `serve` on a free port, sharing the data directory (and so the secret) with
// the demo. It returns once /readyz answers 200.
func startServer(ctx context.Context, bin, db, dir string, setup serverSetup, logf func(string, ...any)) (*server, error) {
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	dataDir := dir
	if setup.demoOutput != "" {
		dataDir = filepath.Dir(setup.demoOutput) // the demo's secret
	}
	env := append(os.Environ(), "TILTLINE_DATA_DIR="+dataDir)

	t0 := time.Now()
	var demo *childproc.Demo
	if setup.demoOutput != "" {
		out, err := os.ReadFile(setup.demoOutput)
		if err != nil {
			return nil, err
		}
		if demo, err = childproc.ParseDemo(out); err != nil {
			return nil, fmt.Errorf("%s: %w", setup.demoOutput, err)
		}
		// The links carry the base URL the demo was given: point them here.
		for i, l := range demo.Links {
			if j := strings.Index(l, "/s/"); j >= 0 {
				demo.Links[i] = base + l[j:]
			}
		}
	} else if demo, err = childproc.RunDemo(ctx, bin, env, "--db", db, "--data-dir", dir,
		"--responses", strconv.Itoa(setup.responses), "--links", strconv.Itoa(setup.links), "--reset", "--base-url", base); err != nil {
		return nil, err
	}
	if len(demo.Links) < setup.links {
		return nil, fmt.Errorf("%s demo printed %d links, want %d", bin, len(demo.Links), setup.links)
	}
	logf("demo data with %d links in %s", len(demo.Links), time.Since(t0).Round(time.Millisecond))

	s := &server{base: base, links: demo.Links, campaignID: demo.CampaignID, readToken: demo.APIToken,
		managerEmail: demo.ManagerEmail, managerPassword: demo.ManagerPassword}
	if setup.adminToken {
		if s.adminToken, err = childproc.CreateToken(ctx, bin, env, demoAdmin, "--db", db, "--data-dir", dataDir, "--name", "bench"); err != nil {
			return nil, err
		}
	}
	if setup.smtpURL != "" {
		env = append(env, "TILTLINE_SMTP_URL="+setup.smtpURL)
	}
	for i := range max(1, setup.instances) {
		if i > 0 {
			if port, err = childproc.FreePort(); err != nil {
				s.stop()
				return nil, err
			}
		}
		inst, err := startInstance(ctx, bin, db, dir, dataDir, env, port, i, setup.pprof)
		if err != nil {
			s.stop()
			return nil, err
		}
		if i == 0 {
			s.Process, s.pprofAddr = inst.Process, inst.pprofAddr
		} else {
			s.others = append(s.others, &instance{inst.Process, inst.base})
		}
	}
	return s, nil
}

type started struct {
	*childproc.Process
	base, pprofAddr string
}

// startInstance starts `serve` on port and waits for /readyz. Instances
// after the first log to server-N.log.
func startInstance(ctx context.Context, bin, db, dir, dataDir string, env []string, port, i int, pprof bool) (*started, error) {
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	st := &started{base: base}
	if pprof {
		pp, err := childproc.FreePort()
		if err != nil {
			return nil, err
		}
		st.pprofAddr = "127.0.0.1:" + strconv.Itoa(pp)
		env = append(env[:len(env):len(env)], "TILTLINE_PPROF_ADDR="+st.pprofAddr)
	}
	logName := "server.log"
	if i > 0 {
		logName = fmt.Sprintf("server-%d.log", i+1)
	}
	p, err := childproc.Start(bin, []string{"serve", "--db", db, "--data-dir", dataDir, "--addr", "127.0.0.1:" + strconv.Itoa(port), "--base-url", base},
		env, filepath.Join(dir, logName))
	if err != nil {
		return nil, err
	}
	if err := p.WaitReady(ctx, base, 60*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	st.Process = p
	return st, nil
}

func (s *server) pid() int { return s.Pid() }

// exited reports whether any instance has exited.
func (s *server) exited() bool {
	for _, in := range s.instances() {
		if in.Process != nil && in.Exited() {
			return true
		}
	}
	return false
}

func (s *server) stop() error {
	var err error
	for _, in := range s.instances() {
		if in.Process != nil {
			err = errors.Join(err, in.Stop())
		}
	}
	return err
}
func (s *server) logTail() string { return s.LogTail(20) }

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
