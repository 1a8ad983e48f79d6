package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

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

type initOptions struct {
	sheet string
	conn  connFlags
}

func newInitCmd(a *app) *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "init-mapping [flags] INPUT",
		Short: "a starting mapping for INPUT's columns",
		Long:  initSynopsis,
		Args:  oneInput,
		RunE:  func(_ *cobra.Command, args []string) error { return runInit(a, o, args[0]) },
	}
	fs := c.Flags()
	fs.StringVar(&o.sheet, "sheet", "", "XLSX: the sheet `NAME` (default the first sheet)")
	o.conn.register(fs, "portal base `URL` to propose look-ups from (env ONLYOFFICE_URL); read-only", a.ios.getenv)
	return c
}

func runInit(a *app, o *initOptions, input string) error {
	ios, sheet := a.ios, o.sheet
	var err error
	log := a.setupLog(logFlags{format: enum("text"), level: enum("warn")})

	in := scaffold.Input{Name: filepath.Base(input), Kind: "csv"}
	opts := source.Options{Sheet: sheet}
	var r io.Reader
	if input == "-" {
		r = ios.in
		in.Name = "stdin"
	}
	if !strings.EqualFold(filepath.Ext(input), ".xlsx") && input != "-" {
		head := make([]byte, 256<<10)
		f, err := os.Open(input)
		if err != nil {
			return nothingf("%v", err)
		}
		n, _ := io.ReadFull(f, head)
		f.Close()
		if scaffold.GuessEncoding(head[:n]) != "" {
			// Not UTF-8: the source's statistic over the legacy code pages says which.
			guesses := source.GuessEncodings(head[:n])
			in.Encoding, in.OtherEncodings = guesses[0], guesses[1:]
		}
		opts.Encoding = in.Encoding
	}
	if input != "-" {
		opts.HeaderRow = headerRow(input, opts)
		in.HeaderRow = opts.HeaderRow
	}
	var src *source.Reader
	if r != nil {
		src, err = source.OpenReader(r, "stdin", opts)
	} else {
		src, err = source.Open(input, opts)
	}
	if err != nil {
		return nothingf("%v", err)
	}
	defer src.Close()
	in.Kind, in.Sheet, in.Delimiter, in.Header = src.Kind(), src.Sheet(), src.Delimiter(), src.Header()
	for len(in.Rows) < initSample {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nothingf("%v", err)
		}
		in.Rows = append(in.Rows, row.Cells)
	}

	var portal *scaffold.Portal
	if o.conn.url != "" {
		link, err := connectPortal(context.Background(), o.conn, defaultRate(), log)
		if err != nil {
			return err
		}
		defer link.close()
		portal = scaffoldPortal(link.portal)
	}
	if err := scaffold.Write(ios.out, in, portal); err != nil {
		return nothingf("%v", err)
	}
	return nil
}

// headerRow finds the row a person takes for the header: row 1 when it names two columns
// or more; else, of rows 1 to 10, the first that names the most columns (a title and a
// blank line above the header are common in exports).
func headerRow(input string, opts source.Options) int {
	width := func(h int) int {
		opts.HeaderRow = h
		src, err := source.Open(input, opts)
		if err != nil {
			return 0
		}
		defer src.Close()
		return len(src.Header())
	}
	if width(1) >= 2 {
		return 1
	}
	best, most := 1, 0
	for h := 1; h <= 10; h++ {
		if named := width(h); named > most {
			best, most = h, named
		}
	}
	return best
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
