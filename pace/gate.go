package pace

import (
	"context"
	"sync"
)

// Gate is a semaphore whose size can change while it is in use: it bounds the requests in
// flight. Shrinking never interrupts a holder; the slots above the new size are simply not
// handed out again until enough holders release. Waiters are served in arrival order.
// Safe for concurrent use; the zero value is not usable: build one with NewGate.
type Gate struct {
	mu      sync.Mutex
	size    int
	held    int
	waiters []chan struct{} // FIFO; a waiter's channel is closed when it is granted a slot
}

// NewGate returns a gate of size slots (at least 1).
func NewGate(size int) *Gate {
	return &Gate{size: max(size, 1)}
}

// Acquire takes a slot, waiting for one if all are held. It returns ctx's error, holding
// nothing, when ctx is done first.
func (g *Gate) Acquire(ctx context.Context) error {
	g.mu.Lock()
	if g.held < g.size && len(g.waiters) == 0 {
		g.held++
		g.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	g.waiters = append(g.waiters, ready)
	g.mu.Unlock()

	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		select {
		case <-ready:
			// Granted while giving up: hand the slot on.
			g.held--
			g.grant()
		default:
			for i, w := range g.waiters {
				if w == ready {
					g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
					break
				}
			}
		}
		return ctx.Err()
	}
}

// Release gives back a slot taken by Acquire.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held <= 0 {
		panic("pace: Release without Acquire")
	}
	g.held--
	g.grant()
}

// Resize sets the number of slots (at least 1). Growing wakes waiters at once.
func (g *Gate) Resize(size int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.size = max(size, 1)
	g.grant()
}

// Size is the current number of slots.
func (g *Gate) Size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.size
}

// Held is the number of slots taken.
func (g *Gate) Held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// grant hands free slots to the first waiters. g.mu is held.
func (g *Gate) grant() {
	for g.held < g.size && len(g.waiters) > 0 {
		close(g.waiters[0])
		g.waiters[0] = nil
		g.waiters = g.waiters[1:]
		g.held++
	}
}
