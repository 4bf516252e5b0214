package survey

import (
	"context"
	"database/sql"
)

// BuildReleasedReport builds the whole campaign's report (no filter) from
// its current release while the rows stream past, keeping none of them:
// for an earlier wave that a trend or the movement of recommendations
// reads, whose rows are needed only if someone filters its trend. The
// report is BuildReport's on the same rows, number for number. The
// release is nil when there is none yet.
func BuildReleasedReport(ctx context.Context, db *DB, m *Model, c *Campaign, unitNames map[int64]string) (*Report, *Release, error) {
	var stream *releasedStream
	r, err := readReleased(ctx, db, c.ID, func(*Release) releasedSink {
		stream = &releasedStream{m: m, profiles: profiles{index: map[string]int32{}}}
		return stream
	})
	if err != nil {
		return nil, nil, err
	}
	rep := newReport(c, ReportFilter{})
	if r == nil {
		return rep.tooFew(), nil, nil
	}
	agg, n, err := stream.aggregate(r)
	if err != nil {
		return nil, nil, err
	}
	if n < rep.K {
		return rep.tooFew(), r, nil
	}
	return fillReport(rep, m, c, agg, n, unitNames), r, nil
}

// releasedStream counts a release's rows by the profile they were read
// with: a tally and own scores each (in band 1: which band a profile's
// cell shows is known only once every row is read).
type releasedStream struct {
	m *Model
	profiles
	tuples []scannedTuple
	tally  []Tally
	own    []*ownTally
}

func (s *releasedStream) add(unit sql.NullInt64, role, level, answers []byte) {
	t, fresh := s.of(unit, role, level)
	if fresh {
		s.tuples = append(s.tuples, scannedTuple{attrs: attrsOfRaw(unit, role, level)})
		s.tally = append(s.tally, s.m.NewTally())
		s.own = append(s.own, newOwnTally(s.m))
	}
	s.tuples[t].n++
	s.tally[t].Add(answers)
	s.own[t].addAnswers(answers, 1)
}

// aggregate is what the release r shows of the rows read, under their
// cells' profiles, and how many rows that is.
func (s *releasedStream) aggregate(r *Release) (*aggregate, int, error) {
	shown, err := shownProfiles(r, s.tuples)
	if err != nil {
		return nil, 0, err
	}
	agg := newAggregate(s.m)
	n := 0
	for i, sp := range shown {
		if !sp.Shown {
			continue
		}
		n += s.tuples[i].n
		p := profile{unitIDKey(sp.UnitID), sp.Role, sp.Seniority}
		if t := agg.profiles[p]; t != nil {
			t.Merge(s.tally[i])
		} else {
			agg.profiles[p] = &s.tally[i]
		}
		agg.own.mergeSpread(s.own[i])
		agg.own.mergeBand(s.own[i], 1, bandOf(sp.Seniority))
	}
	return agg, n, nil
}
