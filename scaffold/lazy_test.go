package scaffold

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// TestNamesBuiltOnFirstUse: the tables built on first use hold every name of the export
// tables under its field, as the init that built them did, and no two fields share a
// folded name (the map's order would pick one by chance: "Deal #" and "Deal" once did).
func TestNamesBuiltOnFirstUse(t *testing.T) {
	t.Parallel()
	owner := map[string]string{}
	for field, names := range exportNames {
		for _, n := range names {
			if other, ok := owner[norm(n)]; ok && other != field {
				t.Errorf("%q folds to %q, a name of both %s and %s", n, norm(n), field, other)
			}
			owner[norm(n)] = field
		}
	}
	for field, names := range exportNames {
		for _, n := range names {
			got := fieldOf(n)
			if got != field {
				t.Errorf("fieldOf(%q) = %q, want %q", n, got, field)
			}
		}
	}
	for code, names := range currencies {
		if got := currencyCodeOf(code); got != code {
			t.Errorf("currencyCodeOf(%q) = %q, want %q", code, got, code)
		}
		for _, n := range names {
			if got := currencyCodeOf(" " + n + " "); got != code {
				t.Errorf("currencyCodeOf(%q) = %q, want %q", n, got, code)
			}
		}
	}
}

// TestRegexpsCompile: every expression compiled on first use compiles (a bad one would
// panic in the middle of init-mapping, not at start-up), once.
func TestRegexpsCompile(t *testing.T) {
	t.Parallel()
	for name, re := range map[string]func() *regexp.Regexp{
		"creatorRE": creatorRE, "emailRE": emailRE, "idLikeRE": idLikeRE, "idHintRE": idHintRE, "numberRE": numberRE,
		"isoDateTime": isoDateTime, "englishMonth": englishMonth, "guidRE": guidRE, "commaDecimal": commaDecimal,
		"dotDecimal": dotDecimal, "commaGroups": commaGroups, "dotGroups": dotGroups, "currencyCode": currencyCode,
		"strictISO": strictISO, "numericDate": numericDate,
	} {
		first, again := re(), re()
		if first != again {
			t.Errorf("%s: compiled twice (%p, %p), want once", name, first, again)
		}
	}
}

// TestInitAllocatesLittle: the package's init, which every command of the program runs,
// builds none of the tables above. Before they were built on first use it allocated
// 5.3 MB (GODEBUG=inittrace=1), which stayed in every command's resident set.
func TestInitAllocatesLittle(t *testing.T) {
	t.Parallel()
	if os.Getenv("SCAFFOLD_INIT_CHILD") == "1" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInitAllocatesLittle$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "SCAFFOLD_INIT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	m := regexp.MustCompile(`(?m)^init github\.com/oppimport/oppimport/scaffold @.* (\d+) bytes, (\d+) allocs$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no init line for the package in:\n%s", out)
	}
	const limit = 64 << 10
	if n, _ := strconv.Atoi(string(m[1])); n > limit {
		t.Errorf("the package's init allocated %d bytes (%s allocs), want at most %d", n, m[2], limit)
	}
}
