// Package portal is the learning library: one best-practice page per
// sub-section of the assessment model, in every locale, with search, learning
// paths and shared cases. Survey questions and recommendations link into it,
// so its URLs are fixed here, in one place.
package portal

import "net/url"

// PagePath is the URL of a sub-section's page, optionally anchored at one
// practice ("AP-01"), as linked from every survey question.
func PagePath(slug, practiceID string) string {
	p := "/learn/" + url.PathEscape(slug)
	if practiceID != "" {
		p += "#" + url.PathEscape(practiceID)
	}
	return p
}
