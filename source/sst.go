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
	sstBlock     = 4096    // strings per block: one 64-bit base each, then 32-bit ends
	sstChunk     = 1 << 18 // bytes of text per chunk in memory
)

// sharedStrings holds a workbook's shared strings packed end to end, in memory while they
// fit in sstMemLimit and in an unlinked temporary file after that. In memory the text is
// kept in chunks of sstChunk bytes (a string may run from one into the next) and the ends
// in blocks of sstBlock, each allocated once at its full size: one slice grown by append
// would hold up to a quarter more than the text, and twice it while it is copied to grow
// (a 100,000-row workbook of 4 MB of shared text peaked at 33-38 MB instead of 24-26 MB
// with the same cells inline).
type sharedStrings struct {
	bases []int64    // the offset of string i*sstBlock
	ends  [][]uint32 // by block: the end of each string, relative to the block's base
	n     int        // strings added
	size  int64      // bytes written so far
	mem   [][]byte   // the text, by chunk, until spilled
	file  *os.File   // the text, once spilled
	w     *bufio.Writer
}

func (s *sharedStrings) len() int { return s.n }

func (s *sharedStrings) add(text string) error {
	i := s.n
	if i%sstBlock == 0 {
		s.bases = append(s.bases, s.size)
		s.ends = append(s.ends, make([]uint32, 0, blockCap(len(s.ends))))
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
		s.keep(text)
	}
	s.size += int64(len(text))
	b := &s.ends[i/sstBlock]
	*b = append(*b, uint32(s.size-s.bases[i/sstBlock]))
	s.n++
	return nil
}

// blockCap is the room made for the ends of block b: small for the first blocks (a table of
// a few strings takes little), the whole block after that.
func blockCap(b int) int {
	if b < 3 {
		return 64 << (2 * b) // 64, 256, 1024
	}
	return sstBlock
}

// keep appends text to the chunks in memory. The first chunk grows as needed up to
// sstChunk (a small table takes little), the next ones are allocated whole.
func (s *sharedStrings) keep(text string) {
	for len(text) > 0 {
		if len(s.mem) == 0 || len(s.mem[len(s.mem)-1]) == sstChunk {
			var c []byte
			if len(s.mem) > 0 {
				c = make([]byte, 0, sstChunk)
			}
			s.mem = append(s.mem, c)
		}
		c := &s.mem[len(s.mem)-1]
		n := min(len(text), sstChunk-len(*c))
		*c = append(*c, text[:n]...)
		text = text[n:]
	}
}

func (s *sharedStrings) spill() error {
	f, err := os.CreateTemp("", "oppimport-sst-")
	if err != nil {
		return fmt.Errorf("spilling the shared strings to a temporary file: %w", err)
	}
	os.Remove(f.Name()) // unlinked: gone with the process, however it ends (Windows: removed on Close)
	s.file, s.w = f, bufio.NewWriterSize(f, 1<<16)
	for _, c := range s.mem {
		if _, err := s.w.Write(c); err != nil {
			return err
		}
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
	if i < 0 || i >= s.n {
		return "", false, nil
	}
	ends := s.ends[i/sstBlock]
	base := s.bases[i/sstBlock]
	start := base
	if j := i % sstBlock; j != 0 {
		start += int64(ends[j-1])
	}
	end := base + int64(ends[i%sstBlock])
	if s.file == nil {
		return s.text(start, end), true, nil
	}
	buf := make([]byte, end-start) // per call: a Count pass may read beside Next
	if _, err := s.file.ReadAt(buf, start); err != nil {
		return "", false, fmt.Errorf("reading the shared strings back from a temporary file: %w", err)
	}
	return string(buf), true, nil
}

// text is the kept text from start to end, which may run across chunks.
func (s *sharedStrings) text(start, end int64) string {
	if start == end {
		return "" // at the end of a full chunk, the next one may not exist
	}
	c, off := start/sstChunk, start%sstChunk
	if end-c*sstChunk <= sstChunk {
		return string(s.mem[c][off : off+end-start])
	}
	b := make([]byte, 0, end-start)
	for start < end {
		c, off = start/sstChunk, start%sstChunk
		n := min(end-start, sstChunk-off)
		b = append(b, s.mem[c][off:off+n]...)
		start += n
	}
	return string(b)
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
