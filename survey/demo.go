package survey

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// DemoOrgName names the organisation `tiltline demo` creates and refreshes.
const DemoOrgName = "Demo Bank"

// DemoOptions tunes the demo organisation.
type DemoOptions struct {
	Responses int    // completed responses in the open wave
	Links     int    // open invitations whose links are printed
	BaseURL   string // prefix of respondent links
	Secret    []byte
	Now       time.Time
	Seed      uint64
	// Reset replaces an existing demo organisation. Without it a demo that
	// exists is kept as it is: the same campaigns, accounts, token and links.
	Reset bool
}

// DemoResult is what the CLI prints: logins, a token and links.
type DemoResult struct {
	AdminEmail, AdminPassword     string
	ManagerEmail, ManagerPassword string
	LearnerEmail, LearnerPassword string
	APIToken                      string
	CampaignID                    int64
	PreviousCampaignID            int64
	Links                         []string
	// Kept is true when an existing demo was kept rather than built.
	Kept bool
}

type demoUnit struct {
	name   string
	weight float64 // share of respondents
	offset float64 // maturity of the unit, in score steps (1 step = 25 points)
}

// demoUnits: one tiny unit ("Innovation Lab") always gets exactly 3
// respondents so suppression shows in every report.
var demoUnits = []demoUnit{
	{"Retail Banking", 0.34, -0.10},
	{"Business Banking", 0.16, 0.15},
	{"Customer Service", 0.22, 0.05},
	{"Marketing", 0.10, 0.25},
	{"IT and Operations", 0.12, -0.20},
	{"Risk and Compliance", 0.06, -0.30},
	{"Innovation Lab", 0, 0.40},
}

const demoSmallUnitSize = 3

// CreateDemo creates the demo organisation with two waves and
// synthetic responses. Responses are written directly in packed form, so
// 10,000 take seconds. Their distribution shows what the seed reports: an
// average around 35 %, intention ahead of reality, senior managers rating
// reality 10-15 points above staff, and some "don't know".
//
// Run again, it keeps a demo that exists (see keepDemo) and returns the same
// logins, token and links, so what it printed a minute ago still works;
// opt.Reset replaces it. The passwords and the token are derived from the
// installation's secret (demoSecret), so they come out the same every time
// without being stored anywhere but as hashes.
func CreateDemo(ctx context.Context, db *DB, m *Model, opt DemoOptions) (*DemoResult, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC()
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	res := &DemoResult{
		AdminEmail:      "admin@demo-bank.example",
		ManagerEmail:    "manager@demo-bank.example",
		LearnerEmail:    "learner@demo-bank.example",
		LearnerPassword: demoSecret(opt.Secret, "password:learner", 12),
		AdminPassword:   demoSecret(opt.Secret, "password:admin", 12),
		ManagerPassword: demoSecret(opt.Secret, "password:manager", 12),
		APIToken:        "tl_" + demoSecret(opt.Secret, "api-token", 32),
	}
	if !opt.Reset {
		kept, err := keepDemo(ctx, db, res, opt)
		if err != nil || kept {
			return res, err
		}
	}
	g := demoGenerator{model: m, rng: rand.New(rand.NewPCG(opt.Seed, 0x7117)), secret: opt.Secret}
	g.init()

	err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("name = ?", DemoOrgName).Delete(&Organisation{}).Error; err != nil {
			return err
		}
		if err := tx.Where("email IN ?", []string{res.AdminEmail, res.ManagerEmail, res.LearnerEmail}).Delete(&User{}).Error; err != nil {
			return err
		}
		org := &Organisation{Name: DemoOrgName, Sector: "financial-services", Region: "europe", SizeBand: "1000-4999", BenchmarkOptIn: true}
		if err := tx.Create(org).Error; err != nil {
			return err
		}
		units := make([]BusinessUnit, len(demoUnits))
		for i, u := range demoUnits {
			units[i] = BusinessUnit{OrganisationID: org.ID, Name: u.name}
		}
		if err := tx.Create(&units).Error; err != nil {
			return err
		}
		g.unitIDs = make([]int64, len(units))
		for i, u := range units {
			g.unitIDs[i] = u.ID
		}

		admin := &User{OrganisationID: &org.ID, Email: res.AdminEmail, Name: "Ada Admin", Role: RoleOrgAdmin, Locale: "en", PasswordHash: HashPassword(res.AdminPassword)}
		manager := &User{OrganisationID: &org.ID, Email: res.ManagerEmail, Name: "Max Manager", Role: RoleManager, AllUnits: true, Locale: "en", PasswordHash: HashPassword(res.ManagerPassword)}
		learner := &User{OrganisationID: &org.ID, Email: res.LearnerEmail, Name: "Lea Learner", Role: RoleLearner, Locale: "en", PasswordHash: HashPassword(res.LearnerPassword)}
		if err := tx.Create([]*User{admin, manager, learner}).Error; err != nil {
			return err
		}
		// The wall clock, not opt.Now: the token must work from today.
		expires := time.Now().UTC().AddDate(0, 0, DefaultAPITokenDays)
		if err := tx.Create(&APIToken{UserID: manager.ID, Name: "demo", TokenHash: HashToken(res.APIToken), ExpiresAt: &expires}).Error; err != nil {
			return err
		}

		lastYear := opt.Now.AddDate(-1, 0, 0)
		prev := &Campaign{
			OrganisationID: org.ID, Name: "Customer management assessment", WaveLabel: fmt.Sprint(lastYear.Year()),
			ModelVersion: m.Version, OpensAt: ptr(lastYear.AddDate(0, 0, -21)), ClosesAt: ptr(lastYear),
			Locales: "en,de,fr", KMin: 5, Status: StatusClosed,
			ContactName: "Ada Admin", ContactEmail: res.AdminEmail,
		}
		if err := tx.Create(prev).Error; err != nil {
			return err
		}
		cur := &Campaign{
			OrganisationID: org.ID, Name: "Customer management assessment", WaveLabel: fmt.Sprint(opt.Now.Year()),
			ModelVersion: m.Version, OpensAt: ptr(opt.Now.AddDate(0, 0, -7)), ClosesAt: ptr(opt.Now.AddDate(0, 0, 21)),
			Locales: "en,de,fr", KMin: 5, Status: StatusOpen, PreviousID: &prev.ID,
			ContactName: "Ada Admin", ContactEmail: res.AdminEmail,
		}
		if err := tx.Create(cur).Error; err != nil {
			return err
		}
		res.CampaignID, res.PreviousCampaignID = cur.ID, prev.ID

		// Last year's wave: a little smaller and a few points lower, so trends show.
		if _, err := g.wave(tx, prev, opt.Responses*4/5, 0, -0.12); err != nil {
			return err
		}
		g.liftDemoActions() // this year, the practices acted on moved
		tokens, err := g.wave(tx, cur, opt.Responses, opt.Links, 0)
		if err != nil {
			return err
		}
		if err := g.writeDemoActions(tx, org.ID, prev.ID, [2]int64{admin.ID, manager.ID}, opt.Now); err != nil {
			return err
		}
		for _, t := range tokens {
			res.Links = append(res.Links, opt.BaseURL+"/s/"+t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create demo: %w", err)
	}
	// The organisation opted in, so its closed wave is in the benchmark pool,
	// as closing it would have put it there.
	var prev Campaign
	var org Organisation
	if err := db.Write.WithContext(ctx).First(&prev, res.PreviousCampaignID).Error; err != nil {
		return nil, fmt.Errorf("create demo: %w", err)
	}
	if err := db.Write.WithContext(ctx).First(&org, prev.OrganisationID).Error; err != nil {
		return nil, fmt.Errorf("create demo: %w", err)
	}
	rows, err := LoadReportRows(ctx, db, prev.ID)
	if err == nil {
		err = ContributeToPool(ctx, db, &org, &prev, BuildReport(m, &prev, rows, ReportFilter{}, nil), opt.Now)
	}
	if err != nil {
		return nil, fmt.Errorf("create demo: benchmark pool: %w", err)
	}
	return res, nil
}

type demoGenerator struct {
	model   *Model
	rng     *rand.Rand
	secret  []byte
	unitIDs []int64
	// difficulty per practice slot, in score steps
	slotOffset []float64
	cumUnits   []float64
}

func (g *demoGenerator) init() {
	n := g.model.AnswerSlots()
	g.slotOffset = make([]float64, n)
	for _, s := range g.model.Sections {
		sectionOffset := g.rng.NormFloat64() * 0.25
		for _, p := range s.Practices() {
			practiceOffset := sectionOffset + g.rng.NormFloat64()*0.25
			g.slotOffset[g.model.Slot(p, Intention)] = practiceOffset + 0.25
			g.slotOffset[g.model.Slot(p, Reality)] = practiceOffset - 0.25
		}
	}
	total := 0.0
	for _, u := range demoUnits {
		total += u.weight
		g.cumUnits = append(g.cumUnits, total)
	}
}

type demoPerson struct {
	unit      int
	role      string
	seniority string
	locale    string
}

func (g *demoGenerator) person(unit int) demoPerson {
	if unit < 0 {
		x := g.rng.Float64() * g.cumUnits[len(g.cumUnits)-1]
		for unit = 0; g.cumUnits[unit] < x; unit++ {
		}
	}
	p := demoPerson{unit: unit, role: g.model.Roles[g.rng.IntN(len(g.model.Roles))].Key}
	switch x := g.rng.Float64(); {
	case x < 0.12:
		p.seniority = "senior-manager"
	case x < 0.40:
		p.seniority = "manager"
	default:
		p.seniority = "staff"
	}
	switch x := g.rng.Float64(); {
	case x < 0.6:
		p.locale = "en"
	case x < 0.85:
		p.locale = "de"
	default:
		p.locale = "fr"
	}
	return p
}

// answers draws one respondent's packed answers. Scores are built in steps of
// 25 points around a base of 1.05 steps (~26 %), lifted by rounding and
// clipping to an average near 35 %.
func (g *demoGenerator) answers(p demoPerson, shift float64) []byte {
	var lift = [2]float64{} // intention, reality
	switch p.seniority {
	case "senior-manager":
		lift = [2]float64{0.30, 0.50}
	case "manager":
		lift = [2]float64{0.10, 0.15}
	}
	personal := g.rng.NormFloat64()*0.35 + demoUnits[p.unit].offset + shift
	dk := 0.03
	if p.seniority == "staff" {
		dk = 0.07
	}
	out := make([]byte, g.model.AnswerSlots())
	for i := range out {
		switch r := g.rng.Float64(); {
		case r < 0.004:
			out[i] = Unanswered
			continue
		case r < dk+0.004:
			out[i] = DontKnow
			continue
		}
		x := 1.05 + personal + g.slotOffset[i] + lift[i%2] + g.rng.NormFloat64()*0.8
		steps := math.Max(0, math.Min(4, math.Round(x)))
		out[i] = byte(5 - int(steps))
	}
	return out
}

// wave writes participants, invitations and responses for one campaign and
// returns the tokens of `open` invitations left unanswered.
func (g *demoGenerator) wave(tx *gorm.DB, c *Campaign, responses, open int, shift float64) ([]string, error) {
	nonResponders := responses * 3 / 7 // about a 70 % response rate
	total := responses + nonResponders + open
	people := make([]demoPerson, total)
	parts := make([]Participant, total)
	for i := range people {
		unit := -1
		if i < demoSmallUnitSize+1 { // three answer, one does not
			unit = len(demoUnits) - 1
		}
		people[i] = g.person(unit)
		p := people[i]
		parts[i] = Participant{
			CampaignID: c.ID, Email: fmt.Sprintf("person%05d.w%d@demo-bank.example", i+1, c.ID),
			UnitID: &g.unitIDs[p.unit], Role: p.role, Seniority: p.seniority, Locale: p.locale,
		}
	}
	if err := tx.CreateInBatches(&parts, 1000).Error; err != nil {
		return nil, err
	}
	// Which participants completed: the small unit's first three, then the rest in order.
	completed := func(i int) bool {
		if i <= demoSmallUnitSize {
			return i < demoSmallUnitSize
		}
		return i < responses+1
	}
	invs := make([]Invitation, total)
	var tokens []string
	var resps []Response
	for i, part := range parts {
		id := uuid.NewString()
		token := InviteToken(g.secret, id)
		status := InviteSent
		if completed(i) && len(resps) < responses {
			status = InviteCompleted
			p := people[i]
			resps = append(resps, Response{
				ID: uuid.NewString(), CampaignID: c.ID, UnitID: &g.unitIDs[p.unit],
				Role: p.role, Seniority: p.seniority, Locale: p.locale, Answers: g.answers(p, shift),
			})
		} else if i >= total-open {
			tokens = append(tokens, token)
		}
		invs[i] = Invitation{ID: id, ParticipantID: part.ID, CampaignID: c.ID, TokenHash: HashToken(token), Status: status}
	}
	if err := tx.CreateInBatches(&invs, 1000).Error; err != nil {
		return nil, err
	}
	// Shuffle so row order says nothing about which participant a response
	// came from; the wave's first release is made at once.
	g.rng.Shuffle(len(resps), func(i, j int) { resps[i], resps[j] = resps[j], resps[i] })
	if err := seedRelease(tx, g.secret, c, resps); err != nil {
		return nil, err
	}
	return tokens, nil
}

func ptr[T any](v T) *T { return &v }

// demoSecret derives a demo password or token of n random bytes from the
// installation's secret, so every run of `demo` prints the same one. Without
// a secret it is random.
func demoSecret(secret []byte, purpose string, n int) string {
	if len(secret) == 0 {
		return randomString(n)
	}
	b := mac(secret, "demo:"+purpose)
	for len(b) < n {
		b = append(b, mac(secret, "demo:"+purpose+":more")...)
	}
	return base64.RawURLEncoding.EncodeToString(b[:n])
}

// keepDemo fills res from the demo organisation when it exists whole (its
// three accounts and an open wave whose links the secret still opens),
// putting back a demo password or token that was changed or revoked. It
// reports false when there is nothing to keep and the demo must be built.
func keepDemo(ctx context.Context, db *DB, res *DemoResult, opt DemoOptions) (bool, error) {
	tx := db.Write.WithContext(ctx)
	var org Organisation
	if err := tx.Where("name = ?", DemoOrgName).Order("id").Limit(1).Find(&org).Error; err != nil || org.ID == 0 {
		return false, err
	}
	var cur Campaign
	if err := tx.Where("organisation_id = ? AND status = ? AND previous_id IS NOT NULL", org.ID, StatusOpen).Order("id DESC").Limit(1).Find(&cur).Error; err != nil || cur.ID == 0 {
		return false, err
	}
	var users []User
	if err := tx.Where("organisation_id = ? AND email IN ?", org.ID, []string{res.AdminEmail, res.ManagerEmail, res.LearnerEmail}).Find(&users).Error; err != nil || len(users) != 3 {
		return false, err
	}
	// The open links: the wave's last participants, as wave() chose them.
	var invs []Invitation
	err := tx.Raw(`SELECT i.* FROM invitations i JOIN participants p ON p.id = i.participant_id
		WHERE i.campaign_id = ? ORDER BY p.id DESC LIMIT ?`, cur.ID, opt.Links).Scan(&invs).Error
	if err != nil {
		return false, err
	}
	for k := len(invs) - 1; k >= 0; k-- {
		token := InviteToken(opt.Secret, invs[k].ID)
		if !hmac.Equal([]byte(HashToken(token)), []byte(invs[k].TokenHash)) {
			return false, nil // made with another secret: build it again
		}
		res.Links = append(res.Links, opt.BaseURL+"/s/"+token)
	}
	passwords := map[string]string{res.AdminEmail: res.AdminPassword, res.ManagerEmail: res.ManagerPassword, res.LearnerEmail: res.LearnerPassword}
	var managerID int64
	for _, u := range users {
		if u.Role == RoleManager {
			managerID = u.ID
		}
		if !CheckPassword(u.PasswordHash, passwords[u.Email]) {
			if err := setPassword(tx, u.ID, passwords[u.Email]); err != nil {
				return false, err
			}
		}
	}
	if managerID == 0 {
		return false, nil
	}
	var tokens int64
	now := time.Now().UTC()
	if err := tx.Model(&APIToken{}).Where("token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", HashToken(res.APIToken), now).Count(&tokens).Error; err != nil {
		return false, err
	}
	if tokens == 0 {
		tx.Where("token_hash = ?", HashToken(res.APIToken)).Delete(&APIToken{})
		expires := now.AddDate(0, 0, DefaultAPITokenDays)
		if err := tx.Create(&APIToken{UserID: managerID, Name: "demo", TokenHash: HashToken(res.APIToken), ExpiresAt: &expires}).Error; err != nil {
			return false, err
		}
	}
	res.CampaignID = cur.ID
	if cur.PreviousID != nil {
		res.PreviousCampaignID = *cur.PreviousID
	}
	res.Kept = true
	return true, nil
}
