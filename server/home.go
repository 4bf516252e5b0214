package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (a *App) home(c echo.Context) error {
	m := a.models.Latest()
	return a.render(c, http.StatusOK, "home", a.page(c, "home.title", map[string]any{
		"Model":       m,
		"Sections":    len(m.Sections),
		"Subsections": len(m.Subsections()),
		"Minutes":     estimateMinutes(m.AnswerSlots()),
	}))
}
