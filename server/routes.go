package server

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes is the whole surface of the product on one screen.
func (a *App) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.handleError
	e.IPExtractor = echo.ExtractIPDirect()

	e.Use(
		middleware.RequestID(),
		a.logRequests, // outermost after the id, so it sees the final status
		a.recoverPanics,
		securityHeaders,
		middleware.BodyLimit("1M"),
		a.negotiateLocale,
	)

	// Operations
	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	e.GET("/metrics", a.metrics.handler())
	e.GET("/static/:file", a.serveAsset)

	// Public pages
	e.GET("/", a.home)

	// Respondents: the link token (or, for open links, a cookie) is the only key.
	for _, flow := range []*echo.Group{
		e.Group("/s/:token", a.resolveInvitation),
		e.Group("/o/:key", a.resolveOpen),
	} {
		flow.GET("", a.surveyStart)
		flow.POST("/start", a.surveyBegin)
		flow.GET("/p/:page", a.surveySection)
		flow.POST("/p/:page", a.surveySavePage)
		flow.PUT("/answers", a.surveyAutosave)
		flow.GET("/review", a.surveyReview)
		flow.POST("/submit", a.surveySubmit)
	}

	return e
}
