package undo

import (
	"fmt"
	"strings"

	"github.com/oppimport/oppimport/onlyoffice"
)

// notRestored lists what a PUT of before cannot take back from the portal's current record
// now: custom field values the run set where there were none (the portal sets custom fields,
// never clears them).
func notRestored(now, before onlyoffice.StoredOpportunity) []string {
	was := map[int64]string{}
	for _, cf := range before.CustomFields {
		was[cf.ID] = strings.TrimSpace(cf.Value)
	}
	var out []string
	for _, cf := range now.CustomFields {
		if v := strings.TrimSpace(cf.Value); v != "" && was[cf.ID] == "" {
			out = append(out, fmt.Sprintf("custom field %d (%q, empty before)", cf.ID, v))
		}
	}
	return out
}
