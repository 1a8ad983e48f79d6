package scaffold

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestNamesBuiltOnFirstUse: the tables built on first use hold every name of the export
// tables under its field, as the init that built them did, and no two fields share a
// folded name (the map's order would pick one by chance: "Deal #" and "Deal" once did).
func TestNamesBuiltOnFirstUse(t *testing.T) {
	t.Parallel()
	owner := map[string]string{}
	for _, e := range exportNames {
		field := e.of
		for _, n := range e.names {
			if other, ok := owner[norm(n)]; ok && other != field {
				t.Errorf("%q folds to %q, a name of both %s and %s", n, norm(n), field, other)
			}
			owner[norm(n)] = field
		}
	}
	for _, e := range exportNames {
		field := e.of
		for _, n := range e.names {
			got := fieldOf(n)
			if got != field {
				t.Errorf("fieldOf(%q) = %q, want %q", n, got, field)
			}
		}
	}
	for _, e := range currencies {
		code := e.of
		if got := currencyCodeOf(code); got != code {
			t.Errorf("currencyCodeOf(%q) = %q, want %q", code, got, code)
		}
		for _, n := range e.names {
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
	for name, re := range map[string]*lazyRE{
		"creatorRE": creatorRE, "emailRE": emailRE, "idLikeRE": idLikeRE, "idHintRE": idHintRE, "numberRE": numberRE,
		"isoDateTime": isoDateTime, "englishMonth": englishMonth, "guidRE": guidRE, "commaDecimal": commaDecimal,
		"dotDecimal": dotDecimal, "commaGroups": commaGroups, "dotGroups": dotGroups, "currencyCode": currencyCode,
		"strictISO": strictISO, "numericDate": numericDate,
	} {
		first, again := re.get(), re.get()
		if first != again {
			t.Errorf("%s: compiled twice (%p, %p), want once", name, first, again)
		}
	}
}

// TestNoInit: the package has no init to run. Before its tables were built on first use
// its init allocated 5.3 MB (GODEBUG=inittrace=1), which stayed in every command's
// resident set; with its regular expressions and tables laid out by the linker (lazyRE,
// lazy, slices for maps) a command that does not call it touches none of its code.
func TestNoInit(t *testing.T) {
	t.Parallel()
	if os.Getenv("SCAFFOLD_INIT_CHILD") == "1" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoInit$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "SCAFFOLD_INIT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !regexp.MustCompile(`(?m)^init testing @`).Match(out) {
		t.Fatalf("no init trace in:\n%s", out)
	}
	if m := regexp.MustCompile(`(?m)^init github\.com/oppimport/oppimport/scaffold @.*$`).Find(out); m != nil {
		t.Errorf("the package runs an init: %s; want none", m)
	}
}
