package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"tiltline/survey"
)

// tokenRow finds a token's row by the token itself.
func tokenRow(t *testing.T, a *App, token string) survey.APIToken {
	t.Helper()
	var row survey.APIToken
	if err := a.db.Read.Where("token_hash = ?", survey.HashToken(token)).First(&row).Error; err != nil {
		t.Fatalf("token row: %v", err)
	}
	return row
}

func apiStatus(t *testing.T, a *App, token string) int {
	t.Helper()
	code, _ := apiCall(t, a, http.MethodGet, "/api/v1/campaigns", token, "")
	return code
}

// Tokens expire: 90 days unless chosen otherwise; an expired token is
// refused with 401, code token_expired and a message in the caller's
// language, while a live one of the same user still works.
func TestAPITokenExpiresWithALocalisedError(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := context.Background()
	token, err := survey.CreateAPIToken(ctx, a.db, demo.AdminEmail, "hr")
	if err != nil {
		t.Fatal(err)
	}
	row := tokenRow(t, a, token)
	if row.ExpiresAt == nil || row.ExpiresAt.Sub(time.Now().AddDate(0, 0, 90)).Abs() > time.Minute {
		t.Fatalf("a new token expires at %v, want in 90 days", row.ExpiresAt)
	}
	if code := apiStatus(t, a, token); code != http.StatusOK {
		t.Fatalf("live token = %d", code)
	}
	a.db.Write.Model(&survey.APIToken{}).Where("id = ?", row.ID).Update("expires_at", time.Now().UTC().Add(-time.Second))
	for _, lang := range []string{"en", "de", "fr"} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/campaigns", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept-Language", lang)
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		want := a.i18n.T(lang, "api.token.expired", nil)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"code":"token_expired"`) || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: expired token = %d %s, want 401 token_expired %q", lang, rec.Code, rec.Body.String(), want)
		}
		if h := rec.Header().Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q", lang, h)
		}
	}
	// Unknown tokens keep their own answer.
	if _, out := apiCall(t, a, http.MethodGet, "/api/v1/campaigns", "tl_"+strings.Repeat("x", 43), ""); errorCode(out) != "unauthorized" {
		t.Errorf("unknown token: %v", out)
	}
	if code := apiStatus(t, a, demo.APIToken); code != http.StatusOK {
		t.Errorf("another live token = %d", code)
	}
}

// The tokens page offers a lifetime, shows the expiry with the new token
// and in the list, and refuses a lifetime it did not offer.
func TestTokensPageChoosesAndShowsTheExpiry(t *testing.T) {
	a, demo, _ := newTestApp(t)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	if _, page := f.get("/admin/tokens"); !strings.Contains(page, `<option value="90" selected>`) || !strings.Contains(page, `value="0"`) {
		t.Errorf("the form does not offer lifetimes with 90 days chosen")
	}
	tokenShown := regexp.MustCompile(`<code class="copy">(tl_[^<]+)</code>`)
	code, page, _ := f.do(http.MethodPost, "/admin/tokens", "application/x-www-form-urlencoded", url.Values{"csrf": {f.csrf}, "name": {"BI"}, "days": {"30"}}.Encode())
	m := tokenShown.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("create = %d, no token shown", code)
	}
	expires := time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")
	if !strings.Contains(page, "It expires on "+expires) {
		t.Errorf("the new token's expiry (%s) is not shown", expires)
	}
	if row := tokenRow(t, a, m[1]); row.ExpiresAt == nil || row.ExpiresAt.Format("2006-01-02") != expires {
		t.Errorf("stored expiry %v, want %s", row.ExpiresAt, expires)
	}
	if _, page := f.get("/admin/tokens"); !strings.Contains(page, "<td>"+expires+"</td>") {
		t.Error("the list does not show the expiry")
	}
	code, page, _ = f.do(http.MethodPost, "/admin/tokens", "application/x-www-form-urlencoded", url.Values{"csrf": {f.csrf}, "name": {"forever"}, "days": {"0"}}.Encode())
	if m := tokenShown.FindStringSubmatch(page); code != http.StatusOK || m == nil || !strings.Contains(page, "It does not expire") || tokenRow(t, a, m[1]).ExpiresAt != nil {
		t.Errorf("no-expiry token: %d", code)
	}
	for _, bad := range []string{"7", "-1", "99999", "abc"} {
		code, page, _ := f.do(http.MethodPost, "/admin/tokens", "application/x-www-form-urlencoded", url.Values{"csrf": {f.csrf}, "name": {"x"}, "days": {bad}}.Encode(), "Accept-Language", "de")
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, a.i18n.T("de", "admin.tokens.error.lifetime", nil)) || tokenShown.MatchString(page) {
			t.Errorf("days=%s: %d, want 422 with the German form error and no token", bad, code)
		}
	}
}

// last_used_at is kept, but written at most once a minute per token: a
// busy integration does not cost a write per call.
func TestAPITokenLastUsedIsWrittenAtMostOnceAMinute(t *testing.T) {
	a, demo, _ := newTestApp(t)
	var writes atomic.Int64
	count := func(tx *gorm.DB) {
		if tx.Statement.Table == "api_tokens" {
			writes.Add(1)
		}
	}
	a.db.Write.Callback().Update().After("gorm:update").Register("test:count_token_writes", count)
	a.db.Write.Callback().Raw().After("gorm:raw").Register("test:count_token_writes", count)

	if row := tokenRow(t, a, demo.APIToken); row.LastUsedAt != nil {
		t.Fatalf("unused token has last_used_at %v", row.LastUsedAt)
	}
	for range 20 {
		if code := apiStatus(t, a, demo.APIToken); code != http.StatusOK {
			t.Fatalf("call = %d", code)
		}
	}
	row := tokenRow(t, a, demo.APIToken)
	if row.LastUsedAt == nil || time.Since(*row.LastUsedAt) > time.Minute {
		t.Fatalf("last_used_at after use = %v", row.LastUsedAt)
	}
	if n := writes.Load(); n != 1 {
		t.Errorf("20 calls within a minute wrote the token %d times, want 1", n)
	}
	// A minute later the next call notes the use again.
	old := time.Now().UTC().Add(-61 * time.Second)
	a.db.Write.Model(&survey.APIToken{}).Where("id = ?", row.ID).Update("last_used_at", old)
	writes.Store(0)
	apiStatus(t, a, demo.APIToken)
	if row := tokenRow(t, a, demo.APIToken); row.LastUsedAt == nil || !row.LastUsedAt.After(old.Add(time.Second)) {
		t.Errorf("last_used_at a minute later = %v, want now", row.LastUsedAt)
	}
	if n := writes.Load(); n != 1 {
		t.Errorf("one call a minute later wrote %d times", n)
	}
	// The owner sees it.
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	if _, page := f.get("/admin/org/tokens"); !strings.Contains(page, row.LastUsedAt.Format("2006-01-02")) {
		t.Error("the organisation's token list does not show when the token was last used")
	}
}

// A new password, by a reset link, ends the user's API tokens: whoever
// knew the old password may have made one. Tokens made afterwards work.
func TestPasswordResetRevokesTheUsersTokens(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := context.Background()
	other, _ := survey.CreateAPIToken(ctx, a.db, demo.AdminEmail, "other user")
	u, _ := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	second, _ := survey.CreateAPIToken(ctx, a.db, demo.ManagerEmail, "second")
	link, err := survey.NewPasswordToken(ctx, a.db, u.ID, passwordLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	f := newFlow(t, a, "")
	if code, _ := f.post("/password/"+link, url.Values{"password": {"brand-new-password"}, "confirm": {"brand-new-password"}}); code != http.StatusSeeOther {
		t.Fatalf("reset = %d", code)
	}
	for name, tok := range map[string]string{"demo": demo.APIToken, "second": second} {
		if code := apiStatus(t, a, tok); code != http.StatusUnauthorized {
			t.Errorf("%s token after a password reset = %d, want 401", name, code)
		}
		if row := tokenRow(t, a, tok); row.RevokedAt == nil {
			t.Errorf("%s token is not marked revoked", name)
		}
	}
	if code := apiStatus(t, a, other); code != http.StatusOK {
		t.Errorf("another user's token = %d", code)
	}
	fresh, _ := survey.CreateAPIToken(ctx, a.db, demo.ManagerEmail, "after")
	if code := apiStatus(t, a, fresh); code != http.StatusOK {
		t.Errorf("a token made after the reset = %d", code)
	}
}

// Removing an account ends its tokens.
func TestRemovedUsersTokensStopWorking(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := context.Background()
	u, _ := survey.UserByEmail(ctx, a.db, demo.ManagerEmail)
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	f.get("/admin/users")
	if code, _ := f.post(fmt.Sprintf("/admin/users/%d/delete", u.ID), url.Values{"confirmed": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("delete = %d", code)
	}
	if code := apiStatus(t, a, demo.APIToken); code != http.StatusUnauthorized {
		t.Errorf("removed user's token = %d, want 401", code)
	}
	var n int64
	a.db.Read.Model(&survey.APIToken{}).Where("user_id = ?", u.ID).Count(&n)
	if n != 0 {
		t.Errorf("%d tokens of the removed user remain", n)
	}
}

// Every write of password_hash goes through setPassword, which revokes the
// tokens, or creates an account: a new way to set a password cannot skip
// the revocation.
func TestEveryPasswordChangeGoesThroughSetPassword(t *testing.T) {
	write := regexp.MustCompile(`"password_hash"|\.PasswordHash\s*=[^=]`)
	var files []string
	for _, dir := range []string{".", "../survey", "../portal"} {
		fs, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		files = append(files, fs...)
	}
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := len(write.FindAll(src, -1))
		want := 0
		if filepath.Base(f) == "accounts.go" && strings.Contains(f, "survey") {
			want = 1 // setPassword
		}
		if n != want {
			t.Errorf("%s writes password_hash %d times, want %d: set passwords through setPassword", f, n, want)
		}
		found += n
	}
	if found == 0 {
		t.Error("found no write of password_hash at all: the audit reads the wrong files")
	}
}

// An org admin sees every token of the organisation's accounts and revokes
// any of them after a confirmation page; another organisation's admin gets
// 404 for them and sees none; a platform admin acts for the organisation it
// manages.
func TestOrgAdminRevokesTheOrganisationsTokens(t *testing.T) {
	a, demo, _ := newTestApp(t)
	ctx := context.Background()
	mgrRow := tokenRow(t, a, demo.APIToken)
	confirm := fmt.Sprintf("/admin/org/tokens/%d/revoke", mgrRow.ID)

	// Organisation B's admin: A's token is not there.
	bEmail, bPassword := otherOrgAdmin(t, a)
	bToken, _ := survey.CreateAPIToken(ctx, a.db, bEmail, "b-token")
	b := signedIn(t, a, bEmail, bPassword)
	if code, page := b.get("/admin/org/tokens"); code != http.StatusOK || strings.Contains(page, demo.ManagerEmail) || !strings.Contains(page, "b-token") {
		t.Errorf("B's list: %d, shows A's manager %v", code, strings.Contains(page, demo.ManagerEmail))
	}
	if code, _ := b.get(confirm); code != http.StatusNotFound {
		t.Errorf("B opens A's confirmation = %d, want 404", code)
	}
	if code, _ := b.post(confirm, nil); code != http.StatusNotFound {
		t.Errorf("B revokes A's token = %d, want 404", code)
	}
	if code := apiStatus(t, a, demo.APIToken); code != http.StatusOK {
		t.Fatalf("A's token after B's attempt = %d", code)
	}

	// A's admin: lists the manager's token, asks, then revokes.
	f := signedIn(t, a, demo.AdminEmail, demo.AdminPassword)
	if _, users := f.get("/admin/users"); !strings.Contains(users, `href="/admin/org/tokens"`) {
		t.Error("the users page does not lead to the organisation's tokens")
	}
	code, page := f.get("/admin/org/tokens")
	if code != http.StatusOK || !strings.Contains(page, demo.ManagerEmail) || !strings.Contains(page, `href="`+confirm+`"`) || strings.Contains(page, "b-token") {
		t.Fatalf("A's list: %d", code)
	}
	code, page = f.get(confirm)
	if code != http.StatusOK || !strings.Contains(page, "Revoke this API token?") || !strings.Contains(page, `action="`+confirm+`"`) {
		t.Fatalf("confirmation page: %d", code)
	}
	if code := apiStatus(t, a, demo.APIToken); code != http.StatusOK {
		t.Fatal("opening the confirmation page revoked the token")
	}
	if code, loc := f.post(confirm, nil); code != http.StatusSeeOther || loc != "/admin/org/tokens" {
		t.Fatalf("revoke = %d %q", code, loc)
	}
	if code := apiStatus(t, a, demo.APIToken); code != http.StatusUnauthorized {
		t.Errorf("revoked manager token = %d, want 401", code)
	}
	if code, loc := f.post(confirm, nil); code != http.StatusSeeOther || loc != "/admin/org/tokens" {
		t.Errorf("revoking again = %d %q, want the list back", code, loc)
	}

	// The platform admin, managing organisation A, revokes A's tokens but not B's.
	if _, err := survey.CreateUserWithPassword(ctx, a.db, "root@platform.example", "", survey.RolePlatformAdmin, nil, "platform-password-123"); err != nil {
		t.Fatal(err)
	}
	p := signedIn(t, a, "root@platform.example", "platform-password-123")
	var cp survey.Campaign
	a.db.Read.First(&cp, demo.CampaignID)
	p.get("/admin/orgs")
	if code, _ := p.post(fmt.Sprintf("/admin/orgs/%d/manage", cp.OrganisationID), nil); code != http.StatusSeeOther {
		t.Fatalf("manage A = %d", code)
	}
	adminTok, _ := survey.CreateAPIToken(ctx, a.db, demo.AdminEmail, "admin-token")
	p.get("/admin/org/tokens")
	if code, _ := p.post(fmt.Sprintf("/admin/org/tokens/%d/revoke", tokenRow(t, a, adminTok).ID), nil); code != http.StatusSeeOther {
		t.Errorf("platform admin revokes A's token = %d", code)
	}
	if code := apiStatus(t, a, adminTok); code != http.StatusUnauthorized {
		t.Errorf("token revoked by the platform admin = %d", code)
	}
	if code, _ := p.post(fmt.Sprintf("/admin/org/tokens/%d/revoke", tokenRow(t, a, bToken).ID), nil); code != http.StatusNotFound {
		t.Errorf("platform admin managing A revokes B's token = %d, want 404", code)
	}
	if code := apiStatus(t, a, bToken); code != http.StatusOK {
		t.Errorf("B's token = %d", code)
	}
}
