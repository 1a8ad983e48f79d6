package report

import (
	"fmt"
	"unicode/utf8"
)

// What a cell of any output may hold: text that no spreadsheet runs as a formula, and no
// more characters than a spreadsheet keeps.

// neutralise defuses a cell that a spreadsheet would run as a formula (OWASP "CSV
// injection"): a cell starting with = + - @ tab or carriage return gets a leading
// single quote, which spreadsheets show as text.
func neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// MaxCell is the most characters (UTF-16 code units, as Excel counts them) a cell of any
// output holds: Excel's own limit, which LibreOffice and Google Sheets share.
const MaxCell = 32767

// clip cuts s to at most MaxCell characters, ending the cut text with a marker that says
// how much was left out, so that nobody takes a cut value for the whole one.
func clip(s string) string {
	if len(s) <= MaxCell { // bytes bound code units from above
		return s
	}
	return clipLong(s)
}

// clipLong is clip of a text of more than MaxCell bytes: apart, so that clip is inlined
// for the usual cell, which needs only its length looked at.
func clipLong(s string) string {
	units, total := 0, 0
	for _, c := range s {
		total += utf16Len(c)
	}
	if total <= MaxCell {
		return s
	}
	// The marker's length depends on the count it gives: leave room for the longest one.
	room := MaxCell - len(cutMarker(total))
	end := 0
	for i, c := range s {
		n := utf16Len(c)
		if units+n > room {
			end = i
			break
		}
		units += n
	}
	return s[:end] + cutMarker(total-units)
}

func cutMarker(left int) string {
	return fmt.Sprintf(" […cut: %d more characters]", left)
}

func utf16Len(c rune) int {
	if c >= 0x10000 && c <= utf8.MaxRune {
		return 2
	}
	return 1
}
