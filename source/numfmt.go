package source

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// A cellFormat is what a cell style's number format makes of a number, as far as the
// value a person reads depends on it: the digits of a percentage, whether a date shows a
// time. Currency, thousands and decimals formats are left as plain numbers: the mapping
// reads money and counts from those.
type cellFormat struct {
	kind     fmtKind
	decimals int  // fPercent: digits after the point
	seconds  bool // fDateTime, fTime: the format shows seconds
}

type fmtKind uint8

const (
	fNumber   fmtKind = iota // General and every other number format
	fPercent                 // 0%, 0.00%
	fDate                    // a date without a time of day
	fDateTime                // a date and a time of day
	fTime                    // a time of day only
)

// builtinFormat classifies the number formats a workbook names by id without writing them
// out (ECMA-376 part 1, 18.8.30): 9 and 10 percentages, 14-22 and 45-47 dates and times, and
// the East Asian date formats 27-36 and 50-58 (32 and 33 times of day in Japanese).
func builtinFormat(id int) (cellFormat, bool) {
	switch {
	case id == 9:
		return cellFormat{kind: fPercent}, true
	case id == 10:
		return cellFormat{kind: fPercent, decimals: 2}, true
	case id == 14 || id == 15 || id == 16 || id == 17 || id >= 27 && id <= 31 || id >= 34 && id <= 36 || id >= 50 && id <= 58:
		return cellFormat{kind: fDate}, true
	case id == 18 || id == 20 || id == 32:
		return cellFormat{kind: fTime}, true
	case id == 19 || id == 21 || id == 33 || id == 45 || id == 47:
		return cellFormat{kind: fTime, seconds: true}, true
	case id == 22:
		return cellFormat{kind: fDateTime}, true
	}
	return cellFormat{}, false
}

// classifyFormat reads a custom format code as Excel would display a number with it. Only
// the first section (positive numbers) decides. Text in quotes, characters escaped by a
// backslash or following _ or *, and bracketed parts ([Red], [$€-407], [>=100]) are
// literals; a bracketed [h], [m] or [s] is an elapsed duration, read as a plain number. A
// format is a date when it has y, d, or an m that is not minutes (after h or before s);
// it shows a time when it has h, s or minutes; a percentage when it has a % outside
// literals. Calamine's and openpyxl's classifiers read format codes the same way.
func classifyFormat(code string) cellFormat {
	var (
		date, clock, secs, percent, elapsed bool
		decimals, afterPoint                = 0, false
		lastUnit                            byte // 'h' or 's' or 0: what an m next to it is
		pendingM                            bool // an m waiting to be told minute or month
		digitSeen                           bool
	)
	resolveM := func(minute bool) {
		if pendingM {
			if minute {
				clock = true
			} else {
				date = true
			}
			pendingM = false
		}
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch c {
		case ';':
			i = len(code)
			continue
		case '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
			continue
		case '\\', '_', '*':
			i++
			continue
		case '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				i = len(code)
				continue
			}
			inner := strings.ToLower(code[i+1 : i+j])
			if inner != "" && strings.Trim(inner, "hms") == "" {
				elapsed, lastUnit = true, 'h' // [h]:mm: the m after it is minutes
			}
			i += j
			continue
		case '%':
			percent = true
			continue
		case '.':
			if digitSeen {
				afterPoint = true
			}
			continue
		case '0', '#', '?':
			digitSeen = true
			if afterPoint {
				decimals++
			}
			continue
		}
		switch lc := c | 0x20; lc {
		case 'y', 'd', 'e', 'g', 'b': // e, g and b are East Asian era years
			if lc == 'g' && strings.HasPrefix(strings.ToLower(code[i:]), "general") {
				i += len("general") - 1
				continue
			}
			if lc == 'b' && (i+1 >= len(code) || code[i+1] != '1' && code[i+1] != '2') {
				continue
			}
			if lc == 'e' && i+1 < len(code) && (code[i+1] == '+' || code[i+1] == '-') {
				i++ // 0.00E+00: an exponent
				continue
			}
			resolveM(false)
			date, lastUnit = true, 0
		case 'h':
			resolveM(false)
			clock, lastUnit = true, 'h'
		case 's':
			resolveM(true)
			clock, secs, lastUnit = true, true, 's'
		case 'm':
			for i+1 < len(code) && code[i+1]|0x20 == 'm' {
				i++
			}
			if lastUnit == 'h' {
				clock = true
			} else {
				pendingM = true
			}
			lastUnit = 0
		case 'a':
			switch l := strings.ToLower(code[i:]); {
			case strings.HasPrefix(l, "am/pm"):
				i += len("am/pm") - 1
				clock = true
			case strings.HasPrefix(l, "a/p"):
				i += len("a/p") - 1
				clock = true
			}
		}
	}
	resolveM(false)
	switch {
	case elapsed && !date:
		return cellFormat{}
	case date && clock:
		return cellFormat{kind: fDateTime, seconds: secs}
	case date:
		return cellFormat{kind: fDate}
	case clock:
		return cellFormat{kind: fTime, seconds: secs}
	case percent:
		return cellFormat{kind: fPercent, decimals: decimals}
	}
	return cellFormat{}
}

// maxSerial is the serial of 10000-01-01, past the last date Excel shows.
const maxSerial = 2958466

// showNumber writes a number cell's stored value as its format shows it: a percentage as
// "65%", a date as "2024-03-15", a date and time as "2024-03-15 09:12" (":05" more when the
// format shows seconds), a time as "09:12"; any other number with Excel's 15 significant
// digits and never an exponent (15583649437, 0.57), as is a number a date format cannot
// show (negative, or past 9999). ok is false when raw is no number.
func showNumber(raw string, f cellFormat, date1904 bool) (string, bool) {
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return "", false
	}
	switch f.kind {
	case fPercent:
		return strconv.FormatFloat(round15(v*100), 'f', f.decimals, 64) + "%", true
	case fDate, fDateTime, fTime:
		if v < 0 || v >= maxSerial {
			break // Excel shows ##### for no date: the number is what there is
		}
		// Round to the second, as Excel shows 45366.569999999 as 13:40:48.
		day := math.Floor(v)
		secs := math.Round((v - day) * 86400)
		t, err := excelize.ExcelDateToTime(day, date1904)
		if err != nil {
			return "", false
		}
		t = t.Add(time.Duration(secs) * time.Second)
		return showTime(t, f), true
	}
	return strconv.FormatFloat(round15(v), 'f', -1, 64), true
}

// showTime writes t as showNumber does.
func showTime(t time.Time, f cellFormat) string {
	layout := "2006-01-02"
	switch f.kind {
	case fDateTime:
		layout += " 15:04"
	case fTime:
		layout = "15:04"
	}
	if f.kind != fDate && f.seconds {
		layout += ":05"
	}
	return t.Format(layout)
}

// showISODate writes a t="d" cell (an ISO 8601 date or date-time, as some writers store
// dates) as showNumber writes a date serial.
func showISODate(raw string, f cellFormat) (string, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02", "15:04:05.999999999"} {
		if t, err := time.Parse(layout, raw); err == nil {
			if f.kind != fDate && f.kind != fDateTime && f.kind != fTime {
				f = cellFormat{kind: fDate}
				if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 {
					f = cellFormat{kind: fDateTime, seconds: t.Second() != 0}
				}
			}
			return showTime(t.Round(time.Second), f), true
		}
	}
	return "", false
}

// round15 rounds v to the 15 significant digits Excel keeps and shows.
func round15(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
	if err != nil {
		return v
	}
	return r
}
