package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/oppimport/oppimport/lookup"
	"github.com/oppimport/oppimport/scaffold"
	"github.com/oppimport/oppimport/source"
)

const initSynopsis = `
Usage: oppimport init-mapping [--sheet S] [--url URL --token TOKEN] INPUT > mapping.yaml

Reads INPUT's header and its first rows and writes a starting mapping to stdout: a field
for each column it recognises (by name, in the column names of Dynamics 365, Zoho,
Pipedrive, HubSpot, Bitrix24, amoCRM and ONLYOFFICE exports in English, German, French,
Spanish and Russian, and by content: a column of e-mails that repeat is the owner, one of
unique ids the key), date patterns, the decimal separator, currency names to codes, the
delimiter and the encoding guessed from the data, and TODO comments on what it could not
decide. With --url it also proposes look-ups and maps the file's stages and currencies to
the portal's, reading only.

Examples:
  oppimport init-mapping deals.csv > deals.yaml
  oppimport init-mapping --url https://example.onlyoffice.com --token ... export.xlsx > deals.yaml

Exit codes: 0 the mapping was written; 2 bad flags or an unreadable input; 3 the portal
refused the token or could not be reached.
`

// initSample is how many data rows init-mapping reads.
const initSample = 1000

func runInit(args []string, ios streams) int {
	fs := newFlagSet("init-mapping", initSynopsis, ios.err)
	var o importOptions
	var sheet string
	fs.StringVar(&sheet, "sheet", "", "XLSX: the sheet `NAME` (default the first sheet)")
	fs.StringVar(&o.url, "url", os.Getenv("ONLYOFFICE_URL"), "portal base `URL` to propose look-ups from (env ONLYOFFICE_URL); read-only")
	fs.StringVar(&o.token, "token", "", "API `TOKEN` (env ONLYOFFICE_TOKEN); or --user and a password")
	fs.StringVar(&o.user, "user", os.Getenv("ONLYOFFICE_USER"), "user `NAME` for POST api/2.0/authentication (env ONLYOFFICE_USER)")
	fs.StringVar(&o.passwordFile, "password-file", "", "`FILE` holding the password (env ONLYOFFICE_PASSWORD holds the password itself)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(ios.err, "oppimport init-mapping: %s\n", fmt.Sprintf(format, a...))
		return code
	}
	if len(pos) != 1 {
		return fail(exitNothing, "want exactly one INPUT file, got %d", len(pos))
	}
	input := pos[0]
	log, _ := newLogger(ios.err, "text", "warn")

	in := scaffold.Input{Name: filepath.Base(input), Kind: "csv"}
	opts := source.Options{Sheet: sheet}
	var r io.Reader
	if input == "-" {
		r = ios.in
		in.Name = "stdin"
	}
	if !strings.EqualFold(filepath.Ext(input), ".xlsx") && input != "-" {
		head := make([]byte, 64<<10)
		f, err := os.Open(input)
		if err != nil {
			return fail(exitNothing, "%v", err)
		}
		n, _ := io.ReadFull(f, head)
		f.Close()
		in.Encoding = scaffold.GuessEncoding(head[:n])
		opts.Encoding = in.Encoding
	}
	var src *source.Reader
	if r != nil {
		src, err = source.OpenReader(r, "stdin", opts)
	} else {
		src, err = source.Open(input, opts)
	}
	if err != nil {
		return fail(exitNothing, "%v", err)
	}
	defer src.Close()
	in.Kind, in.Sheet, in.Delimiter, in.Header = src.Kind(), src.Sheet(), src.Delimiter(), src.Header()
	for len(in.Rows) < initSample {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(exitNothing, "%v", err)
		}
		in.Rows = append(in.Rows, row.Cells)
	}

	var portal *scaffold.Portal
	if o.url != "" {
		link, code, err := o.connect(context.Background(), true, log)
		if err != nil {
			return fail(code, "%v", err)
		}
		portal = scaffoldPortal(link.portal)
	}
	if err := scaffold.Write(ios.out, in, portal); err != nil {
		return fail(exitNothing, "%v", err)
	}
	return exitOK
}

// scaffoldPortal hands the portal's reference data to the scaffold.
func scaffoldPortal(p *lookup.Portal) *scaffold.Portal {
	out := &scaffold.Portal{}
	for _, s := range p.Stages() {
		out.Stages = append(out.Stages, scaffold.Stage{ID: s.ID, Title: s.Title, Type: s.StageType})
	}
	for _, u := range p.Users() {
		out.Users = append(out.Users, scaffold.User{ID: u.ID, UserName: u.UserName, DisplayName: u.DisplayName, Email: u.Email})
	}
	for _, c := range p.Currencies() {
		out.Currencies = append(out.Currencies, scaffold.Currency{Code: c.Abbreviation, Title: c.Title, Symbol: c.Symbol})
	}
	out.CustomFields = p.CustomFieldLabels()
	return out
}
