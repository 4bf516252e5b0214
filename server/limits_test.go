package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tiltline/survey"
)

// Tests of issue 12's item 8: k fixed once a campaign opens, unit limits
// that fail closed, portal figures by the reader's limits, /metrics behind
// a token or its own address.

// Once a campaign has opened, its k may be raised but never lowered: a lower
// k would show groups that earlier results hid. A draft changes freely.
func TestKIsFixedOnceACampaignOpens(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	storedK := func(id int64) int {
		var cp survey.Campaign
		a.db.Read.First(&cp, id)
		return cp.KMin
	}
	edit := func(id int64, k string, lang string) (int, string) {
		code, body, _ := f.do(http.MethodPost, fmt.Sprintf("/admin/campaigns/%d", id), "application/x-www-form-urlencoded", url.Values{
			"csrf": {f.csrf}, "name": {"Renamed wave"}, "k_min": {k}, "locales": {"en", "de"},
		}.Encode(), "Accept-Language", lang)
		return code, body
	}
	for _, c := range []struct {
		name string
		id   int64
	}{{"open", demo.CampaignID}, {"closed", demo.PreviousCampaignID}} {
		before := storedK(c.id)
		code, body := edit(c.id, "3", "de")
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "nicht unter den bisherigen gesenkt") ||
			!strings.Contains(body, `value="Renamed wave"`) || !strings.Contains(body, `name="k_min" type="number" min="5" max="50" value="3"`) {
			t.Errorf("%s campaign, k lowered: %d, want 422 with the German error and what was typed", c.name, code)
		}
		if k := storedK(c.id); k != before {
			t.Errorf("%s campaign: k lowered to %d", c.name, k)
		}
		if code, _ := edit(c.id, "8", "en"); code != http.StatusSeeOther {
			t.Errorf("%s campaign, k raised: %d, want 303", c.name, code)
		}
		if k := storedK(c.id); k != 8 {
			t.Errorf("%s campaign: k = %d after raising it to 8", c.name, k)
		}
		if _, page := f.get(fmt.Sprintf("/admin/campaigns/%d/edit", c.id)); !strings.Contains(page, `min="8"`) || !strings.Contains(page, "never lowered") {
			t.Errorf("%s campaign: the form does not say k can only be raised", c.name)
		}
	}
	// A draft may lower it again.
	code, loc := f.post("/admin/campaigns", url.Values{"name": {"Pulse"}, "k_min": {"9"}, "locales": {"en"}})
	if code != http.StatusSeeOther {
		t.Fatalf("new campaign: %d", code)
	}
	var draft int64
	fmt.Sscanf(strings.TrimPrefix(loc, "/admin/campaigns/"), "%d", &draft)
	if code, _ := edit(draft, "3", "en"); code != http.StatusSeeOther || storedK(draft) != 3 {
		t.Errorf("draft campaign, k lowered: %d, k = %d; a draft may change freely", code, storedK(draft))
	}
}
