package server

import (
	"fmt"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestZZShots(t *testing.T) {
	ts := startTestServerWith(t, testServerOptions{Responses: 60})
	ctx := newBrowser(t, "en")
	signInWith(t, ts, ctx, ts.Demo.AdminEmail, ts.Demo.AdminPassword, "/admin")
	// a target on the previous wave so the next one measures it
	pages := map[string]string{
		"board":   "/actions",
		"action":  "/actions/1",
		"new":     fmt.Sprintf("/actions/new?campaign=%d&practice=RE-09", ts.Demo.CampaignID),
		"targets": fmt.Sprintf("/actions/targets/%d", ts.Demo.PreviousCampaignID),
		"results": fmt.Sprintf("/results/%d", ts.Demo.CampaignID),
		"learn":   "/learn/managing-dissatisfaction",
	}
	open(t, ctx, ts.URL+pages["targets"])
	do(t, ctx, chromedp.SetValue(chromedp.ID("target_RE"), "45"), chromedp.SetValue(chromedp.ID("target_AP"), "30"), chromedp.SetValue(chromedp.ID("target_AC"), "60"))
	follow(t, ctx, chromedp.Click(byText("button", "Save")))
	for _, w := range []int64{375, 1280} {
		do(t, ctx, chromedp.EmulateViewport(w, 900))
		open(t, ctx, ts.URL+pages["results"])
		for name, sel := range map[string]string{"radar": "section[aria-labelledby=radar-h]", "did": "section.did-it-work", "recs": "section[aria-labelledby=recs-h]"} {
			buf := read(t, ctx, chromedp.Screenshot(chromedp.CSS(sel), chromedp.NodeVisible))
			os.WriteFile(fmt.Sprintf("/tmp/el-%s-%d.png", name, w), buf, 0o644)
		}
	}
	for name, p := range pages {
		if name == "results" || name == "learn" {
			continue
		}
		for _, w := range []int64{375, 1280} {
			do(t, ctx, chromedp.EmulateViewport(w, 900))
			open(t, ctx, ts.URL+p)
			buf := read(t, ctx, chromedp.FullScreenshot(100))
			os.WriteFile(fmt.Sprintf("/tmp/shot-%s-%d.png", name, w), buf, 0o644)
		}
	}
}
