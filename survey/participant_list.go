package survey

import (
	"context"
	"slices"
	"strings"
)

// Delivery states of a participant's invitation, as the participants list
// shows and filters them. Whether the person answered is deliberately not
// one of them: "delivered" covers sent, opened and answered alike.
const (
	DeliveryNotInvited = "not_invited" // no invitation mail yet
	DeliveryQueued     = "queued"      // the invitation mail waits in the outbox
	DeliveryDelivered  = "delivered"
	DeliveryBounced    = "bounced"
	DeliveryOptedOut   = "opted_out" // asked for no more reminders
)

// DeliveryStates lists the states in the order a filter offers them.
var DeliveryStates = []string{DeliveryNotInvited, DeliveryQueued, DeliveryDelivered, DeliveryBounced, DeliveryOptedOut}

// ParticipantQuery narrows a campaign's participant list. Empty fields do
// not filter. Unit is a unit id, or "none" for people without one.
type ParticipantQuery struct {
	Search                       string // part of the name or the address, any case
	Unit, Role, Locale, Delivery string
	Offset, Limit                int
}

// ParticipantRow is a participant with the delivery state of their invitation.
type ParticipantRow struct {
	Participant
	Delivery string
}

// deliveryExpr computes a participant's delivery state (see DeliveryStates).
const deliveryExpr = `CASE
	WHEN i.opted_out THEN 'opted_out'
	WHEN i.status = 'bounced' THEN 'bounced'
	WHEN i.status IN ('sent', 'opened', 'completed') THEN 'delivered'
	WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.invitation_id = i.id AND o.kind = 'invite' AND o.sent_at IS NULL AND o.failed_at IS NULL) THEN 'queued'
	ELSE 'not_invited' END`

// FindParticipants lists a campaign's participants that match q, by
// address, with the number matching in all.
func FindParticipants(ctx context.Context, db *DB, campaignID int64, q ParticipantQuery) ([]ParticipantRow, int64, error) {
	where := []string{"1 = 1"}
	args := []any{campaignID}
	if s := strings.ToLower(strings.TrimSpace(q.Search)); s != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
		where = append(where, `(LOWER(x.email) LIKE ? ESCAPE '\' OR LOWER(x.name) LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	switch {
	case q.Unit == "none":
		where = append(where, "x.unit_id IS NULL")
	case q.Unit != "":
		where = append(where, "CAST(x.unit_id AS TEXT) = ?")
		args = append(args, q.Unit)
	}
	if q.Role != "" {
		where = append(where, "x.role = ?")
		args = append(args, q.Role)
	}
	if q.Locale != "" {
		where = append(where, "x.locale = ?")
		args = append(args, q.Locale)
	}
	if slices.Contains(DeliveryStates, q.Delivery) {
		where = append(where, "x.delivery = ?")
		args = append(args, q.Delivery)
	}
	from := `FROM (SELECT p.*, ` + deliveryExpr + ` AS delivery
		FROM participants p LEFT JOIN invitations i ON i.participant_id = p.id WHERE p.campaign_id = ?) x
		WHERE ` + strings.Join(where, " AND ")
	var total int64
	if err := db.Read.WithContext(ctx).Raw("SELECT count(*) "+from, args...).Scan(&total).Error; err != nil {
		return nil, 0, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var rows []ParticipantRow
	err := db.Read.WithContext(ctx).Raw("SELECT x.* "+from+" ORDER BY x.email LIMIT ? OFFSET ?", append(args, limit, max(q.Offset, 0))...).Scan(&rows).Error
	return rows, total, err
}
