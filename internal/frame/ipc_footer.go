package frame

import (
	"encoding/binary"
	"fmt"
	"io"
)

// The Arrow library sizes slices by the vector lengths in a file's footer
// (a flatbuffer) before it reads their entries: a corrupt length of
// billions of schema fields is an allocation that ends the process, not a
// panic that readRecordFile can recover. checkFooter walks the footer first
// and rejects every offset outside it and every vector that cannot fit in
// it, so Arrow only ever sizes slices by what the bytes can hold.

const (
	arrowMagic = "ARROW1"
	// trailerLen is the int32 footer length and the magic that end a file.
	trailerLen = 4 + len(arrowMagic)
	// maxFieldDepth bounds how deep fields nest (FinSight's deepest is a
	// list of float32, depth 2); Arrow converts nested fields recursively.
	maxFieldDepth = 64
	// blockLen is the size of a flatbuffer Block struct: offset int64,
	// metaDataLength int32 and padding, bodyLength int64.
	blockLen = 24
)

// Arrow's flatbuffer Type union members that hold offsets (format/Schema.fbs).
const (
	fbTypeTimestamp = 10
	fbTypeUnion     = 14
)

// checkFooter validates the footer of the Arrow IPC file of size bytes in r
// before Arrow parses it. Its errors wrap errCorruptIPC.
func checkFooter(r io.ReaderAt, size int64) error {
	footer, bodyEnd, err := readFooterBytes(r, size)
	if err != nil {
		return err
	}
	c := &footerChecker{buf: footer, bodyEnd: bodyEnd}
	if err := c.checkFooterTable(); err != nil {
		return fmt.Errorf("%w: footer: %w", errCorruptIPC, err)
	}
	return nil
}

// readFooterBytes returns the footer flatbuffer and the offset where it
// starts, which is where the file's blocks must end.
func readFooterBytes(r io.ReaderAt, size int64) ([]byte, int64, error) {
	// The file starts with the magic padded to 8 bytes.
	if size < int64(8+trailerLen) {
		return nil, 0, fmt.Errorf("%w: file of %d bytes is too small", errCorruptIPC, size)
	}
	trailer := make([]byte, trailerLen)
	if _, err := r.ReadAt(trailer, size-int64(trailerLen)); err != nil {
		return nil, 0, fmt.Errorf("read Arrow file trailer: %w", err)
	}
	if string(trailer[4:]) != arrowMagic {
		return nil, 0, fmt.Errorf("%w: file does not end with %q", errCorruptIPC, arrowMagic)
	}
	n := int64(int32(binary.LittleEndian.Uint32(trailer)))
	bodyEnd := size - int64(trailerLen) - n
	if n <= 0 || bodyEnd < 8 {
		return nil, 0, fmt.Errorf("%w: footer length %d does not fit in the %d-byte file", errCorruptIPC, n, size)
	}
	footer := make([]byte, n)
	if _, err := r.ReadAt(footer, bodyEnd); err != nil {
		return nil, 0, fmt.Errorf("read Arrow file footer: %w", err)
	}
	return footer, bodyEnd, nil
}

// footerChecker walks one footer. Writers never share tables, vectors or
// strings between objects (only vtables), so the bytes the objects visited
// claim add up to at most the footer's size; claimed enforces that, so a
// footer whose offsets point many times at one big object cannot make
// Arrow build it many times.
type footerChecker struct {
	buf     []byte
	bodyEnd int64
	claimed int64
}

// fbTable is a flatbuffer table whose vtable and inline bytes lie inside
// the buffer.
type fbTable struct {
	pos, vtable, vtableLen, inlineLen int64
}

func (c *footerChecker) size() int64 { return int64(len(c.buf)) }

// u32 reads a little-endian uint32 at pos, which the caller checked.
func (c *footerChecker) u32(pos int64) int64 { return int64(binary.LittleEndian.Uint32(c.buf[pos:])) }

func (c *footerChecker) u16(pos int64) int64 { return int64(binary.LittleEndian.Uint16(c.buf[pos:])) }

// within reports whether [pos, pos+n) lies in the buffer.
func (c *footerChecker) within(pos, n int64) bool {
	return pos >= 0 && n >= 0 && pos <= c.size() && n <= c.size()-pos
}

// claim counts n bytes as used by one object.
func (c *footerChecker) claim(n int64) error {
	c.claimed += n
	if c.claimed > c.size() {
		return fmt.Errorf("its objects claim more than its %d bytes (offsets point at one object many times)", c.size())
	}
	return nil
}

// table checks the table at pos: its vtable, and its inline bytes, which
// every field offset in the vtable must point into.
func (c *footerChecker) table(pos int64) (fbTable, error) {
	if !c.within(pos, 4) {
		return fbTable{}, fmt.Errorf("table at byte %d is outside the %d-byte footer", pos, c.size())
	}
	vt := pos - int64(int32(binary.LittleEndian.Uint32(c.buf[pos:])))
	if !c.within(vt, 4) {
		return fbTable{}, fmt.Errorf("table at byte %d: vtable at byte %d is outside the %d-byte footer", pos, vt, c.size())
	}
	t := fbTable{pos: pos, vtable: vt, vtableLen: c.u16(vt), inlineLen: c.u16(vt + 2)}
	if t.vtableLen < 4 || t.vtableLen%2 != 0 || !c.within(vt, t.vtableLen) {
		return fbTable{}, fmt.Errorf("table at byte %d: vtable of %d bytes at byte %d does not fit in the %d-byte footer", pos, t.vtableLen, vt, c.size())
	}
	if t.inlineLen < 4 || !c.within(pos, t.inlineLen) {
		return fbTable{}, fmt.Errorf("table at byte %d: %d inline bytes do not fit in the %d-byte footer", pos, t.inlineLen, c.size())
	}
	for slot := int64(0); 4+2*slot < t.vtableLen; slot++ {
		if off := t.fieldOffset(c, slot); off != 0 && (off < 4 || off >= t.inlineLen) {
			return fbTable{}, fmt.Errorf("table at byte %d: field %d at offset %d is outside its %d inline bytes", pos, slot, off, t.inlineLen)
		}
	}
	return t, c.claim(t.inlineLen)
}

// fieldOffset returns where field slot lies from the table's start; 0 when
// the field is absent.
func (t fbTable) fieldOffset(c *footerChecker, slot int64) int64 {
	if 4+2*slot >= t.vtableLen {
		return 0
	}
	return c.u16(t.vtable + 4 + 2*slot)
}

// ref follows the offset in field slot to the object it points at; ok is
// false when the field is absent.
func (c *footerChecker) ref(t fbTable, slot int64) (pos int64, ok bool, err error) {
	off := t.fieldOffset(c, slot)
	if off == 0 {
		return 0, false, nil
	}
	if off+4 > t.inlineLen {
		return 0, false, fmt.Errorf("offset of field %d overruns its table at byte %d", slot, t.pos)
	}
	at := t.pos + off
	pos = at + c.u32(at)
	if !c.within(pos, 4) {
		return 0, false, fmt.Errorf("field %d points at byte %d, outside the %d-byte footer", slot, pos, c.size())
	}
	return pos, true, nil
}

// vector checks the vector in field slot, of entries of elemLen bytes, and
// returns where its entries start and how many there are.
func (c *footerChecker) vector(t fbTable, slot, elemLen int64) (start, n int64, err error) {
	pos, ok, err := c.ref(t, slot)
	if err != nil || !ok {
		return 0, 0, err
	}
	n = c.u32(pos)
	if n > (c.size()-pos-4)/elemLen {
		return 0, 0, fmt.Errorf("%d entries of %d bytes at byte %d overrun the %d-byte footer", n, elemLen, pos, c.size())
	}
	return pos + 4, n, c.claim(4 + n*elemLen)
}

// tables checks the vector of tables in field slot, called name in
// errors, and calls each with every table's position.
func (c *footerChecker) tables(t fbTable, slot int64, name string, each func(pos int64) error) error {
	start, n, err := c.vector(t, slot, 4)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for i := range n {
		at := start + 4*i
		if err := each(at + c.u32(at)); err != nil {
			return fmt.Errorf("%s[%d]: %w", name, i, err)
		}
	}
	return nil
}

// checkFooterTable checks the root Footer table: version(0) schema(1)
// dictionaries(2) recordBatches(3) custom_metadata(4).
func (c *footerChecker) checkFooterTable() error {
	if len(c.buf) < 4 {
		return fmt.Errorf("%d bytes hold no root offset", len(c.buf))
	}
	footer, err := c.table(c.u32(0))
	if err != nil {
		return err
	}
	schema, ok, err := c.ref(footer, 1)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if !ok {
		return fmt.Errorf("no schema")
	}
	if err := c.checkSchema(schema); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if err := c.checkBlocks(footer, 2); err != nil {
		return fmt.Errorf("dictionaries: %w", err)
	}
	if err := c.checkBlocks(footer, 3); err != nil {
		return fmt.Errorf("record batches: %w", err)
	}
	return c.checkMetadata(footer, 4)
}

// checkBlocks checks a vector of Blocks, each of which must lie in the file
// before the footer.
func (c *footerChecker) checkBlocks(t fbTable, slot int64) error {
	start, n, err := c.vector(t, slot, blockLen)
	if err != nil {
		return err
	}
	for i := range n {
		at := start + i*blockLen
		off := int64(binary.LittleEndian.Uint64(c.buf[at:]))
		meta := int64(int32(c.u32(at + 8)))
		body := int64(binary.LittleEndian.Uint64(c.buf[at+16:]))
		if off < 0 || meta < 0 || body < 0 || off > c.bodyEnd || meta > c.bodyEnd-off || body > c.bodyEnd-off-meta {
			return fmt.Errorf("[%d]: block at offset %d of %d+%d bytes is outside the %d bytes before the footer", i, off, meta, body, c.bodyEnd)
		}
	}
	return nil
}

// checkSchema checks a Schema table: endianness(0) fields(1)
// custom_metadata(2) features(3).
func (c *footerChecker) checkSchema(pos int64) error {
	schema, err := c.table(pos)
	if err != nil {
		return err
	}
	if err := c.tables(schema, 1, "fields", func(pos int64) error { return c.checkField(pos, 1) }); err != nil {
		return err
	}
	if err := c.checkMetadata(schema, 2); err != nil {
		return err
	}
	if _, _, err := c.vector(schema, 3, 8); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	return nil
}

// checkField checks a Field table at nesting depth: name(0) nullable(1)
// type_type(2) type(3) dictionary(4) children(5) custom_metadata(6).
func (c *footerChecker) checkField(pos int64, depth int) error {
	if depth > maxFieldDepth {
		return fmt.Errorf("fields nest deeper than %d", maxFieldDepth)
	}
	field, err := c.table(pos)
	if err != nil {
		return err
	}
	if _, _, err := c.vector(field, 0, 1); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if err := c.checkType(field); err != nil {
		return fmt.Errorf("type: %w", err)
	}
	if err := c.checkDictionaryEncoding(field); err != nil {
		return fmt.Errorf("dictionary: %w", err)
	}
	if err := c.tables(field, 5, "children", func(pos int64) error { return c.checkField(pos, depth+1) }); err != nil {
		return err
	}
	return c.checkMetadata(field, 6)
}

// checkType checks the field's type table, and the offsets in the union
// members that have any: Timestamp.timezone(1) and Union.typeIds(1).
func (c *footerChecker) checkType(field fbTable) error {
	pos, ok, err := c.ref(field, 3)
	if err != nil || !ok {
		return err
	}
	typ, err := c.table(pos)
	if err != nil {
		return err
	}
	var kind byte
	if off := field.fieldOffset(c, 2); off != 0 {
		kind = c.buf[field.pos+off]
	}
	switch kind {
	case fbTypeTimestamp:
		if _, _, err := c.vector(typ, 1, 1); err != nil {
			return fmt.Errorf("timezone: %w", err)
		}
	case fbTypeUnion:
		if _, _, err := c.vector(typ, 1, 4); err != nil {
			return fmt.Errorf("type ids: %w", err)
		}
	}
	return nil
}

// checkDictionaryEncoding checks the field's DictionaryEncoding table:
// id(0) indexType(1) isOrdered(2) dictionaryKind(3).
func (c *footerChecker) checkDictionaryEncoding(field fbTable) error {
	pos, ok, err := c.ref(field, 4)
	if err != nil || !ok {
		return err
	}
	enc, err := c.table(pos)
	if err != nil {
		return err
	}
	pos, ok, err = c.ref(enc, 1)
	if err != nil || !ok {
		return err
	}
	if _, err := c.table(pos); err != nil {
		return fmt.Errorf("index type: %w", err)
	}
	return nil
}

// checkMetadata checks a vector of KeyValue tables: key(0) value(1).
func (c *footerChecker) checkMetadata(t fbTable, slot int64) error {
	return c.tables(t, slot, "custom metadata", func(pos int64) error {
		kv, err := c.table(pos)
		if err != nil {
			return err
		}
		if _, _, err := c.vector(kv, 0, 1); err != nil {
			return fmt.Errorf("key: %w", err)
		}
		if _, _, err := c.vector(kv, 1, 1); err != nil {
			return fmt.Errorf("value: %w", err)
		}
		return nil
	})
}
