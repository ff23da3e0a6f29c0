package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestCheckFooterAcceptsWrittenFiles: the files FinSight writes, and one
// using every footer object the check follows (dictionary, timezone,
// union type ids, map, field and schema metadata), pass the check and read
// back.
func TestCheckFooterAcceptsWrittenFiles(t *testing.T) {
	files := arrowSeeds(t)
	files = append(files, allTypesFile(t))
	if f := locateFooter(t, files[len(files)-1]); f.c.u32(f.ref(t, f.root(t), 2)) != 1 {
		t.Fatal("the file of all types has no dictionary block to check")
	}
	for i, b := range files {
		if err := checkFooter(bytes.NewReader(b), int64(len(b))); err != nil {
			t.Errorf("file %d: %v", i, err)
		}
	}
	// Not a checked allocator: Arrow v15's FileReader.Close leaves the
	// dictionaries it read to the garbage collector.
	all := files[len(files)-1]
	rows := 0
	schema, err := readRecordFile(bytes.NewReader(all), memory.NewGoAllocator(), func(rec arrow.Record) error {
		rows += int(rec.NumRows())
		return nil
	})
	if err != nil {
		t.Fatalf("read the file of all types: %v", err)
	}
	if schema.NumFields() != 6 || rows != 2 {
		t.Fatalf("read %d fields and %d rows, want 6 and 2", schema.NumFields(), rows)
	}
}

// TestCheckFooterRejectsCorruption: each corrupt footer is rejected with
// an error wrapping errCorruptIPC that names what is wrong, and without a
// panic; the readers return that error before Arrow parses the file.
func TestCheckFooterRejectsCorruption(t *testing.T) {
	cases := []struct {
		name string
		file func(t *testing.T) []byte
		want string
	}{
		{"file too small", func(*testing.T) []byte { return []byte("ARROW1\x00\x00ARROW1") }, "too small"},
		{"no magic at the end", func(t *testing.T) []byte {
			b := barsFile(t)
			return append(b[:len(b)-1:len(b)-1], 'X')
		}, `does not end with "ARROW1"`},
		{"footer longer than the file", func(t *testing.T) []byte {
			b := barsFile(t)
			binary.LittleEndian.PutUint32(b[len(b)-trailerLen:], uint32(len(b)))
			return b
		}, "footer length"},
		{"negative footer length", func(t *testing.T) []byte {
			b := barsFile(t)
			binary.LittleEndian.PutUint32(b[len(b)-trailerLen:], math.MaxUint32)
			return b
		}, "footer length -1"},
		{"root offset outside the footer", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			f.put32(0, 1<<30)
			return f.b
		}, "footer: table at byte 1073741824 is outside"},
		{"vtable outside the footer", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			f.put32(f.schema(t).pos, uint32(0x80000000)) // soffset -2^31: vtable 2 GiB on
			return f.b
		}, "schema: table at byte"},
		{"field offset beyond its table", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			field := f.field(t, 0)
			binary.LittleEndian.PutUint16(f.footerBytes()[field.vtable+4:], uint16(field.inlineLen)) // name
			return f.b
		}, "fields[0]: table at byte"},
		{"billions of schema fields", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			f.put32(f.ref(t, f.schema(t), 1), 3_000_000_000)
			return f.b
		}, "schema: fields: 3000000000 entries of 4 bytes"},
		{"billions of field children", func(t *testing.T) []byte {
			f := locateFooter(t, windowsFile(t))
			f.put32(f.ref(t, f.field(t, f.fieldWithChildren(t)), 5), 1<<31)
			return f.b
		}, "children: 2147483648 entries of 4 bytes"},
		{"billions of schema metadata entries", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			f.put32(f.ref(t, f.schema(t), 2), math.MaxUint32)
			return f.b
		}, "schema: custom metadata: 4294967295 entries"},
		{"metadata value longer than the footer", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			kv := f.table(t, f.elem(t, f.schema(t), 2, 0))
			f.put32(f.ref(t, kv, 1), 1<<20)
			return f.b
		}, "custom metadata[0]: value: 1048576 entries of 1 bytes"},
		{"field name longer than the footer", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			f.put32(f.ref(t, f.field(t, 1), 0), 70_000)
			return f.b
		}, "fields[1]: name: 70000 entries"},
		{"billions of dictionaries", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			f.put32(f.ref(t, f.root(t), 2), 1<<30)
			return f.b
		}, "dictionaries: 1073741824 entries of 24 bytes"},
		{"billions of record batches", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			f.put32(f.ref(t, f.root(t), 3), 1<<30)
			return f.b
		}, "record batches: 1073741824 entries of 24 bytes"},
		{"record batch past the footer's start", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			binary.LittleEndian.PutUint64(f.footerBytes()[f.ref(t, f.root(t), 3)+4+16:], uint64(f.bodyEnd)) // body length
			return f.b
		}, "record batches: [0]: block at offset"},
		{"record batch at a negative offset", func(t *testing.T) []byte {
			f := locateFooter(t, barsFile(t))
			binary.LittleEndian.PutUint64(f.footerBytes()[f.ref(t, f.root(t), 3)+4:], math.MaxUint64)
			return f.b
		}, "block at offset -1"},
		{"child pointing back at its parent", func(t *testing.T) []byte {
			// uoffsets are unsigned but flatbuffers adds them in 32 bits, so
			// Arrow would follow this one backwards and recurse forever.
			f := locateFooter(t, windowsFile(t))
			i := f.fieldWithChildren(t)
			parent := f.elem(t, f.schema(t), 1, i)
			at := f.ref(t, f.field(t, i), 5) + 4
			f.put32(at, uint32(parent-at))
			return f.b
		}, "children[0]: table at byte"},
		{"fields nested 10,000 deep", func(t *testing.T) []byte {
			typ := arrow.DataType(arrow.PrimitiveTypes.Float32)
			for range 10_000 {
				typ = arrow.ListOf(typ)
			}
			return schemaOnlyFile(t, arrow.NewSchema([]arrow.Field{{Name: "deep", Type: typ}}, nil))
		}, "fields nest deeper than 64"},
		{"every field pointing at one big field", func(t *testing.T) []byte {
			fields := []arrow.Field{{Name: strings.Repeat("n", 4096), Type: arrow.PrimitiveTypes.Float64}}
			for i := range 300 {
				fields = append(fields, arrow.Field{Name: fmt.Sprint("f", i), Type: arrow.PrimitiveTypes.Float64})
			}
			f := locateFooter(t, schemaOnlyFile(t, arrow.NewSchema(fields, nil)))
			vec := f.ref(t, f.schema(t), 1)
			big := f.elem(t, f.schema(t), 1, 0)
			for i := range int64(len(fields)) {
				at := vec + 4 + 4*i
				f.put32(at, uint32(big-at))
			}
			return f.b
		}, "objects claim more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.file(t)
			err := checkFooter(bytes.NewReader(b), int64(len(b)))
			if !errors.Is(err, errCorruptIPC) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("checkFooter: %v, want an error wrapping %q containing %q", err, errCorruptIPC, tc.want)
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			if _, err := ReadWindows(bytes.NewReader(b), mem); !errors.Is(err, errCorruptIPC) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadWindows: %v, want the footer error", err)
			}
			mem.AssertSize(t, 0) // rejected before Arrow allocated anything
		})
	}
}

func barsFile(t *testing.T) []byte    { return arrowSeeds(t)[0] }
func windowsFile(t *testing.T) []byte { return arrowSeeds(t)[2] }

// schemaOnlyFile writes an Arrow file of schema and no record batches.
func schemaOnlyFile(t *testing.T, schema *arrow.Schema) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, err := ipc.NewFileWriter(&positionWriter{w: &b}, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// allTypesFile writes two rows of null in a schema that uses each footer
// object checkFooter follows.
func allTypesFile(t *testing.T) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "America/New_York"}, Nullable: true},
		{Name: "union", Type: arrow.DenseUnionOf([]arrow.Field{
			{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		}, []arrow.UnionTypeCode{5, 7})},
		{Name: "map", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "struct", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float32, Nullable: true}), Nullable: true,
			Metadata: arrow.NewMetadata([]string{"unit"}, []string{"usd"})},
		{Name: "list", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32), Nullable: true},
	}, func() *arrow.Metadata { md := arrow.NewMetadata([]string{"k"}, []string{"v"}); return &md }())
	mem := memory.NewGoAllocator()
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	for _, fb := range rb.Fields() {
		fb.AppendNulls(2)
	}
	rec := rb.NewRecord()
	defer rec.Release()
	var b bytes.Buffer
	if err := writeRecordFile(&b, rec, mem); err != nil {
		t.Fatalf("write the file of all types: %v", err)
	}
	return b.Bytes()
}

// footerFile is an Arrow file with its footer found, for tests that
// corrupt one value in it. Positions are from the footer's start.
type footerFile struct {
	b       []byte
	bodyEnd int64
	c       *footerChecker
}

func locateFooter(t *testing.T, b []byte) *footerFile {
	t.Helper()
	footer, bodyEnd, err := readFooterBytes(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	// The budget of claimed bytes is the check's, not the locator's.
	return &footerFile{b: b, bodyEnd: bodyEnd, c: &footerChecker{buf: footer, bodyEnd: bodyEnd, claimed: math.MinInt64 / 2}}
}

// footerBytes is the footer inside the file, to patch in place.
func (f *footerFile) footerBytes() []byte { return f.b[f.bodyEnd:] }

func (f *footerFile) put32(pos int64, v uint32) {
	binary.LittleEndian.PutUint32(f.footerBytes()[pos:], v)
}

func (f *footerFile) table(t *testing.T, pos int64) fbTable {
	t.Helper()
	tbl, err := f.c.table(pos)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// ref is the position of what field slot of tbl points at; it must exist.
func (f *footerFile) ref(t *testing.T, tbl fbTable, slot int64) int64 {
	t.Helper()
	pos, ok, err := f.c.ref(tbl, slot)
	if err != nil || !ok {
		t.Fatalf("field %d of the table at byte %d: present %v, %v", slot, tbl.pos, ok, err)
	}
	return pos
}

// elem is the position of table i of the table vector in field slot.
func (f *footerFile) elem(t *testing.T, tbl fbTable, slot int64, i int) int64 {
	t.Helper()
	at := f.ref(t, tbl, slot) + 4 + 4*int64(i)
	return at + f.c.u32(at)
}

func (f *footerFile) root(t *testing.T) fbTable   { return f.table(t, f.c.u32(0)) }
func (f *footerFile) schema(t *testing.T) fbTable { return f.table(t, f.ref(t, f.root(t), 1)) }

func (f *footerFile) field(t *testing.T, i int) fbTable {
	return f.table(t, f.elem(t, f.schema(t), 1, i))
}

// fieldWithChildren returns the index of the first top-level field with
// children.
func (f *footerFile) fieldWithChildren(t *testing.T) int {
	t.Helper()
	n := int(f.c.u32(f.ref(t, f.schema(t), 1)))
	for i := range n {
		if _, ok, _ := f.c.ref(f.field(t, i), 5); ok && f.c.u32(f.ref(t, f.field(t, i), 5)) > 0 {
			return i
		}
	}
	t.Fatal("no field with children")
	return 0
}
