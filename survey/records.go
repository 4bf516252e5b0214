package survey

import "time"

// The GORM records mirror the goose migrations; the migrations are the
// source of truth for the schema, these structs only map rows.

type Organisation struct {
	ID             int64
	Name           string
	Sector         string
	Region         string
	SizeBand       string
	BenchmarkOptIn bool
	CreatedAt      time.Time
}

type BusinessUnit struct {
	ID             int64
	OrganisationID int64
	ParentID       *int64
	Name           string
}

// User roles.
const (
	RolePlatformAdmin = "platform-admin"
	RoleOrgAdmin      = "org-admin"
	RoleManager       = "manager"
	RoleLearner       = "learner"
)

// UserRoles lists the account roles in order of power.
var UserRoles = []string{RolePlatformAdmin, RoleOrgAdmin, RoleManager, RoleLearner}

type User struct {
	ID             int64
	OrganisationID *int64
	Email          string
	Name           string
	PasswordHash   string
	Role           string
	Locale         string
	// SessionEpoch ends every session issued before it changed (EndSessions).
	SessionEpoch int
	// AllUnits: a manager who reads the whole organisation. Without it a
	// manager reads only their units (ManagerUnits), and with none nothing.
	AllUnits  bool
	CreatedAt time.Time
}

type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	// ExpiresAt nil: no expiry, chosen at creation.
	ExpiresAt *time.Time
}

// Campaign statuses.
const (
	StatusDraft  = "draft"
	StatusOpen   = "open"
	StatusClosed = "closed"
)

type Campaign struct {
	ID             int64
	OrganisationID int64
	Name           string
	WaveLabel      string
	ModelVersion   int
	OpensAt        *time.Time
	ClosesAt       *time.Time
	Locales        string
	KMin           int
	Status         string
	OpenLink       bool
	OpenKey        *string
	AskUnit        bool
	AskRole        bool
	AskSeniority   bool
	ContactName    string
	ContactEmail   string
	PreviousID     *int64
	SectionWeights string
	// Names is the campaign's name per language, as JSON ({"de": "…"}); see NameIn.
	Names     string
	CreatedAt time.Time
}

type Participant struct {
	ID         int64
	CampaignID int64
	Email      string
	Name       string
	UnitID     *int64
	Role       string
	Seniority  string
	Locale     string
}

// Invitation statuses.
const (
	InvitePending   = "pending"
	InviteSent      = "sent"
	InviteOpened    = "opened"
	InviteCompleted = "completed"
	InviteBounced   = "bounced"
)

type Invitation struct {
	ID            string
	ParticipantID int64
	CampaignID    int64
	TokenHash     string
	Status        string
	RemindersSent int
	OptedOut      bool
}

type Draft struct {
	Key        string `gorm:"primaryKey"`
	CampaignID int64
	Answers    []byte
	UnitID     *int64
	Role       string
	Seniority  string
	Locale     string
	LastPage   int
	UpdatedAt  time.Time
}

// Response is one submitted questionnaire. It deliberately has nothing that
// points at a person or a moment: see the anonymity section of the README.
type Response struct {
	ID         string
	CampaignID int64
	UnitID     *int64
	Role       string
	Seniority  string
	Locale     string
	Answers    []byte
}

type BenchmarkEntry struct {
	ID             int64
	Source         string
	CampaignID     *int64
	OrganisationID *int64
	Sector         string
	Region         string
	Year           int
	SizeBand       string
	Overall        float64
	SectionScores  string
}
