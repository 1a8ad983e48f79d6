//go:build race

package importer

// raceOn says the tests run under the race detector, which makes the state database (SQLite
// compiled to Go) some twenty times slower: the largest inputs are cut down under it.
const raceOn = true
