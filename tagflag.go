package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/oppimport/oppimport/importer"
)

// tagList is --tag, repeatable: tags for every opportunity a run creates or updates.
type tagList []string

func (t *tagList) String() string { return strings.Join(*t, ", ") }

// Type names the value in --help.
func (t *tagList) Type() string { return "NAME" }

// Set takes one tag, refusing what the portal could not keep as written.
func (t *tagList) Set(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return errors.New("a tag needs a name")
	case utf8.RuneCountInString(v) > 255:
		return fmt.Errorf("a tag of %d characters: the portal keeps 255", utf8.RuneCountInString(v))
	case strings.IndexFunc(v, func(r rune) bool { return r > 0xFFFF }) >= 0:
		return fmt.Errorf("%q contains a character that needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)", v)
	}
	*t = append(*t, v)
	return nil
}

// AddTag and RemoveTag make the undo's portal an undo.Tagger, so that an undo takes back
// what its run did to tags.
func (p *poster) AddTag(ctx context.Context, id int64, tag string) (int, error) {
	return p.client.AddTag(ctx, id, tag)
}

func (p *poster) RemoveTag(ctx context.Context, id int64, tag string) (int, error) {
	return p.client.RemoveTag(ctx, id, tag)
}

// The steps after a create, for the deals Settle adopts (importer.Extras).
func (p *poster) TagMany(ctx context.Context, tag string, ids []int64) (int, error) {
	return p.client.TagMany(ctx, tag, ids)
}

func (p *poster) SetCreationDate(ctx context.Context, id int64, date string) (int, error) {
	return p.client.SetCreationDate(ctx, id, date)
}

func (p *poster) DealTags(ctx context.Context, id int64) ([]string, int, error) {
	return p.client.DealTags(ctx, id)
}

// ownedBy names the deals the state database knows as some row's: with created:, those may
// carry a creation date in the past, and a lost create's search must not stop at them (it
// lists the newest deals by id and stops at the first one created before the request).
func ownedBy(ctx context.Context, l *importer.Ledger) func(id int64) bool {
	return func(id int64) bool {
		_, owned, err := l.DB.KeyOf(ctx, l.Portal, id)
		return err == nil && owned
	}
}
