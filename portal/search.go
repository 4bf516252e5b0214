package portal

import (
	"context"
	"html/template"
	"strings"
	"unicode"

	"gorm.io/gorm"

	"tiltline/survey"
)

// Search runs on the database the installation already has: SQLite FTS5
// (Porter stemming for English, accent-folded prefix matching otherwise) or
// Postgres full-text search with its english, german and french stemmers.
// Both get the query widened by the language's synonyms and compound parts
// (terms.go).

// Hit is one search result.
type Hit struct {
	Kind    string // "page" or "case"
	Ref     string // the page's slug
	Anchor  string // "case-ID" for a case on that page, else ""
	Title   string
	Snippet template.HTML // escaped text with the matches in <mark>
}

var pgConfig = map[string]string{"en": "english", "de": "german", "fr": "french"}

// searchDoc is a row of the search index.
type searchDoc struct {
	Kind, Ref, Locale, Title, Body string
}

// IndexPages (re)indexes the embedded pages; run at start, since pages ship
// with the binary.
func IndexPages(ctx context.Context, db *survey.DB, lib *Library) error {
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM search_docs WHERE kind = 'page'").Error; err != nil {
			return err
		}
		for locale, pages := range lib.pages {
			for slug, p := range pages {
				if err := insertDoc(tx, db.Dialect, searchDoc{"page", slug, locale, p.Title, p.Summary + "\n" + p.Text}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func insertDoc(tx *gorm.DB, dialect string, d searchDoc) error {
	if dialect == "postgres" {
		return tx.Exec("INSERT INTO search_docs (kind, ref, locale, title, body, config) VALUES (?, ?, ?, ?, ?, ?::regconfig)",
			d.Kind, d.Ref, d.Locale, d.Title, d.Body, pgConfig[d.Locale]).Error
	}
	return tx.Exec("INSERT INTO search_docs (kind, ref, locale, title, body) VALUES (?, ?, ?, ?, ?)",
		d.Kind, d.Ref, d.Locale, d.Title, d.Body).Error
}

// Markers the database puts around matches; never in our text, and turned
// into <mark> only after the snippet is escaped.
const markOpen, markClose = "\x01", "\x02"

// Search finds pages (and published cases) in one language.
func Search(ctx context.Context, db *survey.DB, locale, query string, limit int) ([]Hit, error) {
	words := terms(query)
	if len(words) == 0 {
		return nil, nil
	}
	tables, err := loadTermTables()
	if err != nil {
		return nil, err
	}
	t, ok := tables[locale]
	if !ok {
		t = &termTable{}
	}
	groups := t.expand(words)
	type row struct{ Kind, Ref, Title, Snippet string }
	var rows []row
	if db.Dialect == "postgres" {
		err = db.Read.WithContext(ctx).Raw(`
			SELECT kind, ref, title,
			       ts_headline(config, body, q, 'StartSel='||chr(1)||',StopSel='||chr(2)||',MaxWords=35,MinWords=15,MaxFragments=1') AS snippet
			FROM search_docs, to_tsquery(?::regconfig, ?) AS q
			WHERE locale = ? AND tsv @@ q
			ORDER BY ts_rank(tsv, q) DESC, title LIMIT ?`,
			pgConfig[locale], tsQuery(groups), locale, limit).Scan(&rows).Error
	} else {
		err = db.Read.WithContext(ctx).Raw(`
			SELECT kind, ref, title, snippet(search_docs, 4, char(1), char(2), '…', 30) AS snippet
			FROM search_docs WHERE search_docs MATCH ? AND locale = ?
			ORDER BY bm25(search_docs, 0, 0, 0, 5.0, 1.0) LIMIT ?`,
			ftsMatch(groups), locale, limit).Scan(&rows).Error
	}
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, len(rows))
	for i, r := range rows {
		slug, anchor, _ := strings.Cut(r.Ref, "#")
		hits[i] = Hit{Kind: r.Kind, Ref: slug, Anchor: anchor, Title: r.Title, Snippet: highlight(r.Snippet)}
	}
	return hits, nil
}

// terms keeps the words of a query: letters and digits only, so no query
// syntax of either database can be injected, at most eight words.
func terms(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > 8 {
		words = words[:8]
	}
	return words
}

func highlight(s string) template.HTML {
	esc := template.HTMLEscapeString(s)
	esc = strings.ReplaceAll(esc, markOpen, "<mark>")
	esc = strings.ReplaceAll(esc, markClose, "</mark>")
	return template.HTML(esc)
}
