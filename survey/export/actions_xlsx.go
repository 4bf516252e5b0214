package export

import (
	"strings"
	"time"
)

// The action plan's messages join the exports' list, so every locale must
// have them too.
func init() {
	MessageIDs = append(MessageIDs, "actions.title", "actions.field.title", "actions.field.owner", "actions.field.due",
		"actions.field.status", "actions.field.practices", "actions.field.scope", "actions.field.campaign", "actions.overdue",
		"actions.none")
}

// actionSheet adds the action plan as the workbook's last sheet; a doc
// without actions (nil) gets none.
func (x *xlsxWriter) actionSheet() error {
	d, f := x.d, x.f
	if d.Actions == nil {
		return nil
	}
	sheet := sheetName(x.t("actions.title"))
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	header := []string{"ID", x.t("actions.field.title"), x.t("actions.field.status"), x.t("actions.field.owner"), x.t("actions.field.due"),
		x.t("actions.overdue"), x.t("actions.field.practices"), x.t("actions.field.scope"), x.t("actions.field.campaign"), "URL"}
	s, err := x.stream(sheet, []float64{6, 48, 14, 24, 12, 10, 20, 28, 28, 40}, header...)
	if err != nil {
		return err
	}
	for _, r := range d.Actions {
		overdue := x.t("export.no")
		if r.Overdue {
			overdue = x.t("export.yes")
		}
		if err := s.add(r.ID, plainCell(r.Title), r.StatusText, plainCell(r.Owner), r.Due.Format(time.DateOnly),
			overdue, strings.Join(r.Practices, ", "), plainCell(r.Scope), plainCell(r.Wave), r.Link); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}

// sheetName keeps a translated name within Excel's rules: at most 31
// characters and none of : \ / ? * [ ].
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	return strings.Trim(s, "' ")
}
