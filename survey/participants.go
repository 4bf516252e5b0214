package survey

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Limits of a participant file. 50,000 rows is the promise; the byte limit
// leaves room for long names and ignored columns while keeping an upload
// from filling memory.
const (
	MaxImportRows  = 50_000
	MaxImportBytes = 32 << 20
	maxEmailLen    = 254 // RFC 5321 path limit
	maxTextLen     = 200 // name and unit, in characters
	maxValueShown  = 80  // an ImportProblem never echoes more than this
)

// Message ids of import problems (locales/import.*.yaml). Messages may use
// {{.Value}} and {{.Line}}.
const (
	codeEmpty           = "import.error.empty"
	codeTooLarge        = "import.error.too_large"
	codeTooManyRows     = "import.error.too_many_rows"
	codeSpreadsheet     = "import.error.spreadsheet"
	codeBinary          = "import.error.binary"
	codeEncoding        = "import.error.encoding"
	codeNoHeader        = "import.error.no_header"
	codeNoEmailColumn   = "import.error.no_email_column"
	codeDuplicateColumn = "import.error.duplicate_column"
	codeSyntax          = "import.error.csv_syntax"
	codeMissingEmail    = "import.error.missing_email"
	codeBadEmail        = "import.error.bad_email"
	codeDuplicate       = "import.error.duplicate"
	codeAlreadyIn       = "import.error.already_participant"
	codeBadRole         = "import.error.bad_role"
	codeBadSeniority    = "import.error.bad_seniority"
	codeBadLocale       = "import.error.bad_locale"
	codeTooLong         = "import.error.too_long"
	codeUnknownUnit     = "import.error.unknown_unit"
)

// Domain errors of the participant list. Both wrap ImportProblem values:
// errors.As(err, &problem) gives the message id to show.
var (
	// ErrImportFile: the whole file is refused (not CSV text, no email
	// column, too many rows); nothing of it can be previewed.
	ErrImportFile = errors.New("participant file refused")
	// ErrInvalidParticipant: AddParticipant refused the row.
	ErrInvalidParticipant = errors.New("invalid participant")
)

// ImportRow is one participant as read from a file or a form. After
// ParseParticipants it is normalised: email lower-case, role and seniority
// model keys, locale en, de, fr or "", unit the existing unit's exact name
// (or the new unit's name as first written).
type ImportRow struct {
	Line      int    `json:"line"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Unit      string `json:"unit"`
	Role      string `json:"role"`
	Seniority string `json:"seniority"`
	Locale    string `json:"locale"`
}

// ImportProblem is why a line (or, as an error, a whole file or a single
// participant) was refused. Code is a message id; Field is the column
// ("email", "name", "unit", "role", "seniority", "locale") or "" for the
// line or file; Value is what was written there, shortened.
type ImportProblem struct {
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	Code  string `json:"code"`
	Value string `json:"value,omitempty"`
}

// Error leaves the value out: it is often an email address, and errors end up in logs.
func (p ImportProblem) Error() string {
	s := p.Code
	if p.Field != "" {
		s = p.Field + ": " + s
	}
	if p.Line > 0 {
		s = fmt.Sprintf("line %d: %s", p.Line, s)
	}
	return s
}

// ImportPreview is what a file would add, shown before anything is saved.
type ImportPreview struct {
	Rows     []ImportRow     `json:"rows"`     // valid rows, in file order
	Problems []ImportProblem `json:"problems"` // a line with any problem is not in Rows
	// NewUnits are units valid rows name that the organisation does not have
	// yet, in first-seen order. ImportParticipants creates them only if asked.
	NewUnits []string `json:"new_units"`
	// Duplicates counts rows whose email repeats an earlier row or an
	// existing participant (each also has a problem).
	Duplicates int `json:"duplicates"`
	// Lines counts data rows read (blank lines aside): valid and refused.
	Lines int `json:"lines"`
	// Ignored lists header cells that name no known column.
	Ignored []string `json:"ignored"`
}

// ImportResult is what ImportParticipants did.
type ImportResult struct {
	Added        int `json:"added"`
	UnitsCreated int `json:"units_created"`
	// Skipped rows were already participants by the time of the import, or
	// named a unit that was not to be created.
	Skipped int `json:"skipped"`
}

// ParseParticipants reads a participant CSV and checks every line against
// the model, the organisation's units and the campaign's existing emails
// (as CampaignEmails returns them). It saves nothing.
//
// Columns are found by header name in any order, in English, German or
// French; only email is required. The delimiter (comma, semicolon or tab)
// is taken from the header line. The file must be UTF-8 (a BOM is fine).
// A file that cannot be read at all is an error wrapping ErrImportFile and
// an ImportProblem; a bad line is a problem in the preview.
func ParseParticipants(r io.Reader, m *Model, units []BusinessUnit, existing map[string]bool) (*ImportPreview, error) {
	if m == nil {
		return nil, errors.New("parse participants: no model")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, err
	}
	return ParseParticipantData(data, m, units, existing)
}

// ParseParticipantData is ParseParticipants on a file already in memory,
// without another copy of it (a file may be 32 MiB). It does not change data.
func ParseParticipantData(data []byte, m *Model, units []BusinessUnit, existing map[string]bool) (*ImportPreview, error) {
	if m == nil {
		return nil, errors.New("parse participants: no model")
	}
	if len(data) > MaxImportBytes {
		return nil, fileError(0, codeTooLarge, "")
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if err := checkText(data); err != nil {
		return nil, err
	}
	if bytes.IndexByte(data, '\n') < 0 {
		data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n")) // classic Mac line ends
	}
	comma, data := delimiter(data)

	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	// Leading space before a quote is common ("a, "b;c""), but trimming
	// would eat empty tab-separated fields.
	cr.TrimLeadingSpace = comma != '\t'

	var cols *columns
	for cols == nil {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil, fileError(0, codeEmpty, "")
		}
		if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
			return nil, fileError(pe.StartLine, codeSyntax, "")
		} else if err != nil {
			return nil, err
		}
		if !blank(rec) {
			line, _ := cr.FieldPos(0)
			if cols, err = readHeader(rec, line); err != nil {
				return nil, err
			}
		}
	}

	p := &ImportPreview{Rows: []ImportRow{}, Problems: []ImportProblem{}, NewUnits: []string{}, Ignored: cols.ignored}
	chk := newRowChecker(m, units, existing)
	newUnits := map[string]string{} // unitKey → name as first written
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		pe := (*csv.ParseError)(nil)
		if errors.As(err, &pe) {
			if p.Lines++; p.Lines > MaxImportRows {
				return nil, fileError(pe.StartLine, codeTooManyRows, "")
			}
			p.Problems = append(p.Problems, ImportProblem{Line: pe.StartLine, Code: codeSyntax})
			continue
		} else if err != nil {
			return nil, err
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		if p.Lines++; p.Lines > MaxImportRows {
			return nil, fileError(line, codeTooManyRows, "")
		}
		row, problems, dup := chk.check(cols.row(rec, line))
		if dup {
			p.Duplicates++
		}
		if len(problems) > 0 {
			p.Problems = append(p.Problems, problems...)
			continue
		}
		if row.Unit != "" && !chk.knownUnit(row.Unit) {
			if first, ok := newUnits[unitKey(row.Unit)]; ok {
				row.Unit = first
			} else {
				newUnits[unitKey(row.Unit)] = row.Unit
				p.NewUnits = append(p.NewUnits, row.Unit)
			}
		}
		p.Rows = append(p.Rows, row)
	}
	return p, nil
}

func fileError(line int, code, value string) error {
	return fmt.Errorf("%w: %w", ErrImportFile, ImportProblem{Line: line, Code: code, Value: value})
}

// checkText refuses what is not CSV text before the CSV reader sees it, so
// the user hears "save as CSV UTF-8" rather than about a quote on line 1.
func checkText(data []byte) error {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return fileError(0, codeEmpty, "")
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), // xlsx, ods
		bytes.HasPrefix(data, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")): // xls
		return fileError(0, codeSpreadsheet, "")
	case bytes.HasPrefix(data, []byte("\xFF\xFE")), bytes.HasPrefix(data, []byte("\xFE\xFF")): // UTF-16
		return fileError(1, codeEncoding, "")
	}
	line := 1
	for i := 0; i < len(data); {
		b := data[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '\n':
				line++
			case b < ' ' && b != '\t' && b != '\r' || b == 0x7F:
				return fileError(line, codeBinary, "")
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return fileError(line, codeEncoding, "")
		}
		i += size
	}
	return nil
}

// delimiter picks the separator: Excel's "sep=;" first line if present
// (cut off up to its line break, so line numbers stay those of the file),
// else whichever of semicolon, comma and tab the header line has most of
// outside quotes. A one-column file has none: comma.
func delimiter(data []byte) (rune, []byte) {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	first = bytes.TrimSuffix(first, []byte("\r"))
	if len(first) == 5 && strings.EqualFold(string(first[:4]), "sep=") && bytes.IndexByte([]byte(",;\t|"), first[4]) >= 0 {
		return rune(first[4]), data[len(first):]
	}
	var comma, semi, tab int
	quoted, content := false, false
scan:
	for _, b := range data {
		if b == '"' {
			quoted, content = !quoted, true
			continue
		}
		if quoted {
			continue
		}
		switch b {
		case '\n':
			if content {
				break scan
			}
			comma, semi, tab = 0, 0, 0
		case ',':
			comma++
		case ';':
			semi++
		case '\t':
			tab++
		case ' ', '\r':
		default:
			content = true
		}
	}
	switch {
	case semi > comma && semi >= tab:
		return ';', data
	case tab > comma && tab > semi:
		return '\t', data
	}
	return ',', data
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// Column fields a header can name. A name may come whole or as first and
// last name; "Name" next to "Vorname" (or "Nom" next to "Prénom") is the
// family name.
const (
	fieldEmail = "email"
	fieldName  = "name"
	fieldFull  = "fullname"
	fieldFirst = "first"
	fieldLast  = "last"
	fieldUnit  = "unit"
	fieldRole  = "role"
	fieldLevel = "seniority"
	fieldLang  = "locale"
)

// headerAliases maps a header, folded by headerKey, to its field.
var headerAliases = map[string]string{
	"email": fieldEmail, "mail": fieldEmail, "emailaddress": fieldEmail, "mailaddress": fieldEmail,
	"emailadresse": fieldEmail, "mailadresse": fieldEmail, "adresseemail": fieldEmail,
	"adressemail": fieldEmail, "courriel": fieldEmail, "adressecourriel": fieldEmail,

	"name": fieldName, "nom": fieldName,
	"fullname": fieldFull, "displayname": fieldFull, "vollstandigername": fieldFull,
	"vollername": fieldFull, "anzeigename": fieldFull, "nomcomplet": fieldFull,
	"firstname": fieldFirst, "givenname": fieldFirst, "forename": fieldFirst, "vorname": fieldFirst, "prenom": fieldFirst,
	"lastname": fieldLast, "surname": fieldLast, "familyname": fieldLast, "nachname": fieldLast,
	"familienname": fieldLast, "nomdefamille": fieldLast,

	"unit": fieldUnit, "businessunit": fieldUnit, "orgunit": fieldUnit, "organisationalunit": fieldUnit,
	"organizationalunit": fieldUnit, "department": fieldUnit, "dept": fieldUnit, "division": fieldUnit,
	"bereich": fieldUnit, "geschaftsbereich": fieldUnit, "abteilung": fieldUnit,
	"organisationseinheit": fieldUnit, "unite": fieldUnit, "uniteorganisationnelle": fieldUnit,
	"departement": fieldUnit, "service": fieldUnit,

	"role": fieldRole, "jobrole": fieldRole, "rolle": fieldRole, "function": fieldRole,
	"funktion": fieldRole, "fonction": fieldRole,

	"seniority": fieldLevel, "senioritylevel": fieldLevel, "level": fieldLevel, "hierarchylevel": fieldLevel,
	"ebene": fieldLevel, "hierarchieebene": fieldLevel, "fuhrungsebene": fieldLevel, "senioritat": fieldLevel,
	"niveau": fieldLevel, "niveauhierarchique": fieldLevel, "seniorite": fieldLevel,

	"locale": fieldLang, "language": fieldLang, "lang": fieldLang, "languagecode": fieldLang,
	"preferredlanguage": fieldLang, "sprache": fieldLang, "langue": fieldLang,
}

var parenthesised = regexp.MustCompile(`\([^)]*\)`)

// headerKey makes "E-Mail-Adresse", "e_mail (work)" and "Unité *" comparable.
func headerKey(s string) string {
	return strings.ReplaceAll(fold(parenthesised.ReplaceAllString(s, "")), " ", "")
}

// columns knows where each field sits in a record; a field missing from the header reads as "".
type columns struct {
	pos     map[string]int
	ignored []string
}

func readHeader(rec []string, line int) (*columns, error) {
	c := &columns{pos: map[string]int{}, ignored: []string{}}
	for i, h := range rec {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		field, ok := headerAliases[headerKey(h)]
		switch {
		case h == "":
		case !ok:
			c.ignored = append(c.ignored, clip(h))
		case c.has(field):
			return nil, fileError(line, codeDuplicateColumn, clip(h))
		default:
			c.pos[field] = i
		}
	}
	if !c.has(fieldEmail) {
		for _, h := range rec {
			if _, err := NormaliseEmail(h); err == nil {
				return nil, fileError(line, codeNoHeader, "")
			}
		}
		return nil, fileError(line, codeNoEmailColumn, "")
	}
	return c, nil
}

func (c *columns) has(field string) bool { _, ok := c.pos[field]; return ok }

func (c *columns) get(rec []string, field string) string {
	if i, ok := c.pos[field]; ok && i < len(rec) {
		// A copy: a slice of the record would keep its whole line (with
		// every ignored column) alive for as long as the row.
		return strings.Clone(strings.TrimSpace(rec[i]))
	}
	return ""
}

func (c *columns) row(rec []string, line int) ImportRow {
	name := c.get(rec, fieldFull)
	if !c.has(fieldFull) {
		last := c.get(rec, fieldLast)
		if !c.has(fieldLast) {
			last = c.get(rec, fieldName)
		}
		name = strings.TrimSpace(c.get(rec, fieldFirst) + " " + last)
	}
	return ImportRow{
		Line: line, Email: c.get(rec, fieldEmail), Name: name, Unit: c.get(rec, fieldUnit),
		Role: c.get(rec, fieldRole), Seniority: c.get(rec, fieldLevel), Locale: c.get(rec, fieldLang),
	}
}

// rowChecker holds what validating a row needs, built once per file.
type rowChecker struct {
	roles, seniority map[string]string // folded title or key → key; "" when ambiguous
	units            map[string]string // unitKey → the unit's exact name
	existing         map[string]bool   // emails already in the campaign
	seen             map[string]bool   // emails earlier in the file
}

func newRowChecker(m *Model, units []BusinessUnit, existing map[string]bool) *rowChecker {
	c := &rowChecker{
		roles: optionForms(m.Roles), seniority: optionForms(m.Seniority),
		units: make(map[string]string, len(units)), existing: existing, seen: map[string]bool{},
	}
	for _, u := range units {
		if _, dup := c.units[unitKey(u.Name)]; !dup {
			c.units[unitKey(u.Name)] = u.Name
		}
	}
	return c
}

func (c *rowChecker) knownUnit(name string) bool { _, ok := c.units[unitKey(name)]; return ok }

// check normalises a row and says what is wrong with it. Every problem of the
// row is reported, so one correction round suffices. dup is set when the
// email repeats an earlier row or an existing participant.
func (c *rowChecker) check(in ImportRow) (out ImportRow, problems []ImportProblem, dup bool) {
	out.Line = in.Line
	problem := func(field, code, value string) {
		problems = append(problems, ImportProblem{Line: in.Line, Field: field, Code: code, Value: clip(value)})
	}

	raw := strings.TrimSpace(in.Email)
	email, err := NormaliseEmail(raw)
	switch {
	case raw == "":
		problem(fieldEmail, codeMissingEmail, "")
	case err != nil || len(email) > maxEmailLen:
		problem(fieldEmail, codeBadEmail, raw)
	case c.existing[email]:
		problem(fieldEmail, codeAlreadyIn, email)
		dup = true
	case c.seen[email]:
		problem(fieldEmail, codeDuplicate, email)
		dup = true
	default:
		// Marked even if another field is wrong: the file does repeat the address.
		c.seen[email] = true
		out.Email = email
	}

	if out.Name = cleanName(in.Name); utf8.RuneCountInString(out.Name) > maxTextLen {
		problem(fieldName, codeTooLong, out.Name)
	}
	if unit := oneLine(in.Unit); utf8.RuneCountInString(unit) > maxTextLen {
		problem(fieldUnit, codeTooLong, unit)
	} else if existing, ok := c.units[unitKey(unit)]; ok {
		out.Unit = existing
	} else {
		out.Unit = unit
	}
	if in.Role != "" {
		if out.Role = c.roles[fold(in.Role)]; out.Role == "" {
			problem(fieldRole, codeBadRole, in.Role)
		}
	}
	if in.Seniority != "" {
		if out.Seniority = c.seniority[fold(in.Seniority)]; out.Seniority == "" {
			problem(fieldLevel, codeBadSeniority, in.Seniority)
		}
	}
	var ok bool
	if out.Locale, ok = parseLocale(in.Locale); !ok {
		problem(fieldLang, codeBadLocale, in.Locale)
	}
	return out, problems, dup
}

// cleanName makes a participant's name safe to put next to their address
// in a mail header: control characters and line separators become spaces,
// quotation marks, angle brackets and backslashes (which delimit or escape
// an address) are dropped, runs of spaces become one. A comma stays
// ("Doe, Jane"): the mailer quotes the name, so it cannot split the address.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case !OneLine(string(r)):
			return ' '
		case strings.ContainsRune("\"<>\\", r):
			return -1
		}
		return r
	}, s)
	return oneLine(s)
}

// OneLine reports whether s has no control character and no line or
// paragraph separator: what a name in a mail header must be.
func OneLine(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp)
	})
}

// oneLine collapses the line breaks and runs of spaces a quoted cell may hold.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// unitKey matches unit names regardless of case and spacing.
func unitKey(name string) string { return strings.ToLower(oneLine(name)) }

// clip keeps a problem's echo of the input short enough to show in a table.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxValueShown {
		return s
	}
	r := []rune(s)
	return string(r[:maxValueShown-1]) + "…"
}

// fold makes a typed value comparable to a key or title: case, accents and
// the punctuation or spacing between words do not matter
// ("Senior_Manager", "senior-manager" and "Sénior manager" are alike).
func fold(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if gap && b.Len() > 0 {
				b.WriteByte(' ')
			}
			gap = false
			b.WriteRune(r)
		default:
			gap = true
		}
	}
	return b.String()
}

// genderForms are the inclusive spellings the model's titles use, and how to
// write each form out: a file says "Mitarbeiterin" or "Collaborateur", not
// "Mitarbeiter/in" or "Collaborateur(trice)".
var genderForms = []struct{ mark, drop, add string }{
	{"/in", "", "in"},            // Leiter/in → Leiter, Leiterin
	{"/r", "", "r"},              // Verantwortliche/r → Verantwortliche, Verantwortlicher
	{"(e)", "", "e"},             // Chargé(e) → Chargé, Chargée
	{"(ère)", "er", "ère"},       // Téléconseiller(ère) → Téléconseiller, Téléconseillère
	{"(trice)", "teur", "trice"}, // Collaborateur(trice) → Collaborateur, Collaboratrice
}

// titleForms lists the ways a title may be written: as is, each gendered form,
// and without a trailing qualifier ("Personalleiter/in (HR)" → "Personalleiterin").
func titleForms(title string) []string {
	forms := []string{title}
	for _, g := range genderForms {
		var next []string
		for _, f := range forms {
			stem, rest, ok := strings.Cut(f, g.mark)
			if !ok {
				next = append(next, f)
				continue
			}
			next = append(next, f, stem+rest)
			if strings.HasSuffix(stem, g.drop) {
				next = append(next, strings.TrimSuffix(stem, g.drop)+g.add+rest)
			}
		}
		forms = next
	}
	for _, f := range forms {
		if bare := strings.TrimSpace(parenthesised.ReplaceAllString(f, "")); bare != "" && bare != f {
			forms = append(forms, bare)
		}
	}
	return forms
}

// optionForms maps every way of writing an option — its key, its title in
// any locale and their gendered forms — to the key. A form two options share
// maps to "" and is refused rather than guessed.
func optionForms(opts []Option) map[string]string {
	forms := map[string]string{}
	add := func(s, key string) {
		f := fold(s)
		if prev, ok := forms[f]; ok && prev != key {
			key = ""
		}
		forms[f] = key
	}
	for _, o := range opts {
		add(o.Key, o.Key)
		for _, t := range o.Title {
			for _, f := range titleForms(t) {
				add(f, o.Key)
			}
		}
	}
	return forms
}

// localeNames maps the first word of a folded language value to a locale:
// codes ("de-CH" folds to "de ch"), ISO 639-2 codes, and the language's name
// in each of the three languages.
var localeNames = map[string]string{
	"en": "en", "eng": "en", "english": "en", "englisch": "en", "anglais": "en",
	"de": "de", "deu": "de", "ger": "de", "german": "de", "deutsch": "de", "allemand": "de",
	"fr": "fr", "fra": "fr", "fre": "fr", "french": "fr", "franzosisch": "fr", "francais": "fr",
}

// parseLocale reads a language cell; empty means "ask the browser".
func parseLocale(s string) (string, bool) {
	f := fold(s)
	if f == "" {
		return "", true
	}
	first, _, _ := strings.Cut(f, " ")
	l, ok := localeNames[first]
	return l, ok
}

// CampaignEmails returns the campaign's participant emails, for
// ParseParticipants to flag those already invited.
func CampaignEmails(ctx context.Context, db *DB, campaignID int64) (map[string]bool, error) {
	return campaignEmails(db.Read.WithContext(ctx), campaignID)
}

func campaignEmails(q *gorm.DB, campaignID int64) (map[string]bool, error) {
	var emails []string
	if err := q.Model(&Participant{}).Where("campaign_id = ?", campaignID).Pluck("email", &emails).Error; err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(emails))
	for _, e := range emails {
		set[e] = true
	}
	return set, nil
}

// ImportParticipants saves a preview's rows, each with a pending invitation,
// in one transaction. Units the rows name that the organisation lacks are
// created when createUnits is set; otherwise their rows are skipped. Rows
// whose email became a participant since the preview are skipped too, so a
// stale preview or a second click never fails on the unique email index.
// An import into a campaign that has opened is recorded as by's addition.
func ImportParticipants(ctx context.Context, db *DB, secret []byte, c *Campaign, p *ImportPreview, createUnits bool, by *User) (ImportResult, error) {
	var res ImportResult
	err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		camp, err := lockCampaign(tx, c.ID)
		if err != nil {
			return err
		}
		if res, _, err = insertRows(tx, secret, camp, p.Rows, createUnits); err != nil {
			return err
		}
		return recordAddition(tx, camp, res.Added, by, AddedByImport)
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import participants: %w", err)
	}
	return res, nil
}

// AddParticipant adds one person with a pending invitation, checked like a
// file row against the campaign's model version and its organisation's
// units. A refused row is an error wrapping ErrInvalidParticipant and its
// ImportProblems (email first): errors.As gives the first. A unit the
// organisation lacks is a problem: single adds do not create units. An add
// to a campaign that has opened is recorded as by's addition.
func AddParticipant(ctx context.Context, db *DB, secret []byte, c *Campaign, row ImportRow, by *User) (*Participant, error) {
	catalog, err := embeddedCatalog()
	if err != nil {
		return nil, err
	}
	m, ok := catalog.Version(c.ModelVersion)
	if !ok {
		return nil, fmt.Errorf("campaign %d pins model version %d, which this binary lacks", c.ID, c.ModelVersion)
	}
	var added *Participant
	err = db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		camp, err := lockCampaign(tx, c.ID)
		if err != nil {
			return err
		}
		var units []BusinessUnit
		if err := tx.Where("organisation_id = ?", camp.OrganisationID).Order("id").Find(&units).Error; err != nil {
			return err
		}
		existing := map[string]bool{}
		if email, err := NormaliseEmail(row.Email); err == nil {
			var n int64
			if err := tx.Model(&Participant{}).Where("campaign_id = ? AND email = ?", camp.ID, email).Count(&n).Error; err != nil {
				return err
			}
			existing[email] = n > 0
		}
		chk := newRowChecker(m, units, existing)
		out, problems, _ := chk.check(row)
		if out.Unit != "" && !chk.knownUnit(out.Unit) {
			problems = append(problems, ImportProblem{Line: row.Line, Field: fieldUnit, Code: codeUnknownUnit, Value: clip(out.Unit)})
		}
		if len(problems) > 0 {
			errs := make([]error, len(problems))
			for i, p := range problems {
				errs[i] = p
			}
			return fmt.Errorf("%w: %w", ErrInvalidParticipant, errors.Join(errs...))
		}
		_, parts, err := insertRows(tx, secret, camp, []ImportRow{out}, false)
		if err != nil {
			return err
		}
		if len(parts) != 1 { // cannot happen under the campaign lock; never report a silent no-op
			return fmt.Errorf("%w: %w", ErrInvalidParticipant, ImportProblem{Line: row.Line, Field: fieldEmail, Code: codeAlreadyIn, Value: out.Email})
		}
		added = &parts[0]
		return recordAddition(tx, camp, 1, by, AddedByHand)
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// embeddedCatalog is the model catalog, read once: AddParticipant needs the
// campaign's model to read role and seniority titles.
var embeddedCatalog = sync.OnceValues(LoadCatalog)

// lockCampaign reads the campaign and, on Postgres, locks its row: every
// change to a participant list takes this lock first, so two imports (or an
// import and a single add) cannot both decide an email is new. SQLite's
// immediate transactions already serialise writers.
func lockCampaign(tx *gorm.DB, id int64) (*Campaign, error) {
	var c Campaign
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).First(&c, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return &c, err
}

// importBatch is how many rows one INSERT carries. The pure-Go SQLite
// driver matches each bound parameter by a linear search, so a statement
// costs the square of its parameters: 100 rows import 10,000 participants
// twice as fast there as 1,000. Postgres prefers fewer round trips.
func importBatch(tx *gorm.DB) int {
	if tx.Dialector.Name() == "postgres" {
		return 1000
	}
	return 100
}

// insertRows writes normalised rows with their invitations. It is the one
// path both the file import and the single add take.
func insertRows(tx *gorm.DB, secret []byte, c *Campaign, rows []ImportRow, createUnits bool) (ImportResult, []Participant, error) {
	var res ImportResult
	unitIDs, err := loadUnits(tx, c.OrganisationID)
	if err != nil {
		return res, nil, err
	}
	if createUnits {
		var missing []string
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Unit != "" && unitIDs.find(r.Unit) == nil && !seen[unitKey(r.Unit)] {
				seen[unitKey(r.Unit)] = true
				missing = append(missing, oneLine(r.Unit))
			}
		}
		if res.UnitsCreated, err = createUnitsNamed(tx, c.OrganisationID, missing); err != nil {
			return res, nil, err
		}
		if len(missing) > 0 {
			if unitIDs, err = loadUnits(tx, c.OrganisationID); err != nil {
				return res, nil, err
			}
		}
	}
	taken, err := campaignEmails(tx, c.ID)
	if err != nil {
		return res, nil, err
	}

	parts := make([]Participant, 0, len(rows))
	for _, r := range rows {
		email, err := NormaliseEmail(r.Email)
		if err != nil || email != r.Email {
			return res, nil, fmt.Errorf("line %d: %w (rows must come from ParseParticipants)", r.Line, ErrInvalidEmail)
		}
		if _, ok := parseLocale(r.Locale); !ok {
			return res, nil, fmt.Errorf("line %d: locale: %w (rows must come from ParseParticipants)", r.Line, ErrInvalidProfile)
		}
		var unitID *int64
		if r.Unit != "" {
			if unitID = unitIDs.find(r.Unit); unitID == nil {
				res.Skipped++
				continue
			}
		}
		if taken[email] {
			res.Skipped++
			continue
		}
		taken[email] = true
		parts = append(parts, Participant{
			CampaignID: c.ID, Email: email, Name: r.Name, UnitID: unitID,
			Role: r.Role, Seniority: r.Seniority, Locale: r.Locale,
		})
	}
	if len(parts) == 0 {
		return res, parts, nil
	}
	if err := tx.CreateInBatches(&parts, importBatch(tx)).Error; err != nil {
		return res, nil, err
	}
	invs := make([]Invitation, len(parts))
	for i, p := range parts {
		id := uuid.NewString()
		invs[i] = Invitation{ID: id, ParticipantID: p.ID, CampaignID: c.ID, TokenHash: HashToken(InviteToken(secret, id)), Status: InvitePending}
	}
	if err := tx.CreateInBatches(&invs, importBatch(tx)).Error; err != nil {
		return res, nil, err
	}
	res.Added = len(parts)
	return res, parts, nil
}

// unitLookup indexes an organisation's units by exact name and by unitKey;
// the exact name wins, then the oldest unit of the same key.
type unitLookup struct{ exact, byKey map[string]int64 }

func loadUnits(tx *gorm.DB, orgID int64) (unitLookup, error) {
	var us []BusinessUnit
	if err := tx.Where("organisation_id = ?", orgID).Order("id").Find(&us).Error; err != nil {
		return unitLookup{}, err
	}
	idx := unitLookup{exact: make(map[string]int64, len(us)), byKey: make(map[string]int64, len(us))}
	for _, u := range us {
		idx.exact[u.Name] = u.ID
		if _, ok := idx.byKey[unitKey(u.Name)]; !ok {
			idx.byKey[unitKey(u.Name)] = u.ID
		}
	}
	return idx, nil
}

func (u unitLookup) find(name string) *int64 {
	if id, ok := u.exact[name]; ok {
		return &id
	}
	if id, ok := u.byKey[unitKey(name)]; ok {
		return &id
	}
	return nil
}

// createUnitsNamed inserts units, ignoring any another transaction created
// meanwhile (the caller re-reads them), and returns how many it created.
func createUnitsNamed(tx *gorm.DB, orgID int64, names []string) (int, error) {
	created := 0
	for start, size := 0, importBatch(tx); start < len(names); start += size {
		batch := names[start:min(start+size, len(names))]
		var q strings.Builder
		args := make([]any, 0, 2*len(batch))
		q.WriteString("INSERT INTO business_units (organisation_id, name) VALUES ")
		for i, n := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?)")
			args = append(args, orgID, n)
		}
		q.WriteString(" ON CONFLICT (organisation_id, name) DO NOTHING")
		r := tx.Exec(q.String(), args...)
		if r.Error != nil {
			return created, r.Error
		}
		created += int(r.RowsAffected)
	}
	return created, nil
}

// RemoveParticipant deletes a participant and their invitation (and with it
// any queued mail), whatever the invitation's status. Submitted responses are
// never touched: nothing links them to anyone. An unfinished draft stays
// behind, unreachable: its key derives from the deleted invitation's id.
func RemoveParticipant(ctx context.Context, db *DB, campaignID, participantID int64) error {
	return db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p Participant
		err := tx.Where("id = ? AND campaign_id = ?", participantID, campaignID).First(&p).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("participant %d: %w", participantID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := tx.Where("participant_id = ?", p.ID).Delete(&Invitation{}).Error; err != nil {
			return err
		}
		return tx.Delete(&p).Error
	})
}
