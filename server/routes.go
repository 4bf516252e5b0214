package server

import (
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"tiltline/survey"
)

// routes is the whole surface of the product on one screen.
func (a *App) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.handleError
	e.IPExtractor = clientIP(a.proxies)

	e.Use(
		middleware.RequestID(),
		a.logRequests, // outermost after the id, so it sees the final status
		a.recoverPanics,
		securityHeaders,
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "1M", Skipper: isUpload}),
		spoolUploads,
		a.negotiateLocale,
		a.loadViewer,
	)

	// Operations
	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	e.GET("/metrics", a.metricsPage) // 404 unless a token is set and no address of its own
	e.GET("/static/:file", a.serveAsset)
	e.GET("/brand/:org/:file", a.serveLogo)

	// Public pages
	e.GET("/", a.home)

	// Learning portal
	learn := e.Group("/learn", a.requirePortalAccess)
	learn.GET("", a.learnIndex)
	learn.GET("/search", a.learnSearch)
	learn.GET("/path", a.learnPath)
	learn.GET("/:slug", a.learnPage)
	learn.POST("/:slug/cases", a.caseCreate, a.requireRole(survey.UserRoles...))
	learn.POST("/:slug/read", a.markRead, a.requireRole(survey.UserRoles...))

	// Accounts
	e.GET("/login", a.loginPage)
	e.POST("/login", a.login)
	e.POST("/logout", a.logout)
	e.GET("/setup/:token", a.setupPage)
	e.POST("/setup/:token", a.setup)
	e.GET("/password/forgot", a.forgotPage)
	e.POST("/password/forgot", a.forgot)
	e.GET("/password/:token", a.resetPage)
	e.POST("/password/:token", a.reset)

	// Set-up of organisations and campaigns: admins only, scoped to their organisation.
	admin := e.Group("/admin", a.requireRole(survey.RolePlatformAdmin, survey.RoleOrgAdmin))
	platform := a.requireRole(survey.RolePlatformAdmin)
	admin.GET("/orgs", a.orgsPage, platform)
	admin.POST("/orgs", a.orgCreate, platform)
	admin.POST("/orgs/:id/manage", a.orgManage, platform)
	admin.GET("/moderation", a.moderationPage, platform)
	admin.POST("/moderation/:id", a.moderate, platform)
	admin.GET("/tokens", a.tokensPage)
	admin.POST("/tokens", a.tokenCreate)
	admin.POST("/tokens/:id/revoke", a.tokenRevoke)
	org := admin.Group("", requireOrg)
	org.GET("", a.adminHome)
	org.GET("/org", a.orgEditPage)
	org.POST("/org", a.orgSave)
	org.POST("/org/logo", a.orgLogoSave)
	org.POST("/org/logo/delete", a.orgLogoDelete)
	org.GET("/units", a.unitsPage)
	org.POST("/units", a.unitAdd)
	org.GET("/units/:id/delete", a.unitDeleteConfirm) // asks first
	org.POST("/units/:id/delete", a.unitDelete)
	org.GET("/users", a.usersPage)
	org.POST("/users", a.userAdd)
	org.GET("/users/:id/delete", a.userDeleteConfirm) // asks first
	org.POST("/users/:id/delete", a.userDelete)
	org.POST("/users/:id/units", a.userUnits)
	org.GET("/org/tokens", a.orgTokensPage)
	org.GET("/org/tokens/:id/revoke", a.orgTokenConfirm) // asks first
	org.POST("/org/tokens/:id/revoke", a.orgTokenRevoke)
	org.GET("/campaigns/new", a.campaignNewPage)
	org.POST("/campaigns", a.campaignCreate)
	org.GET("/campaigns/:id", a.campaignPage)
	org.GET("/campaigns/:id/edit", a.campaignEditPage)
	org.POST("/campaigns/:id", a.campaignUpdate)
	org.POST("/campaigns/:id/status", a.campaignStatus)
	org.POST("/campaigns/:id/copy", a.campaignCopy)
	org.GET("/campaigns/:id/close", a.campaignCloseConfirm)   // asks; POST …/status acts
	org.GET("/campaigns/:id/invite", a.campaignInviteConfirm) // asks first
	org.POST("/campaigns/:id/invite", a.campaignInvite)
	org.GET("/campaigns/:id/remind", a.campaignRemindConfirm) // asks first
	org.POST("/campaigns/:id/remind", a.campaignRemind)
	org.GET("/campaigns/:id/mail", a.mailSettingsPage)
	org.GET("/campaigns/:id/mail/preview", a.mailPreviewHTML) // the HTML mail, for a sandboxed frame
	org.POST("/campaigns/:id/mail", a.mailSettingsSave)
	org.GET("/campaigns/:id/participants", a.participantsPage)
	org.POST("/campaigns/:id/participants/preview", a.participantsPreview, uploadLimit)
	org.POST("/campaigns/:id/participants/import", a.participantsImport)
	org.POST("/campaigns/:id/participants/add", a.participantAdd)
	org.GET("/campaigns/:id/participants/:pid/delete", a.participantDeleteConfirm) // asks first
	org.POST("/campaigns/:id/participants/:pid/delete", a.participantDelete)

	// Results: managers and admins of the organisation; never individual answers.
	results := e.Group("/results", a.requireRole(survey.RolePlatformAdmin, survey.RoleOrgAdmin, survey.RoleManager), requireOrg, a.requireUnits)
	results.GET("", a.resultsIndex)
	results.GET("/:id", a.resultsPage)
	results.GET("/:id/export.csv", a.exportCSV)
	results.GET("/:id/export.xlsx", a.exportXLSX)
	results.GET("/:id/export.pdf", a.exportPDF)
	results.GET("/:id/aggregate.csv", a.exportAggregateCSV)

	// Action plans: every account of the organisation; what each sees and
	// may change is survey/actions' rule (a learner: the actions they own).
	acts := e.Group("/actions", a.requireRole(survey.UserRoles...), requireOrg)
	acts.GET("", a.actionsBoard)
	acts.GET(".csv", a.actionsCSV)
	acts.GET("/new", a.actionNew)
	acts.POST("", a.actionCreate)
	acts.POST("/settings", a.actionSettings)
	acts.GET("/:id", a.actionShow)
	acts.GET("/:id/edit", a.actionEdit)
	acts.POST("/:id", a.actionUpdate)
	acts.POST("/:id/status", a.actionStatus)
	acts.POST("/:id/comments", a.actionComment)
	acts.POST("/:id/delete", a.actionDelete)
	acts.GET("/:id/audit", a.actionAudit)
	acts.GET("/targets/:id", a.targetsPage) // a wave's targets for the next one
	acts.POST("/targets/:id", a.targetsSave)

	// JSON API: bearer tokens, same roles and tenant scoping as the pages.
	api := e.Group("/api/v1", a.apiAuth)
	readerRoles := apiRole(survey.RolePlatformAdmin, survey.RoleOrgAdmin, survey.RoleManager)
	readers := func(next echo.HandlerFunc) echo.HandlerFunc { return readerRoles(a.requireUnits(next)) }
	api.GET("/model", a.apiModel)
	api.GET("/campaigns", a.apiCampaigns, readers)
	api.GET("/campaigns/:id", a.apiCampaignGet, readers)
	api.GET("/campaigns/:id/report", a.apiReport, readers)
	api.GET("/campaigns/:id/export.csv", a.exportCSV, readers)
	api.GET("/campaigns/:id/export.xlsx", a.exportXLSX, readers)
	api.GET("/campaigns/:id/export.pdf", a.exportPDF, readers)
	api.GET("/campaigns/:id/aggregate.csv", a.exportAggregateCSV, readers)
	admins := apiRole(survey.RolePlatformAdmin, survey.RoleOrgAdmin)
	api.POST("/campaigns/:id/participants", a.apiParticipants, admins, uploadLimit)
	api.POST("/campaigns/:id/invitations", a.apiInvitations, admins)
	api.POST("/campaigns/:id/reminders", a.apiReminders, admins)
	members := apiRole(survey.UserRoles...)
	api.GET("/actions", a.apiActions, members)
	api.POST("/actions", a.apiActionCreate, members)
	api.GET("/actions/:id", a.apiActionGet, members)
	api.PATCH("/actions/:id", a.apiActionPatch, members)
	api.DELETE("/actions/:id", a.apiActionDelete, members)
	api.POST("/actions/:id/comments", a.apiActionComment, members)

	// Mail opt-out: outside the flow group, so it works on a submitted or
	// closed survey too; GET asks (mail scanners follow links), POST acts.
	e.GET("/s/:token/optout", a.mail.optOutForm)
	e.POST("/s/:token/optout", a.mail.optOut)

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
		flow.GET("/thanks", a.surveyThanks)
	}

	return e
}

// Participant files may be large; every other body is small.
var uploadLimit = middleware.BodyLimit("32M")

func isUpload(c echo.Context) bool {
	return strings.HasSuffix(c.Request().URL.Path, "/participants/preview") ||
		strings.HasPrefix(c.Request().URL.Path, "/api/v1/campaigns/") && strings.HasSuffix(c.Request().URL.Path, "/participants")
}
