package importer

import (
	"context"
	"hash/maphash"
)

// keySet remembers the keys of one input by their 64-bit hashes, with the row that had
// each first: a few bytes a row, so that a million rows stay small. Two different keys
// sharing a hash (about one chance in 10^7 for 10^6 rows) would make the second row
// invalid with a message naming the first: loud, never silent. Not safe for concurrent use.
type keySet struct {
	seed maphash.Seed
	rows map[uint64]int
}

func newKeySet() *keySet {
	return &keySet{seed: maphash.MakeSeed(), rows: map[uint64]int{}}
}

// add records key for row and returns the row that had it first, or 0.
func (s *keySet) add(key string, row int) int {
	h := maphash.String(s.seed, key)
	if first, ok := s.rows[h]; ok {
		return first
	}
	s.rows[h] = row
	return 0
}

func (s *keySet) has(key string) bool {
	_, ok := s.rows[maphash.String(s.seed, key)]
	return ok
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
			st.AbsentKeys = append(st.AbsentKeys, displayKey(key))
		}
		return nil
	})
}
