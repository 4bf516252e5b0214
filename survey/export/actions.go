package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// The action plan as a file: actions.csv, a sheet of the workbook and a
// page of the PDF (actions_xlsx.go, actions_pdf.go). Managers' words, not
// respondents': nothing here is subject to suppression, but what a file
// lists is what its reader's board shows.

// ActionRow is one action as the exports write it.
type ActionRow struct {
	ID         int64
	Title      string
	Status     string // the status key (planned, in_progress, done, dropped)
	StatusText string // the status in the reader's language
	Owner      string
	Due        time.Time
	Overdue    bool
	Practices  []string
	Scope      string // "organisation" or the units' names
	Wave       string
	Link       string
}

// WriteActionsCSV writes the action plan with fixed English column names,
// for tools; every text cell is kept from running as a formula.
func WriteActionsCSV(w io.Writer, rows []ActionRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"id", "title", "status", "owner", "due_on", "overdue", "practices", "scope", "wave", "link"}); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{strconv.FormatInt(r.ID, 10), plainCell(r.Title), r.Status, plainCell(r.Owner), r.Due.Format(time.DateOnly),
			strconv.FormatBool(r.Overdue), strings.Join(r.Practices, " "), plainCell(r.Scope), plainCell(r.Wave), r.Link}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
