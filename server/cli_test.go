package server

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tiltline/survey/surveytest"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestMalformedDatabaseURLIsOneLineAndExitCode2(t *testing.T) {
	for _, cmd := range [][]string{{"serve"}, {"migrate"}, {"demo"}} {
		code, _, stderr := run(t, append(cmd, "--db", "mysql://root:secret@db/x")...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", cmd, code)
		}
		if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 || !strings.Contains(stderr, "sqlite:PATH") {
			t.Errorf("%v: want one helpful line, got %q", cmd, stderr)
		}
		if strings.Contains(stderr, "secret") {
			t.Errorf("%v: password printed: %q", cmd, stderr)
		}
	}
}

func TestUnknownCommandAndFlagsExit2(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"serve", "--no-such-flag"}, {"admin"}, {"model", "export", "--version", "99"}} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestModelExportPrintsTheWholeModel(t *testing.T) {
	code, out, stderr := run(t, "model", "export")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var m struct {
		Version    int `json:"version"`
		Dimensions []struct {
			Levels []struct{ Title map[string]string } `json:"levels"`
		} `json:"dimensions"`
		Sections []struct {
			Subsections []struct {
				Slug      string `json:"slug"`
				Practices []struct {
					ID        string            `json:"id"`
					Statement map[string]string `json:"statement"`
				} `json:"practices"`
			} `json:"subsections"`
		} `json:"sections"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	subs, practices := 0, 0
	for _, s := range m.Sections {
		for _, sub := range s.Subsections {
			subs++
			if sub.Slug == "" {
				t.Error("sub-section without slug")
			}
			for _, p := range sub.Practices {
				practices++
				if p.ID == "" || p.Statement["en"] == "" || p.Statement["de"] == "" || p.Statement["fr"] == "" {
					t.Errorf("practice %q incomplete", p.ID)
				}
			}
		}
	}
	if m.Version != 1 || len(m.Sections) != 13 || subs != 41 || practices < 90 || practices > 110 {
		t.Errorf("version %d, %d sections, %d sub-sections, %d practices", m.Version, len(m.Sections), subs, practices)
	}
	if len(m.Dimensions) != 2 || len(m.Dimensions[1].Levels) != 5 {
		t.Error("both dimensions with five levels expected")
	}
}

func TestDemoPrintsTheContractLines(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "t.db")
	code, out, stderr := run(t, "demo", "--db", db, "--responses", "50", "--links", "3", "--base-url", "https://tilt.example/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, re := range []string{
		`(?m)^admin: \S+@\S+ \S{8,}$`,
		`(?m)^manager: \S+@\S+ \S{8,}$`,
		`(?m)^learner: \S+@\S+ \S{8,} \(learning path at /learn/path\)$`,
		`(?m)^api-token: tl_\S{40,}$`,
		`(?m)^campaign: [0-9]+$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output lacks %s:\n%s", re, out)
		}
	}
	links := regexp.MustCompile(`(?m)^link: https://tilt\.example/s/[A-Za-z0-9_-]{43}$`).FindAllString(out, -1)
	if len(links) != 3 {
		t.Errorf("want 3 link lines, got %d:\n%s", len(links), out)
	}
	// Run again, it prints the same logins, token and links: they still work.
	code, again, stderr := run(t, "demo", "--db", db, "--responses", "50", "--links", "3", "--base-url", "https://tilt.example/")
	if code != 0 || !strings.Contains(again, "was kept") || strings.Replace(again, "note: the demo organisation exists and was kept as it is; --reset starts it over\n", "", 1) != out {
		t.Errorf("second run (exit %d, %s) printed\n%s\nwant the same as the first:\n%s", code, stderr, again, out)
	}
	if code, reset, _ := run(t, "demo", "--db", db, "--responses", "50", "--links", "3", "--reset", "--base-url", "https://tilt.example/"); code != 0 || reset == out || strings.Contains(reset, "was kept") {
		t.Errorf("--reset (exit %d) printed the same demo:\n%s", code, reset)
	}
	// The secret was generated into the data directory, and never printed.
	secret, err := os.ReadFile(filepath.Join(dir, "secret"))
	if err != nil || len(bytes.TrimSpace(secret)) < 32 {
		t.Fatalf("secret file: %v", err)
	}
	if strings.Contains(out+stderr, string(bytes.TrimSpace(secret))) {
		t.Error("secret printed")
	}
}

func TestAdminCommands(t *testing.T) {
	db := surveytest.SQLiteURL(t)
	if code, _, stderr := run(t, "admin", "create-user", "--db", db, "--email", "Boss@Example.com", "--role", "platform-admin"); code != 0 {
		t.Fatalf("create-user: %d %s", code, stderr)
	}
	code, out, _ := run(t, "admin", "create-token", "--db", db, "--email", "boss@example.com")
	m := regexp.MustCompile(`^api-token: tl_\S+\nexpires: (\S+)\n$`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("create-token: %d %q", code, out)
	}
	// 90 days by default; --days chooses, 0 means no expiry.
	if at, err := time.Parse(time.RFC3339, m[1]); err != nil || at.Sub(time.Now().AddDate(0, 0, 90)).Abs() > time.Minute {
		t.Errorf("default expiry %q, want in 90 days", m[1])
	}
	if code, out, _ := run(t, "admin", "create-token", "--db", db, "--email", "boss@example.com", "--days", "7"); code != 0 || !strings.Contains(out, "expires: "+time.Now().UTC().AddDate(0, 0, 7).Format("2006-01-02")) {
		t.Errorf("--days 7: %d %q", code, out)
	}
	if code, out, _ := run(t, "admin", "create-token", "--db", db, "--email", "boss@example.com", "--days", "0"); code != 0 || !strings.Contains(out, "expires: never\n") {
		t.Errorf("--days 0: %d %q", code, out)
	}
	for _, bad := range []string{"-1", "99999", "x"} {
		if code, _, stderr := run(t, "admin", "create-token", "--db", db, "--email", "boss@example.com", "--days", bad); code != 2 || stderr == "" {
			t.Errorf("--days %s: exit %d %q, want 2 with a message", bad, code, stderr)
		}
	}
	for name, args := range map[string][]string{
		"duplicate email":  {"--email", "boss@example.com", "--role", "learner"},
		"bad email":        {"--email", "not-an-email", "--role", "learner"},
		"bad role":         {"--email", "x@example.com", "--role", "emperor"},
		"org role, no org": {"--email", "y@example.com", "--role", "manager"},
		"unknown org":      {"--email", "z@example.com", "--role", "manager", "--org", "Nope Ltd"},
	} {
		code, _, stderr := run(t, append([]string{"admin", "create-user", "--db", db}, args...)...)
		if code == 0 || stderr == "" {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
	}
	if code, _, _ := run(t, "admin", "create-token", "--db", db, "--email", "ghost@example.com"); code == 0 {
		t.Error("token for unknown user")
	}
}
