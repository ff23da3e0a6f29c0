package activities

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/finsight/finsight/internal/blob"
)

func TestPutStreamLeavesNothingWhenEncodingFails(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, err := h.acts.putStream(ctx, "data/derived/x/half.arrow", 0, func(w io.Writer) error {
		if _, err := io.WriteString(w, strings.Repeat("x", 1<<20)); err != nil {
			return err
		}
		return errors.New("encoder broke half-way")
	})
	if err == nil {
		t.Fatal("a failed encode was stored")
	}
	if ok, err := h.acts.Store.Exists(ctx, "data/derived/x/half.arrow"); err != nil || ok {
		t.Fatalf("half-written object exists=%v (%v)", ok, err)
	}
	ref, err := h.acts.putStream(ctx, "data/derived/x/whole.arrow", 3, func(w io.Writer) error {
		_, err := io.WriteString(w, "abc")
		return err
	})
	if err != nil || ref.SHA256 != blob.ContentHash([]byte("abc")) || ref.Rows != 3 {
		t.Fatalf("ref %+v, %v", ref, err)
	}
	again, err := h.acts.putStream(ctx, "data/derived/x/whole.arrow", 3, func(w io.Writer) error {
		_, err := io.WriteString(w, "abc")
		return err
	})
	if err != nil || again != ref {
		t.Fatalf("rewriting the same derived key: %+v, %v", again, err)
	}
}
