package source

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Shared string table bounds: the text kept in memory before it is spilled to a temporary
// file, and the number of strings (4 bytes of index each stay in memory).
const (
	sstMemLimit  = 32 << 20
	maxSharedStr = 1 << 24
	sstBlock     = 4096 // strings per block: one 64-bit base each, then 32-bit ends
)

// sharedStrings holds a workbook's shared strings packed end to end, in memory while they
// fit in sstMemLimit and in an unlinked temporary file after that.
type sharedStrings struct {
	bases []int64  // the offset of string i*sstBlock
	ends  []uint32 // the end of string i, relative to its block's base
	size  int64    // bytes written so far
	mem   []byte   // the strings, until spilled
	file  *os.File // the strings, once spilled
	w     *bufio.Writer
}

func (s *sharedStrings) len() int { return len(s.ends) }

func (s *sharedStrings) add(text string) error {
	i := len(s.ends)
	if i%sstBlock == 0 {
		s.bases = append(s.bases, s.size)
	}
	if s.file == nil && s.size+int64(len(text)) > sstMemLimit {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if s.file != nil {
		if _, err := s.w.WriteString(text); err != nil {
			return err
		}
	} else {
		s.mem = append(s.mem, text...)
	}
	s.size += int64(len(text))
	s.ends = append(s.ends, uint32(s.size-s.bases[i/sstBlock]))
	return nil
}

func (s *sharedStrings) spill() error {
	f, err := os.CreateTemp("", "oppimport-sst-")
	if err != nil {
		return fmt.Errorf("spilling the shared strings to a temporary file: %w", err)
	}
	os.Remove(f.Name()) // unlinked: gone with the process, however it ends (Windows: removed on Close)
	s.file, s.w = f, bufio.NewWriterSize(f, 1<<16)
	if _, err := s.w.Write(s.mem); err != nil {
		return err
	}
	s.mem = nil
	return nil
}

// finish ends the writing: a spilled table is flushed for reading.
func (s *sharedStrings) finish() error {
	if s.w != nil {
		return s.w.Flush()
	}
	return nil
}

// get returns string i; ok is false when there is none.
func (s *sharedStrings) get(i int) (string, bool, error) {
	if i < 0 || i >= len(s.ends) {
		return "", false, nil
	}
	base := s.bases[i/sstBlock]
	start := base
	if i%sstBlock != 0 {
		start += int64(s.ends[i-1])
	}
	end := base + int64(s.ends[i])
	if s.file == nil {
		return string(s.mem[start:end]), true, nil
	}
	buf := make([]byte, end-start) // per call: a Count pass may read beside Next
	if _, err := s.file.ReadAt(buf, start); err != nil {
		return "", false, fmt.Errorf("reading the shared strings back from a temporary file: %w", err)
	}
	return string(buf), true, nil
}

func (s *sharedStrings) Close() error {
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	err := s.file.Close()
	os.Remove(name)
	s.file = nil
	return err
}

// readSharedStrings reads the shared string table through, refusing a damaged one and any
// string over maxCellChars.
func readSharedStrings(zf *zip.File) (*sharedStrings, error) {
	s := &sharedStrings{}
	if zf == nil {
		return s, nil
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, &damaged{zf.Name, err.Error()}
	}
	err = scanSharedStrings(&runGuard{r: rc}, s, zf.Name)
	rc.Close()
	if err == nil {
		err = s.finish()
	}
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, errFallback):
		s.Close()
		return readSharedStringsXML(zf)
	default:
		s.Close()
		var d *damaged
		var t *tooLong
		if !errors.As(err, &d) && !errors.As(err, &t) {
			where := func() string { return "shared string " + strconv.Itoa(s.len()+1) }
			err = (&xmlPart{name: zf.Name, depth: 1, where: where}).wrap(err)
		}
		return nil, err
	}
}

// readSharedStringsXML reads the table with the general reader, for the forms the scanner
// does not know.
func readSharedStringsXML(zf *zip.File) (*sharedStrings, error) {
	s := &sharedStrings{}
	p, err := openPart(zf)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	where := func() string { return "shared string " + strconv.Itoa(s.len()+1) }
	p.where = where
	for {
		tok, err := p.token()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "si" {
			continue
		}
		if s.len() >= maxSharedStr {
			s.Close()
			return nil, &damaged{zf.Name, fmt.Sprintf("over %d shared strings", maxSharedStr)}
		}
		text, err := p.text(true, where)
		if err == nil {
			err = s.add(text)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.finish(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
