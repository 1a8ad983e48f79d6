package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A value is one parameter as sent: a JSON body value, or the texts of a route, query or form
// parameter (a repeated name gives several texts).
type value struct {
	raw   json.RawMessage
	texts []string
	json  bool
}

// params holds a request's parameters by lower-case name, in the server's order of precedence:
// route, then query, then body; the first source that has a name wins.
type params struct {
	route, query, body map[string]value
}

const maxBody = 8 << 20

// readParams collects the route values, the query and the body of r. The body counts only
// when its media type is application/json (an object) or application/x-www-form-urlencoded.
func readParams(r *http.Request, route map[string]string) (*params, *apiError) {
	p := &params{route: map[string]value{}, query: parseForm(r.URL.RawQuery), body: map[string]value{}}
	for k, v := range route {
		p.route[k] = value{texts: []string{v}}
	}
	if r.Body == nil {
		return p, nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch strings.ToLower(mt) {
	case "application/json":
		data, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			return nil, errArgument("the request body could not be read")
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return p, nil
		}
		body, err := parseJSONObject(data)
		if err != nil {
			return nil, errArgument("the request body is not a JSON object: " + err.Error())
		}
		p.body = body
	case "application/x-www-form-urlencoded":
		data, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			return nil, errArgument("the request body could not be read")
		}
		p.body = parseForm(string(data))
	}
	return p, nil
}

// parseForm reads a query string keeping the first spelling of each name; a repeated name
// (with or without a trailing "[]") collects a list.
func parseForm(q string) map[string]value {
	out := map[string]value{}
	for part := range strings.SplitSeq(q, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		k = strings.ToLower(strings.TrimSuffix(k, "[]"))
		cur := out[k]
		cur.texts = append(cur.texts, v)
		out[k] = cur
	}
	return out
}

// parseJSONObject reads the top-level members of a JSON object in order, so that of two names
// differing only in case the first wins.
func parseJSONObject(data []byte) (map[string]value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want an object")
	}
	out := map[string]value{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		name = strings.ToLower(name)
		if _, seen := out[name]; !seen {
			out[name] = value{raw: raw, json: true}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the object")
	}
	return out, nil
}

// get finds a parameter by name (any case) in route, query, then body.
func (p *params) get(name string) (value, bool) {
	name = strings.ToLower(name)
	for _, src := range []map[string]value{p.route, p.query, p.body} {
		if v, ok := src[name]; ok {
			return v, true
		}
	}
	return value{}, false
}

// A reader reads a call's parameters one after another and keeps the first that could not
// be read: the later ones read as omitted, and err is the call's answer. Handlers that take
// several parameters read them so, each in one line.
type reader struct {
	p   *params
	err *apiError
}

// read reads r's parameter name with convert: its value, and whether it was sent.
func read[T any](r *reader, name string, convert func(value) (T, bool, *apiError)) (T, bool) {
	var zero T
	if r.err != nil {
		return zero, false
	}
	v, _ := r.p.get(name)
	x, present, err := convert(v)
	if err != nil {
		r.err = err
		return zero, false
	}
	return x, present
}

// idList reads the parameter name as a list of ids that names at least one: an omitted or
// empty list is the server's generic 400.
func idList(p *params, name string) ([]int, *apiError) {
	ids, err := listOf(p, name, value.toInt)
	if err == nil && len(ids) == 0 {
		err = errGeneric()
	}
	return ids, err
}

// listOf reads the parameter name as a list of elements convert reads, omitted ones left
// out: nil when the parameter is absent.
func listOf[T any](p *params, name string, convert func(value) (T, bool, *apiError)) ([]T, *apiError) {
	v, ok := p.get(name)
	if !ok {
		return nil, nil
	}
	var out []T
	for _, e := range v.list() {
		x, present, err := convert(e)
		if err != nil {
			return nil, err
		}
		if present {
			out = append(out, x)
		}
	}
	return out, nil
}

// getQuery finds a parameter in the query only (paging parameters).
func (p *params) getQuery(name string) (value, bool) {
	v, ok := p.query[strings.ToLower(name)]
	return v, ok
}

// scalar kinds of a value
const (
	kindText   = 's'
	kindNumber = 'n'
	kindBool   = 'b'
	kindOther  = 'o' // array or object
)

// scalar returns the value's text, its kind and whether it is present at all: an empty
// string or null counts as omitted.
func (v value) scalar() (text string, kind byte, present bool) {
	if !v.json {
		if len(v.texts) == 0 || v.texts[0] == "" {
			return "", kindText, false
		}
		return v.texts[0], kindText, true
	}
	raw := bytes.TrimSpace(v.raw)
	if len(raw) == 0 {
		return "", kindText, false
	}
	switch raw[0] {
	case 'n':
		return "", kindText, false
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil || s == "" {
			return "", kindText, false
		}
		return s, kindText, true
	case 't', 'f':
		return string(raw), kindBool, true
	case '[', '{':
		return string(raw), kindOther, true
	default:
		return string(raw), kindNumber, true
	}
}

// list returns the elements of a list parameter: a JSON array, one JSON scalar, or the texts
// of a repeated query or form name.
func (v value) list() []value {
	if !v.json {
		out := make([]value, 0, len(v.texts))
		for _, t := range v.texts {
			out = append(out, value{texts: []string{t}})
		}
		return out
	}
	raw := bytes.TrimSpace(v.raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return []value{v}
		}
		out := make([]value, 0, len(items))
		for _, it := range items {
			out = append(out, value{raw: it, json: true})
		}
		return out
	}
	return []value{v}
}

// notValid is the message of a value that does not convert to the parameter's type.
func notValid(text, typ string) *apiError {
	return errArgument(fmt.Sprintf("%s is not a valid value for %s.", text, typ))
}

// toString converts any scalar to text; present false when omitted.
func (v value) toString() (string, bool, *apiError) {
	text, kind, ok := v.scalar()
	if !ok {
		return "", false, nil
	}
	if kind == kindOther {
		return "", false, notValid(text, "String")
	}
	return text, true, nil
}

// toInt converts to a 32-bit integer: 5 and "5" convert, "5.0" and true do not.
func (v value) toInt() (int, bool, *apiError) {
	text, kind, ok := v.scalar()
	if !ok {
		return 0, false, nil
	}
	if kind == kindBool || kind == kindOther {
		return 0, false, notValid(text, "Int32")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 32)
	if err != nil {
		return 0, false, notValid(text, "Int32")
	}
	return int(n), true, nil
}

// toDecimal converts to a decimal in the invariant culture ("." only) and returns it in
// canonical form: no leading "+", no leading zeros, no trailing fraction zeros.
func (v value) toDecimal() (string, bool, *apiError) {
	text, kind, ok := v.scalar()
	if !ok {
		return "", false, nil
	}
	if kind == kindBool || kind == kindOther {
		return "", false, notValid(text, "Decimal")
	}
	s := strings.TrimSpace(text)
	if kind == kindNumber && strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "", false, notValid(text, "Decimal")
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	d, ok := canonicalDecimal(s)
	if !ok {
		return "", false, notValid(text, "Decimal")
	}
	return d, true, nil
}

// canonicalDecimal checks s against [+-]digits[.digits] and normalises it; false when s is
// not such a number or overflows a .NET decimal's 28 integer digits.
func canonicalDecimal(s string) (string, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	ip, fp, hasDot := strings.Cut(s, ".")
	if ip == "" && fp == "" || !allDigits(ip) || !allDigits(fp) || hasDot && strings.Contains(fp, ".") {
		return "", false
	}
	ip = strings.TrimLeft(ip, "0")
	fp = strings.TrimRight(fp, "0")
	if len(ip) > 28 {
		return "", false
	}
	if ip == "" {
		ip = "0"
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// toBool converts true or false (JSON booleans or text in any case); nothing else.
func (v value) toBool() (bool, bool, *apiError) {
	text, kind, ok := v.scalar()
	if !ok {
		return false, false, nil
	}
	if kind == kindNumber || kind == kindOther {
		return false, false, notValid(text, "Boolean")
	}
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, notValid(text, "Boolean")
}

// toGUID converts a dashed, braced or 32-hex-digit GUID to dashed lower case.
func (v value) toGUID() (string, bool, *apiError) {
	text, kind, ok := v.scalar()
	if !ok {
		return "", false, nil
	}
	if kind != kindText {
		return "", false, notValid(text, "Guid")
	}
	g, ok := parseGUID(text)
	if !ok {
		return "", false, notValid(text, "Guid")
	}
	return g, true, nil
}

const emptyGUID = "00000000-0000-0000-0000-000000000000"

func parseGUID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != 32 {
		return "", false
	}
	for i := 0; i < 32; i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", false
		}
	}
	s = strings.ToLower(s)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:], true
}

// toEnum converts an enum given by name (any case) or by number; numbers need not name a
// member (the server stores them as they come).
func (v value) toEnum(typ string, names []string) (int, bool, *apiError) {
	text, kind, ok := v.scalar()
	if !ok {
		return 0, false, nil
	}
	if kind == kindBool || kind == kindOther {
		return 0, false, notValid(text, typ)
	}
	s := strings.TrimSpace(text)
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		return int(n), true, nil
	}
	for i, name := range names {
		if strings.EqualFold(s, name) {
			return i, true, nil
		}
	}
	return 0, false, notValid(text, typ)
}

// toDate converts an ApiDateTime. A date-time inside a JSON body first goes through the
// JSON library's rewrite (see jsonDateRewrite).
func (v value) toDate(loc *time.Location) (time.Time, bool, *apiError) {
	text, kind, ok := v.scalar()
	if !ok {
		return time.Time{}, false, nil
	}
	if kind != kindText {
		return time.Time{}, false, errArgument("invalid date time format: " + text)
	}
	if v.json {
		text = jsonDateRewrite(text)
	}
	t, err := parseAPIDate(text, loc)
	if err != nil {
		return time.Time{}, false, errArgument("invalid date time format: " + text)
	}
	return t, true, nil
}

// parseAPIDate reads the forms ApiDateTime accepts: yyyy-MM-dd, or yyyy-MM-ddTHH:mm:ss with
// 0, 3 or exactly 7 fraction digits, ":" or "-" between the time parts, then "Z", "±hh:mm"
// or nothing. Without a zone the time is in loc. The result is in loc.
func parseAPIDate(s string, loc *time.Location) (time.Time, error) {
	bad := fmt.Errorf("invalid date time format: %s", s)
	num := func(from, n int) (int, bool) {
		if from+n > len(s) || !allDigits(s[from:from+n]) {
			return 0, false
		}
		x, _ := strconv.Atoi(s[from : from+n])
		return x, true
	}
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, bad
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, bad
	}
	var h, mi, sec, nsec int
	zone := loc
	if len(s) > 10 {
		if len(s) < 19 || s[10] != 'T' || (s[13] != ':' && s[13] != '-') || s[16] != s[13] {
			return time.Time{}, bad
		}
		var ok4, ok5, ok6 bool
		h, ok4 = num(11, 2)
		mi, ok5 = num(14, 2)
		sec, ok6 = num(17, 2)
		if !ok4 || !ok5 || !ok6 {
			return time.Time{}, bad
		}
		rest := s[19:]
		if strings.HasPrefix(rest, ".") {
			n := 1
			for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
				n++
			}
			digits := rest[1:n]
			if len(digits) != 3 && len(digits) != 7 {
				return time.Time{}, bad
			}
			f, _ := strconv.Atoi(digits)
			if len(digits) == 3 {
				nsec = f * 1_000_000
			} else {
				nsec = f * 100
			}
			rest = rest[n:]
		}
		switch {
		case rest == "":
		case rest == "Z":
			zone = time.UTC
		case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
			allDigits(rest[1:3]) && allDigits(rest[4:6]):
			oh, _ := strconv.Atoi(rest[1:3])
			om, _ := strconv.Atoi(rest[4:6])
			if oh > 14 || om > 59 {
				return time.Time{}, bad
			}
			off := oh*3600 + om*60
			if rest[0] == '-' {
				off = -off
			}
			zone = time.FixedZone("", off)
		default:
			return time.Time{}, bad
		}
	}
	if mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 || y < 1 {
		return time.Time{}, bad
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nsec, zone)
	if t.Day() != d || t.Month() != time.Month(mo) {
		return time.Time{}, bad
	}
	return t.In(loc), nil
}

// jsonDateRewrite models the server's JSON library: a string in a JSON body that reads as an
// ISO date-time (yyyy-MM-ddTHH:mm:ss, ":" separators, any fraction, optional zone) is parsed
// into a date and written back with the fraction's trailing zeros dropped, so "...00.120Z"
// reaches the date parser as "...00.12Z" (and is refused) and "...00.000Z" as "...00Z".
func jsonDateRewrite(s string) string {
	if len(s) < 19 || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return s
	}
	rest := s[19:]
	if !strings.HasPrefix(rest, ".") {
		return s
	}
	n := 1
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 1 {
		return s
	}
	zone := rest[n:]
	if zone != "" && zone != "Z" && !(len(zone) == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
		return s
	}
	// Only a real date-time is rewritten; anything else stays a plain string.
	if _, err := time.Parse("2006-01-02T15:04:05", s[:19]); err != nil {
		return s
	}
	frac := strings.TrimRight(rest[1:n], "0")
	if frac == "" {
		return s[:19] + zone
	}
	return s[:19] + "." + frac + zone
}

// formatAPIDate writes a date as the server does: portal-local, 7 fraction digits, "Z" or
// "±hh:mm"; the zero time is 0001-01-01T00:00:00.0000000Z.
func formatAPIDate(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00.0000000Z"
	}
	return t.In(loc).Format("2006-01-02T15:04:05.0000000Z07:00")
}
