package routing

import (
	"fmt"
	"slices"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
	// MaxHolidays bounds a schedule's holiday list; it also bounds how far
	// NextOpening has to look.
	MaxHolidays = 1000
	// MaxIntervalsPerDay bounds one weekday's intervals.
	MaxIntervalsPerDay = 24
)

// Interval is one opening on a weekday, in wall-clock minutes from local
// midnight: open from Start (inclusive) to End (exclusive). End below
// Start wraps past midnight into the next day, so a night shift 22:00 to
// 02:00 is {1320, 120}; End 1440 (or 0) is "until midnight" and {0, 1440}
// is the whole day.
//
// An interval belongs to the day it starts on: a holiday cancels the
// intervals that start on it, and a shift that began the evening before
// still runs to its end.
//
// Minutes are wall-clock, so "09:00" means 09:00 local on both sides of a
// daylight-saving change. On the day clocks spring forward an interval
// that starts in the skipped hour opens at the jump; on the day they fall
// back the repeated hour is open (or closed) both times.
type Interval struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

func (iv Interval) wraps() bool { return iv.End < iv.Start && iv.End != 0 }

// end returns End with "until midnight" written as 1440.
func (iv Interval) end() int {
	if iv.End == 0 {
		return minutesPerDay
	}
	return iv.End
}

func (iv Interval) String() string { return clock(iv.Start) + "-" + clock(iv.End) }

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Date is a calendar day in the schedule's time zone. It encodes as
// "2026-10-01" in JSON.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Date) UnmarshalText(b []byte) error {
	t, err := time.Parse(time.DateOnly, string(b))
	if err != nil {
		return kefu.Errorf(kefu.EInvalid, "invalid date %q: want YYYY-MM-DD", b)
	}
	*d = Date{t.Year(), t.Month(), t.Day()}
	return nil
}

func (d Date) before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

func dateOf(t time.Time) Date { y, m, d := t.Date(); return Date{y, m, d} }

// Schedule is an inbox's business hours.
type Schedule struct {
	// TimeZone is an IANA name such as "Asia/Shanghai"; empty means UTC.
	// "Local" is refused: it would depend on the server's environment.
	TimeZone string                      `json:"time_zone"`
	Weekly   map[time.Weekday][]Interval `json:"weekly"`
	Holidays []Date                      `json:"holidays"` // whole local days closed
}

// Validate reports the first problem with s as a kefu.Error with code
// EInvalid: an unknown time zone, an interval out of range or empty,
// overlapping intervals (including a night shift running into the next
// day's first interval), or an impossible holiday.
func (s *Schedule) Validate() error {
	if _, err := s.location(); err != nil {
		return err
	}
	for day := range s.Weekly {
		if day < time.Sunday || day > time.Saturday {
			return kefu.Errorf(kefu.EInvalid, "unknown weekday %d", int(day))
		}
	}
	var spans [][2]int // minute-of-week ranges, for the overlap check
	// Days in order, not map order, so the first problem reported is the
	// same every time.
	for day := time.Sunday; day <= time.Saturday; day++ {
		ivs := s.Weekly[day]
		if len(ivs) > MaxIntervalsPerDay {
			return kefu.Errorf(kefu.EInvalid, "%s has more than %d intervals", day, MaxIntervalsPerDay)
		}
		for _, iv := range ivs {
			if iv.Start < 0 || iv.Start >= minutesPerDay || iv.End < 0 || iv.End > minutesPerDay {
				return kefu.Errorf(kefu.EInvalid, "%s interval {start %d, end %d} is out of range: start must be 0-1439 and end 0-1440 minutes from midnight", day, iv.Start, iv.End)
			}
			if iv.Start == iv.end() {
				return kefu.Errorf(kefu.EInvalid, "%s interval %s is empty", day, iv)
			}
			start := int(day)*minutesPerDay + iv.Start
			end := int(day)*minutesPerDay + iv.end()
			if iv.wraps() {
				end += minutesPerDay
			}
			// Saturday's night shift runs into Sunday, the start of the week.
			if end > minutesPerWeek {
				spans = append(spans, [2]int{start, minutesPerWeek}, [2]int{0, end - minutesPerWeek})
			} else {
				spans = append(spans, [2]int{start, end})
			}
		}
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	for i := 1; i < len(spans); i++ {
		if spans[i][0] < spans[i-1][1] {
			return kefu.Errorf(kefu.EInvalid, "intervals overlap: %s and %s", weekMinute(spans[i-1][0]), weekMinute(spans[i][0]))
		}
	}
	if len(s.Holidays) > MaxHolidays {
		return kefu.Errorf(kefu.EInvalid, "more than %d holidays", MaxHolidays)
	}
	for _, h := range s.Holidays {
		if t := time.Date(h.Year, h.Month, h.Day, 12, 0, 0, 0, time.UTC); dateOf(t) != h {
			return kefu.Errorf(kefu.EInvalid, "holiday %s is not a calendar date", h)
		}
	}
	return nil
}

// weekMinute names a minute of the week for error messages: "Monday 09:00".
func weekMinute(m int) string {
	return time.Weekday(m/minutesPerDay).String() + " " + clock(m%minutesPerDay)
}

func (s *Schedule) location() (*time.Location, error) {
	if s.TimeZone == "Local" {
		return nil, kefu.Errorf(kefu.EInvalid, "time zone %q is not allowed: name an IANA zone such as \"Asia/Shanghai\"", s.TimeZone)
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, kefu.Errorf(kefu.EInvalid, "unknown time zone %q", s.TimeZone)
	}
	return loc, nil
}

// Hours is a validated schedule compiled for answering questions: the zone
// loaded, each day's intervals sorted, holidays in a set. Loading a zone
// reads the zoneinfo database, so a caller asking often (every new
// conversation) compiles once per schedule change and keeps the Hours. It
// is immutable and safe for concurrent use.
type Hours struct {
	loc      *time.Location
	weekly   [7][]Interval // sorted by Start
	holidays map[Date]bool
}

// Compile validates s and returns its Hours.
func (s *Schedule) Compile() (*Hours, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	loc, err := s.location()
	if err != nil {
		return nil, err
	}
	h := &Hours{loc: loc, holidays: make(map[Date]bool, len(s.Holidays))}
	for day, ivs := range s.Weekly {
		h.weekly[day] = slices.Clone(ivs)
		slices.SortFunc(h.weekly[day], func(a, b Interval) int { return a.Start - b.Start })
	}
	for _, d := range s.Holidays {
		h.holidays[d] = true
	}
	return h, nil
}

// Open reports whether s is open at the instant at. An invalid schedule is
// never open; callers validate on save. It compiles s on every call: keep
// an Hours instead when asking often.
func (s *Schedule) Open(at time.Time) bool {
	h, err := s.Compile()
	return err == nil && h.Open(at)
}

// NextOpening is Hours.NextOpening for s, false when s is invalid. It
// compiles s on every call.
func (s *Schedule) NextOpening(after time.Time) (time.Time, bool) {
	h, err := s.Compile()
	if err != nil {
		return time.Time{}, false
	}
	return h.NextOpening(after)
}

// Open reports whether the schedule is open at the instant at.
func (h *Hours) Open(at time.Time) bool { return h.open(at.In(h.loc)) }

// open takes a time already in the schedule's location.
func (h *Hours) open(local time.Time) bool {
	m := local.Hour()*60 + local.Minute()
	today := dateOf(local)
	if !h.holidays[today] {
		for _, iv := range h.weekly[local.Weekday()] {
			if m >= iv.Start && (iv.wraps() || m < iv.end()) {
				return true
			}
		}
	}
	// Yesterday's night shifts that run past midnight. Stepping back by
	// calendar date, not 24 hours, keeps this right across DST changes.
	y := time.Date(today.Year, today.Month, today.Day-1, 12, 0, 0, 0, local.Location())
	if !h.holidays[dateOf(y)] {
		for _, iv := range h.weekly[y.Weekday()] {
			if iv.wraps() && m < iv.End {
				return true
			}
		}
	}
	return false
}

// NextOpening returns the earliest instant at or after after at which the
// schedule is open: after itself when it is open then, otherwise the
// moment the next interval begins. It reports false when the schedule
// never opens (no intervals). The result is in after's location.
func (h *Hours) NextOpening(after time.Time) (time.Time, bool) {
	local := after.In(h.loc)
	if h.open(local) {
		return after, true
	}
	// Each holiday blocks at most one occurrence of a weekday, so within
	// 7*(holidays+1) days every weekday has had an ordinary occurrence: if
	// nothing opens by then, nothing ever will.
	days := 7*(len(h.holidays)+1) + 1
	y, mo, d := local.Date()
	for i := 0; i < days; i++ {
		noon := time.Date(y, mo, d+i, 12, 0, 0, 0, h.loc)
		date := dateOf(noon)
		if h.holidays[date] {
			continue
		}
		for _, iv := range h.weekly[noon.Weekday()] {
			for _, t := range wallClocks(date, iv.Start, h.loc) {
				// An interval lying wholly inside a skipped DST hour
				// never opens; open is the judge.
				if t.After(after) && h.open(t) {
					return t.In(after.Location()), true
				}
			}
		}
	}
	return time.Time{}, false
}

// wallClocks returns the instants on date at which loc's clock first
// reads minute m, earliest first. Usually there is one; in the hour
// repeated when clocks fall back there are two. When m falls in the gap
// where clocks spring forward there is none, and the answer is the
// instant of the jump, the first moment the clock has passed m.
func wallClocks(date Date, m int, loc *time.Location) []time.Time {
	t := time.Date(date.Year, date.Month, date.Day, m/60, m%60, 0, 0, loc)
	// The offsets in effect around t cover every way date and m can map
	// to an instant: zone changes are hours apart, not minutes.
	wall := time.Date(date.Year, date.Month, date.Day, m/60, m%60, 0, 0, time.UTC)
	var out []time.Time
	for _, probe := range []time.Time{t.Add(-12 * time.Hour), t, t.Add(12 * time.Hour)} {
		_, off := probe.Zone()
		c := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if c.Hour()*60+c.Minute() != m || dateOf(c) != date || slices.ContainsFunc(out, c.Equal) {
			continue
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		// m does not exist on date, and time.Date normalised it to one side
		// of the jump: the jump is where that side's zone ends or begins.
		start, end := t.ZoneBounds()
		jump := start
		if d := dateOf(t); d.before(date) || d == date && t.Hour()*60+t.Minute() < m {
			jump = end
		}
		if jump.IsZero() {
			jump = t
		}
		return []time.Time{jump}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}
