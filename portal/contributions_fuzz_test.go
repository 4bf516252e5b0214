package portal

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// activeTags are elements that run code, load other documents or restyle
// the page: none may come out of a contribution.
var activeTags = map[string]bool{
	"script": true, "iframe": true, "frame": true, "frameset": true, "object": true, "embed": true,
	"applet": true, "style": true, "link": true, "meta": true, "base": true, "form": true,
	"input": true, "button": true, "textarea": true, "select": true, "svg": true, "math": true, "template": true,
}

// urlAttrs are attributes whose value the browser follows or loads.
var urlAttrs = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "xlink:href": true, "srcset": true, "poster": true, "background": true, "cite": true}

// rawScript finds a script tag in the output as bytes, whatever the
// tokenizer makes of it.
var rawScript = regexp.MustCompile(`(?i)<\s*/?\s*script`)

// FuzzRenderCase: whatever Markdown a contributor writes, the HTML that
// reaches the page has no script element, no event handler attribute, no
// link or source outside http, https, mailto and the page itself, and no
// "javascript:" anywhere but in escaped text.
func FuzzRenderCase(f *testing.F) {
	for _, s := range []string{
		"Hello <script>alert(1)</script> world",
		"[click](javascript:alert(1))",
		"[click](JaVaScRiPt:alert(1))",
		"[click]( javascript:alert(1))",
		"[click](java\tscript:alert(1))",
		"[x](&#106;avascript:alert(1))",
		"[x](&#x6A;avascript&colon;alert(1))",
		"[x](%6Aavascript:alert(1))",
		"<javascript:alert(1)>",
		"![img](javascript:alert(1))",
		"![img](x \"t\" onerror=alert(1))",
		`<img src="x" onerror="alert(1)">`,
		`<a href="https://example.com" onclick="alert(1)">x</a>`,
		"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		`<iframe src="https://evil.example"></iframe>`,
		`<svg onload="alert(1)"></svg>`,
		"[ref]: javascript:alert(1)\n\n[ref]",
		"| a | b |\n|---|---|\n| <script>x</script> | [y](vbscript:msgbox) |",
		"`<script>` and ```\n<script>alert(1)</script>\n```",
		"<scr<script>ipt>alert(1)</script>",
		"<<script>script>alert(1)<</script>/script>",
		"www.example.com/?q=<script> and https://x.example/\"onmouseover=alert(1)//",
		"<a href='https://ok.example' style='x:expression(alert(1))'>x</a>",
		"**bold** _it_ [ok](https://example.com \"title\") <mailto:a@b.example>",
		"\x00<script>\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, md string) {
		out := string(RenderCase(md))
		if !utf8.ValidString(out) && utf8.ValidString(md) {
			t.Fatalf("valid input gave invalid UTF-8: %q", out)
		}
		if err := checkSafeHTML(out); err != nil {
			t.Fatalf("%v in output:\n%s", err, out)
		}
	})
}

// checkSafeHTML is the fuzz target's property: no script, no active element,
// no event handler or style attribute, no URL outside http, https, mailto
// and this site, no "javascript:" in any attribute (after entity decoding).
func checkSafeHTML(out string) error {
	if m := rawScript.FindString(out); m != "" {
		return fmt.Errorf("%q", m)
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return z.Err()
			}
			return nil
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			if activeTags[tok.Data] {
				return fmt.Errorf("<%s>", tok.Data)
			}
			for _, at := range tok.Attr {
				key := strings.ToLower(at.Key)
				val := strings.ToLower(at.Val)
				switch {
				case strings.HasPrefix(key, "on"), key == "style":
					return fmt.Errorf("attribute %s=%q", at.Key, at.Val)
				case urlAttrs[key] && !safeURL(at.Val):
					return fmt.Errorf("URL %s=%q", at.Key, at.Val)
				case strings.Contains(val, "javascript:"), strings.Contains(val, "vbscript:"):
					return fmt.Errorf("script URL in %s=%q", at.Key, at.Val)
				}
			}
		}
	}
}

// The checker itself must catch what it is meant to catch, or the fuzz
// target could pass by checking nothing.
func TestCheckSafeHTMLCatchesAttacks(t *testing.T) {
	for _, bad := range []string{
		`<p>x<script>alert(1)</script></p>`,
		`<p>x< /SCRIPT>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href="&#106;avascript:alert(1)">x</a>`,
		`<a href=" java&#9;script:alert(1)">x</a>`,
		`<a href="data:text/html,x">x</a>`,
		`<img src="x" onerror="alert(1)">`,
		`<p ONCLICK=alert(1)>x</p>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<svg><a xlink:href="javascript:x">y</a></svg>`,
		`<p style="background:url(x)">x</p>`,
		`<a title="javascript:x" href="/ok">x</a>`,
	} {
		if checkSafeHTML(bad) == nil {
			t.Errorf("checker passed %s", bad)
		}
	}
	for _, good := range []string{
		`<p>say &lt;script&gt; and javascript:alert(1) in text</p>`,
		`<a href="https://example.com/a:b" rel="nofollow ugc">x</a>`,
		`<a href="/learn/x#y">x</a> <a href="mailto:a@b.example">m</a> <a href="page?x=a:b">r</a>`,
		`<img src="https://example.com/i.png" alt="i">`,
	} {
		if err := checkSafeHTML(good); err != nil {
			t.Errorf("checker refused %s: %v", good, err)
		}
	}
}

// safeURL accepts what a browser would resolve to http(s), mailto or this
// site: a relative reference, or one of those schemes. Browsers strip tabs,
// newlines and leading control characters before reading a scheme, so this
// does too.
func safeURL(v string) bool {
	clean := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, v)
	clean = strings.ToLower(strings.TrimLeft(clean, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
	colon := strings.IndexByte(clean, ':')
	if colon < 0 {
		return true
	}
	if slash := strings.IndexAny(clean, "/?#"); slash >= 0 && slash < colon {
		return true // a colon after the path starts: a relative reference
	}
	switch clean[:colon] {
	case "http", "https", "mailto":
		return true
	}
	return false
}
