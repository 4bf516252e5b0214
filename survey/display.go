package survey

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Display rounding: the report keeps every number at full precision, and
// each is rounded once, here, when it is shown — half away from zero (50.5
// → 51, −2.5 → −3), never to even and never from an already rounded value.
// Pages, PDF and workbook all format through these functions.

// Round rounds v to decimals places, half away from zero. The half is
// judged on the decimal the reader sees, so 0.15 (stored as 0.1499…) still
// rounds to 0.2.
func Round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	x := v * p
	// Nudge by a few ulps so a value printed as an exact half rounds up.
	r := math.Round(x + math.Copysign(1e-9*math.Max(1, math.Abs(x)), x))
	if r == 0 {
		return 0 // no "-0"
	}
	return r / p
}

// FormatNumber writes v rounded to decimals places with the language's
// decimal separator (a comma in German and French).
func FormatNumber(lang string, v float64, decimals int) string {
	s := strconv.FormatFloat(Round(v, decimals), 'f', decimals, 64)
	if lang == "de" || lang == "fr" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// FormatSigned is FormatNumber with a sign on every non-zero change: +2.5, −1.0.
func FormatSigned(lang string, v float64, decimals int) string {
	r := Round(v, decimals)
	s := FormatNumber(lang, math.Abs(r), decimals)
	switch {
	case r > 0:
		return "+" + s
	case r < 0:
		return "\u2212" + s
	}
	return s
}

// ShownDiff is the difference of two scores as the reader sees them: each
// rounded to decimals first, so a gap printed next to intention and reality
// always equals their printed difference. Nil when either is missing.
func ShownDiff(a, b Num, decimals int) Num {
	if a == nil || b == nil {
		return nil
	}
	d := Round(*a, decimals) - Round(*b, decimals)
	d = Round(d, decimals) // remove float noise from the subtraction
	return &d
}

// FormatP writes a p or q value for reading: three decimals, "< 0.001"
// below that (never "0").
func FormatP(lang string, p float64) string {
	if p < 0.0005 {
		return "< " + FormatNumber(lang, 0.001, 3)
	}
	return FormatNumber(lang, p, 3)
}

// FormatPRel is FormatP with its relation, to follow a "p": "= 0.053", "< 0.001".
func FormatPRel(lang string, p float64) string {
	s := FormatP(lang, p)
	if !strings.HasPrefix(s, "<") {
		s = "= " + s
	}
	return s
}

var shortMonths = map[string][12]string{
	"en": {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	"de": {"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."},
	"fr": {"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."},
}

// FormatDay writes a date (UTC) as the language does: "2 Dec 2026",
// "2. Dez. 2026", "2 déc. 2026". Pages and the PDF share it.
func FormatDay(lang string, t time.Time) string {
	t = t.UTC()
	m, ok := shortMonths[lang]
	if !ok {
		m = shortMonths["en"]
	}
	if lang == "de" {
		return fmt.Sprintf("%d. %s %d", t.Day(), m[t.Month()-1], t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), m[t.Month()-1], t.Year())
}
