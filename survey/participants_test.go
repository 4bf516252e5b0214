package survey_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"tiltline/locales"
	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// The organisation of the parse tests: two units, and one address already
// invited to the campaign.
var (
	parseUnits    = []survey.BusinessUnit{{ID: 1, Name: "Retail Banking"}, {ID: 2, Name: "Marketing"}}
	parseExisting = map[string]bool{"taken@example.com": true}
)

type parseCase struct {
	name       string
	csv        string
	rows       []survey.ImportRow
	problems   []survey.ImportProblem
	newUnits   []string
	duplicates int
	ignored    []string
}

func row(line int, email string, fields ...string) survey.ImportRow {
	r := survey.ImportRow{Line: line, Email: email}
	for i, p := range []*string{&r.Name, &r.Unit, &r.Role, &r.Seniority, &r.Locale} {
		if i < len(fields) {
			*p = fields[i]
		}
	}
	return r
}

func problem(line int, field, code, value string) survey.ImportProblem {
	return survey.ImportProblem{Line: line, Field: field, Code: "import.error." + code, Value: value}
}

var parseCases = []parseCase{
	{
		name: "canonical header, email lower-cased, all fields normalised",
		csv:  "email,name,unit,role,seniority,locale\nAda@Example.COM , Ada Lovelace ,Marketing,researcher,staff,de\n",
		rows: []survey.ImportRow{row(2, "ada@example.com", "Ada Lovelace", "Marketing", "researcher", "staff", "de")},
	},
	{
		name: "UTF-8 BOM before the header is ignored",
		csv:  "\uFEFFemail;name\nann@example.com;Ann\n",
		rows: []survey.ImportRow{row(2, "ann@example.com", "Ann")},
	},
	{
		name: "semicolon-separated file with commas inside fields",
		csv:  "email;name;unit\nann@example.com;Smith, Ann;Retail Banking\n",
		rows: []survey.ImportRow{row(2, "ann@example.com", "Smith, Ann", "Retail Banking")},
	},
	{
		name: "tab-separated file keeps empty cells in place",
		csv:  "email\tname\tunit\trole\nann@example.com\t\tMarketing\tresearcher\n",
		rows: []survey.ImportRow{row(2, "ann@example.com", "", "Marketing", "researcher")},
	},
	{
		name: "Excel sep= line sets the delimiter and keeps line numbers",
		csv:  "sep=;\r\nemail;name\r\nann@example.com;Smith, Ann\r\n",
		rows: []survey.ImportRow{row(3, "ann@example.com", "Smith, Ann")},
	},
	{
		name: "lines ended by CR alone (old Mac Excel) are lines",
		csv:  "email;name\rann@example.com;Ann\rbob@example.com;Bob\r",
		rows: []survey.ImportRow{row(2, "ann@example.com", "Ann"), row(3, "bob@example.com", "Bob")},
	},
	{
		name: "quoted fields hold delimiters, doubled quotes and line breaks (quotes then leave the name)",
		csv:  "email;name;unit\nann@example.com;\"Doe; Ann \"\"AD\"\"\";\"Retail\nBanking\"\nbob@example.com; \"Bob, Jr.\";\n",
		rows: []survey.ImportRow{
			row(2, "ann@example.com", "Doe; Ann AD", "Retail Banking"),
			row(4, "bob@example.com", "Bob, Jr."),
		},
	},
	{
		name: "blank lines and rows of empty cells are skipped",
		csv:  "\n\nemail,name\n\nann@example.com,Ann\n,,\n   \nbob@example.com,Bob\n\n",
		rows: []survey.ImportRow{row(5, "ann@example.com", "Ann"), row(8, "bob@example.com", "Bob")},
	},
	{
		name:    "columns in any order, unknown columns ignored and listed",
		csv:     "Locale,Phone,EMAIL,Role\nfr,123,ann@example.com,CRM leader\n",
		rows:    []survey.ImportRow{row(2, "ann@example.com", "", "", "crm-leader", "", "fr")},
		ignored: []string{"Phone"},
	},
	{
		name: "German headers, first and last name joined, German titles",
		csv:  "E-Mail-Adresse;Vorname;Name;Bereich;Rolle;Ebene;Sprache\nmax@example.com;Max;Müller;marketing;Marktforscherin;Führungskraft;Deutsch\n",
		rows: []survey.ImportRow{row(2, "max@example.com", "Max Müller", "Marketing", "researcher", "manager", "de")},
	},
	{
		name:     "French headers and titles, unknown unit offered",
		csv:      "Courriel;Prénom;Nom;Unité;Rôle;Niveau;Langue\nclaire@example.com;Claire;Dubois;Ventes;Chargée d'études;Cadre dirigeant;français\n",
		rows:     []survey.ImportRow{row(2, "claire@example.com", "Claire Dubois", "Ventes", "researcher", "senior-manager", "fr")},
		newUnits: []string{"Ventes"},
	},
	{
		name: "English aliases: e-mail, full name, department, level, language",
		csv:  "E-mail address,Full name,Department,Job role,Seniority level,Language\nann@example.com,Ann Lee,retail  banking,Product Manager,Senior_Manager,en-GB\n",
		rows: []survey.ImportRow{row(2, "ann@example.com", "Ann Lee", "Retail Banking", "product-manager", "senior-manager", "en")},
	},
	{
		name: "locale accepts codes, regions and language names in three languages",
		csv: "email,locale\na@example.com,EN\nb@example.com,de_CH\nc@example.com,fr-CA\nd@example.com,English\n" +
			"e@example.com,Französisch\nf@example.com,allemand\ng@example.com,\n",
		rows: []survey.ImportRow{
			row(2, "a@example.com", "", "", "", "", "en"), row(3, "b@example.com", "", "", "", "", "de"),
			row(4, "c@example.com", "", "", "", "", "fr"), row(5, "d@example.com", "", "", "", "", "en"),
			row(6, "e@example.com", "", "", "", "", "fr"), row(7, "f@example.com", "", "", "", "", "de"),
			row(8, "g@example.com"),
		},
	},
	{
		name:     "unsupported locale is a problem of its line",
		csv:      "email,locale\na@example.com,es\nb@example.com,Klingon\n",
		rows:     []survey.ImportRow{},
		problems: []survey.ImportProblem{problem(2, "locale", "bad_locale", "es"), problem(3, "locale", "bad_locale", "Klingon")},
	},
	{
		name: "role and seniority accept keys and titles in any case and gender",
		csv: "email,role,seniority\na@example.com,crm-leader,STAFF\nb@example.com,CALL CENTRE AGENT,Mitarbeiterin\n" +
			"c@example.com,Téléconseillère,Collaboratrice\nd@example.com,Personalleiterin,senior manager\n",
		rows: []survey.ImportRow{
			row(2, "a@example.com", "", "", "crm-leader", "staff"), row(3, "b@example.com", "", "", "call-centre-agent", "staff"),
			row(4, "c@example.com", "", "", "call-centre-agent", "staff"), row(5, "d@example.com", "", "", "hr-manager", "senior-manager"),
		},
	},
	{
		name:     "unknown role and seniority are problems; empty ones are left to the survey",
		csv:      "email,role,seniority\na@example.com,Astronaut,\nb@example.com,,intern\nc@example.com,,\n",
		rows:     []survey.ImportRow{row(4, "c@example.com")},
		problems: []survey.ImportProblem{problem(2, "role", "bad_role", "Astronaut"), problem(3, "seniority", "bad_seniority", "intern")},
	},
	{
		name:     "new units are offered once each, in first-seen order, spelled as first written",
		csv:      "email,unit\na@example.com,Ventes\nb@example.com,IT\nc@example.com,VENTES\nd@example.com,marketing\n",
		rows:     []survey.ImportRow{row(2, "a@example.com", "", "Ventes"), row(3, "b@example.com", "", "IT"), row(4, "c@example.com", "", "Ventes"), row(5, "d@example.com", "", "Marketing")},
		newUnits: []string{"Ventes", "IT"},
	},
	{
		name: "a unit only invalid rows name is not offered",
		csv:  "email,unit\nnot-an-email,Ventes\n",
		rows: []survey.ImportRow{}, newUnits: []string{},
		problems: []survey.ImportProblem{problem(2, "email", "bad_email", "not-an-email")},
	},
	{
		name: "bad and missing emails are problems of their line, other lines stay valid",
		csv:  "email,name\nnot-an-email,A\nann@example.com,Ann\na@b@example.com,B\nAda <ada@example.com>,C\n,Nobody\n",
		rows: []survey.ImportRow{row(3, "ann@example.com", "Ann")},
		problems: []survey.ImportProblem{
			problem(2, "email", "bad_email", "not-an-email"), problem(4, "email", "bad_email", "a@b@example.com"),
			problem(5, "email", "bad_email", "Ada <ada@example.com>"), problem(6, "email", "missing_email", ""),
		},
	},
	{
		name: "duplicates within the file and against the campaign are counted and refused",
		csv:  "email\nann@example.com\nANN@example.com\ntaken@example.com\nTaken@Example.com\nbob@example.com\n",
		rows: []survey.ImportRow{row(2, "ann@example.com"), row(6, "bob@example.com")},
		problems: []survey.ImportProblem{
			problem(3, "email", "duplicate", "ann@example.com"), problem(4, "email", "already_participant", "taken@example.com"),
			problem(5, "email", "already_participant", "taken@example.com"),
		},
		duplicates: 3,
	},
	{
		name: "every problem of a line is reported at once",
		csv:  "email,role,seniority,locale\nbad,Astronaut,intern,es\n",
		rows: []survey.ImportRow{},
		problems: []survey.ImportProblem{
			problem(2, "email", "bad_email", "bad"), problem(2, "role", "bad_role", "Astronaut"),
			problem(2, "seniority", "bad_seniority", "intern"), problem(2, "locale", "bad_locale", "es"),
		},
	},
	{
		name:     "a stray quote is a problem of its line only",
		csv:      "email,name\nann@example.com,An\"n\nbob@example.com,Bob\n",
		rows:     []survey.ImportRow{row(3, "bob@example.com", "Bob")},
		problems: []survey.ImportProblem{{Line: 2, Code: "import.error.csv_syntax"}},
	},
	{
		name:     "a name over 200 characters is refused and echoed shortened",
		csv:      "email,name\nann@example.com," + strings.Repeat("x", 201) + "\n",
		rows:     []survey.ImportRow{},
		problems: []survey.ImportProblem{problem(2, "name", "too_long", strings.Repeat("x", 79)+"…")},
	},
	{
		name: "missing trailing cells read as empty, extra cells are ignored",
		csv:  "email,name,unit\nann@example.com\nbob@example.com,Bob,Marketing,extra,cells\n",
		rows: []survey.ImportRow{row(2, "ann@example.com"), row(3, "bob@example.com", "Bob", "Marketing")},
	},
	{
		name: "a header alone previews nothing",
		csv:  "email;name\n",
		rows: []survey.ImportRow{},
	},
}

func TestParseParticipants(t *testing.T) {
	m := surveytest.Model(t)
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := survey.ParseParticipants(strings.NewReader(tc.csv), m, parseUnits, parseExisting)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Rows, tc.rows) {
				t.Errorf("rows\n got %+v\nwant %+v", p.Rows, tc.rows)
			}
			if !slices.Equal(p.Problems, tc.problems) {
				t.Errorf("problems\n got %+v\nwant %+v", p.Problems, tc.problems)
			}
			if tc.newUnits != nil || len(p.NewUnits) > 0 {
				if !slices.Equal(p.NewUnits, tc.newUnits) {
					t.Errorf("new units %q, want %q", p.NewUnits, tc.newUnits)
				}
			}
			if p.Duplicates != tc.duplicates {
				t.Errorf("%d duplicates, want %d", p.Duplicates, tc.duplicates)
			}
			if len(p.Ignored) > 0 || tc.ignored != nil {
				if !slices.Equal(p.Ignored, tc.ignored) {
					t.Errorf("ignored %q, want %q", p.Ignored, tc.ignored)
				}
			}
		})
	}
}

// endless reads as an endless stream of one byte.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

func emailRows(n int) string {
	var b strings.Builder
	b.WriteString("email;name\n")
	for i := range n {
		fmt.Fprintf(&b, "person%05d@example.com;Person %d\n", i, i)
	}
	return b.String()
}

func TestParseParticipantsRefusesTheFile(t *testing.T) {
	m := surveytest.Model(t)
	garbage := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	cases := []struct {
		name  string
		input io.Reader
		code  string
		line  int
	}{
		{"an empty file", strings.NewReader(""), "empty", 0},
		{"only blank lines", strings.NewReader("\r\n  \n\n"), "empty", 0},
		{"only a BOM", strings.NewReader("\uFEFF"), "empty", 0},
		{"no email column", strings.NewReader("name;unit\nAnn;Marketing\n"), "no_email_column", 1},
		{"first line is data, not a header", strings.NewReader("ann@example.com;Ann\nbob@example.com;Bob\n"), "no_header", 1},
		{"two columns mean email", strings.NewReader("email;Mail\n"), "duplicate_column", 1},
		{"binary with NUL bytes", strings.NewReader("email\n\x00\x01\x02\x03"), "binary", 2},
		{"invalid UTF-8 (a Latin-1 export)", strings.NewReader("email;name\nann@example.com;M\xfcller\n"), "encoding", 2},
		{"UTF-16 text", strings.NewReader("\xFF\xFEe\x00m\x00"), "encoding", 1},
		{"an Excel workbook", strings.NewReader("PK\x03\x04\x14\x00\x06\x00"), "spreadsheet", 0},
		{"a header line with a stray quote", strings.NewReader("email,na\"me\n"), "csv_syntax", 1},
		{"50,001 rows", strings.NewReader(emailRows(survey.MaxImportRows + 1)), "too_many_rows", survey.MaxImportRows + 2},
		{"more than the byte limit", io.LimitReader(endless('a'), survey.MaxImportBytes+1), "too_large", 0},
		{"random binary garbage", bytes.NewReader(garbage), "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := survey.ParseParticipants(tc.input, m, parseUnits, parseExisting)
			var p survey.ImportProblem
			if !errors.Is(err, survey.ErrImportFile) || !errors.As(err, &p) {
				t.Fatalf("got %v, want ErrImportFile with an ImportProblem", err)
			}
			if tc.code == "" {
				if !strings.HasPrefix(p.Code, "import.error.") {
					t.Errorf("code %q", p.Code)
				}
				return
			}
			if p.Code != "import.error."+tc.code || p.Line != tc.line {
				t.Errorf("got line %d %s, want line %d import.error.%s", p.Line, p.Code, tc.line, tc.code)
			}
		})
	}
}

func TestParseParticipantsAccepts50000Rows(t *testing.T) {
	m := surveytest.Model(t)
	// Blank lines do not count towards the limit.
	csv := strings.Replace(emailRows(survey.MaxImportRows), "\n", "\n\n\n", 100)
	start := time.Now()
	p, err := survey.ParseParticipants(strings.NewReader(csv), m, parseUnits, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != survey.MaxImportRows || len(p.Problems) != 0 || p.Lines != survey.MaxImportRows {
		t.Errorf("%d rows, %d problems, %d lines", len(p.Rows), len(p.Problems), p.Lines)
	}
	t.Logf("parsed %d rows in %s", len(p.Rows), time.Since(start).Round(time.Millisecond))
}

// Every way the model spells a role or seniority reads back as its key, so
// a file exported from any of the three languages needs no editing.
func TestEveryRoleAndSeniorityTitleIsRecognised(t *testing.T) {
	m := surveytest.Model(t)
	var b strings.Builder
	var want []survey.ImportRow
	b.WriteString("email;role;seniority\n")
	add := func(role, seniority, roleKey, seniorityKey string) {
		email := fmt.Sprintf("p%d@example.com", len(want))
		fmt.Fprintf(&b, "%s;%q;%q\n", email, role, seniority)
		want = append(want, row(len(want)+2, email, "", "", roleKey, seniorityKey))
	}
	for _, o := range m.Roles {
		add(o.Key, "", o.Key, "")
		for _, l := range survey.Locales {
			add(strings.ToUpper(o.Title[l]), "", o.Key, "")
		}
	}
	for _, o := range m.Seniority {
		add("", o.Key, "", o.Key)
		for _, l := range survey.Locales {
			add("", o.Title[l], "", o.Key)
		}
	}
	p, err := survey.ParseParticipants(strings.NewReader(b.String()), m, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Rows, want) {
		t.Errorf("problems %+v", p.Problems)
	}
}

// Every message id the import can produce exists in every locale.
func TestImportProblemsHaveMessages(t *testing.T) {
	src, err := os.ReadFile("participants.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := regexp.MustCompile(`"(import\.[a-z_.]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(codes) < 15 {
		t.Fatalf("found only %d message ids in participants.go", len(codes))
	}
	for _, l := range survey.Locales {
		b, err := locales.FS.ReadFile("import." + l + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		msgs := map[string]string{}
		if err := yaml.Unmarshal(b, &msgs); err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			if msgs[c[1]] == "" {
				t.Errorf("import.%s.yaml lacks %s", l, c[1])
			}
		}
	}
}

// FuzzParseParticipants: whatever the bytes, parsing returns a preview or a
// file error, and every row it calls valid is safe to save.
func FuzzParseParticipants(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.csv))
	}
	for _, s := range []string{"", "\uFEFF", "email\n\x00", "email;name\nM\xfcller", "PK\x03\x04", "sep=;\nemail;unit\na@b.c;\"x\n", "email\n\"a@b.c"} {
		f.Add([]byte(s))
	}
	m := surveytest.Model(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := survey.ParseParticipants(bytes.NewReader(data), m, parseUnits, parseExisting)
		if err != nil {
			var prob survey.ImportProblem
			if !errors.Is(err, survey.ErrImportFile) || !errors.As(err, &prob) || !strings.HasPrefix(prob.Code, "import.error.") {
				t.Fatalf("error %v is not a file problem", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range p.Rows {
			if e, err := survey.NormaliseEmail(r.Email); err != nil || e != r.Email {
				t.Fatalf("line %d: invalid email %q accepted", r.Line, r.Email)
			}
			if seen[r.Email] || parseExisting[r.Email] {
				t.Fatalf("line %d: duplicate %q accepted", r.Line, r.Email)
			}
			seen[r.Email] = true
			if r.Role != "" && !m.HasRole(r.Role) || r.Seniority != "" && !m.HasSeniority(r.Seniority) {
				t.Fatalf("line %d: role %q seniority %q", r.Line, r.Role, r.Seniority)
			}
			if r.Locale != "" && !slices.Contains(survey.Locales, r.Locale) {
				t.Fatalf("line %d: locale %q", r.Line, r.Locale)
			}
			if r.Line < 2 || len([]rune(r.Name)) > 200 || len([]rune(r.Unit)) > 200 {
				t.Fatalf("row %+v", r)
			}
		}
		for _, pr := range p.Problems {
			if !strings.HasPrefix(pr.Code, "import.error.") || pr.Line < 1 || len([]rune(pr.Value)) > 80 {
				t.Fatalf("problem %+v", pr)
			}
		}
		if len(p.Rows)+p.Duplicates > p.Lines || p.Lines > survey.MaxImportRows {
			t.Fatalf("%d rows and %d duplicates of %d lines", len(p.Rows), p.Duplicates, p.Lines)
		}
	})
}

// importFixture is a fresh database with an organisation of two units and
// an empty draft campaign.
func importFixture(t testing.TB, dialect string) (*survey.DB, *survey.Model, *survey.Campaign) {
	t.Helper()
	db := surveytest.Open(t, dialect)
	m := surveytest.Model(t)
	org := &survey.Organisation{Name: "Acme"}
	if err := db.Write.Create(org).Error; err != nil {
		t.Fatal(err)
	}
	units := []survey.BusinessUnit{{OrganisationID: org.ID, Name: "Retail Banking"}, {OrganisationID: org.ID, Name: "Marketing"}}
	if err := db.Write.Create(&units).Error; err != nil {
		t.Fatal(err)
	}
	return db, m, newCampaign(t, db, org.ID, m)
}

func newCampaign(t testing.TB, db *survey.DB, orgID int64, m *survey.Model) *survey.Campaign {
	t.Helper()
	c := &survey.Campaign{OrganisationID: orgID, Name: "Assessment", ModelVersion: m.Version, Locales: "en,de,fr", KMin: 5, Status: survey.StatusDraft}
	if err := db.Write.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

// preview parses csv the way the web layer does: against the campaign's
// current units and participants.
func preview(t testing.TB, db *survey.DB, m *survey.Model, c *survey.Campaign, csv string) *survey.ImportPreview {
	t.Helper()
	ctx := context.Background()
	units, err := survey.Units(ctx, db, c.OrganisationID)
	if err != nil {
		t.Fatal(err)
	}
	existing, err := survey.CampaignEmails(ctx, db, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := survey.ParseParticipants(strings.NewReader(csv), m, units, existing)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type storedParticipant struct {
	Email, Name, Unit, Role, Seniority, Locale, Status string
}

// stored lists the campaign's participants with unit name and invitation status, by email.
func stored(t testing.TB, db *survey.DB, campaignID int64) []storedParticipant {
	t.Helper()
	var out []storedParticipant
	err := db.Read.Raw(`SELECT p.email, p.name, COALESCE(u.name, '') AS unit, p.role, p.seniority, p.locale, COALESCE(i.status, '') AS status
		FROM participants p LEFT JOIN business_units u ON u.id = p.unit_id LEFT JOIN invitations i ON i.participant_id = p.id
		WHERE p.campaign_id = ? ORDER BY p.email`, campaignID).Scan(&out).Error
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImportParticipants(t *testing.T) {
	const file = "email;name;unit;role;seniority;locale\n" +
		"ann@example.com;Ann;retail banking;researcher;staff;de\n" +
		"bob@example.com;Bob;Ventes;;;\n" +
		"cy@example.com;Cy;;Product manager;Manager;fr\n" +
		"dee@example.com;Dee;VENTES;;;\n"
	cases := []struct {
		name        string
		createUnits bool
		want        survey.ImportResult
		wantStored  []storedParticipant
	}{
		{
			name: "new units are created when asked and rows land in them", createUnits: true,
			want: survey.ImportResult{Added: 4, UnitsCreated: 1},
			wantStored: []storedParticipant{
				{"ann@example.com", "Ann", "Retail Banking", "researcher", "staff", "de", "pending"},
				{"bob@example.com", "Bob", "Ventes", "", "", "", "pending"},
				{"cy@example.com", "Cy", "", "product-manager", "manager", "fr", "pending"},
				{"dee@example.com", "Dee", "Ventes", "", "", "", "pending"},
			},
		},
		{
			name: "rows in new units are skipped when units are not to be created",
			want: survey.ImportResult{Added: 2, Skipped: 2},
			wantStored: []storedParticipant{
				{"ann@example.com", "Ann", "Retail Banking", "researcher", "staff", "de", "pending"},
				{"cy@example.com", "Cy", "", "product-manager", "manager", "fr", "pending"},
			},
		},
	}
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ctx := context.Background()
					db, m, c := importFixture(t, dialect)
					p := preview(t, db, m, c, file)
					if !slices.Equal(p.NewUnits, []string{"Ventes"}) {
						t.Fatalf("new units %q", p.NewUnits)
					}
					res, err := survey.ImportParticipants(ctx, db, testSecret, c, p, tc.createUnits, nil)
					if err != nil {
						t.Fatal(err)
					}
					if res != tc.want {
						t.Errorf("result %+v, want %+v", res, tc.want)
					}
					if got := stored(t, db, c.ID); !slices.Equal(got, tc.wantStored) {
						t.Errorf("stored\n got %+v\nwant %+v", got, tc.wantStored)
					}
					if n := count(t, db, &survey.BusinessUnit{}, "organisation_id = ?", c.OrganisationID); n != 2+int64(tc.want.UnitsCreated) {
						t.Errorf("%d units", n)
					}
				})
			}
			t.Run("each invitation opens with the token derived from its id", func(t *testing.T) {
				ctx := context.Background()
				db, m, c := importFixture(t, dialect)
				if _, err := survey.ImportParticipants(ctx, db, testSecret, c, preview(t, db, m, c, file), true, nil); err != nil {
					t.Fatal(err)
				}
				var invs []survey.Invitation
				if err := db.Read.Where("campaign_id = ?", c.ID).Find(&invs).Error; err != nil {
					t.Fatal(err)
				}
				hashes := map[string]bool{}
				for _, inv := range invs {
					r, err := survey.ResolveInvitation(ctx, db, testSecret, survey.InviteToken(testSecret, inv.ID))
					if err != nil || r.Participant.ID != inv.ParticipantID || r.Invitation.Status != survey.InvitePending {
						t.Errorf("invitation %s: %v", inv.ID, err)
					}
					hashes[inv.TokenHash] = true
				}
				if len(invs) != 4 || len(hashes) != 4 {
					t.Errorf("%d invitations, %d distinct tokens", len(invs), len(hashes))
				}
			})
			t.Run("importing the same preview twice adds nothing and never fails", func(t *testing.T) {
				ctx := context.Background()
				db, m, c := importFixture(t, dialect)
				p := preview(t, db, m, c, file)
				if _, err := survey.ImportParticipants(ctx, db, testSecret, c, p, true, nil); err != nil {
					t.Fatal(err)
				}
				res, err := survey.ImportParticipants(ctx, db, testSecret, c, p, true, nil)
				if err != nil || res != (survey.ImportResult{Skipped: 4}) {
					t.Errorf("second import: %+v, %v", res, err)
				}
				again := preview(t, db, m, c, file)
				if len(again.Rows) != 0 || again.Duplicates != 4 || len(again.NewUnits) != 0 {
					t.Errorf("fresh preview after import: %d rows, %d duplicates, new units %q", len(again.Rows), again.Duplicates, again.NewUnits)
				}
			})
			t.Run("concurrent imports of one file add each email once", func(t *testing.T) {
				ctx := context.Background()
				db, m, c := importFixture(t, dialect)
				p := preview(t, db, m, c, emailRows(500))
				var wg sync.WaitGroup
				results := make([]survey.ImportResult, 4)
				errs := make([]error, 4)
				for i := range results {
					wg.Go(func() { results[i], errs[i] = survey.ImportParticipants(ctx, db, testSecret, c, p, false, nil) })
				}
				wg.Wait()
				added := 0
				for i, r := range results {
					if errs[i] != nil {
						t.Errorf("import %d: %v", i, errs[i])
					}
					added += r.Added
				}
				if n := count(t, db, &survey.Invitation{}, "campaign_id = ?", c.ID); added != 500 || n != 500 {
					t.Errorf("added %d, %d invitations", added, n)
				}
			})
			t.Run("another campaign's participants are no duplicates", func(t *testing.T) {
				ctx := context.Background()
				db, m, c := importFixture(t, dialect)
				if _, err := survey.ImportParticipants(ctx, db, testSecret, c, preview(t, db, m, c, file), true, nil); err != nil {
					t.Fatal(err)
				}
				other := newCampaign(t, db, c.OrganisationID, m)
				res, err := survey.ImportParticipants(ctx, db, testSecret, other, preview(t, db, m, other, file), false, nil)
				if err != nil || res != (survey.ImportResult{Added: 4}) {
					t.Errorf("%+v, %v", res, err)
				}
			})
			t.Run("a row not from a preview is refused, and nothing is saved", func(t *testing.T) {
				ctx := context.Background()
				db, _, c := importFixture(t, dialect)
				p := &survey.ImportPreview{Rows: []survey.ImportRow{row(2, "ok@example.com"), row(3, "Not An Email")}}
				if _, err := survey.ImportParticipants(ctx, db, testSecret, c, p, false, nil); !errors.Is(err, survey.ErrInvalidEmail) {
					t.Errorf("got %v", err)
				}
				if n := count(t, db, &survey.Participant{}, "campaign_id = ?", c.ID); n != 0 {
					t.Errorf("%d participants saved", n)
				}
			})
		})
	}
}

// TestImport50000Rows: the largest file the import accepts, on both databases.
func TestImport50000Rows(t *testing.T) {
	if testing.Short() {
		t.Skip("large import")
	}
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db, m, c := importFixture(t, dialect)
			csv := importFile(survey.MaxImportRows, m)
			start := time.Now()
			p := preview(t, db, m, c, csv)
			res, err := survey.ImportParticipants(context.Background(), db, testSecret, c, p, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Added != survey.MaxImportRows || res.UnitsCreated != len(benchUnits)-2 {
				t.Errorf("%+v", res)
			}
			t.Logf("%s: parsed and imported %d rows in %s", dialect, res.Added, time.Since(start).Round(time.Millisecond))
		})
	}
}

func TestAddParticipant(t *testing.T) {
	cases := []struct {
		name string
		row  survey.ImportRow
		want storedParticipant // zero when refused
		code string            // the first problem's message id
	}{
		{"a valid row is normalised like a file row",
			survey.ImportRow{Email: " New@Example.com", Name: "New  Person", Unit: "marketing", Role: "Marktforscher", Seniority: "Staff", Locale: "de-AT"},
			storedParticipant{"new@example.com", "New Person", "Marketing", "researcher", "staff", "de", "pending"}, ""},
		{"profile fields may stay empty", survey.ImportRow{Email: "plain@example.com"},
			storedParticipant{Email: "plain@example.com", Status: "pending"}, ""},
		{"a bad email is refused", survey.ImportRow{Email: "nope"}, storedParticipant{}, "bad_email"},
		{"a missing email is refused", survey.ImportRow{Name: "Nobody"}, storedParticipant{}, "missing_email"},
		{"an email already in the campaign is refused", survey.ImportRow{Email: "Ann@example.com"}, storedParticipant{}, "already_participant"},
		{"an unknown unit is refused, not created", survey.ImportRow{Email: "x@example.com", Unit: "Ventes"}, storedParticipant{}, "unknown_unit"},
		{"an unknown role is refused", survey.ImportRow{Email: "y@example.com", Role: "Astronaut"}, storedParticipant{}, "bad_role"},
		{"an unsupported language is refused", survey.ImportRow{Email: "z@example.com", Locale: "it"}, storedParticipant{}, "bad_locale"},
	}
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, _, c := importFixture(t, dialect)
			if _, err := survey.AddParticipant(ctx, db, testSecret, c, survey.ImportRow{Email: "ann@example.com"}, nil); err != nil {
				t.Fatal(err)
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					before := stored(t, db, c.ID)
					p, err := survey.AddParticipant(ctx, db, testSecret, c, tc.row, nil)
					if tc.code != "" {
						var prob survey.ImportProblem
						if !errors.Is(err, survey.ErrInvalidParticipant) || !errors.As(err, &prob) || prob.Code != "import.error."+tc.code {
							t.Errorf("got %v, want ErrInvalidParticipant with %s", err, tc.code)
						}
						if after := stored(t, db, c.ID); len(after) != len(before) {
							t.Error("a refused row was saved")
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range stored(t, db, c.ID) {
						if s.Email == p.Email && s != tc.want {
							t.Errorf("stored %+v, want %+v", s, tc.want)
						}
					}
				})
			}
			t.Run("an unknown campaign is not found", func(t *testing.T) {
				_, err := survey.AddParticipant(ctx, db, testSecret, &survey.Campaign{ID: 9999, ModelVersion: c.ModelVersion}, survey.ImportRow{Email: "q@example.com"}, nil)
				if !errors.Is(err, survey.ErrNotFound) {
					t.Errorf("got %v", err)
				}
			})
		})
	}
}

func TestRemoveParticipant(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db, _, c := importFixture(t, dialect)
			add := func(email string) *survey.Participant {
				p, err := survey.AddParticipant(ctx, db, testSecret, c, survey.ImportRow{Email: email}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			ann, bob := add("ann@example.com"), add("bob@example.com")
			// Bob has answered: his response is anonymous and must survive his removal.
			if err := db.Write.Model(&survey.Invitation{}).Where("participant_id = ?", bob.ID).Update("status", survey.InviteCompleted).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Write.Create(&survey.Response{ID: "r1", CampaignID: c.ID, Answers: []byte{1, 2}}).Error; err != nil {
				t.Fatal(err)
			}

			t.Run("a pending participant goes with their invitation", func(t *testing.T) {
				if err := survey.RemoveParticipant(ctx, db, c.ID, ann.ID); err != nil {
					t.Fatal(err)
				}
				if n := count(t, db, &survey.Invitation{}, "participant_id = ?", ann.ID); n != 0 {
					t.Errorf("%d invitations left", n)
				}
			})
			t.Run("a participant who answered can be removed; the response stays", func(t *testing.T) {
				if err := survey.RemoveParticipant(ctx, db, c.ID, bob.ID); err != nil {
					t.Fatal(err)
				}
				if n := count(t, db, &survey.Response{}, "campaign_id = ?", c.ID); n != 1 {
					t.Errorf("%d responses", n)
				}
				if got := stored(t, db, c.ID); len(got) != 0 {
					t.Errorf("left: %+v", got)
				}
			})
			t.Run("a removed email can be added again", func(t *testing.T) {
				add("ann@example.com")
			})
			t.Run("another campaign's participant is not found", func(t *testing.T) {
				p := add("cy@example.com")
				if err := survey.RemoveParticipant(ctx, db, c.ID+1, p.ID); !errors.Is(err, survey.ErrNotFound) {
					t.Errorf("got %v", err)
				}
				if err := survey.RemoveParticipant(ctx, db, c.ID, 99999); !errors.Is(err, survey.ErrNotFound) {
					t.Errorf("got %v", err)
				}
			})
		})
	}
}

var benchUnits = []string{"Retail Banking", "Marketing", "Customer Service", "IT and Operations", "Risk and Compliance"}

// importFile is a realistic participant file of n rows: every field filled,
// titles in mixed languages, a few new units.
func importFile(n int, m *survey.Model) string {
	var b strings.Builder
	b.WriteString("E-Mail;Name;Bereich;Rolle;Ebene;Sprache\n")
	for i := range n {
		role := m.Roles[i%len(m.Roles)]
		sen := m.Seniority[i%len(m.Seniority)]
		l := survey.Locales[i%len(survey.Locales)]
		fmt.Fprintf(&b, "Person.%06d@Example.com;Person %d;%s;%s;%s;%s\n", i, i, benchUnits[i%len(benchUnits)], role.Title[l], sen.Key, l)
	}
	return b.String()
}

// BenchmarkImport10k is the whole import of a 10,000-row file: reading the
// campaign's units and emails, parsing, and saving participants with their
// pending invitations. The target is under 2 s. Postgres runs when
// TILTLINE_TEST_PG is set.
func BenchmarkImport10k(b *testing.B) {
	for _, dialect := range surveytest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			db, m, c := importFixture(b, dialect)
			csv := importFile(10_000, m)
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				c = newCampaign(b, db, c.OrganisationID, m)
				b.StartTimer()
				p := preview(b, db, m, c, csv)
				res, err := survey.ImportParticipants(ctx, db, testSecret, c, p, true, nil)
				if err != nil || res.Added != 10_000 {
					b.Fatalf("%+v, %v", res, err)
				}
			}
		})
	}
}
