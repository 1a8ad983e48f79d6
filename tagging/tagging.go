// Package tagging adds the tags of the deals a run writes, each tag to many deals in one
// request (POST crm/opportunity/taglist), so that tags which repeat across rows cost about
// nothing against the portal's rate limit: one request per distinct tag per batch of deals,
// where tagging each deal alone would cost one request per tag per deal.
//
// A Stage sits between the run's workers and its ordered output: each row enters it in input
// order with the tags its deal should get, and leaves it, still in input order, once those
// tags were sent, with what became of them. A row without tags leaves as soon as the rows
// before it have.
package tagging

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client is what tagging needs of the portal; *onlyoffice.Client is one. Both calls may be
// sent twice without harm; both must be safe for concurrent use.
type Client interface {
	// TagMany adds tag to every deal of ids in one request.
	TagMany(ctx context.Context, tag string, ids []int64) (attempts int, err error)
	// AddTag adds tag to deal id.
	AddTag(ctx context.Context, id int64, tag string) (attempts int, err error)
}

// Options size a Stage. Zero values take the defaults.
type Options struct {
	Batch int // deals per taglist request; 0 = 200
	Held  int // rows held at most before every pending tag is sent; 0 = 1024
	Sends int // tag requests in flight at once; 0 = 4
	// Linger is how long the oldest row may wait for a batch to fill before every pending
	// tag is sent, so that the report and the progress keep up with a slow run; 0 = 5 s.
	Linger time.Duration
}

// Outcome is what became of one deal's tags.
type Outcome struct {
	Added  []string // the tags the portal now holds on the deal, in the order given
	Failed []string // the tags that could not be added
	Err    string   // why, one reason per failed tag; "" when none failed
}

// Stage holds rows until their deals are tagged and hands them on in the order they came.
// Put and Close must be called from one goroutine; out is called on that goroutine, from
// Put or Close.
type Stage[T any] struct {
	ctx    context.Context
	client Client
	opts   Options
	out    func(v T, o Outcome)

	queue []*entry[T] // in input order
	sem   chan struct{}
	wg    sync.WaitGroup
	reqs  atomic.Int64

	// What waits for a taglist request, by tag (folded), and when the oldest row whose
	// tag waits there came: Linger counts from it, not from rows whose tags are in flight.
	groups  map[string]*group
	pending time.Time
	// ready is signalled whenever an entry's last tag was sent.
	ready chan struct{}
	now   func() time.Time // the clock of Linger; a field for the tests
}

type entry[T any] struct {
	v    T
	at   time.Time // when it came
	tags []string
	mu   sync.Mutex
	left int               // tags not yet answered
	err  map[string]string // tag -> why it failed
}

type group struct {
	tag     string // the first spelling seen
	ids     []int64
	answers []func(err error)
}

// NewStage returns a Stage whose requests run under ctx (which should not be cancelled by a
// first Ctrl-C: the deals are created, their tags should follow).
func NewStage[T any](ctx context.Context, c Client, o Options, out func(v T, o Outcome)) *Stage[T] {
	if o.Batch <= 0 {
		o.Batch = 200
	}
	if o.Held <= 0 {
		o.Held = 1024
	}
	if o.Sends <= 0 {
		o.Sends = 4
	}
	if o.Linger <= 0 {
		o.Linger = 5 * time.Second
	}
	return &Stage[T]{ctx: ctx, client: c, opts: o, out: out, sem: make(chan struct{}, o.Sends),
		groups: map[string]*group{}, ready: make(chan struct{}, 1), now: time.Now}
}

// Put takes the next row in input order: v, and the tags deal id should get (none: v only
// waits for the rows before it). It hands on every row that is done, and when too many are
// held it sends every pending tag and waits for the oldest row.
func (s *Stage[T]) Put(v T, id int64, tags []string) {
	e := &entry[T]{v: v, at: s.now(), tags: tags}
	if id > 0 && len(tags) > 0 {
		e.left = len(tags)
		for _, t := range tags {
			s.add(e, id, t)
		}
	}
	s.queue = append(s.queue, e)
	s.release()
	if len(s.groups) > 0 && e.at.Sub(s.pending) >= s.opts.Linger {
		s.flush() // the oldest row has waited long enough: its rows leave at the next Put
	}
	if len(s.queue) >= s.opts.Held {
		s.flush()
		for len(s.queue) >= s.opts.Held {
			<-s.ready
			s.release()
		}
	}
}

// Close sends every pending tag, waits for the answers and hands on every row held.
func (s *Stage[T]) Close() {
	s.flush()
	s.wg.Wait()
	s.release()
}

// Requests is the number of requests the stage sent, retries included.
func (s *Stage[T]) Requests() int { return int(s.reqs.Load()) }

// add queues deal id for tag; a full batch is sent at once.
func (s *Stage[T]) add(e *entry[T], id int64, tag string) {
	if len(s.groups) == 0 {
		s.pending = e.at
	}
	key := strings.ToLower(tag)
	g := s.groups[key]
	if g == nil {
		g = &group{tag: tag}
		s.groups[key] = g
	}
	g.ids = append(g.ids, id)
	g.answers = append(g.answers, func(err error) { s.answer(e, tag, err) })
	if len(g.ids) >= s.opts.Batch {
		delete(s.groups, key)
		s.send(g)
	}
}

// flush sends every pending batch, however small.
func (s *Stage[T]) flush() {
	keys := make([]string, 0, len(s.groups))
	for k := range s.groups {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same requests in the same order, run after run
	for _, k := range keys {
		s.send(s.groups[k])
		delete(s.groups, k)
	}
}

// send runs one batch on a goroutine of its own, at most Sends at once. A taglist request
// that fails leaves unknown which deals it tagged (the portal stops at a deal it cannot
// find): each deal of a failed batch is then tagged alone, so that one gone deal costs only
// its own tag.
func (s *Stage[T]) send(g *group) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.sem <- struct{}{}
		defer func() { <-s.sem }()
		n, err := s.client.TagMany(s.ctx, g.tag, g.ids)
		s.reqs.Add(int64(n))
		if err == nil || len(g.ids) == 1 || s.ctx.Err() != nil {
			for _, a := range g.answers {
				a(err)
			}
			return
		}
		for i, id := range g.ids {
			n, err := s.client.AddTag(s.ctx, id, g.tag)
			s.reqs.Add(int64(n))
			g.answers[i](err)
		}
	}()
}

// answer records the answer for one tag of e; called from the senders.
func (s *Stage[T]) answer(e *entry[T], tag string, err error) {
	e.mu.Lock()
	if err != nil {
		if e.err == nil {
			e.err = map[string]string{}
		}
		e.err[tag] = err.Error()
	}
	e.left--
	last := e.left == 0
	e.mu.Unlock()
	if last {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
}

// release hands on the rows at the head of the queue that are done.
func (s *Stage[T]) release() {
	n := 0
	for _, e := range s.queue {
		e.mu.Lock()
		left := e.left
		e.mu.Unlock()
		if left > 0 {
			break
		}
		s.out(e.v, e.outcome())
		n++
	}
	clear(s.queue[:n])
	s.queue = s.queue[n:]
}

func (e *entry[T]) outcome() Outcome {
	var o Outcome
	var reasons []string
	for _, t := range e.tags {
		if why, bad := e.err[t]; bad {
			o.Failed = append(o.Failed, t)
			reasons = append(reasons, strconv.Quote(t)+": "+why)
			continue
		}
		o.Added = append(o.Added, t)
	}
	if len(reasons) > 0 {
		o.Err = fmt.Sprintf("tags not added: %s", strings.Join(reasons, "; "))
	}
	return o
}
