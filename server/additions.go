package server

import (
	"cmp"
	"strconv"

	"github.com/labstack/echo/v4"

	"tiltline/survey"
)

// additionLines tells, in the reader's language, how many participants were
// added after the campaign opened, when, by whom and how: for the admin's
// campaign page and everyone's results page. Counts and dates only; the
// people added are never named.
func (a *App) additionLines(c echo.Context, cp *survey.Campaign) ([]string, error) {
	days, err := survey.ParticipantAdditions(c.Request().Context(), a.db, cp.ID)
	if err != nil || len(days) == 0 {
		return nil, err
	}
	lang := localeOf(c)
	t := func(id string, data map[string]any) string { return a.i18n.T(lang, id, data) }
	out := make([]string, len(days))
	for i, d := range days {
		id := "admin.additions.other"
		if d.Added == 1 {
			id = "admin.additions.one"
		}
		date := t("mail.date", map[string]any{"Day": d.Day.Day(), "Month": t("mail.month."+strconv.Itoa(int(d.Day.Month())), nil), "Year": d.Day.Year()})
		out[i] = t(id, map[string]any{"N": d.Added, "Date": date, "By": cmp.Or(d.By, t("admin.additions.someone", nil)),
			"How": t("admin.additions.how."+d.Method, nil)})
	}
	return out, nil
}
