package server

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestBrowserResultsDashboardIsAccessible(t *testing.T) {
	js, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	ts := startTestServer(t, 80)
	ctx := newBrowser(t, "en")
	signInAsAdmin(t, ts, ctx)
	if status := open(t, ctx, fmt.Sprintf("%s/results/%d", ts.URL, ts.Demo.CampaignID)); status != http.StatusOK {
		t.Fatalf("results: status %d", status)
	}
	if h := visibleText(t, ctx, "#leaders-h"); !strings.Contains(h, "Do leaders see") {
		t.Errorf("leaders heading = %q", h)
	}
	if h := visibleText(t, ctx, "#recs-h"); h != "What to do first" {
		t.Errorf("recommendations heading = %q", h)
	}
	checkAccessibility(t, ctx, string(js), "results dashboard", 1280, 375)
}
