package survey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Answer is one rating as the autosave API carries it:
// {"practice":"AP-01","dimension":"intention","level":3} or "level":"dk".
type Answer struct {
	Practice  string      `json:"practice"`
	Dimension string      `json:"dimension"`
	Level     AnswerValue `json:"level"`
}

// AnswerValue is a packed answer value: 1..5, DontKnow, or Unanswered to clear.
type AnswerValue byte

func (l *AnswerValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		switch s {
		case "dk":
			*l = AnswerValue(DontKnow)
			return nil
		case "":
			*l = AnswerValue(Unanswered)
			return nil
		}
		return fmt.Errorf("level %q: want 1 to 5 or \"dk\"", s)
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil || n < 1 || n > NumLevels {
		return fmt.Errorf("level %s: want 1 to 5 or \"dk\"", b)
	}
	*l = AnswerValue(n)
	return nil
}

// UnmarshalText reads a form value: "1".."5" or "dk".
func (l *AnswerValue) UnmarshalText(b []byte) error {
	if string(b) == "dk" {
		*l = AnswerValue(DontKnow)
		return nil
	}
	if len(b) == 1 && b[0] >= '1' && b[0] <= '0'+NumLevels {
		*l = AnswerValue(b[0] - '0')
		return nil
	}
	return fmt.Errorf("%w: level %q, want 1 to 5 or dk", ErrInvalidAnswer, b)
}

func (l AnswerValue) MarshalJSON() ([]byte, error) {
	switch byte(l) {
	case DontKnow:
		return []byte(`"dk"`), nil
	case Unanswered:
		return []byte(`""`), nil
	}
	return []byte{'0' + byte(l)}, nil
}

// ErrInvalidAnswer is a rating that does not fit the campaign's model.
var ErrInvalidAnswer = errors.New("invalid answer")

// ParseAnswers reads one answer object or a list of them, rejecting unknown
// fields so a typo is an error rather than a silently lost answer.
func ParseAnswers(body []byte) ([]Answer, error) {
	body = bytes.TrimSpace(body)
	dec := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return err
		}
		if d.More() {
			return errors.New("trailing data after JSON value")
		}
		return nil
	}
	var list []Answer
	if len(body) > 0 && body[0] == '[' {
		if err := dec(&list); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidAnswer, err)
		}
	} else {
		var one Answer
		if err := dec(&one); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidAnswer, err)
		}
		list = []Answer{one}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no answers", ErrInvalidAnswer)
	}
	return list, nil
}

// Slots resolves answers to packed positions, validating every one before any
// is applied, so a bad batch stores nothing.
func (m *Model) Slots(answers []Answer) ([]SlotValue, error) {
	out := make([]SlotValue, len(answers))
	for i, a := range answers {
		p, ok := m.Practice(a.Practice)
		if !ok {
			return nil, fmt.Errorf("%w: unknown practice %q", ErrInvalidAnswer, a.Practice)
		}
		if a.Dimension != Intention && a.Dimension != Reality {
			return nil, fmt.Errorf("%w: unknown dimension %q", ErrInvalidAnswer, a.Dimension)
		}
		out[i] = SlotValue{Slot: m.Slot(p, a.Dimension), Value: byte(a.Level)}
	}
	return out, nil
}

// SlotValue is one position of a packed answer vector and what to store there.
type SlotValue struct {
	Slot  int
	Value byte
}

// Progress counts answered slots, overall and per section.
type Progress struct {
	Answered, Total int
	Sections        []SectionProgress
}

type SectionProgress struct {
	Answered, Total int
}

// Done reports whether every slot of the section has an answer (a level or don't know).
func (s SectionProgress) Done() bool { return s.Answered == s.Total }

// Percent is the share of answered slots, rounded down.
func (p Progress) Percent() int {
	if p.Total == 0 {
		return 0
	}
	return 100 * p.Answered / p.Total
}

// SectionsDone counts fully answered sections.
func (p Progress) SectionsDone() int {
	n := 0
	for _, s := range p.Sections {
		if s.Done() {
			n++
		}
	}
	return n
}

// FirstOpen is the index of the first section with an unanswered slot, or -1.
func (p Progress) FirstOpen() int {
	for i, s := range p.Sections {
		if !s.Done() {
			return i
		}
	}
	return -1
}

// ProgressOf measures a packed answer vector against the model.
func (m *Model) ProgressOf(answers []byte) Progress {
	p := Progress{Total: m.AnswerSlots(), Sections: make([]SectionProgress, len(m.Sections))}
	for i, s := range m.Sections {
		for _, pr := range s.Practices() {
			for _, d := range Dimensions {
				p.Sections[i].Total++
				if slot := m.Slot(pr, d); slot < len(answers) && answers[slot] != Unanswered {
					p.Sections[i].Answered++
					p.Answered++
				}
			}
		}
	}
	return p
}
