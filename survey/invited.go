package survey

import "context"

// Response rates of a view (issue 15, item 1): a filtered view's rate
// divides by the invitations of the same group, not the organisation's.
// The participant list knows a participant's unit, role and seniority
// unless respondents chose them themselves; then no rate can be given.

// InvitedGroup counts a campaign's invitations of one participant-list profile.
type InvitedGroup struct {
	UnitID          *int64
	Role, Seniority string
	N               int
}

// CountInvitedGroups counts a campaign's invitations by the profile the
// participant list gives them.
func CountInvitedGroups(ctx context.Context, db *DB, campaignID int64) ([]InvitedGroup, error) {
	var out []InvitedGroup
	err := db.Read.WithContext(ctx).Table("invitations i").
		Select("p.unit_id AS unit_id, p.role AS role, p.seniority AS seniority, count(*) AS n").
		Joins("JOIN participants p ON p.id = i.participant_id").
		Where("i.campaign_id = ?", campaignID).Group("p.unit_id, p.role, p.seniority").Scan(&out).Error
	return out, err
}

// Reasons a view shows its responses without a rate.
const (
	// NoRateSelfChosen: respondents chose the filtered attribute themselves
	// (the campaign asks for it, or the participant list leaves it empty
	// for some), so the invitations of the group are not known.
	NoRateSelfChosen = "self_chosen"
	// NoRateOpenLink: an open link lets people answer without an invitation.
	NoRateOpenLink = "open_link"
	// NoRateNoInvitations: nobody was invited (e.g. an open link only).
	NoRateNoInvitations = "no_invitations"
)

// Participation is a view's response count against its invitations.
type Participation struct {
	Responses int `json:"responses"`
	// Invited is the invitations of the view's group; absent when unknown.
	Invited *int `json:"invited,omitempty"`
	// Rate is Responses / Invited at full precision; absent with NoRate.
	Rate Num `json:"rate,omitempty"`
	// NoRate says why there is no rate.
	NoRate string `json:"no_rate,omitempty"`
}

// ParticipationOf is the rate of a report's view. A suppressed view has
// none: nothing about its group is shown.
func ParticipationOf(c *Campaign, invited []InvitedGroup, rep *Report) *Participation {
	if rep == nil || rep.Suppressed || rep.Responses == nil {
		return nil
	}
	p := &Participation{Responses: *rep.Responses}
	f := rep.Filter
	if c.OpenLink {
		p.NoRate = NoRateOpenLink
		return p
	}
	n := 0
	for _, g := range invited {
		switch {
		case f.UnitID != nil && (c.AskUnit || g.UnitID == nil),
			f.Role != "" && (c.AskRole || g.Role == ""),
			f.Seniority != "" && (c.AskSeniority || g.Seniority == ""):
			if g.N > 0 {
				p.NoRate = NoRateSelfChosen
				return p
			}
		}
		if (f.UnitID == nil || g.UnitID != nil && *g.UnitID == *f.UnitID) && (f.Role == "" || g.Role == f.Role) &&
			(f.Seniority == "" || g.Seniority == f.Seniority) {
			n += g.N
		}
	}
	// A campaign asking for an attribute lets respondents choose it even
	// when nobody was invited with it empty.
	if f.UnitID != nil && c.AskUnit || f.Role != "" && c.AskRole || f.Seniority != "" && c.AskSeniority {
		p.NoRate = NoRateSelfChosen
		return p
	}
	if n == 0 {
		p.NoRate = NoRateNoInvitations
		return p
	}
	p.Invited = &n
	r := float64(p.Responses) / float64(n)
	p.Rate = &r
	return p
}
