package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"tiltline/survey/cells"
)

// Releases (DESIGN.md "Anonymity"): a campaign's results change only when
// a release is made, and every view, export and API call reads the current
// one. survey/cells decides what a release may hold; this file stores it.
//
// The responses table holds exactly the released responses: a submitted
// response waits sealed in pending_responses until a release takes it, so
// no column says which release showed a response or when it arrived. A
// released response keeps only its cell's profile (unit, role, band), which
// at least k responses share: its raw profile is never stored in the clear. On
// Postgres each release rewrites the campaign's rows in a fresh random
// order, so that neither their physical order (ctid) nor their transaction
// (xmin) follows the order of submission.

// Release is one published state of a campaign's results.
type Release struct {
	CampaignID int64 `gorm:"primaryKey"`
	Seq        int   `gorm:"primaryKey"`
	K          int
	Shown      int // responses it shows
	HeldBack   int
	Cells      string
	Added      string
	CreatedAt  time.Time
}

// Partition is the release's cells.
func (r *Release) Partition() (*cells.Partition, error) {
	var p cells.Partition
	if err := json.Unmarshal([]byte(r.Cells), &p); err != nil {
		return nil, fmt.Errorf("release %d of campaign %d: cells: %w", r.Seq, r.CampaignID, err)
	}
	return &p, nil
}

type addedCount struct {
	Attrs cells.Attrs `json:"t"`
	N     int         `json:"n"`
}

func attrsOf(unit *int64, role, seniority string) cells.Attrs {
	a := cells.Attrs{Unit: cells.NoUnit, Role: role, Seniority: seniority}
	if unit != nil {
		a.Unit = *unit
	}
	return a
}

// Generalised is a cell's profile as reports show it: a pooled unit is no
// unit, a pooled role or band is cells.Other.
func generalised(c cells.Attrs) (unit *int64, role, seniority string) {
	if c.Unit != cells.NoUnit {
		u := c.Unit
		unit = &u
	}
	return unit, c.Role, c.Seniority
}

// CurrentRelease is the campaign's latest release, nil when there is none.
func CurrentRelease(ctx context.Context, db *DB, campaignID int64) (*Release, error) {
	var r Release
	err := db.Read.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("seq DESC").Limit(1).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &r, err
}

// CurrentReleaseSeq is the number of the campaign's latest release, 0 for
// none: cheap enough to ask on every request.
func CurrentReleaseSeq(ctx context.Context, db *DB, campaignID int64) (int, error) {
	var seq *int
	err := db.Read.WithContext(ctx).Model(&Release{}).Select("MAX(seq)").Where("campaign_id = ?", campaignID).Scan(&seq).Error
	if err != nil || seq == nil {
		return 0, err
	}
	return *seq, nil
}

// ReleasedRows is a release and its responses, each with its cell's profile.
type ReleasedRows struct {
	Release *Release // nil: nothing released yet
	Rows    []ReportRow
}

// LoadReleasedRows reads the campaign's current release: its responses with
// the attributes of their cells, in storage order. That order is random
// already and says nothing of when a response arrived: SQLite stores the
// table by the random id, and on Postgres each release rewrites the
// campaign's rows shuffled (insertShuffled). Asking for id order on
// Postgres made it sort every row of the campaign, on disk once the rows
// outgrow work_mem: most of the first report's time at 100,000.
//
// It is the first step of every report, so it is written for a million
// rows: no reflection per row, the rows' answers in a few large blocks
// rather than one allocation each, and the few distinct profiles (unit,
// role, band) shared by the rows that have them.
func LoadReleasedRows(ctx context.Context, db *DB, campaignID int64) (ReleasedRows, error) {
	var scan *releasedScan
	r, err := readReleased(ctx, db, campaignID, func(r *Release) releasedSink {
		scan = newReleasedScan(r.Shown)
		return scan
	})
	if r == nil || err != nil {
		return ReleasedRows{}, err
	}
	return scan.released(r)
}

// releasedSink takes a release's rows as they are read; the slices are
// valid only during the call.
type releasedSink interface {
	add(unit sql.NullInt64, role, level, answers []byte)
}

// readReleased reads the campaign's current release and passes its rows,
// in storage order, to the sink made for it; nil when there is none. The
// release and its rows are read in one snapshot: a release made in
// between must not mix with the rows of the one before.
func readReleased(ctx context.Context, db *DB, campaignID int64, sink func(*Release) releasedSink) (*Release, error) {
	if db.Dialect == "postgres" {
		return readReleasedPostgres(ctx, db, campaignID, sink)
	}
	var out *Release
	err := db.Read.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r Release
		err := tx.Where("campaign_id = ?", campaignID).Order("seq DESC").Limit(1).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.Model(&Response{}).Select("unit_id", "role", "seniority", "answers").
			Where("campaign_id = ?", campaignID).Rows()
		if err != nil {
			return err
		}
		defer res.Close()
		to := sink(&r)
		var (
			unit              sql.NullInt64
			role, level, ansB sql.RawBytes
		)
		for res.Next() {
			if err := res.Scan(&unit, &role, &level, &ansB); err != nil {
				return err
			}
			to.add(unit, role, level, ansB)
		}
		if err := res.Err(); err != nil {
			return err
		}
		out = &r
		return nil
	}, db.Snapshot())
	return out, err
}

// releasedScan gathers a release's rows as they are read.
type releasedScan struct {
	rows   []scannedRow
	tuples []scannedTuple
	profiles
	arena []byte
}

// profiles numbers the distinct profiles (unit, role, band) of the rows
// read, in the order they first appear.
type profiles struct {
	index   map[string]int32
	scratch []byte
}

// of returns the profile's number, and whether it is new.
func (p *profiles) of(unit sql.NullInt64, role, level []byte) (int32, bool) {
	// The profile as one key; m[string(b)] does not allocate, so only
	// a new profile costs an allocation.
	p.scratch = strconv.AppendInt(p.scratch[:0], unit.Int64, 10)
	if !unit.Valid {
		p.scratch = append(p.scratch, '-')
	}
	p.scratch = append(append(append(append(p.scratch, 0), role...), 0), level...)
	if t, ok := p.index[string(p.scratch)]; ok {
		return t, false
	}
	t := int32(len(p.index))
	p.index[string(p.scratch)] = t
	return t, true
}

// attrsOfRaw is a profile as read.
func attrsOfRaw(unit sql.NullInt64, role, level []byte) cells.Attrs {
	var u *int64
	if unit.Valid {
		id := unit.Int64
		u = &id
	}
	return attrsOf(u, string(role), string(level))
}

// scannedRow is a released response as read: its answers and the index of
// its profile among the campaign's distinct ones.
type scannedRow struct {
	answers []byte
	tuple   int32
}

type scannedTuple struct {
	attrs cells.Attrs
	n     int
}

// newReleasedScan expects about sizeHint rows (the release's count).
func newReleasedScan(sizeHint int) *releasedScan {
	return &releasedScan{rows: make([]scannedRow, 0, max(sizeHint, 0)), profiles: profiles{index: map[string]int32{}}}
}

// add keeps one row; the slices are only read during the call.
func (s *releasedScan) add(unit sql.NullInt64, role, level, answers []byte) {
	t, fresh := s.of(unit, role, level)
	if fresh {
		s.tuples = append(s.tuples, scannedTuple{attrs: attrsOfRaw(unit, role, level)})
	}
	s.tuples[t].n++
	if cap(s.arena)-len(s.arena) < len(answers) {
		s.arena = make([]byte, 0, max(len(answers), 1<<20))
	}
	n := len(s.arena)
	s.arena = append(s.arena, answers...)
	s.rows = append(s.rows, scannedRow{answers: s.arena[n:len(s.arena):len(s.arena)], tuple: t})
}

// released is the rows the release r shows, each with its cell's profile.
func (s *releasedScan) released(r *Release) (ReleasedRows, error) {
	shown, err := shownProfiles(r, s.tuples)
	if err != nil {
		return ReleasedRows{}, err
	}
	kept := make([]ReportRow, 0, len(s.rows))
	for _, row := range s.rows {
		if b := &shown[row.tuple]; b.Shown {
			kept = append(kept, ReportRow{UnitID: b.UnitID, Role: b.Role, Seniority: b.Seniority, Answers: row.answers})
		}
	}
	return ReleasedRows{Release: r, Rows: kept}, nil
}

// shownProfile is what a release shows of the rows of one profile as
// read: whether it shows them, and under which profile (their cell's).
type shownProfile struct {
	ReportRow // the cell's profile, shared by its rows; no answers
	Shown     bool
}

// shownProfiles is, for each profile read (with how many rows had it),
// what the release r shows of it. Every cell of a release holds at least
// k; only responses stored before releases existed can fall short, and
// they are not shown.
func shownProfiles(r *Release, tuples []scannedTuple) ([]shownProfile, error) {
	p, err := r.Partition()
	if err != nil {
		return nil, err
	}
	cellOf := make([]cells.Attrs, len(tuples))
	sizes := map[cells.Attrs]int{}
	for i, t := range tuples {
		cellOf[i] = p.Cell(t.attrs)
		sizes[cellOf[i]] += t.n
	}
	out := make([]shownProfile, len(tuples))
	for i, c := range cellOf {
		u, role, band := generalised(c)
		out[i] = shownProfile{ReportRow: ReportRow{UnitID: u, Role: role, Seniority: band}, Shown: sizes[c] >= p.K}
	}
	return out, nil
}

// Snapshot makes a read transaction see one state of the database
// throughout (Postgres reads each statement afresh otherwise; SQLite's read
// transactions are snapshots already).
func (db *DB) Snapshot() *sql.TxOptions {
	if db.Dialect == "postgres" {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}

// PublishRelease releases what the rules allow of a campaign's waiting
// responses and returns the current release (nil: none yet). It is safe to
// call at any time and from several instances: one publishes at a time.
func PublishRelease(ctx context.Context, db *DB, secret []byte, campaignID int64) (*Release, error) {
	var out *Release
	err := db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Campaign
		q := tx
		if db.Dialect == "postgres" {
			// FOR UPDATE, not NO KEY UPDATE, although it makes every draft
			// start and submit of the campaign (their foreign-key check,
			// KEY SHARE) wait for the release: running beside it, their
			// invitation updates could not prune the versions the release's
			// snapshot still sees, left their page and lined up in storage
			// in the order of submission (TestAnonymityAudit failed 1 in 6).
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.First(&c, campaignID).Error; err != nil {
			return err
		}
		var rels []Release
		if err := tx.Where("campaign_id = ?", campaignID).Order("seq").Find(&rels).Error; err != nil {
			return err
		}
		h := cells.History{Added: map[cells.Attrs][]int{}}
		released := 0
		for j := range rels {
			p, err := rels[j].Partition()
			if err != nil {
				return err
			}
			h.Partitions = append(h.Partitions, p)
			var added []addedCount
			if err := json.Unmarshal([]byte(rels[j].Added), &added); err != nil {
				return fmt.Errorf("release %d of campaign %d: added: %w", rels[j].Seq, campaignID, err)
			}
			for _, a := range added {
				counts := h.Added[a.Attrs]
				for len(counts) <= j {
					counts = append(counts, 0)
				}
				counts[j] += a.N
				h.Added[a.Attrs] = counts
				released += a.N
			}
		}
		if len(rels) == 0 {
			// Responses stored before releases existed wait like submitted
			// ones: sealed, until a release can take them.
			if err := resealUnreleased(tx, secret, campaignID); err != nil {
				return err
			}
		}
		pending, err := LoadPending(tx, secret, campaignID)
		if err != nil {
			return err
		}
		waiting := map[cells.Attrs]int{}
		for _, p := range pending {
			waiting[attrsOf(p.UnitID, p.Role, p.Seniority)]++
		}
		d := cells.Plan(h, waiting, EffectiveK(c.KMin))
		if d == nil {
			if len(rels) == 0 {
				return nil
			}
			out = &rels[len(rels)-1]
			if c.Status != StatusClosed || out.HeldBack == len(pending) {
				return nil
			}
			// The final release of a closed campaign counts what it holds
			// back. (An open campaign's count of waiting responses is not
			// updated without a release: it would date each submit.)
			final := *out
			final.Seq, final.HeldBack, final.Added, final.CreatedAt = out.Seq+1, len(pending), "[]", time.Time{}
			if err := tx.Create(&final).Error; err != nil {
				return err
			}
			out = &final
			return nil
		}
		var take []PendingResponse
		var ids []string
		for _, p := range pending {
			if d.Take[attrsOf(p.UnitID, p.Role, p.Seniority)] > 0 {
				take = append(take, p)
				ids = append(ids, p.ID)
			}
		}
		if err := DeletePending(tx, ids); err != nil {
			return err
		}
		fresh := make([]Response, len(take))
		for i, p := range take {
			// Stored under its cell's profile only: the raw unit, role and
			// band could single a person out of the participant list.
			unit, role, band := generalised(d.Partition.Cell(attrsOf(p.UnitID, p.Role, p.Seniority)))
			fresh[i] = Response{ID: uuid.NewString(), CampaignID: campaignID, UnitID: unit,
				Role: role, Seniority: band, Locale: p.Locale, Answers: p.Answers}
		}
		if err := insertShuffled(tx, db.Dialect, campaignID, fresh); err != nil {
			return err
		}
		r, err := newRelease(campaignID, len(rels)+1, released, d)
		if err != nil {
			return err
		}
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// newRelease is the release row of a decision: seq, with released
// responses shown before it.
func newRelease(campaignID int64, seq, released int, d *cells.Decision) (*Release, error) {
	cellsJSON, err := json.Marshal(d.Partition)
	if err != nil {
		return nil, err
	}
	byCell := map[cells.Attrs]int{}
	for t, n := range d.Take {
		byCell[d.Partition.Cell(t)] += n
	}
	added := make([]addedCount, 0, len(byCell))
	for c, n := range byCell {
		if n > 0 {
			added = append(added, addedCount{c, n})
		}
	}
	addedJSON, err := json.Marshal(added)
	if err != nil {
		return nil, err
	}
	return &Release{CampaignID: campaignID, Seq: seq, K: d.Partition.K,
		Shown: released + d.Taken, HeldBack: d.HeldBack, Cells: string(cellsJSON), Added: string(addedJSON)}, nil
}

// seedRelease stores responses generated all at once (the demo's, the
// bench's) as a campaign's first release, as PublishRelease would make it
// had they all been submitted and waiting: the same plan, responses stored
// under their cells' profiles in random order, what the plan holds back
// sealed in pending_responses. It writes them directly, without sealing and
// opening every one and rewriting the campaign's rows, so that a million
// take a minute, not an hour. The campaign must have no release and no
// responses yet.
func seedRelease(tx *gorm.DB, secret []byte, c *Campaign, resps []Response) error {
	waiting := map[cells.Attrs]int{}
	for i := range resps {
		waiting[attrsOf(resps[i].UnitID, resps[i].Role, resps[i].Seniority)]++
	}
	d := cells.Plan(cells.History{Added: map[cells.Attrs][]int{}}, waiting, EffectiveK(c.KMin))
	var held []PendingResponse
	shown := resps[:0:0]
	for _, r := range resps {
		t := attrsOf(r.UnitID, r.Role, r.Seniority)
		if d == nil || d.Take[t] == 0 {
			held = append(held, PendingResponse{CampaignID: c.ID, UnitID: r.UnitID, Role: r.Role, Seniority: r.Seniority, Locale: r.Locale, Answers: r.Answers})
			continue
		}
		r.UnitID, r.Role, r.Seniority = generalised(d.Partition.Cell(t))
		shown = append(shown, r)
	}
	if len(held) > 0 {
		if _, err := SealPendings(tx, secret, held); err != nil {
			return err
		}
	}
	if d == nil {
		return nil
	}
	rand.Shuffle(len(shown), func(i, j int) { shown[i], shown[j] = shown[j], shown[i] })
	if err := tx.CreateInBatches(shown, 1000).Error; err != nil {
		return err
	}
	r, err := newRelease(c.ID, 1, 0, d)
	if err != nil {
		return err
	}
	return tx.Create(r).Error
}

// resealUnreleased moves responses stored before releases existed (or by
// the demo) into pending_responses, to be released like submitted ones.
func resealUnreleased(tx *gorm.DB, secret []byte, campaignID int64) error {
	var old []Response
	if err := tx.Where("campaign_id = ?", campaignID).Find(&old).Error; err != nil || len(old) == 0 {
		return err
	}
	ps := make([]PendingResponse, len(old))
	for i, r := range old {
		ps[i] = PendingResponse{CampaignID: campaignID, UnitID: r.UnitID, Role: r.Role, Seniority: r.Seniority, Locale: r.Locale, Answers: r.Answers}
	}
	if _, err := SealPendings(tx, secret, ps); err != nil {
		return err
	}
	return tx.Where("campaign_id = ?", campaignID).Delete(&Response{}).Error
}

// insertShuffled adds released responses in random order. On Postgres it
// rewrites all of the campaign's rows, shuffled, so that their physical
// order and transaction id say nothing about when each arrived; on SQLite
// the table is stored in the order of its random ids (WITHOUT ROWID).
//
// The rewrite is one statement in the database: the campaign's rows never
// travel to the server and back. Loading them through GORM made a release's
// time (and the campaign lock it holds) and the server's memory grow with the
// whole campaign, a million rows at a million responses.
func insertShuffled(tx *gorm.DB, dialect string, campaignID int64, fresh []Response) error {
	if len(fresh) == 0 {
		return nil
	}
	// Shuffled even where rewritten at once: until vacuumed, the first copies
	// stay on their pages in the order they were written.
	rand.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
	if err := tx.CreateInBatches(fresh, 500).Error; err != nil {
		return err
	}
	if dialect != "postgres" {
		return nil
	}
	return tx.Exec(`WITH moved AS (
		DELETE FROM responses WHERE campaign_id = ?
		RETURNING id, campaign_id, unit_id, role, seniority, locale, answers)
	INSERT INTO responses (id, campaign_id, unit_id, role, seniority, locale, answers)
	SELECT id, campaign_id, unit_id, role, seniority, locale, answers FROM moved ORDER BY random()`, campaignID).Error
}

// CampaignsWaiting lists campaigns with responses waiting for a release:
// pending ones, or responses stored before releases existed.
func CampaignsWaiting(ctx context.Context, db *DB) ([]int64, error) {
	var ids []int64
	// By campaign, not by response: the second half looks up one response
	// of each campaign without a release, where reading every response
	// (DISTINCT over the table) took two seconds at 1.8 million.
	err := db.Read.WithContext(ctx).Raw(`SELECT DISTINCT campaign_id FROM pending_responses
		UNION SELECT c.id FROM campaigns c
		WHERE NOT EXISTS (SELECT 1 FROM releases l WHERE l.campaign_id = c.id)
		  AND EXISTS (SELECT 1 FROM responses r WHERE r.campaign_id = c.id)`).Scan(&ids).Error
	return ids, err
}

// CountWaiting is the number of a campaign's responses not (yet) shown:
// pending ones, and any stored before releases existed.
func CountWaiting(ctx context.Context, db *DB, campaignID int64) (int64, error) {
	var n int64
	err := db.Read.WithContext(ctx).Raw(`SELECT (SELECT COUNT(*) FROM pending_responses WHERE campaign_id = ?)
		+ (SELECT COUNT(*) FROM responses r WHERE r.campaign_id = ?
		   AND NOT EXISTS (SELECT 1 FROM releases l WHERE l.campaign_id = r.campaign_id))`, campaignID, campaignID).Scan(&n).Error
	return n, err
}
