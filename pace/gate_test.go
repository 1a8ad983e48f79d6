package pace

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// acquired starts an Acquire and returns the channel its result arrives on.
func acquired(ctx context.Context, g *Gate) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- g.Acquire(ctx) }()
	return ch
}

// waitQueued waits until n goroutines wait on g: the test reads the gate's state rather than
// guessing a delay.
func waitQueued(t *testing.T, g *Gate, n int) {
	t.Helper()
	for range 10000 {
		g.mu.Lock()
		q := len(g.waiters)
		g.mu.Unlock()
		if q == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("got no %d waiters", n)
}

func pending(ch <-chan error) bool {
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

func TestGateBoundsAndResizes(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	g := NewGate(2)
	for range 2 {
		if err := g.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	third, fourth := acquired(ctx, g), (<-chan error)(nil)
	waitQueued(t, g, 1)
	fourth = acquired(ctx, g)
	waitQueued(t, g, 2)
	if !pending(third) || !pending(fourth) {
		t.Fatal("got a third slot from a gate of 2")
	}

	// Growing hands the new slot to the first waiter.
	g.Resize(3)
	if err := <-third; err != nil {
		t.Fatal(err)
	}
	if !pending(fourth) {
		t.Fatal("got a fourth slot from a gate of 3")
	}
	// Shrinking takes nothing back; a release below the new size hands nothing on.
	g.Resize(1)
	g.Release()
	g.Release()
	if got := g.Held(); got != 1 || !pending(fourth) {
		t.Fatalf("got %d held and the fourth granted %v, want 1 held and the fourth waiting", got, !pending(fourth))
	}
	g.Release()
	if err := <-fourth; err != nil {
		t.Fatal(err)
	}
	if got := g.Held(); got != 1 {
		t.Errorf("got %d held, want 1", got)
	}
	g.Release()
}

func TestGateAcquireCancelled(t *testing.T) {
	defer goleak.VerifyNone(t)
	g := NewGate(1)
	if err := g.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := acquired(ctx, g)
	waitQueued(t, g, 1)
	cancel()
	if err := <-ch; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if got := g.Held(); got != 1 {
		t.Errorf("got %d held after a cancelled wait, want 1", got)
	}
	g.Release()
	if err := g.Acquire(context.Background()); err != nil {
		t.Errorf("got %v, want the slot free again", err)
	}
}

func TestGateSizeAtLeastOne(t *testing.T) {
	g := NewGate(0)
	g.Resize(-3)
	if got := g.Size(); got != 1 {
		t.Errorf("got size %d, want 1", got)
	}
}
