package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"tiltline/survey/surveytest"
)

// TestBrowserManagerDownloadsWorkbookAndReport: the manager signs in, opens
// the campaign's results, clicks the workbook and the report links, and
// both files arrive and open: the workbook in excelize with the page's
// headline figure, the PDF as a PDF whose text has it too.
func TestBrowserManagerDownloadsWorkbookAndReport(t *testing.T) {
	ts := startTestServer(t, 40)
	ctx := newBrowser(t, "en")
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatal(err)
	}

	signInWith(t, ts, ctx, ts.Demo.ManagerEmail, ts.Demo.ManagerPassword, "/results")
	if status := open(t, ctx, fmt.Sprintf("%s/results/%d", ts.URL, ts.Demo.CampaignID)); status != http.StatusOK {
		t.Fatalf("results: status %d", status)
	}
	cem := factOf(t, ctx, "CEM score") // "35 %"

	xlsxName := fmt.Sprintf("tiltline-campaign-%d-results.xlsx", ts.Demo.CampaignID)
	pdfName := fmt.Sprintf("tiltline-campaign-%d-report.pdf", ts.Demo.CampaignID)
	do(t, ctx, chromedp.Click(chromedp.CSS(`a[href*="/export.xlsx"]`), chromedp.NodeVisible))
	xlsx := waitForDownload(t, dir, xlsxName)
	do(t, ctx, chromedp.Click(chromedp.CSS(`a[href*="/export.pdf"]`), chromedp.NodeVisible))
	pdf := waitForDownload(t, dir, pdfName)

	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatalf("the downloaded workbook does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, r := range rows {
		if len(r) == 2 && r[0] == "CEM score" {
			got = r[1]
		}
	}
	// The page rounds to whole points as the results page's pct does.
	if v, err := strconv.ParseFloat(got, 64); err != nil || strconv.FormatFloat(v, 'f', 0, 64)+" %" != cem {
		t.Errorf("workbook CEM score %q, page shows %q", got, cem)
	}

	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("the downloaded report is not a PDF: %.8q", pdf)
	}
	if text, ok := surveytest.PDFText(t, pdf); ok {
		if !strings.Contains(text, cem) || !strings.Contains(text, "Customer experience self-assessment") {
			t.Errorf("the report's text lacks the headline %q", cem)
		}
	}
}

// waitForDownload waits until Chromium has finished writing name into dir
// and returns its content.
func waitForDownload(t *testing.T, dir, name string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserStep)
	defer cancel()
	path := filepath.Join(dir, name)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			if _, err := os.Stat(path + ".crdownload"); os.IsNotExist(err) {
				return b
			}
		}
		select {
		case <-ctx.Done():
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("no download %s after %s; the folder has %v", name, browserStep, names)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
