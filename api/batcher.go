package api

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Micro-batching of /predict: concurrent requests for the same model are
// run as one forward pass. A pass of the served 2×LSTM(64) costs about
// 0.3 ms for one window and 0.12 ms a window from 8 windows on (each
// weight loaded serves several rows, and the fixed cost is paid once), so
// under load batching multiplies throughput; a request alone waits for
// nothing but its own pass (see collect).
const (
	// maxBatchWindows bounds the windows of one forward pass.
	maxBatchWindows = 64
	// maxBatchWait bounds how long a batch waits for more windows after its
	// first, when none is waiting already and the last pass had company.
	// Under wrk -c16 on 2 cores, 100–500 µs served 5–25% more requests
	// than not waiting or waiting 1 ms (which idles the model while the
	// last clients' requests are still being read).
	maxBatchWait = 200 * time.Microsecond
)

// errBatcherStopped: the batcher no longer takes windows (its model was
// replaced or closed); the caller runs the window itself.
var errBatcherStopped = errors.New("batcher stopped")

// batchRequest is one window waiting for its prediction. Requests are
// pooled: the hot path allocates nothing per request.
type batchRequest struct {
	window []float32
	out    float32
	err    error
	done   chan struct{} // capacity 1: the batcher never blocks on it
}

var batchRequests = sync.Pool{New: func() any { return &batchRequest{done: make(chan struct{}, 1)} }}

// batcher runs the windows sent to it in batches, one forward pass at a
// time, on one goroutine. The request channel is unbuffered, so a window
// is either the caller's (still sending: it can give up when its context
// ends or the batcher stops) or the batcher's (taken: it will be answered).
// Nothing can be left in a queue when the goroutine ends.
type batcher struct {
	forward  func(x []float32, n int) ([]float32, error) // one output per window of x
	per      int                                         // values per window
	maxBatch int
	maxWait  time.Duration

	reqs chan *batchRequest
	quit chan struct{} // closed by stop
	done chan struct{} // closed when the goroutine has returned
	once sync.Once

	// Owned by the goroutine, reused by every batch.
	in    []float32
	batch []*batchRequest
	timer *time.Timer
	last  int // windows in the last pass

	// Counters, for tests and benchmarks.
	batches, windows, largest atomic.Int64
}

// newBatcher starts the goroutine that batches windows of per values for
// forward; stop ends it.
func newBatcher(per, maxBatch int, maxWait time.Duration, forward func(x []float32, n int) ([]float32, error)) *batcher {
	b := &batcher{
		forward:  forward,
		per:      per,
		maxBatch: max(maxBatch, 1),
		maxWait:  maxWait,
		reqs:     make(chan *batchRequest),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		in:       make([]float32, 0, max(maxBatch, 1)*per),
		batch:    make([]*batchRequest, 0, max(maxBatch, 1)),
		timer:    time.NewTimer(time.Hour),
	}
	b.timer.Stop()
	go b.loop()
	return b
}

// predict returns forward's output for window, run in a batch with the
// windows sent at about the same time. It returns ctx's error if ctx ends
// before the batcher takes the window, and errBatcherStopped once the
// batcher is stopped; a window taken is answered (by one forward pass).
func (b *batcher) predict(ctx context.Context, window []float32) (float32, error) {
	if len(window) != b.per {
		// Refused here: in a batch it would fail the others' pass.
		return 0, fmt.Errorf("predict: %d inputs, want one window of %d", len(window), b.per)
	}
	r := batchRequests.Get().(*batchRequest)
	r.window = window
	select {
	case b.reqs <- r:
	case <-b.quit:
		r.window = nil
		batchRequests.Put(r)
		return 0, errBatcherStopped
	case <-ctx.Done():
		r.window = nil
		batchRequests.Put(r)
		return 0, ctx.Err()
	}
	<-r.done
	out, err := r.out, r.err
	r.out, r.err = 0, nil
	batchRequests.Put(r)
	return out, err
}

// stop makes the batcher take no more windows, lets the pass under way
// finish (its windows are answered) and waits for the goroutine to return.
// Callers still sending get errBatcherStopped. Idempotent.
func (b *batcher) stop() {
	b.once.Do(func() { close(b.quit) })
	<-b.done
}

func (b *batcher) loop() {
	defer close(b.done)
	for {
		select {
		case r := <-b.reqs:
			b.add(r)
		case <-b.quit:
			return
		}
		b.collect()
		b.run()
	}
}

// collect adds windows to the batch started by its first: every window
// already waiting, then, while the batch has room and if the last pass
// had more than one window (requests come concurrently), those arriving
// within maxWait of the first. Under load most of a batch is the windows
// that arrived during the last pass, already waiting; a lone client's
// request never waits.
func (b *batcher) collect() {
	armed := false
	defer func() {
		if armed {
			b.timer.Stop()
		}
	}()
	for len(b.batch) < b.maxBatch {
		select {
		case r := <-b.reqs:
			b.add(r)
			continue
		default:
		}
		if b.maxWait <= 0 || b.last <= 1 {
			return
		}
		if !armed {
			b.timer.Reset(b.maxWait)
			armed = true
		}
		select {
		case r := <-b.reqs:
			b.add(r)
		case <-b.timer.C:
			armed = false
			return
		case <-b.quit:
			return // run what was taken; loop then returns
		}
	}
}

func (b *batcher) add(r *batchRequest) {
	b.batch = append(b.batch, r)
	b.in = append(b.in, r.window...)
}

// run makes one forward pass over the batch and answers its windows.
func (b *batcher) run() {
	n := len(b.batch)
	out, err := b.forward(b.in, n)
	if err == nil && len(out) != n {
		err = fmt.Errorf("predict: %d outputs for %d windows", len(out), n)
	}
	for i, r := range b.batch {
		if err != nil {
			r.err = err
		} else {
			r.out = out[i]
		}
		r.window = nil
		r.done <- struct{}{}
		b.batch[i] = nil
	}
	b.batch, b.in, b.last = b.batch[:0], b.in[:0], n
	b.batches.Add(1)
	b.windows.Add(int64(n))
	if int64(n) > b.largest.Load() { // only this goroutine stores it
		b.largest.Store(int64(n))
	}
}
