package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestMailPreviewIsTheRealHTMLMailInASandboxedFrame: the mail settings page
// frames the HTML part as the mailer writes it, from the organisation via
// Tiltline, the contact a mailto: link; the frame's page runs nothing and
// may be framed by our pages only.
func TestMailPreviewIsTheRealHTMLMailInASandboxedFrame(t *testing.T) {
	a, demo, _ := newTestApp(t)
	admin := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	base := fmt.Sprintf("/admin/campaigns/%d/mail", demo.CampaignID)
	code, page := admin.get(base)
	if code != http.StatusOK || !strings.Contains(page, `<iframe class="mail-frame" sandbox src="`+base+`/preview?kind=invite&amp;preview=en"`) ||
		!strings.Contains(page, "Demo Bank via Tiltline") {
		t.Fatalf("settings page (%d) has no framed preview or sender:\n%s", code, page)
	}
	code, html, h := admin.do(http.MethodGet, base+"/preview?kind=reminder", "", "")
	if code != http.StatusOK || !strings.Contains(html, `<a href="mailto:admin@demo-bank.example"`) || !strings.Contains(html, "Customer management assessment · ") {
		t.Errorf("preview (%d):\n%s", code, html)
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'self'", "sandbox", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("preview CSP %q lacks %s", csp, want)
		}
	}
	if code, _ := admin.get(base + "/preview?kind=password_reset"); code != http.StatusNotFound {
		t.Errorf("preview of another kind: %d", code)
	}
}
