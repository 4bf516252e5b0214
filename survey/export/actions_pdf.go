package export

import (
	"strings"
	"time"
)

// actionPage adds the action plan to the PDF report: one block per action
// with its status, owner, due day and practices. A doc without actions
// (nil) gets no page.
func (p *pdfWriter) actionPage() {
	d := p.d
	if d.Actions == nil {
		return
	}
	pdf := p.pdf
	pdf.AddPage()
	p.heading(d.T("actions.title", nil))
	if len(d.Actions) == 0 {
		p.para(d.T("actions.none", nil), 11, pdfInk)
		return
	}
	for _, r := range d.Actions {
		p.ensure(18)
		p.font("B", 10, pdfBrand)
		p.multi(pdfBodyW, 5, p.s(r.Title), "", "L", false)
		status := r.StatusText
		if r.Overdue {
			status += " · " + d.T("actions.overdue", nil)
		}
		p.font("", 8.5, pdfMuted)
		line := strings.Join([]string{status, d.T("actions.field.owner", nil) + ": " + r.Owner,
			d.T("actions.field.due", nil) + ": " + r.Due.Format(time.DateOnly)}, " · ")
		p.multi(pdfBodyW, 4.2, p.s(line), "", "L", false)
		meta := d.T("actions.field.practices", nil) + ": " + strings.Join(r.Practices, ", ") + " · " + d.T("actions.field.scope", nil) + ": " + r.Scope
		p.multi(pdfBodyW, 4.2, p.s(meta), "", "L", false)
		pdf.Ln(2.5)
	}
}
