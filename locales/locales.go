// Package locales carries the interface messages in every language, one
// go-i18n YAML file per locale, embedded in the binary.
package locales

import "embed"

//go:embed *.yaml
var FS embed.FS
