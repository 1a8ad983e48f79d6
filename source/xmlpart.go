package source

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The bounds on what one workbook part may make this reader hold, whatever the file.
const (
	// maxCellChars is Excel's own limit for the text of a cell.
	maxCellChars = 32767
	// maxRun bounds the bytes between two '<' in a part: encoding/xml holds a whole text or
	// tag in memory, and no cell within maxCellChars needs more (each character written as
	// a numeric reference of up to 10 bytes).
	maxRun = maxCellChars*10 + 4096
	// maxDepth bounds the nesting of elements (a sheet needs 6).
	maxDepth = 64
	// maxRowBytes bounds the text of one XLSX row's cells.
	maxRowBytes = 1 << 20
)

// maxRecordBytes bounds a CSV record as read; cells over maxCellChars are then cut. A
// variable only so that a test can read the bound's effect on smaller files.
var maxRecordBytes = 16 << 20

// errLongRun is what runGuard returns once a run passes maxRun.
var errLongRun = errors.New("long run")

// runGuard fails a read once more than maxRun bytes pass without a '<', so that no XML
// token can grow past it.
type runGuard struct {
	r   io.Reader
	run int
}

func (g *runGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	b := p[:n]
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			g.run += len(b)
			break
		}
		if g.run+i > maxRun {
			return 0, errLongRun
		}
		g.run = 0
		b = b[i+1:]
	}
	if g.run > maxRun {
		return 0, errLongRun
	}
	return n, err
}

// damaged is a workbook part that cannot be read through: the workbook is refused whole.
type damaged struct {
	part   string
	detail string
}

func (e *damaged) Error() string { return "damaged workbook: " + e.part + ": " + e.detail }

// tooLong is a cell or shared string over maxCellChars.
type tooLong struct{ what string }

func (e *tooLong) Error() string {
	return e.what + " holds over 32,767 characters, Excel's limit for a cell (the workbook was not written by Excel, or is damaged)"
}

// xmlPart streams one XML part of the workbook with the bounds above. Every error it
// returns is a *damaged or a *tooLong.
type xmlPart struct {
	name  string
	rc    io.ReadCloser
	guard *runGuard
	dec   *xml.Decoder
	depth int
	open  []xml.Name    // the elements open, depth of them
	where func() string // names the cell or string being read when a run is too long
}

func openPart(zf *zip.File) (*xmlPart, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, &damaged{zf.Name, err.Error()}
	}
	p := &xmlPart{name: zf.Name, rc: rc, guard: &runGuard{r: rc}}
	p.dec = xml.NewDecoder(p.guard)
	p.dec.Strict = true
	return p, nil
}

func (p *xmlPart) Close() error { return p.rc.Close() }

// token returns the next token, io.EOF at the well-formed end of the part. It reads raw
// tokens (a third faster than Token, which translates name spaces: names are matched by
// their local part) and checks that each end element closes the open one itself.
func (p *xmlPart) token() (xml.Token, error) {
	tok, err := p.dec.RawToken()
	if err != nil {
		return nil, p.wrap(err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if p.depth++; p.depth > maxDepth {
			return nil, &damaged{p.name, fmt.Sprintf("elements nested over %d deep", maxDepth)}
		}
		p.open = append(p.open, t.Name)
	case xml.EndElement:
		if p.depth == 0 || p.open[p.depth-1] != t.Name {
			return nil, &damaged{p.name, fmt.Sprintf("XML syntax error on line %d: element </%s> closes nothing open", p.line(), t.Name.Local)}
		}
		p.depth--
		p.open = p.open[:p.depth]
	}
	return tok, nil
}

func (p *xmlPart) line() int {
	line, _ := p.dec.InputPos()
	return line
}

func (p *xmlPart) wrap(err error) error {
	var syntax *xml.SyntaxError
	if errors.As(err, &syntax) && syntax.Msg == "unexpected EOF" {
		err = io.ErrUnexpectedEOF
	}
	switch {
	case err == io.EOF && p.depth == 0:
		return io.EOF
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return &damaged{p.name, "it ends in the middle (the file was cut short)"}
	case errors.Is(err, errLongRun):
		if p.where != nil {
			if w := p.where(); w != "" {
				return &tooLong{w}
			}
		}
		return &damaged{p.name, fmt.Sprintf("over %d KiB without markup", maxRun>>10)}
	case errors.Is(err, zip.ErrFormat):
		return &damaged{p.name, "it unzips to more than the zip says (" + err.Error() + ")"}
	case errors.Is(err, zip.ErrChecksum):
		return &damaged{p.name, "its checksum does not match (" + err.Error() + ")"}
	}
	return &damaged{p.name, err.Error()}
}

// each calls fn with every token up to the well-formed end of the part, and stops at the
// first error, fn's or the part's.
func (p *xmlPart) each(fn func(xml.Token) error) error {
	for {
		tok, err := p.token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(tok); err != nil {
			return err
		}
	}
}

// drain reads the part to its end, so that a part cut short or with a bad checksum after
// the data that was wanted is found.
func (p *xmlPart) drain() error {
	return p.each(func(xml.Token) error { return nil })
}

// skip reads past the element whose start was just read.
func (p *xmlPart) skip() error {
	for depth := p.depth; ; {
		tok, err := p.token()
		if err != nil {
			return p.unexpectedEOF(err)
		}
		if _, ok := tok.(xml.EndElement); ok && p.depth < depth {
			return nil
		}
	}
}

// unexpectedEOF turns an io.EOF inside an element into damage.
func (p *xmlPart) unexpectedEOF(err error) error {
	if err == io.EOF {
		return &damaged{p.name, "it ends in the middle (the file was cut short)"}
	}
	return err
}

// text reads the text of the element whose start was just read, up to its end: all of it
// when texts is false (a <v>), else only what stands in <t> elements outside <rPh>
// (phonetic runs), as a rich text <is> or <si> holds it. More than maxCellChars characters
// is a *tooLong naming what.
func (p *xmlPart) text(texts bool, what func() string) (string, error) {
	var b strings.Builder
	chars := 0
	depth := p.depth
	inT, inPh := !texts, 0
	for {
		tok, err := p.token()
		if err != nil {
			return "", p.unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inT = texts
			case "rPh":
				inPh++
			}
		case xml.EndElement:
			if p.depth < depth {
				return b.String(), nil
			}
			switch t.Name.Local {
			case "t":
				inT = !texts
			case "rPh":
				inPh--
			}
		case xml.CharData:
			if inT && inPh == 0 {
				if chars += utf8.RuneCount(t); chars > maxCellChars {
					return "", &tooLong{what()}
				}
				b.Write(t)
			}
		}
	}
}

// attr returns the value of the attribute named local, in any namespace.
func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
