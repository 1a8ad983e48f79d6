package importer

import (
	"context"
	"hash/maphash"
	"math/bits"
	"sync/atomic"

	"github.com/oppimport/oppimport/mapping"
)

// keySet remembers the keys of one input by their 64-bit hashes, with the row that had
// each first, in an open-addressed table of 12 bytes a slot, at most three quarters full
// and grown by half: a million keys take about 18 MB where a Go map takes four times that
// (doubling took 24 MB: the table is most of a validate's live heap, and the less of it,
// the fewer collections under the soft memory limit). Two different keys sharing a hash (about one chance
// in 10^7 for 10^6 rows) would make the second row invalid with a message naming the first:
// loud, never silent. Not safe for concurrent use.
type keySet struct {
	seed   maphash.Seed
	hashes []uint64 // 0 = empty slot; a hash of 0 is stored as 1
	rows   []uint32
	n      int

	touched uint64 // the sum touch reads, for nothing

	// expected is how many keys the input is expected to hold in all (expect), 0 when
	// unknown: the next growth makes room for them at once.
	expected atomic.Int64
}

func newKeySet() *keySet {
	return &keySet{seed: maphash.MakeSeed(), hashes: make([]uint64, 1024), rows: make([]uint32, 1024)}
}

func (s *keySet) hash(key string) uint64 {
	return max(maphash.String(s.seed, key), 1)
}

// home is where h's search starts: h scaled to the table's length (which need not be a
// power of two).
func (s *keySet) home(h uint64) int {
	i, _ := bits.Mul64(h, uint64(len(s.hashes)))
	return int(i)
}

// slot returns the slot of h: where it is, or the empty one where it would go.
func (s *keySet) slot(h uint64) int {
	for i := s.home(h); ; {
		if s.hashes[i] == h || s.hashes[i] == 0 {
			return i
		}
		if i++; i == len(s.hashes) {
			i = 0
		}
	}
}

// add records key for row and returns the row that had it first, or 0.
func (s *keySet) add(key string, row int) int { return s.addHash(s.hash(key), row) }

// addHash is add for a key whose hash is h. hash is safe for concurrent use: the mappers
// hash their rows' keys, and the key check in input order only adds.
func (s *keySet) addHash(h uint64, row int) int {
	i := s.slot(h)
	if s.hashes[i] == h {
		return int(s.rows[i])
	}
	s.hashes[i], s.rows[i] = h, uint32(row)
	if s.n++; s.n*4 > len(s.hashes)*3 {
		s.grow()
	}
	return 0
}

// expect says how many keys the input holds in all, as estimated from its first rows
// (source.Reader.RowsExpected); safe to call while the set is in use. The table then grows
// once to hold them, rather than by half eighteen times on the way to a million keys
// (measured: each growth reads the whole table again, 0.1 s of a 10^6-row validate's CPU
// and 52 MB allocated, against 19 MB for the table itself).
func (s *keySet) expect(n int) { s.expected.Store(int64(n)) }

// grow makes the table half as large again, or large enough for the keys expected with a
// sixteenth more, at most three quarters full.
func (s *keySet) grow() {
	hashes, rows := s.hashes, s.rows
	n := len(hashes) + len(hashes)/2
	if e := int(s.expected.Load()); e > s.n {
		n = max(n, (e+e/16)*4/3+1)
	}
	s.hashes, s.rows = make([]uint64, n), make([]uint32, n)
	for i, h := range hashes {
		if h != 0 {
			j := s.slot(h)
			s.hashes[j], s.rows[j] = h, rows[i]
		}
	}
}

// touch reads the slots (hash and row) where the hashes hs belong, so that the memory of a table far
// larger than the cache is on its way before addHash needs it: a batch's misses then
// overlap instead of coming one after another (the key check's largest cost).
func (s *keySet) touch(hs func(yield func(uint64) bool)) {
	var sum uint64
	for h := range hs {
		i := s.home(h)
		sum += s.hashes[i] + uint64(s.rows[i]) // rows too: addHash writes there
	}
	s.touched += sum // kept, so that the reads are not left out
}

func (s *keySet) has(key string) bool {
	h := s.hash(key)
	return s.hashes[s.slot(h)] == h
}

// maxAbsentKeys is how many absent keys the summary names.
const maxAbsentKeys = 20

// absent counts the keys the state database has on the portal that the input had not.
func absent(ctx context.Context, l *Ledger, seen *keySet, st *Stats) error {
	return l.DB.Keys(ctx, l.Portal, func(key string, _ int64) error {
		if seen.has(key) {
			return nil
		}
		st.Absent++
		if len(st.AbsentKeys) < maxAbsentKeys {
			st.AbsentKeys = append(st.AbsentKeys, mapping.ShowKey(key))
		}
		return nil
	})
}
