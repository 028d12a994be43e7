package bot

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kefu-chat/kefu/internal/kb"
	"github.com/kefu-chat/kefu/internal/kefu"
)

// Suggestion is a knowledge-base match offered to an agent.
type Suggestion struct {
	FAQID      int64   `json:"faq_id,omitempty"`
	PassageID  int64   `json:"passage_id,omitempty"`
	Matched    string  `json:"matched"`
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"`
}

// Suggest returns the top k matches for question, FAQ answers and
// document passages alike, below the answering threshold too: the agent
// judges.
func Suggest(base *kb.Base, question string, k int) []Suggestion {
	out := []Suggestion{}
	for _, h := range base.Index().Search(question, k) {
		s := Suggestion{Matched: h.Matched, Confidence: h.Confidence}
		switch h.Kind {
		case kb.KindFAQ:
			e, ok := base.Index().Entry(h.ID)
			if !ok {
				continue
			}
			s.FAQID, s.Text = FAQID(h.ID), e.Answer
		case kb.KindPassage:
			p, ok := base.Index().Passage(h.ID)
			if !ok {
				continue
			}
			s.PassageID, _ = strconv.ParseInt(strings.TrimPrefix(h.ID, "p"), 10, 64)
			s.Text = p.Text
		}
		out = append(out, s)
	}
	return out
}

// QuestionGroup is a set of similar unanswered questions.
type QuestionGroup struct {
	Question string
	Count    int
	Examples []string
	terms    map[string]bool
}

// GroupQuestions clusters unanswered questions (newest first) so the
// business sees what to add to the FAQ: questions with the same
// normalised text join, and so do questions whose term sets overlap by at
// least half (Jaccard ≥ 0.5) with the group's first question. tok may be
// nil, then only equal normalised texts group.
func GroupQuestions(list []*kefu.Unanswered, tok *kb.Tokenizer) []QuestionGroup {
	var groups []QuestionGroup
	byText := map[string]int{}
	for _, u := range list {
		norm := kb.Normalize(u.Question)
		if i, ok := byText[norm]; ok {
			groups[i].add(u.Question)
			continue
		}
		terms := map[string]bool{}
		if tok != nil {
			for _, t := range tok.Tokens(u.Question) {
				terms[t] = true
			}
		}
		joined := -1
		for i := range groups {
			if len(terms) > 0 && jaccard(terms, groups[i].terms) >= 0.5 {
				joined = i
				break
			}
		}
		if joined < 0 {
			groups = append(groups, QuestionGroup{Question: u.Question, terms: terms})
			joined = len(groups) - 1
		}
		groups[joined].add(u.Question)
		byText[norm] = joined
	}
	return groups
}

func (g *QuestionGroup) add(q string) {
	g.Count++
	if len(g.Examples) < 5 && !slices.Contains(g.Examples, q) {
		g.Examples = append(g.Examples, q)
	}
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}
