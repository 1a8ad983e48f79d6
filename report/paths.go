package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Paths gives the report and rejects paths of a run on input: reportPath and rejectsPath
// as given, or, when empty, the input's name with .report.csv in the current folder, and
// the input's name with .rejects and the input's extension (.xlsx for a workbook, else
// .csv) in the report's folder. The rejects of a rejects file do not stack the suffix:
// deals.rejects.csv's own rejects go to deals.rejects-2.csv, then deals.rejects-3.csv.
// input "-" (stdin) is named "stdin".
func Paths(input, reportPath, rejectsPath string) (string, string) {
	base := strings.TrimSuffix(filepath.Base(input), filepath.Ext(input))
	if input == "-" {
		base = "stdin"
	}
	if reportPath == "" {
		reportPath = base + ".report.csv"
	}
	if rejectsPath == "" {
		ext := ".csv"
		if strings.EqualFold(filepath.Ext(input), ".xlsx") {
			ext = ".xlsx"
		}
		rejectsPath = filepath.Join(filepath.Dir(reportPath), rejectsName(base)+ext)
	}
	return reportPath, rejectsPath
}

var roundSuffix = regexp.MustCompile(`\.rejects(?:-([0-9]+))?$`)

// rejectsName is the rejects file's name (without extension) for an input named base.
func rejectsName(base string) string {
	m := roundSuffix.FindStringSubmatchIndex(base)
	if m == nil {
		return base + ".rejects"
	}
	round := 1
	if m[2] >= 0 {
		n, err := strconv.Atoi(base[m[2]:m[3]])
		if err != nil || n >= 1<<30 {
			return base + ".rejects"
		}
		round = n
	}
	return base[:m[0]] + ".rejects-" + strconv.Itoa(round+1)
}

// File is a file a run reads or writes, for Distinct: what it is, in the words of an
// error message ("the report (--report)"), and its path. An empty path or "-" is none.
type File struct {
	What string
	Path string
}

// Distinct checks, before a run opens anything for writing, that no two of files are
// one file: by the file's identity when it exists (a hard link or a symbolic link to the
// input is the input), else by its absolute path with its folder's links resolved. A
// report written over its own input would destroy the input while it is read. The error
// names both and says which to change.
func Distinct(files ...File) error {
	type id struct {
		File
		info os.FileInfo // nil when the file does not exist yet
		real string      // the absolute path, links resolved as far as they exist
	}
	var ids []id
	for _, f := range files {
		if f.Path == "" || f.Path == "-" {
			continue
		}
		x := id{File: f, real: realPath(f.Path)}
		if info, err := os.Stat(f.Path); err == nil {
			x.info = info
		}
		for _, y := range ids {
			same := x.real == y.real
			if x.info != nil && y.info != nil {
				same = same || os.SameFile(x.info, y.info)
			}
			if !same {
				continue
			}
			how := "the same file"
			if filepath.Clean(x.Path) != filepath.Clean(y.Path) {
				how = fmt.Sprintf("the same file under another name (%q is %q)", x.Path, y.Path)
			}
			return fmt.Errorf("%s and %s are %s: give %s another name", y.What, x.What, how, x.What)
		}
		ids = append(ids, x)
	}
	return nil
}

// realPath is path made absolute with every link resolved; for a path that does not
// exist yet, its nearest existing folder's.
func realPath(path string) string {
	abs, err := filepath.Abs(followLinks(path))
	if err != nil {
		return filepath.Clean(path)
	}
	var rest []string
	for dir := abs; ; dir = filepath.Dir(dir) {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		if filepath.Dir(dir) == dir {
			return abs
		}
		rest = append([]string{filepath.Base(dir)}, rest...)
	}
}

// fileMode is the mode of every file this package creates: reports and rejects hold the
// customer's data, so only their owner reads them, and nothing in them is a program.
const fileMode = 0o600

// folderMode is the mode of a report's folder when this package creates it.
const folderMode = 0o700

// createFile creates (or truncates) the file at path with fileMode, creating its folder
// first when it is missing. A regular file that was there keeps its content out (it is
// truncated) and gets fileMode too; a device such as /dev/null is written as it is.
func createFile(path string) (*os.File, error) {
	if err := makeFolder(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() != fileMode {
		if err := f.Chmod(fileMode); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// makeFolder creates the folder that path is to be written in, when it is missing.
func makeFolder(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, folderMode); err != nil {
		return fmt.Errorf("creating its folder: %w", err)
	}
	return nil
}

// replaceFile writes a whole file through write into a temporary file beside path and
// renames it over path, so that path never holds half a file: a failed write (a full
// disk) leaves what was there before, or nothing. The file gets fileMode.
func replaceFile(path string, write func(*os.File) error) error {
	path = followLinks(path) // a link to the report stays a link; its target gets the new file
	if err := makeFolder(path); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		// A device or a pipe (/dev/null, /dev/stdout) cannot be renamed over: write it directly.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, fileMode)
		if err != nil {
			return err
		}
		return errors.Join(write(f), f.Close())
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(fileMode); err != nil {
		return err
	}
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	return nil
}

// followLinks is path, or the file its symbolic links end at, whether that exists yet
// or not.
func followLinks(path string) string {
	for range 40 { // as many hops as Linux follows
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			return path
		}
		target, err := os.Readlink(path)
		if err != nil {
			return path
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return path
}

// checkWritable proves that a file can be created in dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".oppimport-*")
	if err != nil {
		return fmt.Errorf("folder cannot be written: %w", err)
	}
	name := f.Name()
	return errors.Join(f.Close(), os.Remove(name))
}
