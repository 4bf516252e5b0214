package server

import (
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"tiltline/locales"
	"tiltline/survey"
)

// translator holds one localizer per supported locale, built at start.
type translator struct {
	localizers map[string]*i18n.Localizer
	matcher    language.Matcher
	// plain holds every message without template data, per locale, resolved
	// once: most calls are these, and Localize is costly on a hot page.
	plain map[string]map[string]string
}

func newTranslator() (*translator, error) {
	bundle := i18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	tags := make([]language.Tag, len(survey.Locales))
	t := &translator{localizers: map[string]*i18n.Localizer{}}
	for i, l := range survey.Locales {
		files, err := localeFiles(l)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if _, err := bundle.LoadMessageFileFS(locales.FS, f); err != nil {
				return nil, err
			}
		}
		tags[i] = language.Make(l)
		t.localizers[l] = i18n.NewLocalizer(bundle, l)
	}
	t.matcher = language.NewMatcher(tags)
	t.plain = map[string]map[string]string{}
	for _, l := range survey.Locales {
		ids, err := messageIDs(l)
		if err != nil {
			return nil, err
		}
		t.plain[l] = map[string]string{}
		for id, text := range ids {
			if !strings.Contains(text, "{{") {
				t.plain[l][id] = t.T(l, id, nil)
			}
		}
	}
	return t, nil
}

// T returns the message in the locale; a missing message shows its id rather
// than an empty string (and the locale completeness test keeps that from shipping).
func (t *translator) T(locale, id string, data map[string]any) string {
	if s, ok := t.plain[locale][id]; ok {
		return s
	}
	l, ok := t.localizers[locale]
	if !ok {
		l = t.localizers[survey.Locales[0]]
	}
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// supported returns the locale if Tiltline speaks it, else "".
func supported(locale string) string {
	for _, l := range survey.Locales {
		if l == locale {
			return l
		}
	}
	return ""
}

const langCookie = "lang"

// negotiateLocale picks the interface language: ?lang= (remembered in a
// cookie), then the cookie, then Accept-Language, then English.
func (a *App) negotiateLocale(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		lang := ""
		if q := supported(c.QueryParam("lang")); q != "" {
			lang = q
			c.SetCookie(&http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.secureCookies(c)})
		} else if ck, err := c.Cookie(langCookie); err == nil {
			lang = supported(ck.Value)
		}
		if lang == "" {
			lang = a.i18n.match(c.Request().Header.Get("Accept-Language"))
		}
		c.Set(langCookie, lang)
		return next(c)
	}
}

func (t *translator) match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return survey.Locales[0]
	}
	_, i, conf := t.matcher.Match(tags...)
	if conf == language.No {
		return survey.Locales[0]
	}
	return survey.Locales[i]
}

func localeOf(c echo.Context) string {
	if l, ok := c.Get(langCookie).(string); ok && l != "" {
		return l
	}
	return survey.Locales[0]
}

// localeFiles lists a locale's message files: one per area of the product
// ("core.de.yaml", "mail.de.yaml", …), so each area keeps its own file.
func localeFiles(locale string) ([]string, error) {
	files, err := fs.Glob(locales.FS, "*."+locale+".yaml")
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no message files for locale %s", locale)
	}
	return files, err
}

// messageIDs maps every message id of a locale to its text, across its files.
func messageIDs(locale string) (map[string]string, error) {
	files, err := localeFiles(locale)
	if err != nil {
		return nil, err
	}
	all := map[string]string{}
	for _, f := range files {
		b, err := fs.ReadFile(locales.FS, f)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for id, text := range m {
			if _, dup := all[id]; dup {
				return nil, fmt.Errorf("%s: message %q defined twice", f, id)
			}
			all[id] = text
		}
	}
	return all, nil
}
