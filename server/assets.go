package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"tiltline/static"
)

// assets serves the embedded static files under names that carry a hash of
// their content, so browsers may cache them for a year and still never see a
// stale file after an upgrade.
type assets struct {
	hashed map[string]string // "css/app.css" -> "app.3f9c2b1a.css"
	files  map[string]asset  // hashed name -> content
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

func newAssets() (*assets, error) {
	as := &assets{hashed: map[string]string{}, files: map[string]asset{}}
	err := fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		body, err := fs.ReadFile(static.FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])[:10]
		ext := path.Ext(p)
		name := strings.TrimSuffix(path.Base(p), ext) + "." + h + ext
		if _, dup := as.files[name]; dup {
			return fmt.Errorf("static: two files named %s", name)
		}
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		as.hashed[p] = name
		as.files[name] = asset{body: body, contentType: ct, etag: `"` + h + `"`}
		return nil
	})
	return as, err
}

// URL returns the public URL of a static file, e.g. url("css/app.css").
func (as *assets) URL(name string) (string, error) {
	h, ok := as.hashed[name]
	if !ok {
		return "", fmt.Errorf("static: no file %s", name)
	}
	return "/static/" + h, nil
}

func (a *App) serveAsset(c echo.Context) error {
	f, ok := a.assets.files[c.Param("file")]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	if c.Request().Header.Get("If-None-Match") == f.etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, f.contentType, f.body)
}
