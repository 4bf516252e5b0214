package export

import (
	"tiltline/survey"

	"bufio"
	"errors"
	"io"
	"strconv"
)

// Columns reports which respondent attributes an anonymous export may
// carry: an attribute is left out entirely when any of its groups would be
// hidden in a report, since a column with a group of two singles those two out.
func Columns(rows []survey.ReportRow, k int) (unit, role, seniority bool) {
	safe := func(key func(*survey.ReportRow) string) bool {
		counts := map[string]int{}
		for i := range rows {
			counts[key(&rows[i])]++
		}
		for _, hidden := range survey.SuppressGroups(counts, k) {
			if hidden {
				return false
			}
		}
		return true
	}
	unit = safe(func(r *survey.ReportRow) string {
		if r.UnitID == nil {
			return ""
		}
		return strconv.FormatInt(*r.UnitID, 10)
	})
	role = safe(func(r *survey.ReportRow) string { return r.Role })
	seniority = safe(func(r *survey.ReportRow) string { return r.Seniority })
	return unit, role, seniority
}

// ErrTooFew refuses an export of a campaign with fewer than k responses.
var ErrTooFew = errors.New("fewer responses than the smallest group shown")

// WriteResponsesCSV writes one row per response: a running number (not the
// stored id), the attributes Columns allows, then each practice's
// Intention and Reality as points (0, 25, 50, 75, 100), "dk" or empty.
func WriteResponsesCSV(w io.Writer, m *survey.Model, rows []survey.ReportRow, k int, unitNames map[int64]string) error {
	if len(rows) < survey.EffectiveK(k) {
		return ErrTooFew
	}
	withUnit, withRole, withSeniority := Columns(rows, survey.EffectiveK(k))
	bw := bufio.NewWriterSize(w, 64<<10)
	header := []string{"response"}
	if withUnit {
		header = append(header, "unit")
	}
	if withRole {
		header = append(header, "role")
	}
	if withSeniority {
		header = append(header, "seniority")
	}
	for _, p := range m.Practices() {
		header = append(header, p.ID+" intention", p.ID+" reality")
	}
	writeRecord(bw, header)
	cells := [7]string{"", "100", "75", "50", "25", "0", "dk"}
	rec := make([]string, 0, len(header))
	for i, r := range rows {
		rec = append(rec[:0], strconv.Itoa(i+1))
		if withUnit {
			name := ""
			if r.UnitID != nil {
				name = plainCell(unitNames[*r.UnitID])
			}
			rec = append(rec, name)
		}
		if withRole {
			rec = append(rec, r.Role)
		}
		if withSeniority {
			rec = append(rec, r.Seniority)
		}
		for j := 0; j < m.AnswerSlots(); j++ {
			v := byte(0)
			if j < len(r.Answers) && r.Answers[j] <= survey.DontKnow {
				v = r.Answers[j]
			}
			rec = append(rec, cells[v])
		}
		writeRecord(bw, rec)
	}
	return bw.Flush()
}

// writeRecord writes one CSV line (RFC 4180), quoting only where needed.
func writeRecord(w *bufio.Writer, rec []string) {
	for i, f := range rec {
		if i > 0 {
			w.WriteByte(',')
		}
		if needsQuotes(f) {
			w.WriteByte('"')
			for _, r := range f {
				if r == '"' {
					w.WriteByte('"')
				}
				w.WriteRune(r)
			}
			w.WriteByte('"')
		} else {
			w.WriteString(f)
		}
	}
	w.WriteString("\r\n")
}

func needsQuotes(s string) bool {
	for _, r := range s {
		if r == ',' || r == '"' || r == '\n' || r == '\r' {
			return true
		}
	}
	return false
}

// plainCell keeps a name typed by an admin from running as a spreadsheet
// formula: a leading = + - @ gets an apostrophe, which spreadsheets hide.
func plainCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
