package export

import (
	"tiltline/survey"

	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"tiltline/survey/cells"
	"time"
)

// The result exports: an aggregate CSV, an Excel workbook and a PDF report.
// All three are made from a Report — built under the suppression rules for
// the request's filter — and never from raw responses, so a file shows
// exactly what the results page shows and nothing more.

// Doc is what the result exports are made of.
type Doc struct {
	Model        *survey.Model
	Campaign     *survey.Campaign
	Report       *survey.Report
	Organisation string
	// UnitNames names the organisation's units, for a filter by unit.
	UnitNames map[int64]string
	// Locale is the reader's language; T returns an interface message in it
	// by id (MessageIDs lists those the exports ask for).
	Locale string
	T      func(id string, data map[string]any) string
	// Link is the absolute URL of a sub-section's portal page, anchored at a
	// practice; nil leaves links out.
	Link func(subsection, practice string) string
	// Generated dates the file (the cover of the PDF, the workbook's summary).
	Generated time.Time
}

// ErrSuppressed refuses a file export of a view the suppression rules
// hide; the server answers it before asking, this is the last guard.
var ErrSuppressed = errors.New("this view is suppressed: too few responses to export")

// MessageIDs are the interface messages the exports use; every locale
// must have them (the server's tests check).
var MessageIDs = []string{
	"results.intention", "results.reality", "results.cem", "results.gap", "results.responses", "results.section",
	"results.preliminary", "results.not_enough", "results.all", "results.summary", "results.leaders.title",
	"results.leaders.unavailable", "results.leaders.senior", "results.leaders.others", "results.leaders.diff",
	"results.recs.title", "results.recs.evidence", "results.recs.movement", "results.radar",
	"results.kind." + survey.StrategyGap, "results.kind." + survey.ExecutionGap, "results.kind." + survey.HiddenStrength,
	"results.kind." + survey.VerifyFirst, "results.kind." + survey.Unknown,
	"results.magnitude." + survey.DeltaNegligible, "results.magnitude." + survey.DeltaSmall,
	"results.magnitude." + survey.DeltaMedium, "results.magnitude." + survey.DeltaLarge,
	"admin.status." + survey.StatusDraft, "admin.status." + survey.StatusOpen, "admin.status." + survey.StatusClosed,
	"admin.rates.no_unit", "results.group.other_units", "results.group.other", "survey.profile.unit", "survey.profile.role", "survey.profile.seniority",
	"export.overall", "export.yes", "export.no", "export.field", "export.value",
	"export.field.organisation", "export.field.campaign", "export.field.wave", "export.field.status",
	"export.field.filter", "export.field.preliminary", "export.field.dont_know_rate", "export.field.k", "export.field.generated",
	"export.sheet.summary", "export.sheet.sections", "export.sheet.practices", "export.sheet.heatmap",
	"export.sheet.leaders", "export.sheet.recommendations",
	"export.col.id", "export.col.subsection", "export.col.practice", "export.col.answered",
	"export.col.views_differ", "export.col.scope", "export.col.delta", "export.col.magnitude", "export.col.p",
	"export.col.q", "export.col.rank", "export.col.kind", "export.col.reason", "export.col.priority",
	"export.col.movement", "export.col.evidence", "export.col.link", "export.col.seniors", "export.col.others",
	"export.scope.overall", "export.scope.section", "export.scope.practice",
	"export.pdf.title", "export.pdf.generated", "export.pdf.page", "export.pdf.headline", "export.pdf.sections",
	"export.pdf.leaders.higher", "export.pdf.leaders.lower", "export.pdf.leaders.same",
	"export.pdf.leaders.magnitude", "export.pdf.leaders.sections", "export.pdf.leaders.practices",
	"export.pdf.leaders.none", "export.pdf.recs.none", "export.pdf.delta", "export.pdf.learn",
}

// WriteAggregateCSV writes one row for the whole view, one per section and
// one per practice: kind, id, title (in the doc's locale), intention,
// reality, CEM and gap in points, answered n, don't-know rate (0..1) and the
// views-differ flag. The header is fixed English keys, for tools to read;
// text cells that a spreadsheet would run as a formula are defused.
func WriteAggregateCSV(w io.Writer, d *Doc) error {
	rep := d.Report
	if rep == nil || rep.Suppressed || rep.Overall == nil {
		return ErrSuppressed
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	writeRecord(bw, []string{"kind", "id", "title", "intention", "reality", "cem", "gap", "answered", "dont_know_rate", "views_differ"})
	rec := make([]string, 0, 10)
	score := func(s survey.ReportScore) {
		rec = append(rec, csvNum(s.Intention), csvNum(s.Reality), csvNum(s.CEM), csvNum(s.Gap))
	}
	rec = append(rec, "overall", "overall", plainCell(d.T("export.overall", nil)))
	score(*rep.Overall)
	n := ""
	if rep.Responses != nil {
		n = strconv.Itoa(*rep.Responses)
	}
	rec = append(rec, n, csvNum(rep.DontKnowRate), "")
	writeRecord(bw, rec)
	for _, s := range rep.Sections {
		rec = append(rec[:0], "section", s.ID, plainCell(d.sectionTitle(s.ID)))
		score(s.ReportScore)
		rec = append(rec, "", "", "")
		writeRecord(bw, rec)
	}
	for _, p := range rep.Practices {
		rec = append(rec[:0], "practice", p.ID, plainCell(d.practiceText(p.ID)))
		score(p.ReportScore)
		rec = append(rec, strconv.Itoa(p.Answered), csvNum(p.DontKnowRate), strconv.FormatBool(p.ViewsDiffer))
		writeRecord(bw, rec)
	}
	return bw.Flush()
}

func csvNum(v survey.Num) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// sectionTitle is a section's title in the doc's locale, or its id.
func (d *Doc) sectionTitle(id string) string {
	for _, s := range d.Model.Sections {
		if s.ID == id {
			return s.Title.In(d.Locale)
		}
	}
	return id
}

// practiceText is a practice's statement in the doc's locale, or its id.
func (d *Doc) practiceText(id string) string {
	if p, ok := d.Model.Practice(id); ok {
		return p.Statement.In(d.Locale)
	}
	return id
}

// subsectionTitle is a sub-section's title in the doc's locale.
func (d *Doc) subsectionTitle(slug string) string {
	if s, ok := d.Model.Subsection(slug); ok {
		return s.Title.In(d.Locale)
	}
	return slug
}

// optionTitle is the localised title of a role or seniority key.
func (d *Doc) optionTitle(opts []survey.Option, key string) string {
	if key == cells.Other {
		return d.T("results.group.other", nil)
	}
	for _, o := range opts {
		if o.Key == key {
			return o.Title.In(d.Locale)
		}
	}
	return key
}

// filterText describes the report's filter in words ("All" for none).
func (d *Doc) filterText() string {
	f := d.Report.Filter
	var parts []string
	if f.UnitID != nil {
		name := d.UnitNames[*f.UnitID]
		if name == "" {
			name = strconv.FormatInt(*f.UnitID, 10)
		}
		parts = append(parts, d.T("survey.profile.unit", nil)+": "+name)
	}
	if f.Role != "" {
		parts = append(parts, d.T("survey.profile.role", nil)+": "+d.optionTitle(d.Model.Roles, f.Role))
	}
	if f.Seniority != "" {
		parts = append(parts, d.T("survey.profile.seniority", nil)+": "+d.optionTitle(d.Model.Seniority, f.Seniority))
	}
	if len(parts) == 0 {
		return d.T("results.all", nil)
	}
	return strings.Join(parts, "; ")
}

// kindsText is a recommendation's reasons in words.
func (d *Doc) kindsText(kinds []string, sep string) string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = d.T("results.kind."+k, nil)
	}
	return strings.Join(out, sep)
}

// link is the portal link of a sub-section and practice, or "".
func (d *Doc) link(subsection, practice string) string {
	if d.Link == nil {
		return ""
	}
	return d.Link(subsection, practice)
}
