package childproc

import "testing"

func TestParseLinks(t *testing.T) {
	out := "admin: a@b.example pw\ncampaign: 2\nlink: http://127.0.0.1:1/s/abc\nlink: http://127.0.0.1:1/s/def\n"
	got := ParseLinks([]byte(out))
	if len(got) != 2 || got[0] != "http://127.0.0.1:1/s/abc" || got[1] != "http://127.0.0.1:1/s/def" {
		t.Errorf("ParseLinks = %q", got)
	}
}

func TestOutputValue(t *testing.T) {
	out := []byte("admin: a@b.example pw\napi-token: tl_abc \ncampaign: 12\nlink: http://x/s/a\n")
	if got := OutputValue(out, "campaign"); got != "12" {
		t.Errorf("campaign = %q", got)
	}
	if got := OutputValue(out, "api-token"); got != "tl_abc" {
		t.Errorf("api-token = %q", got)
	}
	if got := OutputValue(out, "user"); got != "" {
		t.Errorf("user = %q", got)
	}
}
