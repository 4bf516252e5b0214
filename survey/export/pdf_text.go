package export

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"

	"golang.org/x/image/font/sfnt"
)

// Text the PDF prints comes from people (campaign, wave, organisation and
// unit names) as well as from the locales, and people type emoji, Chinese,
// Korean and Japanese. fpdf sets each cell in one font and knows only the
// Basic Multilingual Plane: a character outside it stopped the whole export
// with an error. So every string is cut into runs by the font that has its
// glyphs: DejaVu Sans for Latin, Greek, Cyrillic, Arabic, Hebrew, combining
// marks and symbols; Droid Sans Fallback (Apache-2.0, from Debian's
// fonts-droid-fallback, fonts/LICENSE) for Han, kana and Hangul, added to a
// document only when one of its characters occurs; and a visible U+FFFD for
// what neither has, such as emoji above U+FFFF. Arabic and Hebrew print
// letter by letter, left to right: fpdf does no shaping or bidi.

const pdfFallbackFont = "DroidFallback"

//go:embed fonts/DroidSansFallback.ttf
var droidSansFallback []byte

// pdfCoverage answers whether a face maps a rune to a glyph, read from the
// fonts' own cmap tables once.
var pdfCoverage = sync.OnceValue(func() map[string]*sfnt.Font {
	faces := map[string][]byte{"": dejaVuSans, "B": dejaVuSansBold, pdfFallbackFont: droidSansFallback}
	out := make(map[string]*sfnt.Font, len(faces))
	for name, b := range faces {
		f, err := sfnt.Parse(b)
		if err != nil {
			panic("survey: embedded font " + name + ": " + err.Error())
		}
		out[name] = f
	}
	return out
})

func pdfHasGlyph(face string, r rune) bool {
	var buf sfnt.Buffer
	g, err := pdfCoverage()[face].GlyphIndex(&buf, r)
	return err == nil && g != 0
}

type pdfRun struct {
	fallback bool
	text     string
}

// runs cuts text into runs for the current style. Controls other than a
// line break become spaces; a format character no font has (a variation
// selector, an emoji tag) is dropped, as it draws nothing anyway.
func (p *pdfWriter) runs(text string) []pdfRun {
	text = p.s(text)
	face := ""
	if strings.Contains(p.style, "B") {
		face = "B"
	}
	var out []pdfRun
	var cur strings.Builder
	curFallback := false
	for _, r := range text {
		fallback := false
		switch {
		case r == '\n':
		case unicode.IsControl(r):
			r = ' '
		case r <= 0xFFFF && pdfHasGlyph(face, r):
		case r <= 0xFFFF && pdfHasGlyph(pdfFallbackFont, r):
			fallback = true
		case unicode.In(r, unicode.Cf, unicode.Variation_Selector):
			continue
		default:
			r = '\uFFFD'
		}
		if fallback != curFallback && cur.Len() > 0 {
			out = append(out, pdfRun{curFallback, cur.String()})
			cur.Reset()
		}
		curFallback = fallback
		cur.WriteRune(r)
	}
	if cur.Len() > 0 || len(out) == 0 {
		out = append(out, pdfRun{curFallback, cur.String()})
	}
	return out
}

// plain is text as one DejaVu run, or "", false when it needs more.
func (p *pdfWriter) plain(text string) (string, bool) {
	rs := p.runs(text)
	if len(rs) == 1 && !rs[0].fallback {
		return rs[0].text, true
	}
	return "", false
}

func (p *pdfWriter) isPlain(text string) bool {
	_, ok := p.plain(text)
	return ok
}

// face switches the family for a run, keeping style and size; the
// fallback has no bold, so bold falls back to its regular.
func (p *pdfWriter) face(fallback bool) {
	if !fallback {
		p.pdf.SetFont(pdfFont, p.style, p.size)
		return
	}
	if !p.fallbackAdded {
		p.pdf.AddUTF8FontFromBytes(pdfFallbackFont, "", droidSansFallback)
		p.fallbackAdded = true
	}
	p.pdf.SetFont(pdfFallbackFont, strings.ReplaceAll(p.style, "B", ""), p.size)
}

// width is the printed width of text in mm.
func (p *pdfWriter) width(text string) float64 {
	if s, ok := p.plain(text); ok {
		return p.pdf.GetStringWidth(s)
	}
	return p.runsWidth(p.runs(text))
}

func (p *pdfWriter) runsWidth(rs []pdfRun) float64 {
	w := 0.0
	for _, r := range rs {
		p.face(r.fallback)
		w += p.pdf.GetStringWidth(r.text)
	}
	p.face(false)
	return w
}

// text prints text with its baseline at (x, y).
func (p *pdfWriter) text(x, y float64, text string) {
	if s, ok := p.plain(text); ok {
		p.pdf.Text(x, y, s)
		return
	}
	for _, r := range p.runs(text) {
		p.face(r.fallback)
		p.pdf.Text(x, y, r.text)
		x += p.pdf.GetStringWidth(r.text)
	}
	p.face(false)
}

// cell is fpdf's CellFormat for text in any script.
func (p *pdfWriter) cell(w, h float64, text, border string, ln int, align string, fill bool, link string) {
	pdf := p.pdf
	if s, ok := p.plain(text); ok {
		pdf.CellFormat(w, h, s, border, ln, align, fill, 0, link)
		return
	}
	rs := p.runs(text)
	x, y := pdf.GetXY()
	pdf.CellFormat(w, h, "", border, 0, "", fill, 0, link)
	m := pdf.GetCellMargin()
	tw := p.runsWidth(rs)
	tx := x + m
	switch {
	case strings.Contains(align, "R"):
		tx = x + w - m - tw
	case strings.Contains(align, "C"):
		tx = x + (w-tw)/2
	}
	for _, r := range rs {
		p.face(r.fallback)
		rw := pdf.GetStringWidth(r.text)
		pdf.SetXY(tx-m, y)
		pdf.CellFormat(rw+2*m, h, r.text, "", 0, "L", false, 0, link)
		tx += rw
	}
	p.face(false)
	switch ln {
	case 1:
		pdf.SetXY(pdf.GetX(), y+h)
		pdf.SetX(p.leftMargin())
	case 2:
		pdf.SetXY(x, y+h)
	default:
		pdf.SetXY(x+w, y)
	}
}

func (p *pdfWriter) leftMargin() float64 {
	l, _, _, _ := p.pdf.GetMargins()
	return l
}

// multi is fpdf's MultiCell for text in any script: lines break at spaces,
// or between characters where a word (or a line of Han) is too long.
func (p *pdfWriter) multi(w, h float64, text, border, align string, fill bool) {
	if s, ok := p.plain(text); ok {
		p.pdf.MultiCell(w, h, s, border, align, fill)
		return
	}
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		lines = append(lines, p.split(para, w-2*p.pdf.GetCellMargin())...)
	}
	x := p.pdf.GetX()
	for i, line := range lines {
		b := border
		if border == "1" {
			b = "LR"
			if i == 0 {
				b += "T"
			}
			if i == len(lines)-1 {
				b += "B"
			}
		}
		p.pdf.SetX(x)
		p.cell(w, h, line, b, 2, align, fill, "")
	}
	p.pdf.SetX(p.leftMargin())
}

// split breaks text into lines of at most w mm at spaces, and inside a
// word only when the word alone is wider than a line.
func (p *pdfWriter) split(text string, w float64) []string {
	var lines []string
	line := ""
	for _, word := range strings.Split(text, " ") {
		switch {
		case line == "" && p.width(word) <= w:
			line = word
		case line != "" && p.width(line+" "+word) <= w:
			line += " " + word
		case p.width(word) <= w:
			lines = append(lines, line)
			line = word
		case p.isPlain(word):
			// A long word in DejaVu stays whole, as before.
			if line != "" {
				lines = append(lines, line)
			}
			line = word
		default:
			if line != "" {
				line += " "
			}
			for _, r := range word {
				if line != "" && p.width(line+string(r)) > w {
					lines = append(lines, line)
					line = ""
				}
				line += string(r)
			}
		}
	}
	return append(lines, line)
}

// pdfInfo is a document-information string (title, author) as UTF-16BE
// with its byte-order mark. fpdf's own conversion reads a character above
// U+FFFF as three bytes, and past the end of a string that ends inside one.
func pdfInfo(s string) string {
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}
