package frame

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// writeRecordFile writes rec as a zstd-compressed Arrow IPC file. Offsets
// in the file are relative to where writing starts.
func writeRecordFile(w io.Writer, rec arrow.Record, mem memory.Allocator) error {
	fw, err := ipc.NewFileWriter(&positionWriter{w: w}, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem), ipc.WithZstd())
	if err != nil {
		return err
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return err
	}
	return fw.Close()
}

// positionWriter counts the bytes written so that it can answer the
// Seek(0, io.SeekCurrent) that ipc.FileWriter uses to learn block offsets;
// any other seek is an error. It lets Arrow files stream to plain writers.
type positionWriter struct {
	w   io.Writer
	pos int64
}

func (p *positionWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.pos += int64(n)
	return n, err
}

func (p *positionWriter) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekCurrent {
		return 0, fmt.Errorf("seek(%d, %d) unsupported on a streaming writer", offset, whence)
	}
	return p.pos, nil
}

// errCorruptIPC is the error of a file whose footer checkFooter rejects or
// that the Arrow library panicked on.
var errCorruptIPC = errors.New("corrupt Arrow IPC file")

// readRecordFile opens an Arrow IPC file and calls each for every record
// batch in order. ipc.FileReader needs random access: if r is not an
// io.ReaderAt and io.Seeker (an *os.File or *bytes.Reader is), the whole
// file is read into memory first.
//
// The Arrow library trusts the offsets and lengths in a file's metadata
// (flatbuffers). checkFooter first rejects a footer whose lengths would
// make Arrow allocate more than the file holds; for the rest, Arrow panics
// on a corrupt file, e.g. with an index out of range, and that panic is
// returned as an error wrapping errCorruptIPC. Buffers allocated before it
// are left to the garbage collector.
func readRecordFile(r io.Reader, mem memory.Allocator, each func(arrow.Record) error) (schema *arrow.Schema, err error) {
	defer func() {
		if p := recover(); p != nil {
			schema, err = nil, fmt.Errorf("%w: %v", errCorruptIPC, p)
		}
	}()
	ras, ok := r.(ipc.ReadAtSeeker)
	if !ok {
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		ras = bytes.NewReader(b)
	}
	size, err := ras.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("size of the Arrow file: %w", err)
	}
	if err := checkFooter(ras, size); err != nil {
		return nil, err
	}
	bounded := &boundedAllocator{mem: mem, limit: max(minAllocLimit, allocPerFileByte*size)}
	fr, err := ipc.NewFileReader(ras, ipc.WithAllocator(bounded))
	if err != nil {
		return nil, err
	}
	defer fr.Close()
	for i := 0; i < fr.NumRecords(); i++ {
		if err := readRecordAt(fr, i, each); err != nil {
			return nil, err
		}
	}
	return fr.Schema(), nil
}

// A file of size bytes may hold at most max(minAllocLimit,
// allocPerFileByte*size) bytes of buffers at once while it is read: far
// more than zstd makes of FinSight's columns, and a bound on what a corrupt
// length in the file asks for (an allocation of terabytes is a fatal
// error, not a panic that readRecordFile could return).
const (
	minAllocLimit    = 64 << 20
	allocPerFileByte = 1024
)

// boundedAllocator panics (readRecordFile recovers) rather than hold more
// than limit bytes at once.
type boundedAllocator struct {
	mem   memory.Allocator
	limit int64
	held  atomic.Int64
}

func (a *boundedAllocator) take(n int) {
	if held := a.held.Add(int64(n)); n > 0 && held > a.limit {
		panic(fmt.Sprintf("buffers of %d bytes, over the %d bytes a file of this size may need", held, a.limit))
	}
}

// Allocate implements memory.Allocator.
func (a *boundedAllocator) Allocate(size int) []byte {
	a.take(size)
	return a.mem.Allocate(size)
}

// Reallocate implements memory.Allocator.
func (a *boundedAllocator) Reallocate(size int, b []byte) []byte {
	a.take(size - len(b))
	return a.mem.Reallocate(size, b)
}

// Free implements memory.Allocator.
func (a *boundedAllocator) Free(b []byte) {
	a.held.Add(-int64(len(b)))
	a.mem.Free(b)
}

func readRecordAt(fr *ipc.FileReader, i int, each func(arrow.Record) error) error {
	rec, err := fr.RecordAt(i)
	if err != nil {
		return fmt.Errorf("record %d: %w", i, err)
	}
	defer rec.Release()
	return each(rec)
}

// column returns the record's column called name as type T.
func column[T arrow.Array](rec arrow.Record, name string) (T, error) {
	var zero T
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		return zero, fmt.Errorf("want one column %q, found %d", name, len(idx))
	}
	col, ok := rec.Column(idx[0]).(T)
	if !ok {
		return zero, fmt.Errorf("column %q has type %s, want %T", name, rec.Column(idx[0]).DataType(), zero)
	}
	return col, nil
}

// appendNaNAsNull appends vals to fb, writing NaN as null.
func appendNaNAsNull(fb *array.Float64Builder, vals []float64) {
	var valid []bool
	for i, v := range vals {
		if math.IsNaN(v) {
			if valid == nil {
				valid = make([]bool, len(vals))
				for j := range valid {
					valid[j] = true
				}
			}
			valid[i] = false
		}
	}
	fb.AppendValues(vals, valid)
}

// appendNullAsNaN appends the column's values to dst, reading null as NaN.
func appendNullAsNaN(dst []float64, col *array.Float64) []float64 {
	start := len(dst)
	dst = append(dst, col.Float64Values()...)
	if col.NullN() > 0 {
		for i := range col.Len() {
			if col.IsNull(i) {
				dst[start+i] = math.NaN()
			}
		}
	}
	return dst
}

// metadataValue returns the schema metadata value for key.
func metadataValue(schema *arrow.Schema, key string) (string, bool) {
	md := schema.Metadata()
	i := md.FindKey(key)
	if i < 0 {
		return "", false
	}
	return md.Values()[i], true
}
