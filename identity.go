package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strings"
	"time"

	"github.com/oppimport/oppimport/lookup"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/state"
)

// Identity on the portal: the mapping's key_field is a text custom field of the portal's
// opportunities into which every create and sync writes the row's key, so that the portal
// itself says which rows it holds, whatever became of the state database.

// resolveKeyField finds the mapping's key_field among the portal's opportunity custom
// fields, and creates it (a text field) when the portal lacks it: import only, and only an
// administrator may. The plan then writes every row's key into it. The exit code says why
// it failed.
func (l *portalLink) resolveKeyField(ctx context.Context, m *mapping.Mapping, dry bool, log *slog.Logger) (int, error) {
	if m.KeyField == "" || l.poster == nil {
		return exitOK, nil
	}
	c := l.poster.client
	def, found, err := findKeyField(ctx, c, m.KeyField)
	if err != nil {
		return exitStopped, err
	}
	switch {
	case found && def.FieldType != onlyoffice.FieldText && def.FieldType != onlyoffice.FieldTextArea:
		return exitNothing, fmt.Errorf("%s: key_field %q is custom field %d, a %s field: the key needs a text field; rename that one or choose another label",
			m.File, m.KeyField, def.ID, fieldKind(def.FieldType))
	case found:
		l.setKeyField(def.ID)
		return exitOK, nil
	case dry:
		log.Warn("the portal has no opportunity custom field for key_field: an import would create it (a text field holding each row's key)",
			"key_field", m.KeyField)
		return exitOK, nil
	}
	def, err = c.CreateCustomField(ctx, m.KeyField, onlyoffice.FieldText)
	if errors.Is(err, onlyoffice.ErrInDoubt) {
		// Made or not: the definitions say.
		var ok bool
		if def, ok, err = findKeyField(ctx, c, m.KeyField); err == nil && !ok {
			err = fmt.Errorf("creating the custom field %q: no answer came, and the portal does not hold it; run the import again", m.KeyField)
		}
	}
	var apiErr *onlyoffice.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == 403:
		return exitNothing, fmt.Errorf("the portal has no opportunity custom field %q for key_field, and this user may not create one (administrators only): "+
			"ask a CRM administrator to add a Text field labelled %q to opportunities (CRM, Settings, Other fields, Opportunities), "+
			"or run this import once as an administrator", m.KeyField, m.KeyField)
	case err != nil:
		return exitStopped, fmt.Errorf("creating the custom field %q for key_field: %v", m.KeyField, err)
	}
	log.Info("created the opportunity custom field that holds each row's key", "key_field", m.KeyField, "id", def.ID)
	// The look-ups check every custom field a record carries: they must know the new one.
	portal, err := lookup.Load(ctx, c)
	if err != nil {
		return exitStopped, fmt.Errorf("the portal refused or could not be reached: %v", err)
	}
	l.portal = portal
	l.setKeyField(def.ID)
	return exitOK, nil
}

func (l *portalLink) setKeyField(id int64) {
	l.keyField = id
	l.poster.keyField = id
}

// findKeyField finds the opportunity custom field labelled label (ignoring case).
func findKeyField(ctx context.Context, c *onlyoffice.Client, label string) (onlyoffice.CustomFieldDef, bool, error) {
	defs, err := c.ListCustomFields(ctx)
	if err != nil {
		return onlyoffice.CustomFieldDef{}, false, fmt.Errorf("reading the portal's custom fields: %v", err)
	}
	var found []onlyoffice.CustomFieldDef
	for _, d := range defs {
		if strings.EqualFold(strings.TrimSpace(html.UnescapeString(d.Label)), strings.TrimSpace(label)) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return onlyoffice.CustomFieldDef{}, false, nil
	case 1:
		return found[0], true, nil
	}
	ids := make([]string, len(found))
	for i, d := range found {
		ids[i] = fmt.Sprint(d.ID)
	}
	return onlyoffice.CustomFieldDef{}, false, fmt.Errorf("key_field %q: %d opportunity custom fields bear that label (ids %s); rename all but one",
		label, len(found), strings.Join(ids, ", "))
}

func fieldKind(t int) string {
	switch t {
	case 2:
		return "select"
	case 3:
		return "checkbox"
	case 4:
		return "heading"
	case 5:
		return "date"
	}
	return fmt.Sprintf("type %d", t)
}

// prepareIdentity runs before anything is posted, with the state database locked: the key
// definition must be the one the state's rows were made with; with key_field, the portal's
// key index is read into the state database (only what is newer than the last read); without
// it, a state database that has never imported into a portal that already holds
// opportunities is warned about loudly. It reports whether the index was read.
func prepareIdentity(ctx context.Context, db *state.DB, link *portalLink, m *mapping.Mapping, portal string, log *slog.Logger) (indexed bool, code int, err error) {
	if err := db.CheckKey(ctx, state.KeyDef{Columns: m.Key, Field: m.KeyField}); err != nil {
		return false, exitNothing, err
	}
	c := link.poster.client
	if link.keyField != 0 {
		if err := readKeyIndex(ctx, c, db, portal, link.keyField, log); err != nil {
			return false, exitStopped, fmt.Errorf("reading the portal's key index: %v", err)
		}
		return true, exitOK, nil
	}
	runs, err := db.Runs(ctx)
	if err != nil {
		return false, exitNothing, err
	}
	for _, r := range runs {
		if r.Portal == portal {
			return false, exitOK, nil
		}
	}
	has, err := c.HasOpportunities(ctx)
	if err != nil {
		return false, exitStopped, fmt.Errorf("the portal refused or could not be reached: %v", err)
	}
	if has {
		log.Warn("IDENTITY IS LOCAL: this state database has never imported into this portal, and the portal already holds opportunities. "+
			"Without key_field, which rows were imported is known only to the state database: rows imported before with another state database "+
			"(deleted, copied, another folder or machine) would be created again. Set key_field in the mapping (a text custom field that holds each "+
			"row's key) and the portal itself tells which rows it holds.", "state", db.Path(), "portal", portal)
	}
	return false, exitOK, nil
}

// readKeyIndex reads into the state database which opportunities of the portal hold which
// key in custom field fieldID: in full the first time, then only the opportunities newer
// than the last read. Memory stays one page, whatever the portal holds.
func readKeyIndex(ctx context.Context, c *onlyoffice.Client, db *state.DB, portal string, fieldID int64, log *slog.Logger) error {
	ir, ok, err := db.PortalIndex(ctx, portal)
	if err != nil {
		return err
	}
	after := int64(0)
	if ok && ir.FieldID == fieldID {
		after = ir.MaxID
	} else if err := db.ResetIndex(ctx, portal); err != nil {
		return err
	}
	started := time.Now()
	seen, keyed := 0, 0
	keys := make([]state.PortalKey, 0, 1000)
	newest, requests, err := c.KeyIndex(ctx, fieldID, after, func(page []onlyoffice.KeyedOpportunity) error {
		keys = keys[:0]
		for _, o := range page {
			seen++
			if o.Key != "" && o.ID > after {
				keyed++
				keys = append(keys, state.PortalKey{Value: o.Key, OpportunityID: o.ID, Created: o.Created})
			}
		}
		return db.AddPortalKeys(ctx, portal, keys)
	})
	if err != nil {
		return err
	}
	if err := db.FinishIndex(ctx, portal, fieldID, max(newest, after)); err != nil {
		return err
	}
	log.Info("read the portal's key index", "opportunities", seen, "with_a_key", keyed, "requests", requests,
		"elapsed", time.Since(started).Round(time.Millisecond), "since_id", after)
	return nil
}
