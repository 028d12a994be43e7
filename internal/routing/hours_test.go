package routing

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kefu-chat/kefu/internal/kefu"
)

func hm(h, m int) int { return h*60 + m }

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func weekdays(iv ...Interval) map[time.Weekday][]Interval {
	w := map[time.Weekday][]Interval{}
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = iv
	}
	return w
}

func mustValid(t *testing.T, s Schedule) Schedule {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return s
}

func TestScheduleOpen(t *testing.T) {
	officeShanghai := Schedule{TimeZone: "Asia/Shanghai", Weekly: weekdays(Interval{hm(9, 0), hm(18, 0)})}
	officeNewYork := Schedule{TimeZone: "America/New_York", Weekly: weekdays(Interval{hm(9, 0), hm(18, 0)})}
	// A night shift Friday 22:00 to Saturday 02:00, and Saturday 22:00 into
	// Sunday, the first day of the week.
	night := Schedule{TimeZone: "UTC", Weekly: map[time.Weekday][]Interval{
		time.Friday:   {{hm(22, 0), hm(2, 0)}},
		time.Saturday: {{hm(22, 0), hm(2, 0)}},
	}}
	nightFridayHoliday := night
	nightFridayHoliday.Holidays = []Date{{2026, 11, 27}}
	nightSaturdayHoliday := night
	nightSaturdayHoliday.Holidays = []Date{{2026, 11, 28}}
	// Sunday 00:00-04:00 and 00:00-01:30 in New York, across both 2026
	// changes: clocks spring forward 02:00->03:00 on 8 March and fall back
	// 02:00->01:00 on 1 November.
	dstEarly := Schedule{TimeZone: "America/New_York", Weekly: map[time.Weekday][]Interval{time.Sunday: {{0, hm(4, 0)}}}}
	dstRepeat := Schedule{TimeZone: "America/New_York", Weekly: map[time.Weekday][]Interval{time.Sunday: {{0, hm(1, 30)}}}}
	untilMidnight := Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{hm(20, 0), 0}}}}
	wholeDay := Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{0, 1440}}}}
	golden := officeShanghai
	golden.Holidays = []Date{{2026, 10, 1}, {2026, 10, 2}}
	allDayHoliday := Schedule{TimeZone: "Asia/Shanghai", Holidays: []Date{{2026, 10, 1}}, Weekly: map[time.Weekday][]Interval{}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		allDayHoliday.Weekly[d] = []Interval{{0, 1440}}
	}

	tests := []struct {
		name string
		s    Schedule
		at   string
		want bool
	}{
		// 2026-11-23 is a Monday. 01:00 UTC is 09:00 in Shanghai and 20:00
		// Sunday in New York.
		{"shanghai opens at 09:00 local", officeShanghai, "2026-11-23T01:00:00Z", true},
		{"shanghai closed a minute before", officeShanghai, "2026-11-23T00:59:59Z", false},
		{"shanghai closes at 18:00 local", officeShanghai, "2026-11-23T10:00:00Z", false},
		{"shanghai open a second before closing", officeShanghai, "2026-11-23T09:59:59Z", true},
		{"same instant: new york is on sunday evening", officeNewYork, "2026-11-23T01:00:00Z", false},
		{"new york opens at 09:00 EST", officeNewYork, "2026-11-23T14:00:00Z", true},
		{"new york 09:00 EST is 22:00 in shanghai", officeShanghai, "2026-11-23T14:00:00Z", false},
		{"shanghai friday 17:00 is new york friday 04:00", officeNewYork, "2026-11-27T09:00:00Z", false},
		{"shanghai saturday", officeShanghai, "2026-11-28T03:00:00Z", false},
		{"location of at does not matter", officeShanghai, "2026-11-23T09:00:00+08:00", true},

		// Midnight.
		{"night shift before midnight", night, "2026-11-27T23:30:00Z", true},
		{"night shift after midnight", night, "2026-11-28T01:59:59Z", true},
		{"night shift ends at 02:00", night, "2026-11-28T02:00:00Z", false},
		{"night shift not yet begun", night, "2026-11-27T21:59:00Z", false},
		{"saturday shift runs into sunday", night, "2026-11-29T01:00:00Z", true},
		{"no shift on thursday night", night, "2026-11-27T01:00:00Z", false},
		{"friday holiday cancels its shift", nightFridayHoliday, "2026-11-27T23:00:00Z", false},
		{"friday holiday cancels its shift after midnight", nightFridayHoliday, "2026-11-28T01:00:00Z", false},
		{"saturday holiday keeps friday's shift", nightSaturdayHoliday, "2026-11-28T01:00:00Z", true},
		{"saturday holiday cancels saturday's shift", nightSaturdayHoliday, "2026-11-28T23:00:00Z", false},
		{"end 0 is until midnight", untilMidnight, "2026-11-23T23:59:59Z", true},
		{"end 0 does not wrap", untilMidnight, "2026-11-24T00:00:00Z", false},
		{"whole day from midnight", wholeDay, "2026-11-23T00:00:00Z", true},
		{"whole day to midnight", wholeDay, "2026-11-23T23:59:59Z", true},
		{"whole day ends", wholeDay, "2026-11-24T00:00:00Z", false},

		// Holidays are local days.
		{"holiday", golden, "2026-10-01T03:00:00Z", false},
		{"day before the holiday", golden, "2026-09-30T09:00:00Z", true},                   // 17:00 on 30 Sep in Shanghai
		{"holiday starts at local midnight", allDayHoliday, "2026-09-30T16:00:00Z", false}, // 00:00 on 1 Oct in Shanghai
		{"not yet holiday by local date", allDayHoliday, "2026-09-30T15:59:59Z", true},     // 23:59:59 on 30 Sep
		{"holiday ends at local midnight", allDayHoliday, "2026-10-01T16:00:00Z", true},
		{"day after the holidays", golden, "2026-10-05T01:00:00Z", true},

		// DST, spring forward: 01:30 EST, then the clock jumps to 03:00 EDT.
		{"spring: before the jump", dstEarly, "2026-03-08T06:30:00Z", true}, // 01:30 EST
		{"spring: after the jump", dstEarly, "2026-03-08T07:30:00Z", true},  // 03:30 EDT
		{"spring: closes at 04:00 EDT", dstEarly, "2026-03-08T08:00:00Z", false},
		// DST, fall back: 01:00-02:00 happens twice.
		{"fall: first 01:15 (EDT)", dstRepeat, "2026-11-01T05:15:00Z", true},
		{"fall: second 01:15 (EST)", dstRepeat, "2026-11-01T06:15:00Z", true},
		{"fall: second 01:30 (EST) closed", dstRepeat, "2026-11-01T06:30:00Z", false},
		{"fall: 04:00 EST closed", dstEarly, "2026-11-01T09:00:00Z", false},
		{"fall: 03:59 EST open", dstEarly, "2026-11-01T08:59:00Z", true},

		{"never open", Schedule{TimeZone: "Asia/Shanghai"}, "2026-11-23T03:00:00Z", false},
		{"unknown zone is never open", Schedule{TimeZone: "Mars/Olympus", Weekly: map[time.Weekday][]Interval{time.Monday: {{0, 1440}}}}, "2026-11-23T12:00:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Open(utc(tt.at)); got != tt.want {
				t.Fatalf("Open(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestScheduleNextOpening(t *testing.T) {
	officeShanghai := Schedule{TimeZone: "Asia/Shanghai", Weekly: weekdays(Interval{hm(9, 0), hm(18, 0)})}
	officeNewYork := Schedule{TimeZone: "America/New_York", Weekly: weekdays(Interval{hm(9, 0), hm(18, 0)})}
	split := Schedule{TimeZone: "Asia/Shanghai", Weekly: map[time.Weekday][]Interval{
		// Listed out of order on purpose.
		time.Monday: {{hm(14, 0), hm(18, 0)}, {hm(9, 0), hm(12, 0)}},
	}}
	golden := officeShanghai
	golden.Holidays = []Date{{2026, 10, 1}, {2026, 10, 2}, {2026, 10, 3}, {2026, 10, 4}, {2026, 10, 5}, {2026, 10, 6}, {2026, 10, 7}}
	night := Schedule{Weekly: map[time.Weekday][]Interval{time.Friday: {{hm(22, 0), hm(2, 0)}}}}
	springGap := Schedule{TimeZone: "America/New_York", Weekly: map[time.Weekday][]Interval{time.Sunday: {{hm(2, 30), hm(5, 0)}}}}
	inGap := Schedule{TimeZone: "America/New_York", Weekly: map[time.Weekday][]Interval{time.Sunday: {{hm(2, 0), hm(2, 30)}}}}
	fallRepeat := Schedule{TimeZone: "America/New_York", Weekly: map[time.Weekday][]Interval{time.Sunday: {{hm(1, 30), hm(3, 0)}}}}
	// Havana springs forward at midnight: 8 March 2026 has no 00:00.
	havana := Schedule{TimeZone: "America/Havana", Weekly: map[time.Weekday][]Interval{time.Sunday: {{0, hm(2, 0)}}}}
	mondays := Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{hm(9, 0), hm(10, 0)}}}}
	for d := 0; d < 5; d++ {
		mondays.Holidays = append(mondays.Holidays, dateOf(utc("2026-11-30T00:00:00Z").AddDate(0, 0, 7*d)))
	}

	tests := []struct {
		name   string
		s      Schedule
		after  string
		want   string // "": never
		wantOK bool
	}{
		{"open now returns now", officeShanghai, "2026-11-23T02:00:00Z", "2026-11-23T02:00:00Z", true},
		{"before opening same day", officeShanghai, "2026-11-22T23:00:00Z", "2026-11-23T01:00:00Z", true},
		{"exactly at closing: next day", officeShanghai, "2026-11-23T10:00:00Z", "2026-11-24T01:00:00Z", true},
		{"friday evening to monday", officeShanghai, "2026-11-27T12:00:00Z", "2026-11-30T01:00:00Z", true},
		{"new york friday evening to monday", officeNewYork, "2026-11-27T23:30:00Z", "2026-11-30T14:00:00Z", true},
		// Friday 6 March is EST, Monday 9 March EDT: 09:00 is 13:00 UTC.
		{"new york across spring forward", officeNewYork, "2026-03-06T23:30:00Z", "2026-03-09T13:00:00Z", true},
		{"new york across fall back", officeNewYork, "2026-10-30T23:30:00Z", "2026-11-02T14:00:00Z", true},
		{"lunch break", split, "2026-11-23T04:30:00Z", "2026-11-23T06:00:00Z", true},
		{"before the first of two intervals", split, "2026-11-23T00:00:00Z", "2026-11-23T01:00:00Z", true},
		{"golden week", golden, "2026-09-30T10:00:00Z", "2026-10-08T01:00:00Z", true},
		{"night shift opens at 22:00", night, "2026-11-27T12:00:00Z", "2026-11-27T22:00:00Z", true},
		{"inside night shift after midnight", night, "2026-11-28T01:00:00Z", "2026-11-28T01:00:00Z", true},
		{"after night shift: next friday", night, "2026-11-28T02:00:00Z", "2026-12-04T22:00:00Z", true},
		// 02:30 does not exist on 8 March 2026 in New York; the interval
		// opens when the clock jumps to 03:00 EDT (07:00 UTC).
		{"start in spring gap opens at the jump", springGap, "2026-03-08T05:00:00Z", "2026-03-08T07:00:00Z", true},
		// 02:00-02:30 never happens on 8 March: the next is 15 March, EDT.
		{"interval wholly in the gap is skipped", inGap, "2026-03-08T05:00:00Z", "2026-03-15T06:00:00Z", true},
		// 01:30 happens twice on 1 November; the first is 05:30 UTC (EDT).
		{"fall back: the first 01:30", fallRepeat, "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z", true},
		// Wall-clock minutes: at 01:10 EST the clock reads before 01:30
		// again, so the interval opens a second time at 01:30 EST.
		{"fall back: the repeated 01:30", fallRepeat, "2026-11-01T06:10:00Z", "2026-11-01T06:30:00Z", true},
		{"midnight skipped: opens at the jump", havana, "2026-03-08T04:00:00Z", "2026-03-08T05:00:00Z", true},
		{"five monday holidays in a row", mondays, "2026-11-24T00:00:00Z", "2027-01-04T09:00:00Z", true},
		{"never open", Schedule{TimeZone: "Asia/Shanghai"}, "2026-11-23T00:00:00Z", "", false},
		{"empty days are never open", Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: nil}}, "2026-11-23T00:00:00Z", "", false},
		{"unknown zone", Schedule{TimeZone: "Nowhere/Land", Weekly: weekdays(Interval{0, 1440})}, "2026-11-23T00:00:00Z", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := utc(tt.after)
			got, ok := tt.s.NextOpening(after)
			if ok != tt.wantOK {
				t.Fatalf("NextOpening(%s) ok = %v, want %v (got %s)", tt.after, ok, tt.wantOK, got)
			}
			if !ok {
				return
			}
			if want := utc(tt.want); !got.Equal(want) {
				t.Fatalf("NextOpening(%s) = %s, want %s", tt.after, got.UTC().Format(time.RFC3339), tt.want)
			}
			if got.Location() != after.Location() {
				t.Errorf("result in %s, want the location of after", got.Location())
			}
			if !tt.s.Open(got) {
				t.Errorf("not open at the opening %s", got)
			}
			if got.After(after) && tt.s.Open(got.Add(-time.Second)) {
				t.Errorf("already open a second before the opening %s", got)
			}
		})
	}
}

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name    string
		s       Schedule
		wantErr string // "": valid
	}{
		{"empty is valid and never open", Schedule{}, ""},
		{"office", Schedule{TimeZone: "Asia/Shanghai", Weekly: weekdays(Interval{hm(9, 0), hm(18, 0)})}, ""},
		{"touching intervals", Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{hm(9, 0), hm(12, 0)}, {hm(12, 0), hm(18, 0)}}}}, ""},
		{"whole week", Schedule{Weekly: map[time.Weekday][]Interval{
			0: {{0, 1440}}, 1: {{0, 1440}}, 2: {{0, 1440}}, 3: {{0, 1440}}, 4: {{0, 1440}}, 5: {{0, 1440}}, 6: {{0, 1440}}}}, ""},
		{"night shifts every day", Schedule{Weekly: map[time.Weekday][]Interval{
			0: {{hm(22, 0), hm(6, 0)}}, 1: {{hm(22, 0), hm(6, 0)}}, 6: {{hm(22, 0), hm(6, 0)}}}}, ""},
		{"night shift meeting the morning", Schedule{Weekly: map[time.Weekday][]Interval{
			time.Monday: {{hm(22, 0), hm(6, 0)}}, time.Tuesday: {{hm(6, 0), hm(12, 0)}}}}, ""},
		{"holidays", Schedule{Holidays: []Date{{2026, 2, 28}, {2028, 2, 29}}}, ""},

		{"unknown zone", Schedule{TimeZone: "Mars/Olympus"}, `unknown time zone "Mars/Olympus"`},
		{"local zone refused", Schedule{TimeZone: "Local"}, `time zone "Local" is not allowed`},
		{"start negative", Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{-1, 60}}}}, "out of range"},
		{"start at 1440", Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{1440, 60}}}}, "out of range"},
		{"end past 1440", Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{60, 1441}}}}, "out of range"},
		{"empty interval", Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{hm(9, 0), hm(9, 0)}}}}, "Monday interval 09:00-09:00 is empty"},
		{"unknown weekday", Schedule{Weekly: map[time.Weekday][]Interval{7: {{0, 60}}}}, "unknown weekday 7"},
		{"overlap in a day", Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{hm(9, 0), hm(12, 0)}, {hm(11, 0), hm(14, 0)}}}},
			"intervals overlap: Monday 09:00 and Monday 11:00"},
		{"duplicate", Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{hm(9, 0), hm(12, 0)}, {hm(9, 0), hm(12, 0)}}}}, "intervals overlap"},
		{"night shift into next morning", Schedule{Weekly: map[time.Weekday][]Interval{
			time.Monday: {{hm(22, 0), hm(2, 0)}}, time.Tuesday: {{hm(1, 0), hm(3, 0)}}}}, "intervals overlap: Monday 22:00 and Tuesday 01:00"},
		{"saturday night into sunday", Schedule{Weekly: map[time.Weekday][]Interval{
			time.Saturday: {{hm(22, 0), hm(2, 0)}}, time.Sunday: {{0, hm(1, 0)}}}}, "intervals overlap"},
		{"wrap over the same day's morning", Schedule{Weekly: map[time.Weekday][]Interval{
			time.Monday: {{hm(9, 0), hm(12, 0)}, {hm(20, 0), hm(10, 0)}}, time.Tuesday: {{hm(9, 0), hm(12, 0)}}}}, "intervals overlap"},
		{"too many intervals", Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: make([]Interval, MaxIntervalsPerDay+1)}}, "more than"},
		{"impossible holiday", Schedule{Holidays: []Date{{2026, 2, 29}}}, "holiday 2026-02-29 is not a calendar date"},
		{"too many holidays", Schedule{Holidays: make([]Date, MaxHolidays+1)}, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %q", tt.wantErr)
			}
			if kefu.ErrorCode(err) != kefu.EInvalid || !strings.Contains(kefu.ErrorMessage(err), tt.wantErr) {
				t.Fatalf("Validate = %v, want invalid: %q", err, tt.wantErr)
			}
		})
	}
}

func TestScheduleJSON(t *testing.T) {
	s := mustValid(t, Schedule{
		TimeZone: "Asia/Shanghai",
		Weekly:   map[time.Weekday][]Interval{time.Monday: {{hm(9, 0), hm(18, 0)}}, time.Friday: {{hm(22, 0), hm(2, 0)}}},
		Holidays: []Date{{2026, 10, 1}},
	})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time_zone":"Asia/Shanghai","weekly":{"1":[{"start":540,"end":1080}],"5":[{"start":1320,"end":120}]},"holidays":["2026-10-01"]}`
	if string(b) != want {
		t.Fatalf("JSON = %s\nwant   %s", b, want)
	}
	var back Schedule
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip = %+v, want %+v", back, s)
	}
	if err := json.Unmarshal([]byte(`{"holidays":["1 Oct"]}`), &back); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Fatalf("bad date: %v", err)
	}
}

func TestCompile(t *testing.T) {
	if _, err := (&Schedule{TimeZone: "Mars/Olympus"}).Compile(); kefu.ErrorCode(err) != kefu.EInvalid {
		t.Fatalf("Compile of a bad zone = %v, want invalid", err)
	}
	overlap := Schedule{Weekly: map[time.Weekday][]Interval{time.Monday: {{0, 600}, {500, 700}}}}
	if _, err := overlap.Compile(); kefu.ErrorCode(err) != kefu.EInvalid {
		t.Fatalf("Compile of overlapping intervals = %v, want invalid", err)
	}
	if overlap.Open(utc("2026-11-23T05:00:00Z")) {
		t.Fatal("an invalid schedule is open")
	}
}

// TestHoursAgainstMinuteScan checks Open and NextOpening against the
// plainest possible model: step through every minute of two weeks around
// a DST change and remember, going backwards, the next minute that is
// open. Every interval edge and zone change falls on a whole minute, so
// the two must agree exactly.
func TestHoursAgainstMinuteScan(t *testing.T) {
	tests := []struct {
		name  string
		s     Schedule
		start string
	}{
		{"new york spring", Schedule{TimeZone: "America/New_York", Weekly: map[time.Weekday][]Interval{
			time.Sunday: {{hm(1, 0), hm(1, 30)}, {hm(2, 0), hm(2, 20)}, {hm(2, 30), hm(4, 0)}}, time.Monday: {{hm(9, 0), hm(17, 0)}},
			time.Friday: {{hm(22, 0), hm(2, 15)}}, time.Saturday: {{hm(23, 0), hm(0, 45)}}},
			Holidays: []Date{{2026, 3, 13}}}, "2026-03-02T00:00:00Z"},
		{"new york fall", Schedule{TimeZone: "America/New_York", Weekly: map[time.Weekday][]Interval{
			time.Sunday: {{hm(1, 15), hm(1, 45)}, {hm(2, 0), hm(3, 0)}}, time.Saturday: {{hm(23, 30), hm(1, 0)}},
			time.Wednesday: {{0, 1440}}}}, "2026-10-26T00:00:00Z"},
		{"havana midnight gap", Schedule{TimeZone: "America/Havana", Weekly: map[time.Weekday][]Interval{
			time.Sunday: {{0, hm(0, 30)}, {hm(0, 30), hm(2, 0)}}, time.Saturday: {{hm(22, 0), 0}}}}, "2026-03-02T00:00:00Z"},
		{"shanghai office with holidays", Schedule{TimeZone: "Asia/Shanghai", Weekly: weekdays(Interval{hm(9, 0), hm(12, 0)}, Interval{hm(13, 30), hm(18, 0)}),
			Holidays: []Date{{2026, 10, 1}, {2026, 10, 2}, {2026, 10, 5}}}, "2026-09-28T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := tt.s.Compile()
			if err != nil {
				t.Fatal(err)
			}
			start := utc(tt.start)
			const n = 14 * 24 * 60
			open := make([]bool, n+1)
			for i := range open {
				open[i] = h.Open(start.Add(time.Duration(i) * time.Minute))
			}
			next := -1 // the next open minute at or after i; -1: none in range
			for i := n; i >= 0; i-- {
				if open[i] {
					next = i
				}
				if next < 0 || i%3 != 0 { // every third minute keeps the test quick
					continue
				}
				at := start.Add(time.Duration(i) * time.Minute)
				got, ok := h.NextOpening(at)
				if want := start.Add(time.Duration(next) * time.Minute); !ok || !got.Equal(want) {
					t.Fatalf("NextOpening(%s) = %s, %v; want %s", at.In(h.loc), got.In(h.loc), ok, want.In(h.loc))
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	s := Schedule{TimeZone: "America/New_York", Weekly: weekdays(Interval{hm(9, 0), hm(18, 0)}), Holidays: []Date{{2026, 12, 25}}}
	at := utc("2026-11-23T15:00:00Z")
	b.Run("Schedule", func(b *testing.B) {
		for b.Loop() {
			if !s.Open(at) {
				b.Fatal("closed")
			}
		}
	})
	h, err := s.Compile()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Hours", func(b *testing.B) {
		for b.Loop() {
			if !h.Open(at) {
				b.Fatal("closed")
			}
		}
	})
	b.Run("HoursNextOpening", func(b *testing.B) {
		friday := utc("2026-11-27T23:30:00Z")
		for b.Loop() {
			if _, ok := h.NextOpening(friday); !ok {
				b.Fatal("never")
			}
		}
	})
}
