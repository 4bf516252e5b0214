package server

import (
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tiltline/survey"
)

// streamUpload posts a file as multipart without holding the body in the
// test's memory (the test measures the heap it shares with the server).
func (f *flowClient) streamUpload(path, file string) (int, string) {
	f.t.Helper()
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		w.WriteField("csrf", f.csrf)
		part, _ := w.CreateFormFile("file", "people.csv")
		src, err := os.Open(file)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		defer src.Close()
		io.Copy(part, src)
		pw.CloseWithError(w.Close())
	}()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, pr)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", f.srv.URL)
	resp, err := f.http.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// bigParticipantFile is a file near the 32 MiB limit: 40,000 people with a
// long ignored column.
func bigParticipantFile() []byte {
	var b strings.Builder
	b.WriteString("email;name;notes\n")
	notes := strings.Repeat("n", 780)
	for i := range 40_000 {
		fmt.Fprintf(&b, "person%05d@big.example;Person %d;%s\n", i, i, notes)
	}
	return []byte(b.String())
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// Twenty large previews waiting for confirmation keep the heap small: the
// files wait on disk (0600, in the data directory), not in memory.
func TestLargePreviewsWaitOnDiskNotInMemory(t *testing.T) {
	a, demo, _ := newTestApp(t)
	a.uploads.perOrg, a.uploads.all = 1<<40, 1<<40 // this test is about memory, not the bounds
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	var org int64
	a.db.Read.Raw("SELECT organisation_id FROM campaigns WHERE id = ?", demo.CampaignID).Scan(&org)
	data := bigParticipantFile()
	size := len(data)
	if size < 30<<20 || size > maxUpload {
		t.Fatalf("file of %d bytes", size)
	}
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	data = nil // the test holds none of it: the heap measured is the server's
	// The peak is what the previews add over the heap before them; a lower
	// GC target keeps garbage from earlier tests from inflating it.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	base := heapInuse()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	for i := range 20 { // one per campaign: a new file for the same campaign replaces the last
		cp, err := survey.CreateCampaign(t.Context(), a.db, org, a.models.Latest().Version, survey.CampaignInput{Name: fmt.Sprintf("Wave %d", i), Locales: []string{"en"}, KMin: 5})
		if err != nil {
			t.Fatal(err)
		}
		if code, page := admin.streamUpload(fmt.Sprintf("/admin/campaigns/%d/participants/preview", cp.ID), file); code != http.StatusOK || !strings.Contains(page, "Import 40,000") && !strings.Contains(page, "40000") && !strings.Contains(page, "40,000") {
			t.Fatalf("preview %d: %d", i, code)
		}
	}
	close(done)
	held := int64(heapInuse()) - int64(base)
	t.Logf("heap in use: %d MiB before, %d MiB after 20 previews of %d MiB (peak %d MiB)", base>>20, heapInuse()>>20, size>>20, peak.Load()>>20)
	if held > 40<<20 {
		t.Errorf("20 waiting previews hold %d MiB of heap, want under 40", held>>20)
	}
	// The peak is logged, not asserted: tests running alongside move it by
	// hundreds of MiB (594 against 423 in one full run); what the previews
	// hold once parsed is the property, and the old code held 600 MiB.
	files, _ := os.ReadDir(filepath.Join(a.cfg.DataDir, "uploads"))
	if len(files) != 20 {
		t.Errorf("%d files waiting on disk, want 20", len(files))
	}
	for _, f := range files {
		if info, _ := f.Info(); info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f.Name(), info.Mode().Perm())
		}
	}
}

// Previews are bounded per organisation (a localised refusal past the
// bound), removed on import and after they expire.
func TestPreviewsAreBoundedAndRemoved(t *testing.T) {
	a, demo, _ := newTestApp(t)
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	var org int64
	a.db.Read.Raw("SELECT organisation_id FROM campaigns WHERE id = ?", demo.CampaignID).Scan(&org)
	file := []byte("email;name\nfresh.one@example.com;Fresh One\n")
	a.uploads.perOrg = int64(2 * len(file))
	dir := filepath.Join(a.cfg.DataDir, "uploads")
	count := func() int { n, _ := os.ReadDir(dir); return len(n) }

	var ids []string
	idRe := regexp.MustCompile(`name="upload" value="([^"]+)"`)
	for i := range 3 {
		cp, _ := survey.CreateCampaign(t.Context(), a.db, org, a.models.Latest().Version, survey.CampaignInput{Name: fmt.Sprintf("Wave %d", i), Locales: []string{"en"}, KMin: 5})
		code, page := admin.upload(fmt.Sprintf("/admin/campaigns/%d/participants/preview", cp.ID), "people.csv", file)
		if i < 2 {
			m := idRe.FindStringSubmatch(page)
			if code != http.StatusOK || m == nil {
				t.Fatalf("preview %d: %d", i, code)
			}
			ids = append(ids, fmt.Sprint(cp.ID), m[1])
			continue
		}
		if code != http.StatusTooManyRequests || !strings.Contains(page, htmlText(a.i18n.T("en", "admin.participants.uploads_full", nil))) {
			t.Errorf("past the organisation's bound: %d, want 429 with the reason", code)
		}
	}
	if n := count(); n != 2 {
		t.Errorf("%d files on disk, want 2", n)
	}
	// Import removes the file.
	code, _ := admin.post("/admin/campaigns/"+ids[0]+"/participants/import", map[string][]string{"upload": {ids[1]}})
	if code != http.StatusSeeOther {
		t.Fatalf("import: %d", code)
	}
	if n := count(); n != 1 {
		t.Errorf("%d files on disk after an import, want 1", n)
	}
	// Expiry removes the other, even with nobody asking for it.
	a.uploads.mu.Lock()
	for id, f := range a.uploads.files {
		f.expires = time.Now().Add(-time.Second)
		a.uploads.files[id] = f
	}
	a.uploads.mu.Unlock()
	a.uploads.sweep()
	if n := count(); n != 0 {
		t.Errorf("%d files on disk after expiry, want 0", n)
	}
	if code, _ := admin.post("/admin/campaigns/"+ids[2]+"/participants/import", map[string][]string{"upload": {ids[3]}}); code != http.StatusGone {
		t.Errorf("importing an expired preview: %d, want 410", code)
	}
	// A file a stopped process left behind goes once it is older than the limit.
	old := filepath.Join(dir, "left-behind")
	os.WriteFile(old, file, 0o600)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(old, past, past)
	a.uploads.sweep()
	if _, err := os.Stat(old); !errorsIsNotExist(err) {
		t.Error("a left-behind file outlived its limit")
	}
}

func errorsIsNotExist(err error) bool {
	return err != nil && os.IsNotExist(err) || err != nil && strings.Contains(err.Error(), fs.ErrNotExist.Error())
}

func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "\"", "&#34;", "<", "&lt;", ">", "&gt;").Replace(s)
}
