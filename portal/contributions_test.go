package portal

import (
	"strings"
	"testing"
)

// Cases are other people's Markdown: whatever they write, nothing active
// reaches the page.
func TestRenderCaseMakesAttacksHarmless(t *testing.T) {
	cases := map[string]string{
		"script tag":          "Hello <script>alert(1)</script> world",
		"javascript link":     "[click](javascript:alert(1))",
		"event handler":       `<img src="x" onerror="alert(1)">`,
		"html link handler":   `<a href="https://example.com" onclick="alert(1)">x</a>`,
		"data url":            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"iframe":              `<iframe src="https://evil.example"></iframe>`,
		"style":               `<style>body{display:none}</style>`,
		"encoded javascript":  "[x](&#106;avascript:alert(1))",
		"svg":                 `<svg onload="alert(1)"></svg>`,
		"autolink javascript": "<javascript:alert(1)>",
	}
	for name, md := range cases {
		t.Run(name, func(t *testing.T) {
			out := strings.ToLower(string(RenderCase(md)))
			for _, bad := range []string{"<script", `="javascript:`, "href=javascript", "onerror", "onclick", "onload", "<iframe", "<style", "data:text", "<svg"} {
				if strings.Contains(out, bad) {
					t.Errorf("rendered %q contains %q", out, bad)
				}
			}
		})
	}
	out := string(RenderCase("See [our report](https://example.com/report) and **this**."))
	if !strings.Contains(out, `rel="nofollow ugc"`) || !strings.Contains(out, "<strong>this</strong>") {
		t.Errorf("links must be nofollow ugc and formatting kept: %s", out)
	}
}
