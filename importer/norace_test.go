//go:build !race

package importer

// raceOn says the tests run under the race detector (see race_test.go).
const raceOn = false
