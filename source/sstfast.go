package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// The shared string table is the one part whose size grows with the data and whose syntax
// is always the same few elements, so it is scanned here by hand, about ten times faster
// than by encoding/xml (10 million strings: 1 s instead of 9). The scanner accepts only
// the forms spreadsheet programs write (<si>, <t> with xml:space, rich text runs <r> with
// their <rPr>, phonetic runs <rPh> and <phoneticPr>, the five named entities and
// character references, UTF-8 without CR) and gives up with errFallback on anything else,
// which is then read by the general reader: what both read, they read alike.

var errFallback = errors.New("not the usual form")

type sstScanner struct {
	r     *bufio.Reader
	text  []byte
	chars int
	where func() string
}

// scanSharedStrings reads the table through into s; errFallback means the part must be
// read by the general reader from its start.
func scanSharedStrings(in io.Reader, s *sharedStrings, part string) error {
	sc := &sstScanner{r: bufio.NewReaderSize(in, 1<<16)}
	sc.where = func() string { return "shared string " + strconv.Itoa(s.len()+1) }
	if err := sc.prolog(); err != nil {
		return err
	}
	for {
		tag, err := sc.tag()
		if err != nil {
			return err
		}
		switch {
		case string(tag) == "</sst>":
			sc.space()
			if _, err := sc.r.ReadByte(); err != io.EOF {
				if err != nil {
					return err
				}
				return errFallback
			}
			return nil
		case string(tag) == "<si>":
		default:
			return errFallback
		}
		if s.len() >= maxSharedStr {
			return &damaged{part, fmt.Sprintf("over %d shared strings", maxSharedStr)}
		}
		if err := sc.item(); err != nil {
			return err
		}
		if err := s.add(string(sc.text)); err != nil {
			return err
		}
	}
}

// prolog reads the XML declaration and the <sst ...> start tag.
func (sc *sstScanner) prolog() error {
	if err := sc.decl(); err != nil {
		return err
	}
	tag, err := sc.tag()
	if err == io.ErrUnexpectedEOF {
		return errFallback // no root at all: the general reader's call
	}
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(tag, []byte("<sst")) || tag[len(tag)-2] == '/' || string(tag) != "<sst>" && tag[4] != ' ' {
		return errFallback
	}
	return nil
}

// decl reads the XML declaration, if there is one: XML 1.0 in UTF-8.
func (sc *sstScanner) decl() error {
	sc.space()
	if b, _ := sc.r.Peek(5); string(b) == "<?xml" {
		decl, err := sc.r.ReadSlice('>')
		v10 := bytes.HasPrefix(decl, []byte(`<?xml version="1.0"`)) || bytes.HasPrefix(decl, []byte(`<?xml version='1.0'`))
		if err != nil || !v10 || !bytes.HasSuffix(decl, []byte("?>")) || bytes.Contains(decl, []byte("encoding")) && !bytes.Contains(bytes.ToLower(decl), []byte("utf-8")) {
			return errFallback
		}
	}
	return nil
}

// space skips white space between elements.
func (sc *sstScanner) space() {
	for {
		b, err := sc.r.ReadByte()
		if err != nil {
			return
		}
		if b != ' ' && b != '\n' && b != '\t' && b != '\r' {
			sc.r.UnreadByte()
			return
		}
	}
}

// tag reads the next tag after any white space, "<" to ">", with nothing in it that needs
// decoding. A short or odd tag is errFallback; the end of the input inside one is
// io.ErrUnexpectedEOF. The tag is valid until the next read.
func (sc *sstScanner) tag() ([]byte, error) {
	sc.space()
	b, err := sc.r.ReadByte()
	if err != nil {
		return nil, eofInside(err)
	}
	if b != '<' {
		return nil, errFallback
	}
	sc.r.UnreadByte()
	t, err := sc.r.ReadSlice('>')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, errFallback
		}
		return nil, eofInside(err)
	}
	if bytes.ContainsAny(t[1:], "<&!?") || !wellFormedTag(t) || !plainText(t) {
		return nil, errFallback
	}
	return t, nil
}

// wellFormedTag says whether t is a start, end or empty-element tag in the plain form:
// ASCII names, attributes name="value" or name='value' each after a space.
func wellFormedTag(t []byte) bool {
	i := 1
	end := t[1] == '/'
	if end {
		i++
	}
	name := func() bool {
		start := i
		for i < len(t) {
			c := t[i]
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || i > start && (c >= '0' && c <= '9' || c == '-' || c == '.') {
				i++
				continue
			}
			break
		}
		return i > start
	}
	space := func() bool {
		start := i
		for i < len(t) && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r') {
			i++
		}
		return i > start
	}
	if !name() {
		return false
	}
	for {
		spaced := space()
		switch {
		case i == len(t)-1:
			return true // ">"
		case !end && i == len(t)-2 && t[i] == '/':
			return true // "/>"
		case end || !spaced || !name():
			return false
		}
		space()
		if i >= len(t) || t[i] != '=' {
			return false
		}
		i++
		space()
		if i >= len(t) || t[i] != '"' && t[i] != '\'' {
			return false
		}
		q := t[i]
		j := bytes.IndexByte(t[i+1:], q)
		if j < 0 {
			return false
		}
		i += j + 2
	}
}

func eofInside(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// item reads an <si> after its start tag into sc.text.
func (sc *sstScanner) item() error { return sc.richText("</si>") }

// richText reads the children of an <si> or an inline string's <is> after its start tag,
// up to end, into sc.text: its <t>s and runs, not its phonetic runs.
func (sc *sstScanner) richText(end string) error {
	sc.text, sc.chars = sc.text[:0], 0
	return sc.texts(end, func(tag []byte) error {
		switch {
		case string(tag) == "<r>":
			return sc.run()
		case bytes.HasPrefix(tag, []byte("<rPh ")) && tag[len(tag)-2] != '/':
			return sc.phonetic()
		case bytes.HasPrefix(tag, []byte("<phoneticPr ")) && tag[len(tag)-2] == '/':
			return nil
		default:
			return errFallback
		}
	})
}

// run reads a rich text run <r> after its start tag: an optional <rPr> of empty elements,
// then its <t>.
func (sc *sstScanner) run() error {
	return sc.texts("</r>", func(tag []byte) error {
		if string(tag) != "<rPr>" {
			return errFallback
		}
		for {
			tag, err := sc.tag()
			if err != nil {
				return err
			}
			if string(tag) == "</rPr>" {
				return nil
			}
			if tag[len(tag)-2] != '/' || tag[1] == '/' {
				return errFallback
			}
		}
	})
}

// texts reads the children of an element up to its end tag: each <t> into sc.text, any
// other child by other (its start tag valid until the next read).
func (sc *sstScanner) texts(end string, other func(tag []byte) error) error {
	for {
		tag, err := sc.tag()
		if err != nil {
			return err
		}
		switch string(tag) {
		case end:
			return nil
		case "<t>", `<t xml:space="preserve">`:
			err = sc.textOf(true, 't')
		case "<t/>":
		default:
			err = other(tag)
		}
		if err != nil {
			return err
		}
	}
}

// phonetic reads an <rPh> after its start tag: its <t> is not the string's text.
func (sc *sstScanner) phonetic() error {
	tag, err := sc.tag()
	if err != nil {
		return err
	}
	switch string(tag) {
	case "<t>", `<t xml:space="preserve">`:
		if err := sc.textOf(false, 't'); err != nil {
			return err
		}
	case "<t/>":
	default:
		return errFallback
	}
	if tag, err = sc.tag(); err != nil {
		return err
	}
	if string(tag) != "</rPh>" {
		return errFallback
	}
	return nil
}

// textOf reads the text of an element named by one letter (<t>, <v>, <f>) up to its end
// tag, appending it to sc.text when keep.
func (sc *sstScanner) textOf(keep bool, name byte) error {
	if err := sc.textTo(keep); err != nil {
		return err
	}
	rest, err := sc.r.Peek(3)
	if err != nil {
		return eofInside(err)
	}
	if rest[0] != '/' || rest[1] != name || rest[2] != '>' {
		return errFallback
	}
	sc.r.Discard(3)
	return nil
}

// textTo reads the text up to the next '<' and that '<', appending the text to sc.text
// when keep.
func (sc *sstScanner) textTo(keep bool) error {
	for {
		chunk, err := sc.r.ReadSlice('<')
		if err != nil && err != bufio.ErrBufferFull {
			return eofInside(err)
		}
		end := err == nil
		if end {
			chunk = chunk[:len(chunk)-1]
		}
		if err := sc.appendText(chunk, keep); err != nil {
			return err
		}
		if end {
			return nil
		}
	}
}

// appendText decodes a piece of text (never cut inside an entity: an entity's & and ; are
// both before the next <, so a piece ending inside one falls back) and counts it.
func (sc *sstScanner) appendText(b []byte, keep bool) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '&')
		plain := b
		if i >= 0 {
			plain = b[:i]
		}
		if !plainText(plain) {
			return errFallback
		}
		if keep {
			if sc.chars += utf8.RuneCount(plain); sc.chars > maxCellChars {
				return &tooLong{sc.where()}
			}
			sc.text = append(sc.text, plain...)
		}
		if i < 0 {
			return nil
		}
		b = b[i:]
		semi := bytes.IndexByte(b, ';')
		if semi < 0 || semi > 12 {
			return errFallback
		}
		r, ok := entity(b[1:semi])
		if !ok {
			return errFallback
		}
		if keep {
			if sc.chars++; sc.chars > maxCellChars {
				return &tooLong{sc.where()}
			}
			sc.text = utf8.AppendRune(sc.text, r)
		}
		b = b[semi+1:]
	}
	return nil
}

// plainText says whether b is text encoding/xml reads as it stands: valid UTF-8 of XML
// characters, no CR (which XML turns into LF), no ]]>.
func plainText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' || c == ']' && bytes.HasPrefix(b[i:], []byte("]]>")) {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || !xmlChar(r) {
			return false
		}
		i += n
	}
	return true
}

func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// entity decodes the name of an entity or character reference (between & and ;).
func entity(name []byte) (rune, bool) {
	switch string(name) {
	case "amp":
		return '&', true
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "quot":
		return '"', true
	case "apos":
		return '\'', true
	}
	if len(name) < 2 || name[0] != '#' {
		return 0, false
	}
	var n uint64
	var err error
	if name[1] == 'x' {
		n, err = strconv.ParseUint(string(name[2:]), 16, 32)
	} else {
		n, err = strconv.ParseUint(string(name[1:]), 10, 32)
	}
	if err != nil || !xmlChar(rune(n)) {
		return 0, false
	}
	return rune(n), true
}
