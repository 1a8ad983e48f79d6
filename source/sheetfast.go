package source

import (
	"bufio"
	"bytes"
	"io"
)

// The sheet's rows are scanned by hand, as the shared strings are (sstfast.go), while the
// sheet is in the form spreadsheet programs write: plain tags, <row>s of <c>s holding a <v>,
// an inline <is> or a formula <f>. encoding/xml allocates every name, attribute and token
// it reads: four fifths of what a validate of a workbook allocated. On anything else, and
// on any damage, the general reader (xmlPart) takes over, reading the sheet again from its
// start and passing over the rows already given: every error is the general reader's, and
// what both read they read alike.

// sheetScanner scans one sheet part by hand.
type sheetScanner struct {
	sstScanner
	rc   io.ReadCloser
	open [][]byte // the elements open outside <sheetData>, root first
}

// startSheet opens the sheet for the scanner and reads it up to its <sheetData>: nil when
// the sheet is not in the plain form there (the general reader's then).
func startSheet(x *xlsxState) *sheetScanner {
	rc, err := x.sheetFile.Open()
	if err != nil {
		return nil
	}
	s := &sheetScanner{rc: rc}
	s.r = bufio.NewReaderSize(&runGuard{r: rc}, 1<<16)
	s.where = func() string { return "" } // a text too long is the general reader's to report
	if s.prolog() != nil {
		rc.Close()
		return nil
	}
	return s
}

func (s *sheetScanner) Close() error { return s.rc.Close() }

// prolog reads the declaration and the elements before <sheetData> (sheetPr, dimension,
// sheetViews, cols...), and the <sheetData> start tag, a child of the root.
func (s *sheetScanner) prolog() error {
	if err := s.decl(); err != nil {
		return err
	}
	for {
		tag, err := s.tag()
		if err != nil {
			return err
		}
		name, _, empty := splitTag(tag)
		local := localName(name)
		if string(name) == "sheetData" && len(s.open) == 1 && tag[1] != '/' && !empty {
			return nil
		}
		if sheetElement(local) {
			return errFallback // a row or a cell outside the place the scanner reads them
		}
		if err := s.nest(tag, name, empty); err != nil {
			return err
		}
		if len(s.open) == 0 {
			return errFallback // the root closed without a <sheetData>
		}
		if err := s.skipText(); err != nil {
			return err
		}
	}
}

// sheetElement says whether an element of this local name is one the general reader
// reads wherever it stands.
func sheetElement(local []byte) bool {
	switch string(local) {
	case "sheetData", "row", "c":
		return true
	}
	return false
}

// nest keeps s.open as the tag opens or closes an element: an end tag must close the
// element open last.
func (s *sheetScanner) nest(tag, name []byte, empty bool) error {
	switch {
	case tag[1] == '/':
		if len(s.open) == 0 || !bytes.Equal(s.open[len(s.open)-1], name) {
			return errFallback
		}
		s.open = s.open[:len(s.open)-1]
	case !empty:
		if len(s.open) >= maxDepth {
			return errFallback
		}
		s.open = append(s.open, bytes.Clone(name))
	}
	return nil
}

// skipText reads past the text before the next tag.
func (s *sheetScanner) skipText() error {
	if err := s.textTo(false); err != nil {
		return err
	}
	return s.r.UnreadByte()
}

// tail reads the rest of the part after </sheetData> (merged cells, page set-up,
// extensions) to its end: well formed, its root closed, nothing after it.
func (s *sheetScanner) tail() error {
	s.open = s.open[:1] // the root: <sheetData> closed
	for len(s.open) > 0 {
		if err := s.skipText(); err != nil {
			return err
		}
		tag, err := s.tag()
		if err != nil {
			return err
		}
		name, _, empty := splitTag(tag)
		if err := s.nest(tag, name, empty); err != nil {
			return err
		}
	}
	s.space()
	if _, err := s.r.ReadByte(); err != io.EOF {
		return errFallback
	}
	return nil
}

// fastRow reads the next row with any cell in it into x.cells, as readRow does; io.EOF
// after the last, having read the part to its end. Any other error means the general
// reader must take over.
func (r *Reader) fastRow() ([]string, error) {
	x, s := r.x, r.x.fast
	for {
		tag, err := s.tag()
		if err != nil {
			return nil, err
		}
		if string(tag) == "</sheetData>" {
			if err := s.tail(); err != nil {
				return nil, err
			}
			x.ended = true
			return nil, io.EOF
		}
		name, attrs, empty := splitTag(tag)
		if string(name) != "row" || tag[1] == '/' {
			return nil, errFallback
		}
		n := x.row + 1
		ref, ok := onlyAttr(attrs, "r")
		if !ok {
			return nil, errFallback
		}
		if ref != nil {
			if n, ok = atoi(ref); !ok || n <= x.row || n > maxSheetRows {
				return nil, errFallback
			}
		}
		x.row = n
		x.cells, x.errs = x.cells[:0], x.errs[:0]
		if !empty {
			if err := r.fastCells(); err != nil {
				return nil, err
			}
		}
		x.given = x.row
		if !blank(x.cells) {
			return x.cells, nil
		}
	}
}

// fastCells reads the cells of the row whose start tag was just read, up to its end, as
// readCells and readCell do.
func (r *Reader) fastCells() error {
	x, s := r.x, r.x.fast
	col, size := 0, 0
	for {
		tag, err := s.tag()
		if err != nil {
			return err
		}
		if string(tag) == "</row>" {
			return nil
		}
		name, attrs, empty := splitTag(tag)
		if string(name) != "c" || tag[1] == '/' {
			return errFallback
		}
		ref, ok1 := onlyAttr(attrs, "r")
		typ, ok2 := onlyAttr(attrs, "t")
		style, ok3 := onlyAttr(attrs, "s")
		if !ok1 || !ok2 || !ok3 {
			return errFallback
		}
		next := col + 1
		if ref != nil {
			c, row, ok := parseRef(ref)
			if !ok || row != x.row || c <= col {
				return errFallback
			}
			next = c
		}
		if next > maxSheetCols {
			return errFallback
		}
		col, x.col = next, next
		for len(x.cells) < col-1 && len(x.cells) < x.width {
			x.cells = append(x.cells, "")
		}
		styleN := 0
		if style != nil {
			if styleN, ok1 = atoi(style); !ok1 {
				return errFallback
			}
		}
		t := cellType(typ) // before the next read, which reuses the tag's bytes
		v := ""
		if !empty {
			var has bool
			if v, has, err = s.cellContent(); err != nil {
				return err
			}
			if has {
				if v, err = r.cellValue(t, styleN, v, col); err != nil {
					return errFallback
				}
			}
		}
		if col <= x.width {
			if size += len(v); size > maxRowBytes {
				return errFallback
			}
			x.cells = append(x.cells, v)
		}
	}
}

// cellContent reads the children of a <c> after its start tag, up to its end: the text of
// its one <v> or <is> (has false when it has neither); a formula <f> is passed over.
func (s *sheetScanner) cellContent() (v string, has bool, err error) {
	for {
		tag, err := s.tag()
		if err != nil {
			return "", false, err
		}
		switch {
		case string(tag) == "</c>":
			return v, has, nil
		case has:
			return "", false, errFallback // a second value: the general reader's call
		case string(tag) == "<v>":
			s.text, s.chars = s.text[:0], 0
			if err := s.textOf(true, 'v'); err != nil {
				return "", false, err
			}
		case string(tag) == "<is>":
			if err := s.richText("</is>"); err != nil {
				return "", false, err
			}
		default:
			name, _, empty := splitTag(tag)
			if string(name) != "f" || tag[1] == '/' {
				return "", false, errFallback
			}
			if !empty {
				if err := s.textOf(false, 'f'); err != nil {
					return "", false, err
				}
			}
			continue
		}
		v, has = string(s.text), true
	}
}

// cellType is a cell's t attribute as a string, "n" when it has none.
func cellType(t []byte) string {
	if t == nil {
		return "n"
	}
	switch string(t) {
	case "n":
		return "n"
	case "s":
		return "s"
	case "str":
		return "str"
	case "inlineStr":
		return "inlineStr"
	case "b":
		return "b"
	case "e":
		return "e"
	case "d":
		return "d"
	}
	return string(t)
}

// splitTag splits a plain tag (wellFormedTag) into its name, its attributes and whether it
// is an empty-element tag.
func splitTag(t []byte) (name, attrs []byte, empty bool) {
	i := 1
	if t[1] == '/' {
		i = 2
	}
	end := len(t) - 1
	if t[end-1] == '/' {
		empty = true
		end--
	}
	j := i
	for j < end && t[j] != ' ' && t[j] != '\t' && t[j] != '\n' && t[j] != '\r' {
		j++
	}
	return t[i:j], t[j:end], empty
}

// localName is the part of a name after its prefix.
func localName(name []byte) []byte {
	if i := bytes.LastIndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// onlyAttr returns the value of the attribute named local (nil when there is none); ok is
// false when that name stands twice or with a prefix (read by the general reader), or when
// a value is not plain ASCII.
func onlyAttr(attrs []byte, local string) (value []byte, ok bool) {
	for len(attrs) > 0 {
		attrs = bytes.TrimLeft(attrs, " \t\r\n")
		eq := bytes.IndexByte(attrs, '=')
		if eq < 0 {
			return value, len(bytes.TrimSpace(attrs)) == 0
		}
		name := bytes.TrimRight(attrs[:eq], " \t\r\n")
		rest := bytes.TrimLeft(attrs[eq+1:], " \t\r\n")
		q := rest[0]
		end := bytes.IndexByte(rest[1:], q)
		v := rest[1 : 1+end]
		attrs = rest[end+2:]
		if string(localName(name)) != local {
			continue
		}
		if value != nil || len(name) != len(local) {
			return nil, false
		}
		for _, c := range v {
			if c < 0x20 || c >= 0x7f {
				return nil, false
			}
		}
		value = v
	}
	return value, true
}

// atoi reads a decimal number of at most 9 digits.
func atoi[T string | []byte](b T) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for i := range len(b) {
		if b[i] < '0' || b[i] > '9' {
			return 0, false
		}
		n = n*10 + int(b[i]-'0')
	}
	return n, true
}
