// Command benchcsv checks that frame.ReadCSV streams: it reads a ~1 GB
// multi-ticker Kaggle-format price file (date,open,high,low,close,volume,
// Name) keeping one ticker, and reports the time and the peak resident
// memory. The file is generated on the fly through an io.Pipe, nothing is
// written to disk: the real rows of the sp500_5yr files, cycled; every
// pass after the first renames the tickers (AAPL → AAPL_R2) and never
// changes a price. A second case feeds a 1 GB input without a line break,
// which must be refused having read about the line limit, not the input.
// The last line it prints is peak_rss_mb=<N>.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/finsight/finsight/internal/frame"
)

func main() {
	size := flag.Int64("bytes", 1<<30, "size of the generated file")
	dir := flag.String("dir", "../shared/data/sp500_5yr", "folder of Kaggle <TICKER>_data.csv files")
	ticker := flag.String("ticker", "AAPL", "ticker to keep")
	flag.Parse()
	files, err := filepath.Glob(filepath.Join(*dir, "*.csv"))
	if err != nil || len(files) == 0 {
		fail(fmt.Errorf("no CSV files in %s (%v)", *dir, err))
	}
	sort.Strings(files)

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tbytes read\trows kept\trows of other tickers\tseconds\tMB/s\tpeak RSS MB\theap in use MB\t")
	var peak float64
	row := func(name string, r result) {
		rate := "-" // too little read to time
		if r.read > 1<<20 {
			rate = fmt.Sprintf("%.0f", float64(r.read)/1e6/r.secs)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2f\t%s\t%.1f\t%.1f\t\n", name, r.read, r.rows, r.others, r.secs,
			rate, r.peakRSS, r.heapPeak)
		peak = max(peak, r.peakRSS)
	}

	// Case 1: the multi-ticker file, read whole.
	gen := &kaggleGen{files: files, limit: *size}
	r, bars, rep, err := measure(gen.run, frame.CSVOptions{Ticker: *ticker})
	if err != nil {
		fail(fmt.Errorf("multi-ticker file: %w", err))
	}
	if gen.err != nil {
		fail(gen.err)
	}
	r.rows, r.others = rep.Rows, rep.OtherTickerRows
	if err := sameAsFile(bars, filepath.Join(*dir, *ticker+"_data.csv")); err != nil {
		fail(err)
	}
	row(fmt.Sprintf("kaggle %s, %d files cycled %d times", *ticker, len(files), gen.passes), r)

	// Case 2: no line break at all.
	r2, _, _, err2 := measure(func(w io.Writer) error { _, err := io.Copy(w, io.LimitReader(endless('7'), *size)); return err },
		frame.CSVOptions{Ticker: *ticker})
	if err2 == nil {
		fail(errors.New("an input without a line break was read"))
	}
	row("no line break (refused)", r2)
	tw.Flush()

	fmt.Printf("\nmulti-ticker file: %d bytes generated, %s; the kept rows equal %s_data.csv read alone\n", gen.written, rep.Summary(), *ticker)
	fmt.Printf("no line break: refused after reading %d of %d bytes (line limit %d): %v\n", r2.read, *size, frame.DefaultMaxLineBytes, err2)
	if r2.read > 4*frame.DefaultMaxLineBytes {
		fail(fmt.Errorf("the refusal read %d bytes, far past the line limit", r2.read))
	}
	fmt.Printf("MB/s: 10^6 bytes; other MB: MiB. Peak RSS is VmHWM of /proc/self/status, reset before each case: %v; heap in use is the most seen, sampled every 10 ms\n", resetPeak())
	fmt.Printf("peak_rss_mb=%.0f\n", peak)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchcsv:", err)
	os.Exit(1)
}

type result struct {
	read         int64
	rows, others int
	secs         float64
	peakRSS      float64 // MB
	heapPeak     float64 // MB
}

// measure pipes what gen writes into frame.ReadCSV and reports what reading
// took.
func measure(gen func(io.Writer) error, opts frame.CSVOptions) (result, *frame.Bars, frame.CSVReport, error) {
	runtime.GC()
	resetPeak()
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 256<<10)
		err := gen(bw)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err) // nil: io.EOF for the reader
	}()
	stop := make(chan struct{})
	var heapPeak atomic.Uint64
	go sampleHeap(stop, &heapPeak)
	cr := &countingReader{r: pr}
	start := time.Now()
	bars, rep, err := frame.ReadCSV(cr, opts)
	secs := time.Since(start).Seconds()
	close(stop)
	pr.CloseWithError(errors.New("reader done")) // stops the generator
	r := result{read: cr.n, secs: secs, peakRSS: vmHWM(), heapPeak: float64(max(heapPeak.Load(), heapInUse())) / (1 << 20)}
	return r, bars, rep, err
}

// sameAsFile checks the kept rows against the ticker's own file.
func sameAsFile(got *frame.Bars, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	want, err := frame.ParseCSV(f, "")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if got.Len() != want.Len() {
		return fmt.Errorf("kept %d rows, %s has %d", got.Len(), path, want.Len())
	}
	same := func(a, b float64) bool { return a == b || a != a && b != b }
	for i := range want.Date {
		if !got.Date[i].Equal(want.Date[i]) || !same(got.Open[i], want.Open[i]) || !same(got.High[i], want.High[i]) ||
			!same(got.Low[i], want.Low[i]) || !same(got.Close[i], want.Close[i]) || !same(got.Volume[i], want.Volume[i]) {
			return fmt.Errorf("kept row %d differs from %s", i, path)
		}
	}
	return nil
}

// kaggleGen writes the Kaggle header and then the rows of files, cycled,
// until limit bytes; pass n > 1 renames each ticker to <TICKER>_R<n>.
type kaggleGen struct {
	files   []string
	limit   int64
	written int64
	passes  int
	err     error
}

func (g *kaggleGen) run(w io.Writer) error {
	n, err := io.WriteString(w, "date,open,high,low,close,volume,Name\n")
	g.written += int64(n)
	if err != nil {
		return err
	}
	for g.passes = 1; ; g.passes++ {
		suffix := ""
		if g.passes > 1 {
			suffix = "_R" + strconv.Itoa(g.passes)
		}
		for _, f := range g.files {
			data, err := os.ReadFile(f)
			if err != nil {
				g.err = err
				return err
			}
			header, rows, ok := bytes.Cut(data, []byte("\n"))
			if !ok || !strings.HasPrefix(string(header), "date,open,high,low,close,volume,Name") {
				g.err = fmt.Errorf("%s: not a Kaggle sp500_5yr file (header %q)", f, header)
				return g.err
			}
			for len(rows) > 0 && g.written < g.limit {
				var line []byte
				line, rows, _ = bytes.Cut(rows, []byte("\n"))
				if len(line) == 0 {
					continue
				}
				n, err := w.Write(line)
				g.written += int64(n)
				if err != nil {
					return err
				}
				n, err = io.WriteString(w, suffix+"\n")
				g.written += int64(n)
				if err != nil {
					return err
				}
			}
			if g.written >= g.limit {
				return nil
			}
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endless repeats one byte.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// sampleHeap keeps the most heap in use seen until stop closes.
func sampleHeap(stop <-chan struct{}, most *atomic.Uint64) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if h := heapInUse(); h > most.Load() {
			most.Store(h)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// heapInUse reads the bytes of live and not yet swept heap objects and
// their spans' free space, as runtime.MemStats.HeapInuse, without
// stopping the world.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// vmHWM returns the peak resident set size in MB, 0 where /proc is missing.
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// resetPeak resets VmHWM to the current RSS (Linux 4.0+).
func resetPeak() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
