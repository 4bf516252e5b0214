// Package static carries the stylesheets, scripts and icons, embedded in the
// binary. The server serves them under content-hashed names.
package static

import "embed"

//go:embed css js img
var FS embed.FS
