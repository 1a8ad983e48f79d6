package record

import (
	"fmt"
	"strings"

	"github.com/oppimport/oppimport/mapping"
)

// Who wins a field that both the export and a person on the portal changed since the last
// sync.
const (
	ExportWins = "export"
	PortalWins = "portal"
)

// Merged is the outcome of a three-way merge.
type Merged struct {
	// Body is the whole record to PUT: the portal's, with the fields the export changed put
	// over it.
	Body mapping.Record
	// Changed names the fields Body changes on the portal, in Fields order.
	Changed []string
	// Notes say, field by field, what a person should know: a conflict and how it went, a
	// value the portal cannot clear.
	Notes []string
}

// Merge is the three-way, field-level merge of a sync. theirs is the portal's record now,
// ours the export's row as mapped now, base what the export said at the last sync (nil when
// unknown: then the export wins every mapped field where it differs). fields are the
// fields the mapping maps; every other field is always theirs, so that a sync never makes a
// private deal public nor clears what a person set. A field ours and theirs both changed
// since base follows onConflict (ExportWins or PortalWins), and a note names it with both
// values.
func Merge(base *mapping.Record, theirs, ours mapping.Record, fields []string, onConflict string) Merged {
	m := Merged{Body: theirs}
	for _, f := range fields {
		if Same(ours, theirs, f) {
			continue
		}
		exportChanged := base == nil || !Same(ours, *base, f)
		portalChanged := base != nil && !Same(theirs, *base, f)
		switch {
		case !exportChanged:
			continue // the portal's edit stands
		case portalChanged && onConflict == PortalWins:
			m.Notes = append(m.Notes, fmt.Sprintf("%s: both changed, kept the portal's %s (the export has %s)", f, Show(theirs, f), Show(ours, f)))
			continue
		case portalChanged:
			m.Notes = append(m.Notes, fmt.Sprintf("%s: both changed, the export's %s replaced the portal's %s", f, Show(ours, f), Show(theirs, f)))
		}
		if _, custom := customID(f); custom && Value(ours, f) == "" {
			m.Notes = append(m.Notes, fmt.Sprintf("%s: emptied in the export, still %s: custom fields cannot be cleared on the portal", f, Show(theirs, f)))
			continue
		}
		if f == Members && len(ours.Members) == 0 {
			m.Notes = append(m.Notes, fmt.Sprintf("%s: emptied in the export, still %s: the portal keeps participants when none are sent", f, Show(theirs, f)))
			continue
		}
		Put(&m.Body, ours, f)
		m.Changed = append(m.Changed, f)
	}
	return m
}

// Note joins notes for a report's error column.
func Note(notes []string) string { return strings.Join(notes, "; ") }

// AddNote is note with more after it, joined as Note joins them; either may be "".
func AddNote(note, more string) string {
	switch {
	case note == "":
		return more
	case more == "":
		return note
	}
	return Note([]string{note, more})
}
