package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"time"
)

// jsonRow is a Result as the JSON report holds it: the CSV header's names, and null
// where the CSV cell is empty.
type jsonRow struct {
	Row           int    `json:"row"`
	Key           string `json:"key"`
	Status        string `json:"status"`
	OpportunityID *int64 `json:"opportunity_id"`
	Attempts      *int   `json:"attempts"`
	HTTPStatus    *int   `json:"http_status"`
	Error         string `json:"error"`
	Title         string `json:"title"`
	URL           string `json:"url"`
}

// jsonSummary is a Summary as the JSON report holds it. Counts names every status,
// 0 included, so a script can read any of them without a null check.
type jsonSummary struct {
	Run               int            `json:"run"`
	Mode              string         `json:"mode"`
	Input             string         `json:"input"`
	Counts            map[string]int `json:"counts"`
	Rows              int            `json:"rows"`
	Started           *time.Time     `json:"started"`
	ElapsedSeconds    float64        `json:"elapsed_seconds"`
	Requests          int            `json:"requests"`
	Refused           int            `json:"refused"`
	RequestsPerSecond float64        `json:"requests_per_second"`
	Rate              float64        `json:"rate"`
	RateReached       float64        `json:"rate_reached"`
	Stopped           string         `json:"stopped"`
}

// MarshalJSON writes the summary with snake_case names and the elapsed time in
// seconds, as the JSON report holds it.
func (s Summary) MarshalJSON() ([]byte, error) {
	js := jsonSummary{
		Run:               s.Run,
		Mode:              s.Mode,
		Input:             s.Input,
		Counts:            make(map[string]int, len(statusOrder)+len(s.Counts)),
		Rows:              s.Rows,
		ElapsedSeconds:    s.Elapsed.Seconds(),
		Requests:          s.Requests,
		Refused:           s.Refused,
		RequestsPerSecond: s.RequestRate(),
		Rate:              s.Rate,
		RateReached:       s.RateReached,
		Stopped:           s.Stopped,
	}
	for _, st := range statusOrder {
		js.Counts[st] = 0
	}
	for st, n := range s.Counts {
		js.Counts[st] = n
	}
	if !s.Started.IsZero() {
		js.Started = &s.Started
	}
	return json.Marshal(js)
}

// jsonReport streams {"rows":[...],"summary":{...}}: the rows as they come, the
// summary at Close. A report cut short by a crash lacks its closing brackets but holds
// every row written up to the last flush, one per line.
type jsonReport struct {
	file      *os.File
	w         *bufio.Writer
	buf       bytes.Buffer
	enc       *json.Encoder
	rows      int
	lastFlush time.Time
}

func newJSONReport(path string) (*jsonReport, error) {
	file, err := createFile(path)
	if err != nil {
		return nil, err
	}
	j := &jsonReport{file: file, w: bufio.NewWriter(file), lastFlush: time.Now()}
	j.enc = json.NewEncoder(&j.buf)
	j.enc.SetEscapeHTML(false)
	if _, err := j.w.WriteString(`{"rows":[`); err != nil {
		file.Close()
		return nil, err
	}
	return j, nil
}

func (j *jsonReport) write(r Result) error {
	row := jsonRow{Row: r.Row, Key: clip(r.Key), Status: r.Status, Error: clip(r.Error), Title: clip(r.Title), URL: clip(r.URL)}
	if r.OpportunityID != 0 {
		row.OpportunityID = &r.OpportunityID
	}
	if r.Attempts != 0 {
		row.Attempts = &r.Attempts
	}
	if r.HTTPStatus != 0 {
		row.HTTPStatus = &r.HTTPStatus
	}
	if err := j.encode(row); err != nil {
		return err
	}
	sep := ",\n"
	if j.rows == 0 {
		sep = "\n"
	}
	j.rows++
	j.w.WriteString(sep)
	if _, err := j.w.Write(j.buf.Bytes()); err != nil {
		return err
	}
	if time.Since(j.lastFlush) >= flushEvery {
		j.lastFlush = time.Now()
		return j.w.Flush()
	}
	return nil
}

// encode leaves v's JSON in j.buf without the encoder's trailing newline.
func (j *jsonReport) encode(v any) error {
	j.buf.Reset()
	if err := j.enc.Encode(v); err != nil {
		return err
	}
	j.buf.Truncate(j.buf.Len() - 1)
	return nil
}

func (j *jsonReport) close(s Summary) error {
	err := j.encode(s)
	if err == nil {
		if j.rows > 0 {
			j.w.WriteString("\n")
		}
		j.w.WriteString("],\n\"summary\":")
		j.w.Write(j.buf.Bytes())
		j.w.WriteString("}\n")
		err = j.w.Flush()
	}
	return errors.Join(err, j.file.Close())
}
